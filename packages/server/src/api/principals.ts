/**
 * Principals (B-SEC-2, B-SEC-3): PutPrincipal, GetPrincipal, DeletePrincipal, SearchPrincipal and Whoami. A Principal is
 * cluster-scoped: its global ACLs apply in every tenant, its per-tenant ACLs in theirs (security/acl.ts).
 *
 * Rules, as the API reference gives them: PutPrincipal of an existing id with different ACLs and
 * `overwrite` unset is ALREADY_EXISTS (with the same ACLs it answers the stored Principal); a PutPrincipal
 * or DeletePrincipal that would leave the cluster without an admin (ALL_ACTIONS over ACL_ALL_RESOURCES in
 * global_acls) is FAILED_PRECONDITION.
 */
import { create, equals } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  ACLAction,
  ACLResource,
  PrincipalIdListSchema,
  PrincipalSchema,
  type DeletePrincipalRequest,
  type Principal,
  type PrincipalId,
  type PutPrincipalRequest,
  type SearchPrincipalRequest,
  type ServerACLs,
} from "@pony/proto";
import {
  AlreadyExistsError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
} from "@pony/engine";
import type { Runtime } from "../runtime/runtime";
import { isAdmin, notCoveredBy, validateAcls, worksIn } from "../security/acl";
import { ANONYMOUS_PRINCIPAL, SERVER_PRINCIPAL_ID, createdMsOf } from "../security/directory";
import { PermissionDeniedError } from "../security/errors";
import type { CallContext } from "./context";
import { pageSize } from "./paging";
import { decodeSearchBookmark, pageFrom, timeRange } from "./search-bookmarks";

/** OAuth client ids and user ids take many forms (`svc-orders`, `auth0|5f1c…`, an e-mail): any printable text. */
function checkPrincipalId(id: string, what: string): void {
  if (!id) throw new InvalidArgumentError(`${what} is required`);
  if (id.length > 256) throw new InvalidArgumentError(`${what} is longer than 256 characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(id)) throw new InvalidArgumentError(`${what} contains control characters`);
  if (id === SERVER_PRINCIPAL_ID)
    throw new InvalidArgumentError(`${what} '${id}' is reserved: the server's own work runs as it`);
}

/** The ACLs alone, to compare two versions of a principal. */
function aclsOf(p: Principal): Principal {
  return create(PrincipalSchema, { perTenantAcls: p.perTenantAcls, globalAcls: p.globalAcls });
}

export interface PrincipalHandlerOptions {
  /**
   * Callers prove who they are (OAuth or mTLS): nobody can call as `anonymous` any more, so it does not
   * count as an admin that keeps the cluster administrable.
   */
  authEnabled: boolean;
}

export function principalHandlers(rt: Runtime, opts: PrincipalHandlerOptions) {
  function wouldLeaveNoAdmin(id: string): boolean {
    return (
      rt.security.adminIds((other) => other === id || (opts.authEnabled && other === ANONYMOUS_PRINCIPAL))
        .length === 0
    );
  }

  /** A caller that is not an admin may only grant, take away or remove rights it holds itself. */
  function checkWithinOwn(
    ctx: CallContext,
    what: string,
    p: { globalAcls?: ServerACLs; perTenantAcls: Record<string, ServerACLs> },
  ) {
    if (isAdmin(ctx.principal)) return;
    const missing =
      notCoveredBy(ctx.principal, p.globalAcls, undefined) ??
      Object.entries(p.perTenantAcls)
        .map(([tenant, acls]) => notCoveredBy(ctx.principal, acls, tenant))
        .find((m) => m !== undefined);
    if (missing !== undefined) {
      throw new PermissionDeniedError(
        ctx.rpc,
        ctx.principalId,
        undefined,
        {
          resource: ACLResource.ACL_PRINCIPAL,
          action: ACLAction.WRITE_METADATA,
        },
        { why: `${what} ${missing}, which it does not hold itself: only an admin may` },
      );
    }
  }

  return {
    async putPrincipal(req: PutPrincipalRequest, ctx: CallContext) {
      checkPrincipalId(req.id, "id");
      validateAcls(req.globalAcls, "global_acls.acls", true);
      for (const [tenant, acls] of Object.entries(req.perTenantAcls)) {
        validateAcls(acls, `per_tenant_acls['${tenant}'].acls`, false);
      }
      checkWithinOwn(ctx, "it would grant", req);
      return rt.submit({
        apply: (tx) => {
          for (const tenant of Object.keys(req.perTenantAcls)) {
            if (!rt.security.tenant(tenant))
              throw new InvalidArgumentError(
                `per_tenant_acls names tenant '${tenant}', which does not exist`,
              );
          }
          const existing = rt.security.principal(req.id);
          const principal = create(PrincipalSchema, {
            id: { id: req.id },
            createdAt: existing?.createdAt ?? timestampFromMs(rt.now()),
            perTenantAcls: req.perTenantAcls,
            globalAcls: req.globalAcls ?? { acls: [] },
          });
          if (existing) {
            if (equals(PrincipalSchema, aclsOf(existing), aclsOf(principal))) return existing;
            checkWithinOwn(ctx, `principal '${req.id}' holds`, existing);
            if (!req.overwrite)
              throw new AlreadyExistsError(
                `principal '${req.id}' already exists with other ACLs: set overwrite to replace them`,
              );
            if (isAdmin(existing) && !isAdmin(principal) && wouldLeaveNoAdmin(req.id))
              throw new FailedPreconditionError(
                `principal '${req.id}' is the last admin (ALL_ACTIONS over ACL_ALL_RESOURCES in global_acls): make another admin first`,
              );
          }
          tx.ops.push({ op: "putPrincipal", principal });
          rt.security.putPrincipal(principal);
          return principal;
        },
      });
    },

    async deletePrincipal(req: DeletePrincipalRequest, ctx: CallContext) {
      const id = req.id?.id ?? "";
      checkPrincipalId(id, "id");
      return rt.submit({
        apply: (tx) => {
          const existing = rt.security.principal(id);
          if (!existing) throw new NotFoundError(`principal '${id}' not found`);
          checkWithinOwn(ctx, `principal '${id}' holds`, existing);
          if (isAdmin(existing) && wouldLeaveNoAdmin(id))
            throw new FailedPreconditionError(
              `principal '${id}' is the last admin (ALL_ACTIONS over ACL_ALL_RESOURCES in global_acls) and cannot be deleted`,
            );
          tx.ops.push({ op: "deletePrincipal", id });
          rt.security.deletePrincipal(id);
          return {};
        },
      });
    },

    /**
     * Principals the caller may read, by id. `isAdmin` keeps admins (true) or the others (false); `tenantId`
     * keeps those that work in that tenant (per-tenant ACLs there, or global ACLs); created_at bounds are
     * inclusive.
     */
    async searchPrincipal(req: SearchPrincipalRequest, ctx: CallContext) {
      const limit = pageSize(req.limit);
      const after = decodeSearchBookmark("SearchPrincipal", req.bookmark, ["string"]);
      const range = timeRange(req.earliestStart, req.latestStart);
      const c = req.principalCriteria;
      const hits = rt.security.allPrincipals().filter((p) => {
        const id = p.id!.id;
        const created = createdMsOf(p);
        return (
          (after === undefined || id > (after[0] as string)) &&
          (range.earliestMs === undefined || created >= range.earliestMs) &&
          (range.latestMs === undefined || created <= range.latestMs) &&
          (c.case !== "isAdmin" || isAdmin(p) === c.value) &&
          (c.case !== "tenantId" || worksIn(p, c.value)) &&
          ctx.may({ resource: ACLResource.ACL_PRINCIPAL, action: ACLAction.READ, name: id })
        );
      });
      const page = pageFrom("SearchPrincipal", hits.slice(0, limit + 1), limit, (p) => [p.id!.id]);
      return create(PrincipalIdListSchema, {
        results: page.items.map((p) => ({ id: p.id!.id })),
        bookmark: page.bookmark,
      });
    },

    async getPrincipal(req: PrincipalId) {
      checkPrincipalId(req.id, "id");
      const principal = rt.security.principal(req.id);
      if (!principal) throw new NotFoundError(`principal '${req.id}' not found`);
      return principal;
    },

    /** The caller's Principal: the stored one, or (a principal nobody created yet) its id with no ACLs. */
    async whoami(_req: unknown, ctx: CallContext) {
      return ctx.principal;
    },
  };
}
