/**
 * gRPC plumbing for the benchmark: @grpc/grpc-js with protobuf-es v2 (de)serializers built from the generated
 * `LittleHorse` service descriptor, like packages/server/src/grpc/server.ts builds its service definition.
 */
import * as grpc from "@grpc/grpc-js";
import {
  fromBinary,
  toBinary,
  type DescMessage,
  type DescMethod,
  type MessageShape,
} from "@bufbuild/protobuf";
import {
  LittleHorse,
  PollTaskRequestSchema,
  PollTaskResponseSchema,
  type PollTaskRequest,
  type PollTaskResponse,
} from "@pony/proto";

function serializer(schema: DescMessage) {
  return (m: object) => Buffer.from(toBinary(schema, m as never));
}
function deserializer(schema: DescMessage) {
  return (b: Buffer) => fromBinary(schema, b);
}

const methodPath = (m: DescMethod) => `/${m.parent.typeName}/${m.name}`;

/** The grpc-js service definition of `littlehorse.LittleHorse`, keyed by each method's local name (runWf, …). */
export function serviceDefinition(): grpc.ServiceDefinition {
  const def: Record<string, grpc.MethodDefinition<object, object>> = {};
  for (const method of LittleHorse.methods) {
    def[method.localName] = {
      path: methodPath(method),
      requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
      responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
      requestSerialize: serializer(method.input),
      requestDeserialize: deserializer(method.input),
      responseSerialize: serializer(method.output),
      responseDeserialize: deserializer(method.output),
      originalName: method.name,
    };
  }
  return def;
}

interface UnaryDesc<I extends DescMessage, O extends DescMessage> {
  readonly methodKind: "unary";
  readonly input: I;
  readonly output: O;
  readonly name: string;
  readonly parent: DescMethod["parent"];
}

/** A client of one server address over one HTTP/2 channel (all calls are multiplexed on it). */
export class LhClient {
  readonly raw: grpc.Client;
  private readonly codecs = new Map<string, { ser: (m: object) => Buffer; de: (b: Buffer) => unknown }>();

  constructor(
    readonly address: string,
    /** an OAuth access token sent as `authorization: Bearer …` on every call */
    private readonly token?: string,
  ) {
    this.raw = new grpc.Client(address, grpc.credentials.createInsecure(), {
      "grpc.max_receive_message_length": 16 * 1024 * 1024,
    });
  }

  private metadata(): grpc.Metadata {
    const md = new grpc.Metadata();
    if (this.token) md.set("authorization", `Bearer ${this.token}`);
    return md;
  }

  private codec(m: DescMethod) {
    let c = this.codecs.get(m.localName);
    if (!c) this.codecs.set(m.localName, (c = { ser: serializer(m.input), de: deserializer(m.output) }));
    return c;
  }

  /** Calls a unary RPC; rejects with the grpc ServiceError. */
  unary<I extends DescMessage, O extends DescMessage>(
    method: UnaryDesc<I, O>,
    req: MessageShape<I>,
    deadlineMs = 30_000,
  ): Promise<MessageShape<O>> {
    const m = method as unknown as DescMethod;
    const { ser, de } = this.codec(m);
    return new Promise((resolve, reject) => {
      this.raw.makeUnaryRequest(
        methodPath(m),
        ser,
        de,
        req,
        this.metadata(),
        { deadline: Date.now() + deadlineMs },
        (err, res) => (err ? reject(err) : resolve(res as MessageShape<O>)),
      );
    });
  }

  /**
   * Calls a unary RPC and resolves to the response's bytes, undecoded: for timing what the server does
   * without the time this process would spend decoding a large response.
   */
  unaryRaw<I extends DescMessage, O extends DescMessage>(
    method: UnaryDesc<I, O>,
    req: MessageShape<I>,
    deadlineMs = 30_000,
  ): Promise<Buffer> {
    const m = method as unknown as DescMethod;
    const { ser } = this.codec(m);
    return new Promise((resolve, reject) => {
      this.raw.makeUnaryRequest(
        methodPath(m),
        ser,
        (b: Buffer) => b,
        req,
        this.metadata(),
        { deadline: Date.now() + deadlineMs },
        (err, res) => (err ? reject(err) : resolve(res!)),
      );
    });
  }

  /** Opens a PollTask bidirectional stream. */
  pollTask(): grpc.ClientDuplexStream<PollTaskRequest, PollTaskResponse> {
    return this.raw.makeBidiStreamRequest(
      methodPath(LittleHorse.method.pollTask),
      serializer(PollTaskRequestSchema),
      deserializer(PollTaskResponseSchema) as (b: Buffer) => PollTaskResponse,
      this.metadata(),
    );
  }

  close(): void {
    this.raw.close();
  }
}

export { grpc };
