/**
 * The Connect and gRPC-Web transport of `littlehorse.LittleHorse` (the listener on --http-port, used by the
 * dashboard and by browsers): a thin adapter like grpc/server.ts. Each unary call is handed, with its
 * headers, deadline and cancellation, to the same request pipeline (api/pipeline.ts) as gRPC on 2023, so
 * authentication, tenants, authorization and every handler are the ones gRPC callers get. Errors keep their
 * gRPC status code: Connect's codes are gRPC's, by number.
 *
 * PollTask is a bidirectional stream, which HTTP/1.1 cannot carry: task workers poll over gRPC. Its path is
 * answered UNIMPLEMENTED, saying so (refuseStream), rather than with the router's bare 505.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { create, fromBinary, type DescMethod } from "@bufbuild/protobuf";
import { BinaryReader, type WireType } from "@bufbuild/protobuf/wire";
import {
  Code,
  ConnectError,
  createContextKey,
  type ConnectRouter,
  type HandlerContext,
} from "@connectrpc/connect";
import { LittleHorse } from "@pony/proto";
import { EncodedResponse } from "../api/encoded";
import type { IncomingCall, RequestPipeline } from "../api/pipeline";
import { toServiceError } from "../grpc/status";

/** the subject CN of a verified client certificate, set per request by the listener (server.ts) */
export const kCertificateCommonName = createContextKey<string | undefined>(undefined);

function incoming(ctx: HandlerContext): IncomingCall {
  const timeout = ctx.timeoutMs();
  return {
    header: (name) => ctx.requestHeader.get(name) ?? undefined,
    certificateCommonName: ctx.values.get(kCertificateCommonName),
    deadlineMs: timeout === undefined ? undefined : Date.now() + timeout,
    signal: ctx.signal,
    cancelled: () => ctx.signal.aborted,
  };
}

/** Any error as a ConnectError with the gRPC status code and message a gRPC caller gets. */
export function toConnectError(e: unknown): ConnectError {
  const se = toServiceError(e);
  return new ConnectError(se.details ?? "", (se.code ?? Code.Internal) as number);
}

/**
 * The answer as the message connect-node serializes. An encoded one (a List page of stored objects, api/
 * encoded.ts) is decoded only for JSON; for the binary codecs it becomes a message of the output type whose
 * fields are all "unknown" — each top-level field's bytes as they are — which protobuf-es writes back
 * unchanged, so a page of 1,000 NodeRuns is not decoded and encoded again on the main thread (that took
 * ~100 ms, and every other call of the dashboard waited behind it).
 */
function answer(method: DescMethod, res: object, binary: boolean): object {
  if (!(res instanceof EncodedResponse)) return res;
  if (!binary) return fromBinary(method.output, res.bytes);
  const fields: { no: number; wireType: WireType; data: Uint8Array }[] = [];
  const reader = new BinaryReader(res.bytes);
  while (reader.pos < reader.len) {
    const [no, wireType] = reader.tag();
    fields.push({ no, wireType, data: reader.skip(wireType, no) });
  }
  const message = create(method.output) as { $unknown?: typeof fields };
  message.$unknown = fields;
  return message;
}

/** whether the call's messages are protobuf binary (Connect `application/proto`, gRPC-Web), not JSON */
const binaryCodec = (ctx: HandlerContext): boolean =>
  !(ctx.requestHeader.get("content-type") ?? "").includes("json");

const STREAM_PATHS = new Map(
  LittleHorse.methods
    .filter((m) => m.methodKind !== "unary")
    .map((m) => [`/${LittleHorse.typeName}/${m.name}`, m.name]),
);

/** Answers a call of a streaming RPC with UNIMPLEMENTED in the caller's protocol; false for any other path. */
export function refuseStream(req: IncomingMessage, res: ServerResponse): boolean {
  const name = STREAM_PATHS.get((req.url ?? "").split("?")[0] ?? "");
  if (!name) return false;
  const message = `${name} is a bidirectional stream, which needs HTTP/2: task workers call it over gRPC (--grpc-port)`;
  if ((req.headers["content-type"] ?? "").startsWith("application/grpc-web")) {
    res.writeHead(200, {
      "content-type": "application/grpc-web+proto",
      "grpc-status": String(Code.Unimplemented),
      "grpc-message": encodeURIComponent(message),
    });
    res.end();
  } else if ((req.headers["content-type"] ?? "").startsWith("application/connect+")) {
    // Connect's streaming protocol: HTTP 200, the error in the end-of-stream message (flag 0b10)
    const end = Buffer.from(JSON.stringify({ error: { code: "unimplemented", message } }));
    const envelope = Buffer.alloc(5);
    envelope.writeUInt8(0b10, 0);
    envelope.writeUInt32BE(end.length, 1);
    // (the end-of-stream message is JSON whatever the codec; the content type answers the request's)
    res.writeHead(200, { "content-type": req.headers["content-type"] });
    res.end(Buffer.concat([envelope, end]));
  } else {
    res.writeHead(501, { "content-type": "application/json" });
    res.end(JSON.stringify({ code: "unimplemented", message }));
  }
  req.resume();
  return true;
}

/** Mounts every RPC of the service on a Connect router, through the pipeline. */
export function connectRoutes(pipeline: RequestPipeline): (router: ConnectRouter) => void {
  const impl: Record<string, (req: object, ctx: HandlerContext) => unknown> = {};
  for (const method of LittleHorse.methods) {
    const name = method.localName;
    if (method.methodKind === "unary") {
      impl[name] = async (req: object, ctx: HandlerContext) => {
        try {
          return answer(method, await pipeline.unary(name, req, incoming(ctx)), binaryCodec(ctx));
        } catch (e) {
          throw toConnectError(e);
        }
      };
    }
  }
  return (router) => router.service(LittleHorse, impl);
}
