/**
 * The gRPC listener (HTTP/2, grpc-js) for `littlehorse.LittleHorse`. Messages are (de)serialized with the
 * protobuf-es generated schemas; each RPC goes to a transport-neutral handler from ../api.
 */
import * as grpc from "@grpc/grpc-js";
import { toBinary, type DescMessage } from "@bufbuild/protobuf";
import { LittleHorse } from "@pony/proto";
import type { Logger } from "pino";
import type { CallContext, ServiceHandlers } from "../api/context";
import { DEFAULT_TENANT } from "../api/context";
import { toServiceError } from "./status";
import { deserializer, undecodable } from "./decode";

function serializer(schema: DescMessage) {
  return (m: object) => Buffer.from(toBinary(schema, m as never));
}

function callContext(
  call: grpc.ServerUnaryCall<object, object> | grpc.ServerDuplexStream<object, object>,
): CallContext {
  const tenantHeader = call.metadata.get("tenantid")[0];
  const tenant = typeof tenantHeader === "string" && tenantHeader !== "" ? tenantHeader : DEFAULT_TENANT;
  const deadline = call.getDeadline();
  const deadlineMs =
    deadline instanceof Date ? deadline.getTime() : deadline === Infinity ? undefined : deadline;
  return {
    tenant,
    principal: "anonymous",
    deadlineMs,
    onCancel(fn) {
      call.once("cancelled", fn);
      return () => call.removeListener("cancelled", fn);
    },
  };
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

export function buildGrpcImplementation(
  handlers: ServiceHandlers,
  log: Logger,
): grpc.UntypedServiceImplementation {
  const impl: grpc.UntypedServiceImplementation = {};
  for (const method of LittleHorse.methods) {
    if (method.methodKind === "unary") {
      const handler = handlers.unary[method.localName];
      impl[method.localName] = (
        call: grpc.ServerUnaryCall<object, object>,
        callback: grpc.sendUnaryData<object>,
      ) => {
        if (!handler) {
          callback({ code: grpc.status.UNIMPLEMENTED, details: `${method.name} is not implemented` });
          return;
        }
        const bad = undecodable(call.request);
        if (bad !== undefined) {
          callback({ code: grpc.status.INVALID_ARGUMENT, details: bad });
          return;
        }
        let ctx: CallContext;
        try {
          ctx = callContext(call);
        } catch (e) {
          callback(toServiceError(e));
          return;
        }
        (handler as (req: object, ctx: CallContext) => Promise<object>)(call.request, ctx).then(
          (res) => callback(null, res),
          (e: unknown) => {
            const err = toServiceError(e);
            if (err.code === grpc.status.INTERNAL) log.error({ err: e, rpc: method.name }, "rpc failed");
            callback(err);
          },
        );
      };
    } else if (method.localName === "pollTask") {
      impl[method.localName] = (call: grpc.ServerDuplexStream<object, object>) => {
        handlers.pollTask(call, callContext(call));
      };
    }
  }
  return impl;
}

export async function startGrpcServer(
  handlers: ServiceHandlers,
  log: Logger,
  host: string,
  port: number,
): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server({
    "grpc.max_receive_message_length": 16 * 1024 * 1024,
    "grpc.keepalive_permit_without_calls": 1,
  });
  server.addService(buildServiceDefinition(), buildGrpcImplementation(handlers, log));
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return { server, port: bound };
}
