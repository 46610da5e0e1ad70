/**
 * Tenants (B-SEC-1): PutTenant, GetTenant and SearchTenant. A Tenant is cluster-scoped; every other object
 * lives in one. `default` exists from the first start (security/bootstrap.ts). Tenants are never deleted.
 */
import { create } from "@bufbuild/protobuf";
import {
  ACLAction,
  ACLResource,
  TenantIdListSchema,
  type PutTenantRequest,
  type SearchTenantRequest,
  type TenantId,
} from "@pony/proto";
import { AlreadyExistsError, InvalidArgumentError, NotFoundError } from "@pony/engine";
import type { Runtime } from "../runtime/runtime";
import { tenantOf } from "../security/directory";
import type { CallContext } from "./context";
import { pageSize } from "./paging";
import { decodeSearchBookmark, pageFrom } from "./search-bookmarks";

/** Tenant ids travel in the `tenantid` header: letters, digits, '.', '_' and '-'. */
const TENANT_ID = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,127}$/;

export function tenantHandlers(rt: Runtime) {
  return {
    async putTenant(req: PutTenantRequest) {
      if (!TENANT_ID.test(req.id)) {
        throw new InvalidArgumentError(
          `invalid tenant id '${req.id}': use 1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit`,
        );
      }
      return rt.submit({
        apply: (tx) => {
          if (rt.security.tenant(req.id)) throw new AlreadyExistsError(`tenant '${req.id}' already exists`);
          const tenant = tenantOf(req.id, rt.now());
          tx.ops.push({ op: "putTenant", tenant });
          rt.security.putTenant(tenant);
          return tenant;
        },
      });
    },

    async getTenant(req: TenantId) {
      if (!req.id) throw new InvalidArgumentError("id is required");
      const tenant = rt.security.tenant(req.id);
      if (!tenant) throw new NotFoundError(`tenant '${req.id}' not found`);
      return tenant;
    },

    /** The tenants the caller may read (global ACL_TENANT READ, or any ACL that works in the tenant), by id. */
    async searchTenant(req: SearchTenantRequest, ctx: CallContext) {
      const limit = pageSize(req.limit);
      const after = decodeSearchBookmark("SearchTenant", req.bookmark, ["string"]);
      const ids = rt.security
        .allTenants()
        .map((t) => t.id!.id)
        .filter(
          (id) =>
            (after === undefined || id > (after[0] as string)) &&
            ctx.may({ resource: ACLResource.ACL_TENANT, action: ACLAction.READ, name: id }),
        );
      const page = pageFrom("SearchTenant", ids.slice(0, limit + 1), limit, (id) => [id]);
      return create(TenantIdListSchema, {
        results: page.items.map((id) => ({ id })),
        bookmark: page.bookmark,
      });
    },
  };
}
