/**
 * The one client of the dashboard: `littlehorse.LittleHorse` over the Connect protocol (binary protobuf)
 * on the server that served the page. Every call carries the session's tenant and bearer token.
 */
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { LittleHorse } from "@pony/proto";
import { current } from "./session";

const withSession: Interceptor = (next) => (req) => {
  req.header.set("tenantid", current.tenant);
  if (current.token) req.header.set("authorization", `Bearer ${current.token}`);
  return next(req);
};

export const lh = createClient(
  LittleHorse,
  createConnectTransport({
    baseUrl: window.location.origin,
    useBinaryFormat: true,
    interceptors: [withSession],
  }),
);

/** An error as a person reads it: the gRPC status name and the server's message. */
export function describeError(e: unknown): { code: string; message: string } {
  const err = ConnectError.from(e);
  return { code: codeName(err.code), message: err.rawMessage };
}

export function isNotFound(e: unknown): boolean {
  return e instanceof ConnectError && e.code === Code.NotFound;
}

const CODE_NAMES: Record<number, string> = {
  1: "CANCELLED",
  2: "UNKNOWN",
  3: "INVALID_ARGUMENT",
  4: "DEADLINE_EXCEEDED",
  5: "NOT_FOUND",
  6: "ALREADY_EXISTS",
  7: "PERMISSION_DENIED",
  8: "RESOURCE_EXHAUSTED",
  9: "FAILED_PRECONDITION",
  10: "ABORTED",
  11: "OUT_OF_RANGE",
  12: "UNIMPLEMENTED",
  13: "INTERNAL",
  14: "UNAVAILABLE",
  15: "DATA_LOSS",
  16: "UNAUTHENTICATED",
};

export const codeName = (code: Code): string => CODE_NAMES[code] ?? `code ${code}`;
