/**
 * LittleHorse's permission model (B-SEC-2), as pure functions over a Principal's ACLs.
 *
 * A ServerACL grants `allowed_actions` over `resources`, for every object of those types or only those with an
 * exact `name` or a name starting with `prefix`. A Principal's `global_acls` apply in every tenant and are the
 * only ones that can grant the cluster-scoped resources (ACL_PRINCIPAL, ACL_TENANT); its `per_tenant_acls`
 * apply in their tenant only, and there ACL_ALL_RESOURCES means every tenant-scoped resource. ALL_ACTIONS
 * grants READ, RUN and WRITE_METADATA. A principal may also read (Get/Search) every tenant it can work in.
 * An admin holds ALL_ACTIONS over ACL_ALL_RESOURCES in its global ACLs, without a name filter.
 */
import { ACLAction, ACLResource, type Principal, type ServerACL, type ServerACLs } from "@pony/proto";
import { InvalidArgumentError } from "@pony/engine";

/** Resources that exist once for the whole cluster, not per tenant: only global ACLs grant them. */
export const CLUSTER_RESOURCES: ReadonlySet<ACLResource> = new Set([
  ACLResource.ACL_PRINCIPAL,
  ACLResource.ACL_TENANT,
]);

/** What one RPC call needs: an action over a resource, for one named object or (name undefined) any. */
export interface Need {
  resource: ACLResource;
  action: ACLAction;
  name?: string;
}

function coversResource(acl: ServerACL, resource: ACLResource, global: boolean): boolean {
  for (const r of acl.resources) {
    if (r === resource) return true;
    if (r === ACLResource.ACL_ALL_RESOURCES && (global || !CLUSTER_RESOURCES.has(resource))) return true;
  }
  return false;
}

function coversAction(acl: ServerACL, action: ACLAction): boolean {
  return acl.allowedActions.includes(action) || acl.allowedActions.includes(ACLAction.ALL_ACTIONS);
}

/** Whether the ACL's name filter admits `name`; a filtered ACL never admits "every object" (name undefined). */
function coversName(acl: ServerACL, name: string | undefined): boolean {
  const f = acl.resourceFilter;
  if (f.case === undefined) return true;
  if (name === undefined) return false;
  return f.case === "name" ? name === f.value : name.startsWith(f.value);
}

/**
 * Whether one of the principal's ACLs that apply in `tenant` (undefined: cluster-scoped) covers the resource
 * and the action and passes `test`: global ACLs first, then the tenant's own (never for cluster resources).
 */
function someAcl(
  p: Principal,
  tenant: string | undefined,
  resource: ACLResource,
  action: ACLAction,
  test: (acl: ServerACL) => boolean,
): boolean {
  const grants = (acl: ServerACL, global: boolean) =>
    coversResource(acl, resource, global) && coversAction(acl, action) && test(acl);
  if ((p.globalAcls?.acls ?? []).some((acl) => grants(acl, true))) return true;
  if (tenant === undefined || CLUSTER_RESOURCES.has(resource)) return false;
  return (p.perTenantAcls[tenant]?.acls ?? []).some((acl) => grants(acl, false));
}

/** Whether the principal may do `need` in `tenant` (undefined for cluster-scoped resources). */
export function allows(p: Principal, tenant: string | undefined, need: Need): boolean {
  if (someAcl(p, tenant, need.resource, need.action, (acl) => coversName(acl, need.name))) return true;
  return (
    need.resource === ACLResource.ACL_TENANT &&
    need.action === ACLAction.READ &&
    need.name !== undefined &&
    worksIn(p, need.name)
  );
}

/**
 * Whether some ACL grants the action over the resource for at least one name: a search the principal may
 * make, whose results are then filtered name by name with `allows`.
 */
export function allowsSome(
  p: Principal,
  tenant: string | undefined,
  resource: ACLResource,
  action: ACLAction,
): boolean {
  if (someAcl(p, tenant, resource, action, () => true)) return true;
  // every principal that works in some tenant may list the tenants it works in
  return resource === ACLResource.ACL_TENANT && action === ACLAction.READ && worksInAny(p);
}

/** Whether the principal has any ACL that applies in `tenant`. */
export function worksIn(p: Principal, tenant: string): boolean {
  return (p.globalAcls?.acls.length ?? 0) > 0 || (p.perTenantAcls[tenant]?.acls.length ?? 0) > 0;
}

function worksInAny(p: Principal): boolean {
  return (
    (p.globalAcls?.acls.length ?? 0) > 0 || Object.values(p.perTenantAcls).some((a) => a.acls.length > 0)
  );
}

const adminMemo = new WeakMap<Principal, boolean>();

/** An admin: ALL_ACTIONS over ACL_ALL_RESOURCES in its global ACLs, with no name filter. */
export function isAdmin(p: Principal | undefined): boolean {
  if (!p) return false;
  let admin = adminMemo.get(p);
  if (admin === undefined) {
    admin =
      p.globalAcls?.acls.some(
        (acl) =>
          acl.resourceFilter.case === undefined &&
          acl.resources.includes(ACLResource.ACL_ALL_RESOURCES) &&
          acl.allowedActions.includes(ACLAction.ALL_ACTIONS),
      ) ?? false;
    adminMemo.set(p, admin);
  }
  return admin;
}

function filterCovers(held: ServerACL, wanted: ServerACL): boolean {
  const h = held.resourceFilter;
  const w = wanted.resourceFilter;
  if (h.case === undefined) return true;
  if (w.case === undefined) return false;
  if (h.case === "name") return w.case === "name" && w.value === h.value;
  return w.value.startsWith(h.value);
}

/**
 * The first part of `wanted` (ACLs to grant, globally when `tenant` is undefined, else in that tenant) that
 * the granter's own ACLs do not cover, as a reader would say it; undefined when they cover it all. A
 * principal that is not an admin may only hand out (or take away) rights it holds itself.
 */
export function notCoveredBy(granter: Principal, wanted: ServerACLs | undefined, tenant: string | undefined) {
  const own: [ServerACL, boolean][] = [
    ...(granter.globalAcls?.acls ?? []).map((a) => [a, true] as [ServerACL, boolean]),
    ...(tenant === undefined ? [] : (granter.perTenantAcls[tenant]?.acls ?? [])).map(
      (a) => [a, false] as [ServerACL, boolean],
    ),
  ];
  for (const acl of wanted?.acls ?? []) {
    for (const resource of acl.resources) {
      for (const action of acl.allowedActions) {
        const held = own.some(
          ([g, global]) =>
            coversResource(g, resource, global) && coversAction(g, action) && filterCovers(g, acl),
        );
        if (!held) {
          const f = acl.resourceFilter;
          return `${ACLAction[action]} on ${ACLResource[resource]}${f.case === undefined ? "" : ` ${f.case} '${f.value}'`}`;
        }
      }
    }
  }
  return undefined;
}

/**
 * A need as a reader would say it: `RUN on ACL_TASK 'my-task'`; with `nameHidden` (the name was read from the
 * store, not the request) without the name.
 */
export function describeNeed(need: Need, nameHidden = false): string {
  const what = `${ACLAction[need.action]} on ${ACLResource[need.resource]}`;
  if (nameHidden) return `${what} for the object the request names`;
  return need.name === undefined ? `${what} (every name)` : `${what} '${need.name}'`;
}

/** Checks the ACLs of a PutPrincipalRequest: known enum values, something granted, cluster resources global only. */
export function validateAcls(acls: ServerACLs | undefined, where: string, global: boolean): void {
  (acls?.acls ?? []).forEach((acl, i) => {
    const at = `${where}[${i}]`;
    if (acl.resources.length === 0)
      throw new InvalidArgumentError(`${at}: resources must name at least one ACLResource`);
    if (acl.allowedActions.length === 0)
      throw new InvalidArgumentError(`${at}: allowed_actions must name at least one ACLAction`);
    for (const r of acl.resources) {
      if (ACLResource[r] === undefined) throw new InvalidArgumentError(`${at}: unknown ACLResource ${r}`);
      if (!global && CLUSTER_RESOURCES.has(r))
        throw new InvalidArgumentError(
          `${at}: ${ACLResource[r]} is cluster-scoped and may only be granted in global_acls`,
        );
    }
    for (const a of acl.allowedActions)
      if (ACLAction[a] === undefined) throw new InvalidArgumentError(`${at}: unknown ACLAction ${a}`);
    const f = acl.resourceFilter;
    if (f.case !== undefined && f.value === "")
      throw new InvalidArgumentError(
        `${at}: ${f.case} must not be empty (leave the filter unset for every name)`,
      );
  });
}
