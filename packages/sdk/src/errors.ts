import { status, type ServiceError } from "@grpc/grpc-js";

/** A gRPC status code by name: "NOT_FOUND", "UNAVAILABLE", … */
export type LHStatusCode = keyof typeof status;

function codeName(code: number): LHStatusCode {
  const name = status[code] as LHStatusCode | undefined;
  return name ?? "UNKNOWN";
}

/**
 * An RPC that failed: the gRPC status code (by name and number), the server's message, and the RPC.
 * Branch on `code`: `if (e instanceof LHApiError && e.code === "NOT_FOUND") …`.
 */
export class LHApiError extends Error {
  override readonly name = "LHApiError";
  /** the status code's name, e.g. "NOT_FOUND" */
  readonly code: LHStatusCode;
  /** the status code's number, e.g. 5 */
  readonly codeNumber: number;

  constructor(
    /** the RPC's name, e.g. "GetTaskDef" */
    readonly rpc: string,
    code: number,
    /** the server's message */
    readonly details: string,
  ) {
    super(`${rpc} failed: ${codeName(code)}: ${details}`);
    this.code = codeName(code);
    this.codeNumber = code;
  }

  static fromServiceError(rpc: string, err: ServiceError | Error): LHApiError {
    const e = err as Partial<ServiceError>;
    if (typeof e.code === "number") return new LHApiError(rpc, e.code, e.details ?? err.message);
    return new LHApiError(rpc, status.UNKNOWN, err.message);
  }
}

/** A setting that is missing, malformed or contradicts another one. */
export class LHConfigError extends Error {
  override readonly name = "LHConfigError";
}
