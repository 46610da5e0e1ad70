/**
 * The gRPC listener (HTTP/2, grpc-js) for `littlehorse.LittleHorse`: a thin adapter. Messages are
 * (de)serialized with the protobuf-es generated schemas; each call is handed, with what grpc-js knows of
 * the caller (metadata, client certificate, deadline, cancellation), to the request pipeline (api/pipeline.ts),
 * and its outcome is turned into a gRPC status here (status.ts).
 */
import * as grpc from "@grpc/grpc-js";
import type { DescMessage } from "@bufbuild/protobuf";
import { LittleHorse } from "@pony/proto";
import type { BidiStream } from "../api/context";
import { EncodedResponse } from "../api/encoded";
import type { IncomingCall, RequestPipeline } from "../api/pipeline";
import { encodeMessage } from "../protobuf/to-binary";
import { toServiceError } from "./status";
import { deserializer, undecodable } from "./decode";
import { InvalidArgumentError, ResourceExhaustedError } from "@pony/engine";

function serializer(schema: DescMessage) {
  return (m: object) =>
    m instanceof EncodedResponse
      ? Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength)
      : encodeMessage(schema, m);
}

type AnyCall = grpc.ServerUnaryCall<object, object> | grpc.ServerDuplexStream<object, object>;

/**
 * The reason every cancelled call's signal carries. grpc-js reports a unary call "cancelled" when it ends in
 * any way, and abort() without a reason makes a DOMException, with its stack trace, each time: a
 * forwarded call (whose router listens to the signal) paid that on every command.
 */
const CANCELLED = new Error("the call was cancelled or ended");

function incoming(call: AnyCall, mtls: boolean): IncomingCall {
  let controller: AbortController | undefined;
  const deadline = call.getDeadline();
  const deadlineMs =
    deadline instanceof Date ? deadline.getTime() : deadline === Infinity ? undefined : deadline;
  return {
    header(name) {
      const v = call.metadata.get(name)[0];
      return typeof v === "string" ? v : undefined;
    },
    certificateCommonName: mtls ? commonName(call) : undefined,
    deadlineMs,
    cancelled: () => call.cancelled,
    // made on first use: most handlers never look
    get signal() {
      if (!controller) {
        const c = (controller = new AbortController());
        if (call.cancelled) c.abort(CANCELLED);
        else call.once("cancelled", () => c.abort(CANCELLED));
      }
      return controller.signal;
    },
  };
}

function commonName(call: AnyCall): string | undefined {
  const cn = call.getAuthContext().sslPeerCertificate?.subject?.CN;
  return Array.isArray(cn) ? cn[0] : cn || undefined;
}

export function buildServiceDefinition(): grpc.ServiceDefinition {
  const def: Record<string, grpc.MethodDefinition<object, object>> = {};
  for (const method of LittleHorse.methods) {
    def[method.localName] = {
      path: `/${LittleHorse.typeName}/${method.name}`,
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

/** Request messages a stream holds while its caller is being authenticated; more is RESOURCE_EXHAUSTED. */
const MAX_HELD = 1000;

/**
 * A grpc-js duplex call as the pipeline's BidiStream. Request messages (and the client's half-close) that
 * arrive before the handler listens are held, up to MAX_HELD, and handed over when it does.
 */
function bidiStream(call: grpc.ServerDuplexStream<object, object>): BidiStream<object, object> {
  let listener: ((req: object) => void) | undefined;
  let endListener: (() => void) | undefined;
  const held: object[] = [];
  let clientEnded = false;
  let done = false;
  const closers = new Set<() => void>();
  const close = () => {
    if (done) return;
    done = true;
    for (const fn of closers) fn();
  };
  const fail = (e: unknown) => {
    if (done) return;
    call.emit("error", toServiceError(e));
    close();
  };
  call.on("data", (req: object) => {
    if (done) return;
    const bad = undecodable(req);
    if (bad !== undefined) {
      fail(new InvalidArgumentError(bad));
      return;
    }
    if (listener) listener(req);
    else if (held.length < MAX_HELD) held.push(req);
    else fail(new ResourceExhaustedError(`more than ${MAX_HELD} requests sent before the stream was open`));
  });
  call.on("end", () => {
    clientEnded = true;
    if (listener) endListener?.();
  });
  call.on("cancelled", close);
  call.on("close", close);
  call.on("error", close);
  return {
    onMessage(fn) {
      listener = fn;
      for (const req of held.splice(0)) fn(req);
      if (clientEnded) endListener?.();
    },
    onEnd(fn) {
      endListener = fn;
      if (clientEnded && listener) fn();
    },
    onClose(fn) {
      if (done) fn();
      else closers.add(fn);
    },
    send(res, sent) {
      if (done || call.cancelled) {
        sent?.(false);
        return;
      }
      if (!sent) {
        call.write(res);
        return;
      }
      // grpc-js calls back once the message is written to the HTTP/2 stream, with an error if the stream was
      // destroyed first, and never if the call was cancelled: then closing settles it
      let settled = false;
      const settle = (ok: boolean) => {
        if (settled) return;
        settled = true;
        closers.delete(lost);
        sent(ok);
      };
      const lost = () => settle(false);
      closers.add(lost);
      call.write(res, (err?: Error | null) => settle(!err));
    },
    end() {
      if (done) return;
      call.end();
      close();
    },
    fail,
  };
}

export function buildGrpcImplementation(
  pipeline: RequestPipeline,
  opts: { mtls: boolean },
): grpc.UntypedServiceImplementation {
  const impl: grpc.UntypedServiceImplementation = {};
  for (const method of LittleHorse.methods) {
    const name = method.localName;
    if (method.methodKind === "unary") {
      impl[name] = (call: grpc.ServerUnaryCall<object, object>, callback: grpc.sendUnaryData<object>) => {
        const bad = undecodable(call.request);
        if (bad !== undefined) {
          callback({ code: grpc.status.INVALID_ARGUMENT, details: bad });
          return;
        }
        pipeline.unary(name, call.request, incoming(call, opts.mtls)).then(
          (res) => callback(null, res),
          (e: unknown) => callback(toServiceError(e)),
        );
      };
    } else if (method.methodKind === "bidi_streaming") {
      impl[name] = (call: grpc.ServerDuplexStream<object, object>) => {
        pipeline.stream(name, bidiStream(call), incoming(call, opts.mtls));
      };
    }
  }
  return impl;
}

export interface GrpcTls {
  /** PEM server certificate chain and key */
  cert: Buffer;
  key: Buffer;
  /** PEM CA bundle; when set, clients must present a certificate it signed (mTLS) */
  clientCa?: Buffer;
}

export async function startGrpcServer(
  pipeline: RequestPipeline,
  host: string,
  port: number,
  tls?: GrpcTls,
): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server({
    "grpc.max_receive_message_length": 16 * 1024 * 1024,
    "grpc.keepalive_permit_without_calls": 1,
  });
  server.addService(
    buildServiceDefinition(),
    buildGrpcImplementation(pipeline, { mtls: tls?.clientCa !== undefined }),
  );
  const credentials = tls
    ? grpc.ServerCredentials.createSsl(
        tls.clientCa ?? null,
        [{ cert_chain: tls.cert, private_key: tls.key }],
        tls.clientCa !== undefined,
      )
    : grpc.ServerCredentials.createInsecure();
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${port}`, credentials, (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { server, port: bound };
}
