/**
 * A typed client for every RPC of `littlehorse.LittleHorse`, built at run time from the service descriptor
 * (the same table the server is built from), over @grpc/grpc-js with protobuf-es serializers.
 *
 *   const client = new LHConfig().getClient();
 *   const taskDef = await client.putTaskDef({ name: "greet", inputVars: [...] });   // Promise<TaskDef>
 *
 * Unary RPCs take a message or a partial init object (`create`d here) and per-call options (a deadline);
 * they resolve with the response message or reject with an LHApiError. PollTask is a bidirectional stream.
 * Every call carries the `tenantid` header and, when OAuth is configured, `authorization: Bearer …`.
 */
import { EventEmitter } from "node:events";
import * as grpc from "@grpc/grpc-js";
import {
  create,
  fromBinary,
  toBinary,
  type DescMessage,
  type DescMethod,
  type MessageInitShape,
  type MessageShape,
} from "@bufbuild/protobuf";
import { LittleHorse } from "@pony/proto";
import { LHApiError } from "./errors";
import { LHOAuthError } from "./oauth";

type Methods = (typeof LittleHorse)["method"];
type MethodName = keyof Methods;
type MethodsOfKind<K extends DescMethod["methodKind"]> = {
  [M in MethodName]: Methods[M]["methodKind"] extends K ? M : never;
}[MethodName];

/** Local names of the unary RPCs: "putTaskDef", "runWf", … */
export type LHUnaryMethodName = MethodsOfKind<"unary">;
/** Local names of the bidirectional-streaming RPCs: "pollTask". */
export type LHBidiMethodName = MethodsOfKind<"bidi_streaming">;

/** The request init shape (every field optional) of an RPC. */
export type LHRequestInit<M extends MethodName> = MessageInitShape<Methods[M]["input"]>;
/** The response message of an RPC. */
export type LHResponse<M extends MethodName> = MessageShape<Methods[M]["output"]>;

export interface LHCallOptions {
  /** Fail with DEADLINE_EXCEEDED after this many milliseconds. */
  timeoutMs?: number;
  /** Fail with DEADLINE_EXCEEDED at this time (the earlier of `deadline` and `timeoutMs` applies). */
  deadline?: Date;
  /** Cancels the call (it then fails with CANCELLED). */
  signal?: AbortSignal;
}

/** One bidirectional stream (PollTask): requests are init objects, responses messages. */
export interface LHBidiStream<Req, Res> {
  /** Sends one request; false when the stream's buffer is full (write on anyway: it queues). */
  write(req: Req): boolean;
  /** Half-closes: no more requests; responses still arrive until the server ends the stream. */
  end(): void;
  /** Abandons the stream at once (the "error" listener sees CANCELLED). */
  cancel(): void;
  on(event: "data", listener: (res: Res) => void): this;
  on(event: "error", listener: (err: LHApiError) => void): this;
  /** The stream is over (after "end" from the server, or after "error"). */
  on(event: "close", listener: () => void): this;
}

/** A typed client: one method per RPC of the LittleHorse service, plus `close()`. */
export type LHClient = {
  [M in LHUnaryMethodName]: (req?: LHRequestInit<M>, opts?: LHCallOptions) => Promise<LHResponse<M>>;
} & {
  [M in LHBidiMethodName]: (opts?: LHCallOptions) => LHBidiStream<LHRequestInit<M>, LHResponse<M>>;
} & {
  /** `host:port` this client talks to. */
  readonly address: string;
  /** Closes the channel; calls made afterwards fail. */
  close(): void;
};

/** What a client needs from the configuration: the transport, the tenant and the bearer token. */
export interface LHClientOptions {
  address: string;
  credentials: grpc.ChannelCredentials;
  tenantId: string;
  /** Called before each call when OAuth is configured. */
  accessToken?: () => Promise<string>;
  channelOptions?: grpc.ChannelOptions;
}

/** Channel options for a long-lived client: reconnect quickly after a server restart. */
export const DEFAULT_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  "grpc.initial_reconnect_backoff_ms": 250,
  "grpc.max_reconnect_backoff_ms": 5_000,
  "grpc.max_receive_message_length": 16 * 1024 * 1024,
};

function serializer(schema: DescMessage) {
  return (m: object): Buffer => Buffer.from(toBinary(schema, m as never));
}
function deserializer(schema: DescMessage) {
  return (b: Buffer): object => fromBinary(schema, b);
}

function deadlineOf(opts: LHCallOptions | undefined): grpc.Deadline | undefined {
  let ms: number | undefined;
  if (opts?.timeoutMs !== undefined) ms = Date.now() + opts.timeoutMs;
  if (opts?.deadline !== undefined) ms = Math.min(ms ?? Infinity, opts.deadline.getTime());
  return ms;
}

/** Builds a client for `opts.address`. Usually reached through `LHConfig.getClient()`. */
export function createLHClient(opts: LHClientOptions): LHClient {
  const channel = new grpc.Client(opts.address, opts.credentials, {
    ...DEFAULT_CHANNEL_OPTIONS,
    ...opts.channelOptions,
  });
  const callCredentials = opts.accessToken ? bearerCredentials(opts.accessToken) : undefined;

  const metadata = () => {
    const md = new grpc.Metadata();
    md.set("tenantid", opts.tenantId);
    return md;
  };
  const callOptions = (o: LHCallOptions | undefined): grpc.CallOptions => {
    const co: grpc.CallOptions = {};
    const deadline = deadlineOf(o);
    if (deadline !== undefined) co.deadline = deadline;
    if (callCredentials) co.credentials = callCredentials;
    return co;
  };

  function unary(method: DescMethod) {
    const path = `/${LittleHorse.typeName}/${method.name}`;
    const serialize = serializer(method.input);
    const deserialize = deserializer(method.output);
    return (init: object | undefined, o?: LHCallOptions): Promise<object> => {
      return new Promise((resolve, reject) => {
        const req = create(method.input, init as never);
        if (o?.signal?.aborted) {
          reject(
            new LHApiError(method.name, grpc.status.CANCELLED, "the call was aborted before it started"),
          );
          return;
        }
        let call: grpc.ClientUnaryCall;
        try {
          call = channel.makeUnaryRequest(
            path,
            serialize,
            deserialize,
            req,
            metadata(),
            callOptions(o),
            (err: grpc.ServiceError | null, res?: object) => {
              o?.signal?.removeEventListener("abort", onAbort);
              if (err) reject(LHApiError.fromServiceError(method.name, err));
              else if (res === undefined)
                reject(new LHApiError(method.name, grpc.status.INTERNAL, "empty response"));
              else resolve(res);
            },
          );
        } catch (e) {
          // grpc-js throws at once on a closed channel
          reject(
            new LHApiError(method.name, grpc.status.UNAVAILABLE, e instanceof Error ? e.message : String(e)),
          );
          return;
        }
        const onAbort = () => call.cancel();
        o?.signal?.addEventListener("abort", onAbort, { once: true });
      });
    };
  }

  function bidi(method: DescMethod) {
    const path = `/${LittleHorse.typeName}/${method.name}`;
    const serialize = serializer(method.input);
    const deserialize = deserializer(method.output);
    return (o?: LHCallOptions): LHBidiStream<object, object> => {
      let call: grpc.ClientDuplexStream<object, object>;
      try {
        call = channel.makeBidiStreamRequest(path, serialize, deserialize, metadata(), callOptions(o));
      } catch (e) {
        // grpc-js throws at once on a closed channel: fail the stream the usual way instead
        const message = e instanceof Error ? e.message : String(e);
        return new FailedStream(new LHApiError(method.name, grpc.status.UNAVAILABLE, message));
      }
      if (o?.signal) {
        const onAbort = () => call.cancel();
        o.signal.addEventListener("abort", onAbort, { once: true });
        call.on("status", () => o.signal?.removeEventListener("abort", onAbort));
      }
      return new BidiStream(method, call);
    };
  }

  const client: Record<string, unknown> = {
    address: opts.address,
    close: () => channel.close(),
  };
  for (const method of LittleHorse.methods) {
    if (method.methodKind === "unary") client[method.localName] = unary(method);
    else if (method.methodKind === "bidi_streaming") client[method.localName] = bidi(method);
  }
  // The table above has one entry per RPC of the descriptor, which is what the mapped type describes.
  return client as LHClient;
}

class BidiStream implements LHBidiStream<object, object> {
  constructor(
    private readonly method: DescMethod,
    private readonly call: grpc.ClientDuplexStream<object, object>,
  ) {
    // an "error" event without a listener would be thrown: the status also arrives on "close"
    call.on("error", () => undefined);
  }

  write(req: object): boolean {
    return this.call.write(create(this.method.input, req as never));
  }
  end(): void {
    this.call.end();
  }
  cancel(): void {
    this.call.cancel();
  }
  on(event: "data" | "error" | "close", listener: (arg: never) => void): this {
    if (event === "error") {
      this.call.on("error", (e: grpc.ServiceError) =>
        (listener as (err: LHApiError) => void)(LHApiError.fromServiceError(this.method.name, e)),
      );
    } else if (event === "close") {
      // grpc-js emits "status" exactly once when the call is over, after "error" if it failed
      this.call.on("status", listener as () => void);
    } else {
      this.call.on("data", listener as (res: object) => void);
    }
    return this;
  }
}

/** A stream that could not be created: it reports its error, then closes. */
class FailedStream implements LHBidiStream<object, object> {
  private readonly events = new EventEmitter();

  constructor(err: LHApiError) {
    setImmediate(() => {
      if (this.events.listenerCount("error") > 0) this.events.emit("error", err);
      this.events.emit("close");
    });
  }
  write(): boolean {
    return false;
  }
  end(): void {}
  cancel(): void {}
  on(event: "data" | "error" | "close", listener: (arg: never) => void): this {
    if (event !== "data") this.events.on(event, listener as (arg: unknown) => void);
    return this;
  }
}

/** `authorization: Bearer <token>` on every call, the token coming from `accessToken()`. */
function bearerCredentials(accessToken: () => Promise<string>): grpc.CallCredentials {
  return grpc.credentials.createFromMetadataGenerator((_params, callback) => {
    accessToken().then(
      (token) => {
        const md = new grpc.Metadata();
        md.set("authorization", `Bearer ${token}`);
        callback(null, md);
      },
      (e: unknown) => {
        // the call fails with this code: a refused client is UNAUTHENTICATED, anything else may pass
        const refused = e instanceof LHOAuthError && e.httpStatus !== undefined && e.httpStatus < 500;
        const err = e instanceof Error ? e : new Error(String(e));
        callback(
          Object.assign(err, { code: refused ? grpc.status.UNAUTHENTICATED : grpc.status.UNAVAILABLE }),
        );
      },
    );
  });
}
