/**
 * Commands travel to their partition's owner over the server-to-server port.
 *
 * The router (a Router of the request pipeline) runs a command here when this server owns its partition,
 * else forwards it to the owner. Each server keeps one long-lived bidirectional stream to each peer,
 * `/pony.cluster.Cluster/ForwardBatched`, opened with the cluster secret; a forwarded command is one
 * ForwardedCall (proto/pony/cluster/forwarding.proto: the RPC's own protobuf bytes, the caller's tenant and
 * principal, authenticated and authorized by the server the client called, the metadata version that server
 * has seen, the deadline) and its outcome one ForwardedAnswer: the RPC's response bytes, or its error status.
 * A unary gRPC call per command cost each side a new HTTP/2 stream with its headers, which on a small
 * cluster was a large part of a forwarded RunWf's cost. On the stream, the calls a server makes to one peer
 * in one event-loop turn travel as one message (ForwardedCalls), and so do the answers (ForwardedAnswers):
 * a commit finishes many commands at once, and each message costs both sides a stream write, an HTTP/2
 * frame and a read, whatever it holds (Outbox).
 *
 * A command is retried only when it is known not to have run: the owner says it no longer owns the partition
 * (it moved), or no connection to the owner could be made. While a partition has no owner (its server died,
 * its lease has not run out yet) the router waits for the next one, within the call's deadline and at most
 * twice the lease time. A stream that breaks with commands on it fails them with UNAVAILABLE: whether they
 * ran is unknown, as when a unary call's connection breaks.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import { encodeMessage } from "../protobuf/to-binary";
import {
  ForwardedAnswerSchema,
  ForwardedAnswersSchema,
  ForwardedCallSchema,
  ForwardedCallsSchema,
  LittleHorse,
  type ForwardedAnswer,
  type ForwardedCall,
  type RunWfRequest,
} from "@pony/proto";
import type { Logger } from "pino";
import type { CallContext } from "../api/context";
import { EncodedResponse } from "../api/encoded";
import type { RequestPipeline, Router } from "../api/pipeline";
import { routeOf } from "../api/routes";
import {
  CancelledError,
  DeadlineExceededError,
  ForwardedError,
  UnavailableError,
  grpcStatusOf,
} from "../grpc/status";
import { madeUpWfRunId } from "../runtime/ids";
import { METADATA_PARTITION, NotOwnerError } from "../runtime/partitions";
import type { Runtime } from "../runtime/runtime";
import { MAX_DELAY_MS } from "../runtime/timers";
import { FencedError } from "../store/store";
import type { LeaseKeeper } from "./lease-keeper";
import { Outbox } from "./outbox";

const PATH = "/pony.cluster.Cluster/ForwardBatched";
/** how long a stopping server waits for the forwarded commands running on it before it cuts them */
const DRAIN_MS = 5000;
const SECRET_HEADER = "x-pony-cluster-secret";

/**
 * HTTP/2 keepalive on the forwarding streams, both ways: a peer that goes silent without closing its
 * connection (paused, cut off by the network) is found within two lease times, and the commands on the
 * stream fail UNAVAILABLE instead of waiting for it. Without it, a command with no deadline would wait until
 * the peer came back. (grpc-js servers do not refuse frequent pings: both sides may ping.)
 */
function keepalive(leaseMs: number): grpc.ChannelOptions {
  const ms = Math.max(1000, Math.round(leaseMs));
  return { "grpc.keepalive_time_ms": ms, "grpc.keepalive_timeout_ms": ms };
}

/** abort reasons (abort() without one makes a DOMException, with a stack trace, each time) */
const STREAM_ENDED = new Error("the forwarding stream ended");
const PEER_CANCELLED = new Error("the forwarding server cancelled the call");

const identity = (b: Buffer) => b;
const SERVICE: grpc.ServiceDefinition = {
  forward: {
    path: PATH,
    requestStream: true,
    responseStream: true,
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

/** whether the header holds the secret, compared in constant time (so timing does not reveal a prefix) */
function sameSecret(given: unknown, secret: string): boolean {
  if (typeof given !== "string") return false;
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(secret).digest();
  return timingSafeEqual(a, b);
}

/** a stream to a peer that could not connect at all: nothing sent on it ran */
const notConnected = (s: { code: grpc.status; details: string }) =>
  s.code === grpc.status.UNAVAILABLE && /No connection established|ECONNREFUSED/.test(s.details);

export interface ForwardingSettings {
  /** required in the `x-pony-cluster-secret` header of forwarding streams ("" = none) */
  secret: string;
  leaseMs: number;
}

/** A forwarded command waiting for its answer. */
interface Pending {
  resolve(answer: EncodedResponse | undefined): void;
  reject(e: Error): void;
}

/** The stream to one peer and the commands in flight on it. */
class PeerLink {
  private stream: grpc.ClientDuplexStream<Buffer, Buffer> | undefined;
  /** calls for the open stream's next message */
  private readonly outbox = new Outbox<ForwardedCall>(
    (calls) =>
      this.stream?.write(encodeMessage(ForwardedCallsSchema, create(ForwardedCallsSchema, { calls }))),
    (call) => call.request.byteLength,
  );
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  constructor(
    private readonly client: grpc.Client,
    private readonly secret: string,
  ) {}

  /** Sends a command; resolves to the owner's answer, or undefined when it did not run there. */
  call(
    fields: Pick<
      ForwardedCall,
      "rpc" | "tenant" | "principal" | "metadataVersion" | "deadlineMs" | "request"
    >,
    ctx: CallContext,
  ): Promise<EncodedResponse | undefined> {
    if (ctx.signal.aborted) return Promise.reject(new CancelledError("the call was cancelled"));
    const stream = this.open();
    const callId = (this.nextId = (this.nextId + 1) >>> 0);
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        this.pending.delete(callId);
        if (timer) clearTimeout(timer);
        ctx.signal.removeEventListener("abort", onAbort);
      };
      // the caller gave up: the owner is told, and the command ends here as the caller sees it
      const giveUp = (e: Error) => {
        done();
        // a call still waiting to be sent is simply not sent; one sent is cancelled at the owner
        if (this.stream === stream && !this.outbox.remove((c) => c.callId === callId))
          this.outbox.add(create(ForwardedCallSchema, { callId, cancel: true }));
        reject(e);
      };
      const onAbort = () => giveUp(new CancelledError("the call was cancelled"));
      this.pending.set(callId, {
        resolve: (a) => (done(), resolve(a)),
        reject: (e) => (done(), reject(e)),
      });
      ctx.signal.addEventListener("abort", onAbort, { once: true });
      // a deadline further away than a Node timer can wait is left to the owner
      const deadline = Number(fields.deadlineMs);
      if (deadline > 0 && deadline - Date.now() <= MAX_DELAY_MS) {
        timer = setTimeout(
          () =>
            giveUp(new DeadlineExceededError("the deadline passed before the partition's owner answered")),
          Math.max(0, deadline - Date.now()),
        );
      }
      this.outbox.add(create(ForwardedCallSchema, { ...fields, callId }));
    });
  }

  private open(): grpc.ClientDuplexStream<Buffer, Buffer> {
    if (this.stream) return this.stream;
    const md = new grpc.Metadata();
    if (this.secret) md.set(SECRET_HEADER, this.secret);
    const stream = this.client.makeBidiStreamRequest(PATH, identity, identity, md);
    this.stream = stream;
    stream.on("data", (bytes: Buffer) => {
      let answers: ForwardedAnswer[];
      try {
        answers = fromBinary(ForwardedAnswersSchema, bytes).answers;
      } catch {
        return this.broken(stream, {
          code: grpc.status.INTERNAL,
          details: "a peer sent an unreadable answer",
        });
      }
      for (const answer of answers) {
        const p = this.pending.get(answer.callId);
        if (!p) continue; // given up on meanwhile
        if (answer.moved) p.resolve(undefined);
        else if (answer.code === 0)
          p.resolve(new EncodedResponse(answer.response)); // OK
        else p.reject(new ForwardedError(answer.code, answer.details));
      }
    });
    // the final status comes as 'status' (after 'error' when it is not OK)
    stream.on("error", () => undefined);
    stream.on("status", (s: grpc.StatusObject) => this.broken(stream, s));
    return stream;
  }

  /**
   * The stream ended. Its commands still waiting did not run when they were not sent yet, when no
   * connection was made, or when the peer ended the stream itself (status OK): a peer ends it only once
   * every command it received is answered, so those it did not answer never reached it. Otherwise (the
   * connection broke) they may have run.
   */
  private broken(stream: grpc.ClientDuplexStream<Buffer, Buffer>, s: { code: grpc.status; details: string }) {
    if (this.stream !== stream) return;
    this.stream = undefined;
    const unsent = new Set(this.outbox.drop().map((c) => c.callId));
    stream.cancel();
    const calls = [...this.pending];
    for (const [callId, p] of calls) {
      if (s.code === grpc.status.OK || notConnected(s) || unsent.has(callId)) p.resolve(undefined);
      else
        p.reject(
          new ForwardedError(
            grpc.status.UNAVAILABLE,
            `the connection to the partition's owner broke before it answered (${s.details || "stream ended"})`,
          ),
        );
    }
  }

  close(): void {
    this.stream?.cancel();
    this.client.close();
  }
}

export class ClusterRouter implements Router {
  private readonly links = new Map<string, PeerLink>();

  constructor(
    private readonly rt: Runtime,
    private readonly leases: LeaseKeeper,
    private readonly settings: ForwardingSettings,
    private readonly log: Logger,
  ) {}

  async run(method: string, req: object, ctx: CallContext, local: () => Promise<object>): Promise<object> {
    if (method === "runWf") this.placeNewWfRun(req as RunWfRequest, ctx.tenant);
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

  /**
   * A RunWf that names no id (and no parent) gets one that falls in a partition this server owns, so it
   * runs here, with nothing to forward; the client learns the id from the answer. A server that owns no
   * partition leaves the id to routeOf (a random one, forwarded to its owner).
   */
  private placeNewWfRun(req: RunWfRequest, tenant: string): void {
    if ((req.id !== undefined && req.id !== "") || req.parentWfRunId?.id) return;
    if (this.rt.partitions.held().size === 0) return;
    // with N servers sharing the partitions evenly, one try in N lands here
    for (let i = 0; i < 64; i++) {
      const id = madeUpWfRunId();
      if (this.rt.partitions.owns(this.rt.partitionOf(tenant, id))) {
        req.id = id;
        return;
      }
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
    return this.link(address).call(
      {
        rpc: method,
        tenant: ctx.tenant,
        principal: ctx.principalId,
        metadataVersion: BigInt(this.rt.knownMetadataVersion()),
        deadlineMs: BigInt(Math.floor(ctx.deadlineMs ?? 0)),
        request: encodeMessage(schemas.input, req),
      },
      ctx,
    );
  }

  private link(address: string): PeerLink {
    let link = this.links.get(address);
    if (!link) {
      const client = new grpc.Client(address, grpc.credentials.createInsecure(), {
        "grpc.max_receive_message_length": 64 * 1024 * 1024,
        "grpc.max_send_message_length": 64 * 1024 * 1024,
        ...keepalive(this.settings.leaseMs),
      });
      this.links.set(address, (link = new PeerLink(client, this.settings.secret)));
    }
    return link;
  }

  close(): void {
    for (const link of this.links.values()) link.close();
    this.links.clear();
  }
}

/** The server-to-server port: runs the commands other servers forward to this one. */
export interface InternalServer {
  server: grpc.Server;
  port: number;
  /**
   * Ends the peers' forwarding streams once the commands on them are answered; commands that arrive
   * meanwhile are answered "moved" (this server is stopping and owns nothing by now).
   */
  drain(): Promise<void>;
}

export async function startInternalServer(
  pipeline: RequestPipeline,
  rt: Runtime,
  host: string,
  port: number,
  secret: string,
  leaseMs: number,
  log: Logger,
): Promise<InternalServer> {
  const server = new grpc.Server({
    "grpc.max_receive_message_length": 64 * 1024 * 1024,
    "grpc.max_send_message_length": 64 * 1024 * 1024,
    ...keepalive(leaseMs),
  });
  /** each open stream's end once the commands on it are answered */
  const streams = new Set<() => Promise<void>>();
  let draining = false;

  server.addService(SERVICE, {
    forward: (stream: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      if (secret && !sameSecret(stream.metadata.get(SECRET_HEADER)[0], secret)) {
        stream.emit("error", {
          code: grpc.status.UNAUTHENTICATED,
          details: "the cluster secret is missing or wrong",
        });
        return;
      }
      /** commands running, by call id: aborted when the peer gives up on one, or on the stream */
      const running = new Map<number, AbortController>();
      let ended = false;
      let settled: (() => void) | undefined;
      let finishing: Promise<void> | undefined;
      const outbox = new Outbox<ForwardedAnswer>(
        (answers) => {
          // (a stream that grpc-js ended itself, after an error, takes no more)
          if (!stream.cancelled && !stream.writableEnded)
            stream.write(encodeMessage(ForwardedAnswersSchema, create(ForwardedAnswersSchema, { answers })));
        },
        (a) => a.response.byteLength + a.details.length,
      );
      const answer = (fields: MessageInitShape<typeof ForwardedAnswerSchema>) => {
        if (!ended) outbox.add(create(ForwardedAnswerSchema, fields));
      };
      const end = () => {
        if (ended) return;
        ended = true;
        for (const c of running.values()) c.abort(STREAM_ENDED);
        // the answers given so far go out before the stream ends
        outbox.flush();
        if (!stream.cancelled) stream.end();
        streams.delete(finish);
        settled?.();
      };
      const finish = () =>
        (finishing ??= new Promise<void>((resolve) => {
          settled = resolve;
          if (running.size === 0) end();
        }));
      streams.add(finish);

      /** Starts one forwarded call (or cancels one). */
      const take = (call: ForwardedCall) => {
        if (ended) return;
        const { callId } = call;
        if (call.cancel) return running.get(callId)?.abort(PEER_CANCELLED);
        if (draining) {
          // stopping: this server owns nothing now; the stream ends once nothing runs on it
          answer({ callId, moved: true });
          if (running.size === 0) end();
          return;
        }
        const schemas = METHODS.get(call.rpc);
        if (!schemas)
          return answer({ callId, code: grpc.status.UNIMPLEMENTED, details: `unknown RPC '${call.rpc}'` });
        const abort = new AbortController();
        running.set(callId, abort);
        const run = async () => {
          // the forwarder saw metadata at least this new: so must the owner, before it runs the command
          if (Number(call.metadataVersion) > rt.knownMetadataVersion()) await rt.refreshMetadata();
          const req = fromBinary(schemas.input, call.request);
          const res = await pipeline.runForwarded(call.rpc, req, {
            tenant: call.tenant || "default",
            principalId: call.principal,
            deadlineMs: call.deadlineMs > 0n ? Number(call.deadlineMs) : undefined,
            signal: abort.signal,
          });
          return res instanceof EncodedResponse ? res.bytes : encodeMessage(schemas.output, res);
        };
        run()
          .then(
            (response) => answer({ callId, response }),
            (e: unknown) => {
              if (e instanceof NotOwnerError || e instanceof FencedError)
                return answer({ callId, moved: true });
              if (e instanceof ForwardedError) return answer({ callId, code: e.code, details: e.message });
              answer({ callId, code: grpcStatusOf(e), details: e instanceof Error ? e.message : String(e) });
            },
          )
          .finally(() => {
            running.delete(callId);
            if (settled && running.size === 0) end();
          });
      };
      stream.on("data", (bytes: Buffer) => {
        if (ended) return;
        let calls: ForwardedCall[];
        try {
          calls = fromBinary(ForwardedCallsSchema, bytes).calls;
        } catch {
          stream.emit("error", {
            code: grpc.status.INVALID_ARGUMENT,
            details: "an unreadable forwarded call",
          });
          return;
        }
        for (const call of calls) take(call);
      });
      // the peer closed its side (it is stopping): answer what runs, then end ours
      stream.on("end", () => void finish());
      stream.on("cancelled", end);
      stream.on("error", end);
    },
  });
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  log.info({ internalPort: bound }, "server-to-server port listening");
  return {
    server,
    port: bound,
    async drain() {
      draining = true;
      // a command may wait long (an AwaitWorkflowEvent, up to its deadline): the shutdown that follows
      // cuts what is still running after a while
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all([...streams].map((finish) => finish())),
        new Promise((r) => (timer = setTimeout(r, DRAIN_MS))),
      ]);
      clearTimeout(timer);
    },
  };
}
