/**
 * Commands travel to their partition's owner over the server-to-server port.
 *
 * The router (a Router of the request pipeline) runs a command here when this server owns its partition,
 * else forwards it to the owner: one unary gRPC method, `/pony.cluster.Cluster/Forward`, whose request is the
 * RPC's own protobuf bytes and whose headers carry the RPC, the caller's tenant and principal (authenticated
 * and authorized by the server the client called), the metadata version that server has seen, and the
 * cluster secret. The owner answers with the RPC's response bytes, or its error status.
 *
 * A command is retried only when it is known not to have run: the owner says it no longer owns the partition
 * (it moved), or no connection to the owner could be made. While a partition has no owner (its server died,
 * its lease has not run out yet) the router waits for the next one, within the call's deadline and at most
 * twice the lease time.
 */
import * as grpc from "@grpc/grpc-js";
import { fromBinary, type DescMessage } from "@bufbuild/protobuf";
import { encodeMessage } from "../protobuf/to-binary";
import { LittleHorse } from "@pony/proto";
import type { Logger } from "pino";
import type { CallContext } from "../api/context";
import { EncodedResponse } from "../api/encoded";
import type { RequestPipeline, Router } from "../api/pipeline";
import { routeOf } from "../api/routes";
import { ForwardedError, UnavailableError, grpcStatusOf } from "../grpc/status";
import { METADATA_PARTITION, NotOwnerError } from "../runtime/partitions";
import type { Runtime } from "../runtime/runtime";
import { FencedError } from "../store/store";
import type { LeaseKeeper } from "./lease-keeper";

const PATH = "/pony.cluster.Cluster/Forward";
/** the detail an owner answers with when the partition moved: the forwarder tries again */
const MOVED = "pony-partition-moved";

const identity = (b: Buffer) => b;
const SERVICE: grpc.ServiceDefinition = {
  forward: {
    path: PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

const METHODS = new Map<string, { input: DescMessage; output: DescMessage }>(
  LittleHorse.methods.map((m) => [m.localName, { input: m.input, output: m.output }]),
);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface ForwardingSettings {
  /** required in the `x-pony-cluster-secret` header of forwarded calls ("" = none) */
  secret: string;
  leaseMs: number;
}

export class ClusterRouter implements Router {
  private readonly clients = new Map<string, grpc.Client>();

  constructor(
    private readonly rt: Runtime,
    private readonly leases: LeaseKeeper,
    private readonly settings: ForwardingSettings,
    private readonly log: Logger,
  ) {}

  async run(method: string, req: object, ctx: CallContext, local: () => Promise<object>): Promise<object> {
    const route = routeOf(method, req);
    if (!route) return local();
    const part = route === "metadata" ? METADATA_PARTITION : this.rt.partitionOf(ctx.tenant, route.wfRunKey);
    const until = Math.min(ctx.deadlineMs ?? Infinity, Date.now() + 2 * this.settings.leaseMs + 1000);
    for (let attempt = 0; ; attempt++) {
      if (this.rt.partitions.owns(part)) {
        try {
          return await local();
        } catch (e) {
          // the partition moved before the command committed: it did nothing here, so it runs at the owner
          if (!(e instanceof NotOwnerError || e instanceof FencedError)) throw e;
        }
      } else {
        // the cached owner first; after a miss (moved, unreachable, none), read the leases again
        const owner = await this.leases.ownerOf(part, attempt > 0);
        if (owner && owner.id !== this.rt.partitions.serverId) {
          const answer = await this.forward(owner.internalAddress, method, req, ctx);
          if (answer !== undefined) {
            // this server's caches must show a metadata change it acknowledges (read your writes)
            if (route === "metadata") await this.rt.refreshMetadata();
            return answer;
          }
        }
      }
      if (Date.now() >= until || ctx.signal.aborted) {
        throw new UnavailableError(
          `partition ${part} has no reachable owner right now (a server is starting or stopping): try again`,
        );
      }
      await sleep(Math.min(25 * 2 ** Math.min(attempt, 4), 250));
    }
  }

  /** The owner's answer; undefined when the call did not run there (moved, or no connection). */
  private forward(
    address: string,
    method: string,
    req: object,
    ctx: CallContext,
  ): Promise<EncodedResponse | undefined> {
    const schemas = METHODS.get(method)!;
    const md = new grpc.Metadata();
    md.set("x-pony-rpc", method);
    md.set("x-pony-tenant", ctx.tenant);
    md.set("x-pony-principal", ctx.principalId);
    md.set("x-pony-metadata-version", String(this.rt.knownMetadataVersion()));
    if (this.settings.secret) md.set("x-pony-cluster-secret", this.settings.secret);
    const options: grpc.CallOptions = ctx.deadlineMs !== undefined ? { deadline: ctx.deadlineMs } : {};
    const bytes = encodeMessage(schemas.input, req);
    return new Promise((resolve, reject) => {
      const call = this.client(address).makeUnaryRequest(
        PATH,
        identity,
        identity,
        bytes,
        md,
        options,
        (err: grpc.ServiceError | null, res?: Buffer) => {
          ctx.signal.removeEventListener("abort", cancel);
          if (!err) return resolve(new EncodedResponse(res ?? Buffer.alloc(0)));
          if (err.code === grpc.status.UNAVAILABLE && err.details === MOVED) return resolve(undefined);
          // refused before anything was sent: the owner is gone; its partitions move once its lease runs out
          if (
            err.code === grpc.status.UNAVAILABLE &&
            /No connection established|ECONNREFUSED/.test(err.details)
          )
            return resolve(undefined);
          reject(new ForwardedError(err.code, err.details));
        },
      );
      const cancel = () => call.cancel();
      ctx.signal.addEventListener("abort", cancel, { once: true });
    });
  }

  private client(address: string): grpc.Client {
    let c = this.clients.get(address);
    if (!c) {
      c = new grpc.Client(address, grpc.credentials.createInsecure(), {
        "grpc.max_receive_message_length": 64 * 1024 * 1024,
        "grpc.max_send_message_length": 64 * 1024 * 1024,
      });
      this.clients.set(address, c);
    }
    return c;
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}

/** The server-to-server port: runs the commands other servers forward to this one. */
export async function startInternalServer(
  pipeline: RequestPipeline,
  rt: Runtime,
  host: string,
  port: number,
  secret: string,
  log: Logger,
): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server({
    "grpc.max_receive_message_length": 64 * 1024 * 1024,
    "grpc.max_send_message_length": 64 * 1024 * 1024,
  });
  server.addService(SERVICE, {
    forward: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      const fail = (code: grpc.status, details: string) =>
        callback({ code, details, metadata: new grpc.Metadata() });
      const header = (name: string) => {
        const v = call.metadata.get(name)[0];
        return typeof v === "string" ? v : undefined;
      };
      if (secret && header("x-pony-cluster-secret") !== secret) {
        return fail(grpc.status.UNAUTHENTICATED, "the cluster secret is missing or wrong");
      }
      const method = header("x-pony-rpc") ?? "";
      const schemas = METHODS.get(method);
      if (!schemas) return fail(grpc.status.UNIMPLEMENTED, `unknown RPC '${method}'`);
      const abort = new AbortController();
      call.on("cancelled", () => abort.abort());
      const deadline = call.getDeadline();
      const deadlineMs =
        deadline instanceof Date ? deadline.getTime() : Number.isFinite(deadline) ? deadline : undefined;
      const run = async () => {
        // the forwarder saw metadata at least this new: so must the owner, before it runs the command
        if (Number(header("x-pony-metadata-version") ?? -1) > rt.knownMetadataVersion())
          await rt.refreshMetadata();
        const req = fromBinary(schemas.input, call.request);
        const res = await pipeline.runForwarded(method, req, {
          tenant: header("x-pony-tenant") ?? "default",
          principalId: header("x-pony-principal") ?? "",
          deadlineMs,
          signal: abort.signal,
        });
        return res instanceof EncodedResponse ? Buffer.from(res.bytes) : encodeMessage(schemas.output, res);
      };
      run().then(
        (bytes) => callback(null, bytes),
        (e: unknown) => {
          if (e instanceof NotOwnerError || e instanceof FencedError)
            return fail(grpc.status.UNAVAILABLE, MOVED);
          if (e instanceof ForwardedError) return fail(e.code, e.message);
          fail(grpcStatusOf(e), e instanceof Error ? e.message : String(e));
        },
      );
    },
  });
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  log.info({ internalPort: bound }, "server-to-server port listening");
  return { server, port: bound };
}
