/**
 * The one way to build an in-memory key for something that lives in a tenant: the tenant first, then the
 * parts, joined by NUL (which no id or name can contain). So two tenants' objects never share a key, and
 * every key of one tenant (or of one WfRun) starts with `tenantKey(tenant, …) + KEY_SEPARATOR`.
 */
export const KEY_SEPARATOR = "\u0000";

export function tenantKey(tenant: string, ...parts: string[]): string {
  return parts.length === 0 ? tenant + KEY_SEPARATOR : [tenant, ...parts].join(KEY_SEPARATOR);
}
