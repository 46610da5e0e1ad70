import type { Principal } from "@pony/proto";
import type { Need } from "../security/acl";

/**
 * What a handler knows about its call, whatever the transport: built by the request pipeline (pipeline.ts)
 * after the caller was authenticated, its tenant resolved and the RPC's permission checked.
 */
export interface CallContext {
  /** the RPC's name, as in the service (RunWf, PollTask, …) */
  rpc: string;
  /** the tenant the call works in (checked to exist, except for cluster-scoped RPCs) */
  tenant: string;
  /** the caller's principal id */
  principalId: string;
  /** the caller's Principal (a principal that is not stored has no ACLs) */
  principal: Principal;
  /** whether the caller may do `need` in this call's tenant (to answer a search with what it may see) */
  may(need: Need): boolean;
  /** the client's deadline (epoch ms), if it set one */
  deadlineMs?: number;
  /** aborted when the client cancels the call or goes away */
  signal: AbortSignal;
}

export type UnaryHandler = (req: never, ctx: CallContext) => Promise<object>;

/**
 * A bidirectional stream as a handler sees it, whatever the transport. Request messages arrive already
 * decoded and authorized; `send` writes a response; `end` closes with OK and `fail` with the error's status.
 */
export interface BidiStream<Req, Res> {
  onMessage(fn: (req: Req) => void): void;
  /** the client finished sending */
  onEnd(fn: () => void): void;
  /** the call is over (cancelled, failed or closed), whoever ended it */
  onClose(fn: () => void): void;
  /**
   * Writes a response. `sent`, when given, learns whether it was handed to the transport (true) or the
   * stream closed before it could be (false: the peer cannot have received it).
   */
  send(res: Res, sent?: (ok: boolean) => void): void;
  end(): void;
  fail(e: unknown): void;
}

export type StreamHandler = (stream: BidiStream<never, object>, ctx: CallContext) => void;

export interface ServiceHandlers {
  /** keyed by the method's localName (putTaskDef, runWf, …) */
  unary: Record<string, UnaryHandler | undefined>;
  /** keyed by the method's localName (pollTask) */
  streams: Record<string, StreamHandler | undefined>;
  /** ends every open stream (server shutdown) */
  endStreams(): void;
}
