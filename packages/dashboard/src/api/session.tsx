/**
 * Who the dashboard speaks as: the tenant (sent as the `tenantid` header, switched in the header bar) and,
 * on a server with OAuth, the bearer token the user pasted. Both are kept in localStorage, so a reload or a
 * shared link in the same browser keeps them; the tenant can also come from the URL (`?tenant=`).
 */
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from "react";
import { useQueryClient } from "@tanstack/react-query";

export interface Session {
  tenant: string;
  token: string;
}

interface SessionState extends Session {
  setTenant: (tenant: string) => void;
  setToken: (token: string) => void;
}

const TENANT_KEY = "pony.tenant";
const TOKEN_KEY = "pony.token";

/** read by the transport on every call (transport.ts) */
export const current: Session = {
  tenant:
    new URLSearchParams(window.location.search).get("tenant") ??
    localStorage.getItem(TENANT_KEY) ??
    "default",
  token: localStorage.getItem(TOKEN_KEY) ?? "",
};

const SessionContext = createContext<SessionState | undefined>(undefined);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<Session>({ ...current });
  const queries = useQueryClient();
  const setTenant = useCallback((tenant: string) => {
    current.tenant = tenant || "default";
    localStorage.setItem(TENANT_KEY, current.tenant);
    setSession({ ...current });
  }, []);
  const setToken = useCallback(
    (token: string) => {
      current.token = token.trim().replace(/^Bearer\s+/i, "");
      localStorage.setItem(TOKEN_KEY, current.token);
      setSession({ ...current });
      // every answer so far was for the old credentials
      void queries.resetQueries();
    },
    [queries],
  );
  const value = useMemo(() => ({ ...session, setTenant, setToken }), [session, setTenant, setToken]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionState {
  const s = useContext(SessionContext);
  if (!s) throw new Error("useSession outside SessionProvider");
  return s;
}
