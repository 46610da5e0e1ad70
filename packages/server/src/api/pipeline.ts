/**
 * The one request pipeline. Every RPC, whatever the transport, goes through the same steps here:
 *
 *   authenticate (security/authenticator.ts) → resolve the tenant (the `tenantid` header, default `default`,
 *   which must exist) → authorize against the RPC's entry in permissions.ts → run the handler with a typed
 *   CallContext.
 *
 * In a cluster, a command for a WfRun (or a metadata change) that this server does not own is then handed
 * to the owner by the router (cluster/forwarding.ts), which runs it there through runForwarded: the
 * caller was authenticated and authorized here, once.
 *
 * A stream (PollTask) is authenticated and its tenant resolved when it opens; each request message is then
 * authorized on its own (it names the TaskDef it polls) against the principal's ACLs as they are at that
 * moment, and refused once the caller's token has expired. Transports (grpc/server.ts, and later the
 * Connect listener) only translate: they hand over the decoded request and what they know of the caller
 * (headers, client certificate, deadline, cancellation) and turn the outcome into their own status codes.
 */
import { create } from "@bufbuild/protobuf";
import { LittleHorse, PrincipalSchema, type Principal } from "@pony/proto";
import { NotFoundError } from "@pony/engine";
import type { Caller } from "../security/authenticator";
import type { Logger } from "pino";
import type { Runtime } from "../runtime/runtime";
import { wfRunKey } from "../runtime/ids";
import { CLUSTER_RESOURCES, allows, allowsSome, isAdmin, worksIn, type Need } from "../security/acl";
import type { Authenticator } from "../security/authenticator";
import { DEFAULT_TENANT, SERVER_PRINCIPAL_ID, adminPrincipal } from "../security/directory";
import { PermissionDeniedError, UnauthenticatedError } from "../security/errors";
import {
  CancelledError,
  DeadlineExceededError,
  UnavailableError,
  UnimplementedError,
  isInternal,
} from "../grpc/status";
import type { BidiStream, CallContext, ServiceHandlers } from "./context";
import { RPC_PERMISSIONS, type NameLookups, type Permission } from "./permissions";

/** What a transport knows about one incoming call. */
export interface IncomingCall {
  /** a request header's value (name in lower case), if sent */
  header(name: string): string | undefined;
  /** the subject CN of the client certificate, on a listener that verifies them */
  certificateCommonName?: string;
  /** the client's deadline, epoch ms */
  deadlineMs?: number;
  /** aborted when the client cancels or goes away */
  signal: AbortSignal;
  /** whether the client has cancelled or gone away (cheaper than `signal`) */
  cancelled(): boolean;
}

type MethodName = keyof typeof RPC_PERMISSIONS;

/** Runs a command where its partition is owned (cluster/forwarding.ts): here, or at another server. */
export interface Router {
  run(method: string, req: object, ctx: CallContext, local: () => Promise<object>): Promise<object>;
}

/** A call forwarded by another server of the cluster, which authenticated and authorized it. */
export interface ForwardedCall {
  tenant: string;
  principalId: string;
  deadlineMs?: number;
  signal: AbortSignal;
}

/** The server's own principal (security/directory.ts), with every permission. */
const SERVER_PRINCIPAL: Principal = adminPrincipal(SERVER_PRINCIPAL_ID, 0);

const RPC_NAMES = new Map<string, string>(LittleHorse.methods.map((m) => [m.localName, m.name]));

const starting = () =>
  new UnavailableError("the server is starting (rebuilding its state from the store): retry in a moment");

export class RequestPipeline {
  private readonly lookups: NameLookups;
  /** set on a cluster: commands run at their partition's owner */
  router: Router | undefined;
  /**
   * False while the server starts (partitions taken, state rebuilt, default tenant and admin made): calls
   * are answered UNAVAILABLE, so a client retries rather than see a half-built server (a principal missing).
   */
  ready = true;

  constructor(
    private readonly rt: Runtime,
    private readonly auth: Authenticator,
    private readonly handlers: ServiceHandlers,
    private readonly log: Logger,
  ) {
    this.lookups = {
      wfSpecOfWfRun: (tenant, id) =>
        id?.id ? rt.store.wfSpecNameOf(tenant, wfRunKey(id)) : Promise.resolve(undefined),
      taskDefOfTaskRun: (tenant, id) =>
        id?.wfRunId?.id && id.taskGuid
          ? rt.store.taskDefNameOf(tenant, wfRunKey(id.wfRunId), id.taskGuid)
          : Promise.resolve(undefined),
      userTaskDefOfUserTaskRun: (tenant, id) =>
        id?.wfRunId?.id && id.userTaskGuid
          ? rt.store.userTaskDefNameOf(tenant, wfRunKey(id.wfRunId), id.userTaskGuid)
          : Promise.resolve(undefined),
      wfSpecOfSchedule: async (tenant, id) =>
        id?.id ? (await rt.store.getScheduledWfRun(tenant, id.id))?.schedule.wfSpecId?.name : undefined,
    };
  }

  /** A unary RPC, by its method's localName (runWf, putTaskDef, …). */
  unary(method: string, req: object, call: IncomingCall): Promise<object> {
    if (!this.ready) return Promise.reject(starting());
    const handler = this.handlers.unary[method];
    if (!handler) return Promise.reject(new UnimplementedError(`${rpcName(method)} is not implemented`));
    // Kept synchronous up to the handler when nothing needs to wait (a remembered token, no name lookup):
    // this runs for every call a worker makes.
    const invoke = (ctx: Context) => () =>
      this.router
        ? this.router.run(method, req, ctx, () => handler(req as never, ctx))
        : handler(req as never, ctx);
    const run = (ctx: Context): Promise<object> => {
      const checked = this.authorize(method, req, ctx);
      if (!checked) return this.dispatch(ctx, invoke(ctx));
      // a lookup took time: the client may have given up meanwhile, and then nothing must be done for it
      return checked.then(() => {
        if (call.cancelled()) throw new CancelledError(`${ctx.rpc}: the client cancelled the call`);
        if (call.deadlineMs !== undefined && Date.now() >= call.deadlineMs)
          throw new DeadlineExceededError(`${ctx.rpc}: the deadline passed before the call could run`);
        return this.dispatch(ctx, invoke(ctx));
      });
    };
    let outcome: Promise<object>;
    try {
      const ctx = this.context(method, call);
      outcome = ctx instanceof Promise ? ctx.then(run) : run(ctx);
    } catch (e) {
      outcome = Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    return outcome.catch((e: unknown) => {
      this.logFailure(method, e);
      throw e;
    });
  }

  /**
   * A unary RPC the server makes by itself (a schedule's tick), in a tenant, as SERVER_PRINCIPAL_ID: no
   * authorization, and in a cluster run where its partition is owned, as a client's call would be.
   */
  runAsServer(method: string, req: object, tenant: string, timeoutMs = 30_000): Promise<object> {
    const handler = this.handlers.unary[method];
    if (!handler) return Promise.reject(new UnimplementedError(`${rpcName(method)} is not implemented`));
    const call: IncomingCall = {
      header: () => undefined,
      deadlineMs: Date.now() + timeoutMs,
      signal: new AbortController().signal,
      cancelled: () => false,
    };
    const ctx = new Context(
      rpcName(method),
      tenant,
      { principal: SERVER_PRINCIPAL_ID },
      SERVER_PRINCIPAL,
      call,
      false,
    );
    const run = () => handler(req as never, ctx);
    return this.router ? this.router.run(method, req, ctx, run) : run();
  }

  /**
   * A unary call another server forwarded to this one, the owner of its partition: the handler runs here for
   * the caller's tenant and principal, without a second authentication or authorization.
   */
  runForwarded(method: string, req: object, call: ForwardedCall): Promise<object> {
    const handler = this.handlers.unary[method];
    if (!handler) return Promise.reject(new UnimplementedError(`${rpcName(method)} is not implemented`));
    const incoming: IncomingCall = {
      header: () => undefined,
      deadlineMs: call.deadlineMs,
      signal: call.signal,
      cancelled: () => call.signal.aborted,
    };
    const ctx = new Context(
      rpcName(method),
      call.tenant,
      { principal: call.principalId },
      call.principalId === SERVER_PRINCIPAL_ID ? SERVER_PRINCIPAL : this.principal(call.principalId),
      incoming,
      false,
    );
    return handler(req as never, ctx).catch((e: unknown) => {
      this.logFailure(method, e);
      throw e;
    });
  }

  /**
   * A bidirectional stream. `stream` is the transport's; it must hold back request messages until the
   * handler registers for them (authentication may take a moment).
   */
  stream(method: string, stream: BidiStream<object, object>, call: IncomingCall): void {
    if (!this.ready) {
      stream.fail(starting());
      return;
    }
    const handler = this.handlers.streams[method];
    if (!handler) {
      stream.fail(new UnimplementedError(`${rpcName(method)} is not implemented`));
      return;
    }
    const refuseWith = (over: { done: boolean }) => (e: unknown) => {
      if (over.done) return;
      over.done = true;
      this.logFailure(method, e);
      stream.fail(e);
    };
    const open = (opened: Context) => {
      const over = { done: false };
      stream.onClose(() => (over.done = true));
      const refuse = refuseWith(over);
      const authorized: BidiStream<object, object> = {
        ...stream,
        onMessage: (fn) =>
          stream.onMessage((req) => {
            if (over.done) return;
            try {
              // each message is checked against the principal as it is now (deleted, demoted, expired)
              const ctx = this.current(opened);
              const checked = this.authorize(method, req, ctx);
              const deliver = () => {
                if (over.done) return;
                if (opened.tenantMissing) throw tenantNotFound(opened.tenant);
                fn(req);
              };
              if (checked) checked.then(deliver).catch(refuse);
              else deliver();
            } catch (e) {
              refuse(e);
            }
          }),
      };
      handler(authorized as BidiStream<never, object>, opened);
    };
    try {
      const ctx = this.context(method, call);
      if (ctx instanceof Promise) ctx.then(open).catch(refuseWith({ done: false }));
      else open(ctx);
    } catch (e) {
      refuseWith({ done: false })(e);
    }
  }

  /** Runs the handler, unless the tenant turned out not to exist (see resolve). */
  private dispatch<T>(ctx: Context, run: () => T): T {
    if (ctx.tenantMissing) throw tenantNotFound(ctx.tenant);
    return run();
  }

  /** authenticate → resolve the tenant */
  private context(method: string, call: IncomingCall): Context | Promise<Context> {
    const caller = this.auth.callerOf({
      authorization: call.header("authorization"),
      certificateCommonName: call.certificateCommonName,
    });
    const tenant = call.header("tenantid") || DEFAULT_TENANT;
    return caller instanceof Promise
      ? caller.then((c) => this.resolve(method, c, tenant, call))
      : this.resolve(method, caller, tenant, call);
  }

  /**
   * The caller's Principal (one nobody created has no ACLs) and tenant. A tenant that does not exist is
   * NOT_FOUND for a caller that could work there (an admin, or one with global ACLs); any other caller is
   * refused by authorization exactly as in a tenant that exists, so it cannot probe which tenants exist.
   */
  private resolve(method: string, caller: Caller, tenant: string, call: IncomingCall): Context {
    const permission = RPC_PERMISSIONS[method as MethodName] as Permission | undefined;
    const tenantScoped = permission !== undefined && permission.kind !== "open" && !permission.cluster;
    const principal = this.principal(caller.principal);
    const tenantMissing = tenantScoped && !this.rt.security.tenant(tenant);
    if (tenantMissing && (isAdmin(principal) || worksIn(principal, tenant))) throw tenantNotFound(tenant);
    return new Context(rpcName(method), tenant, caller, principal, call, tenantMissing);
  }

  private principal(id: string): Principal {
    return this.rt.security.principal(id) ?? create(PrincipalSchema, { id: { id } });
  }

  /** The context of a stream's next message: the principal as stored now; refused once the token expired. */
  private current(opened: Context): Context {
    if (opened.caller.untilMs !== undefined && Date.now() >= opened.caller.untilMs) {
      throw new UnauthenticatedError("the bearer token has expired: open a new stream with a fresh token");
    }
    const principal = this.principal(opened.principalId);
    return principal === opened.principal ? opened : opened.with(principal);
  }

  /**
   * Throws PermissionDeniedError unless the caller's ACLs grant what the RPC needs for this request;
   * returns a promise only when the answer needs a name read from the store.
   */
  private authorize(method: string, req: object, ctx: Context): Promise<void> | undefined {
    const permission = RPC_PERMISSIONS[method as MethodName] as Permission | undefined;
    if (permission === undefined) throw new UnimplementedError(`${ctx.rpc} has no permission entry`);
    if (permission.kind === "open") return undefined;
    const p = ctx.principal;
    if (isAdmin(p)) return undefined; // ALL_ACTIONS over ACL_ALL_RESOURCES, globally: everything
    const tenant = permission.cluster ? undefined : ctx.tenant;
    if (permission.kind === "search") {
      if (!allowsSome(p, tenant, permission.resource, permission.action))
        throw this.denied(ctx, tenant, { resource: permission.resource, action: permission.action });
      return undefined;
    }
    const every: Need = { resource: permission.resource, action: permission.action };
    // an ACL without a name filter grants the call whatever it names: no lookup needed
    if (allows(p, tenant, every)) return undefined;
    if (!permission.name) throw this.denied(ctx, tenant, every);
    const name = permission.name(req as never, this.lookups, ctx.tenant);
    if (name instanceof Promise) {
      // the name was read from the store: a refusal must not tell the caller what it is
      return name.then((looked) => {
        if (!allows(p, tenant, { ...every, name: looked })) throw this.denied(ctx, tenant, every, true);
      });
    }
    const need: Need = { ...every, name };
    if (!allows(p, tenant, need)) throw this.denied(ctx, tenant, need);
    return undefined;
  }

  private denied(
    ctx: Context,
    tenant: string | undefined,
    need: Need,
    nameHidden = false,
  ): PermissionDeniedError {
    const known = this.rt.security.principal(ctx.principalId) !== undefined;
    return new PermissionDeniedError(ctx.rpc, ctx.principalId, tenant, need, {
      nameHidden,
      why: known ? undefined : "no such principal: an admin creates it with PutPrincipal",
    });
  }

  private logFailure(method: string, e: unknown): void {
    if (isInternal(e)) this.log.error({ err: e, rpc: rpcName(method) }, "rpc failed");
  }
}

const rpcName = (method: string) => RPC_NAMES.get(method) ?? method;

const tenantNotFound = (tenant: string) =>
  new NotFoundError(`tenant '${tenant}' does not exist (named by the tenantid header)`);

/** The CallContext of one call (a class: one allocation per call, `may` on the prototype). */
class Context implements CallContext {
  constructor(
    readonly rpc: string,
    readonly tenant: string,
    readonly caller: Caller,
    readonly principal: Principal,
    private readonly call: IncomingCall,
    /** the tenant does not exist: only authorization may answer (a refusal), never the handler */
    readonly tenantMissing: boolean,
  ) {}

  get principalId(): string {
    return this.caller.principal;
  }

  get deadlineMs(): number | undefined {
    return this.call.deadlineMs;
  }

  get signal(): AbortSignal {
    return this.call.signal;
  }

  may(need: Need): boolean {
    return allows(this.principal, CLUSTER_RESOURCES.has(need.resource) ? undefined : this.tenant, need);
  }

  /** the same call with the principal as stored now */
  with(principal: Principal): Context {
    return new Context(this.rpc, this.tenant, this.caller, principal, this.call, this.tenantMissing);
  }
}
