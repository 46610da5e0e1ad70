/**
 * What a cluster has from its first start: the `default` tenant and the `anonymous` admin principal (as in
 * LittleHorse), plus the admin named by `--bootstrap-admin` while the cluster has no admin but `anonymous`, so
 * that a server started with OAuth has someone who may create the other principals.
 */
import type { Runtime } from "../runtime/runtime";
import { ANONYMOUS_PRINCIPAL, DEFAULT_TENANT, adminPrincipal, tenantOf } from "./directory";

export async function ensureSecurityDefaults(rt: Runtime, bootstrapAdmin: string | undefined): Promise<void> {
  await rt.submit({
    apply: (tx) => {
      const now = rt.now();
      if (!rt.security.tenant(DEFAULT_TENANT)) {
        const tenant = tenantOf(DEFAULT_TENANT, now);
        tx.ops.push({ op: "putTenant", tenant });
        rt.security.putTenant(tenant);
      }
      // Only on a cluster's very first start: a later start must not bring back a principal an admin removed.
      const firstStart = rt.security.allPrincipals().length === 0;
      const wanted = [
        ...(firstStart ? [ANONYMOUS_PRINCIPAL] : []),
        ...(bootstrapAdmin ? [bootstrapAdmin] : []),
      ];
      for (const id of wanted) {
        if (rt.security.principal(id)) continue;
        // once a real admin exists, --bootstrap-admin must not bring back one that an admin removed
        if (id !== ANONYMOUS_PRINCIPAL && rt.security.adminIds((a) => a === ANONYMOUS_PRINCIPAL).length > 0)
          continue;
        const principal = adminPrincipal(id, now);
        tx.ops.push({ op: "putPrincipal", principal });
        rt.security.putPrincipal(principal);
      }
      return undefined;
    },
  });
}
