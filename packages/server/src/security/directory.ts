/**
 * Every Tenant and Principal of the cluster, in memory. They are few and read on every call (the pipeline
 * resolves the caller's tenant and principal before each RPC), so the store is read once at start and the
 * directory is updated by the jobs that write them, like the metadata cache.
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import {
  ACLAction,
  ACLResource,
  PrincipalSchema,
  TenantSchema,
  type Principal,
  type Tenant,
} from "@pony/proto";
import { isAdmin } from "./acl";

export const DEFAULT_TENANT = "default";
export const ANONYMOUS_PRINCIPAL = "anonymous";

/**
 * The server's own principal: what the server does by itself (a scheduled WfRun's tick) runs as it, with
 * every permission. Only the server and its peers (the forwarded-call header) can name it: PutPrincipal
 * refuses the id, so no caller's principal can be it.
 */
export const SERVER_PRINCIPAL_ID = "pony:server";

/** A principal with every right in every tenant. */
export function adminPrincipal(id: string, createdMs: number): Principal {
  return create(PrincipalSchema, {
    id: { id },
    createdAt: timestampFromMs(createdMs),
    globalAcls: {
      acls: [{ resources: [ACLResource.ACL_ALL_RESOURCES], allowedActions: [ACLAction.ALL_ACTIONS] }],
    },
  });
}

export function tenantOf(id: string, createdMs: number): Tenant {
  return create(TenantSchema, { id: { id }, createdAt: timestampFromMs(createdMs) });
}

export function createdMsOf(o: Tenant | Principal): number {
  return o.createdAt ? timestampMs(o.createdAt) : 0;
}

export class SecurityDirectory {
  private readonly tenants = new Map<string, Tenant>();
  private readonly principals = new Map<string, Principal>();

  load(tenants: Tenant[], principals: Principal[]): void {
    this.tenants.clear();
    this.principals.clear();
    for (const t of tenants) this.putTenant(t);
    for (const p of principals) this.putPrincipal(p);
  }

  tenant(id: string): Tenant | undefined {
    return this.tenants.get(id);
  }

  principal(id: string): Principal | undefined {
    return this.principals.get(id);
  }

  putTenant(t: Tenant): void {
    this.tenants.set(t.id!.id, t);
  }

  putPrincipal(p: Principal): void {
    this.principals.set(p.id!.id, p);
  }

  deletePrincipal(id: string): void {
    this.principals.delete(id);
  }

  /** Every tenant, by id. */
  allTenants(): Tenant[] {
    return [...this.tenants.values()].sort((a, b) => cmp(a.id!.id, b.id!.id));
  }

  /** Every principal, by id. */
  allPrincipals(): Principal[] {
    return [...this.principals.values()].sort((a, b) => cmp(a.id!.id, b.id!.id));
  }

  /** The ids of the admin principals (see acl.ts), excluding `except`. */
  adminIds(except?: (id: string) => boolean): string[] {
    const out: string[] = [];
    for (const [id, p] of this.principals) if (isAdmin(p) && !except?.(id)) out.push(id);
    return out;
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
