import type * as grpc from "@grpc/grpc-js";

export const DEFAULT_TENANT = "default";

/** What a handler knows about its caller, whatever the transport. */
export interface CallContext {
  tenant: string;
  principal: string;
  /** the client's deadline (epoch ms), if it set one */
  deadlineMs?: number;
  /** runs `fn` if the client cancels the call or goes away; returns a function that forgets `fn` */
  onCancel?(fn: () => void): () => void;
}

export type UnaryHandler = (req: never, ctx: CallContext) => Promise<object>;

export interface ServiceHandlers {
  /** keyed by the method's localName (putTaskDef, runWf, …) */
  unary: Record<string, UnaryHandler | undefined>;
  pollTask(call: grpc.ServerDuplexStream<object, object>, ctx: CallContext): void;
  /** ends every open stream (server shutdown) */
  endStreams(): void;
}
