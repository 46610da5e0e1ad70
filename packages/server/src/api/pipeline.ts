/**
 * The one request pipeline. Every RPC, whatever the transport, goes through the same steps here:
 *
 *   authenticate (security/authenticator.ts) → resolve the tenant (the `tenantid` header, default `default`,
 *   which must exist) → authorize against the RPC's entry in permissions.ts → run the handler with a typed
 *   CallContext.
 *
 * A stream (PollTask) is authenticated and its tenant resolved when it opens, and each request message is
 * authorized on its own, since each names the TaskDef it polls. Transports (grpc/server.ts, and later the
 * Connect listener) only translate: they hand over the decoded request and what they know of the caller
 * (headers, client certificate, deadline, cancellation) and turn the outcome into their own status codes.
 */
import { create } from "@bufbuild/protobuf";
import { LittleHorse, PrincipalSchema, type Principal } from "@pony/proto";
import { NotFoundError } from "@pony/engine";
import type { Logger } from "pino";
import type { Runtime } from "../runtime/runtime";
import { wfRunKey } from "../runtime/ids";
import { CLUSTER_RESOURCES, allows, allowsSome, isAdmin, type Need } from "../security/acl";
import type { Authenticator } from "../security/authenticator";
import { DEFAULT_TENANT } from "../security/directory";
import { PermissionDeniedError } from "../security/errors";
import { UnimplementedError, isInternal } from "../grpc/status";
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
}

type MethodName = keyof typeof RPC_PERMISSIONS;

const RPC_NAMES = new Map<string, string>(LittleHorse.methods.map((m) => [m.localName, m.name]));

export class RequestPipeline {
  private readonly lookups: NameLookups;

  constructor(
    private readonly rt: Runtime,
    private readonly auth: Authenticator,
    private readonly handlers: ServiceHandlers,
    private readonly log: Logger,
  ) {
    this.lookups = {
      wfSpecOfWfRun: async (tenant, id) =>
        id?.id ? (await rt.store.getWfRun(tenant, wfRunKey(id)))?.wfSpecId?.name : undefined,
      taskDefOfTaskRun: async (tenant, id) =>
        id?.wfRunId?.id && id.taskGuid
          ? (await rt.store.getTaskRun(tenant, wfRunKey(id.wfRunId), id.taskGuid))?.taskDefId?.name
          : undefined,
      userTaskDefOfUserTaskRun: async (tenant, id) =>
        id?.wfRunId?.id && id.userTaskGuid
          ? (await rt.store.getUserTaskRun(tenant, wfRunKey(id.wfRunId), id.userTaskGuid))?.userTaskDefId
              ?.name
          : undefined,
    };
  }

  /** A unary RPC, by its method's localName (runWf, putTaskDef, …). */
  unary(method: string, req: object, call: IncomingCall): Promise<object> {
    const handler = this.handlers.unary[method];
    if (!handler) return Promise.reject(new UnimplementedError(`${rpcName(method)} is not implemented`));
    // Kept synchronous up to the handler when nothing needs to wait (a remembered token, no name lookup):
    // this runs for every call a worker makes.
    const run = (ctx: CallContext): Promise<object> => {
      const checked = this.authorize(method, req, ctx);
      return checked ? checked.then(() => handler(req as never, ctx)) : handler(req as never, ctx);
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
   * A bidirectional stream. `stream` is the transport's; it must hold back request messages until the
   * handler registers for them (authentication may take a moment).
   */
  stream(method: string, stream: BidiStream<object, object>, call: IncomingCall): void {
    const handler = this.handlers.streams[method];
    if (!handler) {
      stream.fail(new UnimplementedError(`${rpcName(method)} is not implemented`));
      return;
    }
    const open = (ctx: CallContext) => {
      let over = false;
      stream.onClose(() => (over = true));
      const refuse = (e: unknown) => {
        if (over) return;
        over = true;
        stream.fail(e);
      };
      const authorized: BidiStream<object, object> = {
        ...stream,
        onMessage: (fn) =>
          stream.onMessage((req) => {
            try {
              const checked = this.authorize(method, req, ctx);
              if (checked) checked.then(() => over || fn(req), refuse);
              else if (!over) fn(req);
            } catch (e) {
              refuse(e);
            }
          }),
      };
      handler(authorized as BidiStream<never, object>, ctx);
    };
    const failed = (e: unknown) => {
      this.logFailure(method, e);
      stream.fail(e);
    };
    try {
      const ctx = this.context(method, call);
      if (ctx instanceof Promise) ctx.then(open, failed);
      else open(ctx);
    } catch (e) {
      failed(e);
    }
  }

  /** authenticate → resolve the tenant */
  private context(method: string, call: IncomingCall): CallContext | Promise<CallContext> {
    const principalId = this.auth.principalOf({
      authorization: call.header("authorization"),
      certificateCommonName: call.certificateCommonName,
    });
    const tenant = call.header("tenantid") || DEFAULT_TENANT;
    return typeof principalId === "string"
      ? this.resolve(method, principalId, tenant, call)
      : principalId.then((id) => this.resolve(method, id, tenant, call));
  }

  private resolve(method: string, principalId: string, tenant: string, call: IncomingCall): CallContext {
    const permission = RPC_PERMISSIONS[method as MethodName] as Permission | undefined;
    const tenantScoped = permission !== undefined && permission.kind !== "open" && !permission.cluster;
    if (tenantScoped && !this.rt.security.tenant(tenant)) {
      throw new NotFoundError(`tenant '${tenant}' does not exist (named by the tenantid header)`);
    }
    const principal =
      this.rt.security.principal(principalId) ?? create(PrincipalSchema, { id: { id: principalId } });
    return new Context(rpcName(method), tenant, principalId, principal, call);
  }

  /**
   * Throws PermissionDeniedError unless the caller's ACLs grant what the RPC needs for this request;
   * returns a promise only when the answer needs a name read from the store.
   */
  private authorize(method: string, req: object, ctx: CallContext): Promise<void> | undefined {
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
    const check = (name: string | undefined) => {
      const need: Need = { ...every, name };
      if (!allows(p, tenant, need)) throw this.denied(ctx, tenant, need);
    };
    const name = permission.name(req as never, this.lookups, ctx.tenant);
    if (name instanceof Promise) return name.then(check);
    check(name);
    return undefined;
  }

  private denied(ctx: CallContext, tenant: string | undefined, need: Need): PermissionDeniedError {
    const known = this.rt.security.principal(ctx.principalId) !== undefined;
    return new PermissionDeniedError(
      ctx.rpc,
      ctx.principalId,
      tenant,
      need,
      known ? undefined : "no such principal: an admin creates it with PutPrincipal",
    );
  }

  private logFailure(method: string, e: unknown): void {
    if (isInternal(e)) this.log.error({ err: e, rpc: rpcName(method) }, "rpc failed");
  }
}

const rpcName = (method: string) => RPC_NAMES.get(method) ?? method;

/** The CallContext of one call (a class: one allocation per call, `may` on the prototype). */
class Context implements CallContext {
  constructor(
    readonly rpc: string,
    readonly tenant: string,
    readonly principalId: string,
    readonly principal: Principal,
    private readonly call: IncomingCall,
  ) {}

  get deadlineMs(): number | undefined {
    return this.call.deadlineMs;
  }

  get signal(): AbortSignal {
    return this.call.signal;
  }

  may(need: Need): boolean {
    return allows(this.principal, CLUSTER_RESOURCES.has(need.resource) ? undefined : this.tenant, need);
  }
}
