/**
 * An independent client for black-box tests: @grpc/grpc-js with the service loaded from proto/ at run time
 * by @grpc/proto-loader (not Pony's generated code), so a mistake in the generated code cannot hide.
 * Messages are plain objects with the .proto field names; enums are strings; int64 are strings.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

const here = path.dirname(fileURLToPath(import.meta.url));
const PROTO_ROOT = path.resolve(here, "../../proto");

export type Msg = Record<string, any>;

let serviceCtor: grpc.ServiceClientConstructor | undefined;

function loadService(): grpc.ServiceClientConstructor {
  if (serviceCtor) return serviceCtor;
  const def = protoLoader.loadSync("littlehorse/service.proto", {
    includeDirs: [PROTO_ROOT],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(def) as any;
  serviceCtor = pkg.littlehorse.LittleHorse as grpc.ServiceClientConstructor;
  return serviceCtor;
}

export interface TestClientOptions {
  /** sent as `authorization: Bearer <token>` on every call */
  token?: string;
  /** channel credentials (TLS, mTLS); plaintext when unset */
  credentials?: grpc.ChannelCredentials;
  /** channel options, e.g. grpc.ssl_target_name_override */
  channelOptions?: grpc.ChannelOptions;
}

export class TestClient {
  readonly raw: grpc.Client & Record<string, any>;
  /** the bearer token sent with every call; may be changed between calls */
  token: string | undefined;

  constructor(
    readonly address: string,
    readonly tenant?: string,
    opts: TestClientOptions = {},
  ) {
    const Ctor = loadService();
    this.token = opts.token;
    this.raw = new Ctor(
      address,
      opts.credentials ?? grpc.credentials.createInsecure(),
      opts.channelOptions,
    ) as any;
  }

  metadata(): grpc.Metadata {
    const md = new grpc.Metadata();
    if (this.tenant) md.set("tenantid", this.tenant);
    if (this.token) md.set("authorization", `Bearer ${this.token}`);
    return md;
  }

  /** Calls a unary RPC by its name (PutTaskDef, RunWf, …). Rejects with the grpc ServiceError. */
  call(method: string, req: Msg = {}, opts: { deadlineMs?: number } = {}): Promise<Msg> {
    return new Promise((resolve, reject) => {
      const options: grpc.CallOptions = {};
      if (opts.deadlineMs !== undefined) options.deadline = Date.now() + opts.deadlineMs;
      const fn = this.raw[method] as (...args: unknown[]) => void;
      if (!fn) throw new Error(`no RPC ${method}`);
      fn.call(this.raw, req, this.metadata(), options, (err: grpc.ServiceError | null, res: Msg) =>
        err ? reject(err) : resolve(res),
      );
    });
  }

  /** Expects the call to fail; returns the error's gRPC status code name and message. */
  async fail(method: string, req: Msg = {}): Promise<{ code: string; message: string }> {
    const outcome = await statusOf(this.call(method, req));
    if (outcome.code === "OK") throw new Error(`${method} was expected to fail but succeeded`);
    return outcome;
  }

  close(): void {
    this.raw.close();
  }
}

export const grpcStatus = grpc.status;

/** A call's gRPC status code name and message; code "OK" when it did not fail. */
export async function statusOf(call: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await call;
  } catch (e) {
    const err = e as grpc.ServiceError;
    return { code: grpc.status[err.code], message: err.details };
  }
  return { code: "OK", message: "" };
}

/** Calls a unary RPC with hand-encoded request bytes and returns the raw response bytes. */
export function rawCall(address: string, method: string, request: Buffer): Promise<Buffer> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  return new Promise<Buffer>((resolve, reject) => {
    client.makeUnaryRequest(
      `/littlehorse.LittleHorse/${method}`,
      (b: Buffer) => b,
      (b: Buffer) => b,
      request,
      (err, res) => {
        client.close();
        if (err) reject(err);
        else resolve(res!);
      },
    );
  });
}
