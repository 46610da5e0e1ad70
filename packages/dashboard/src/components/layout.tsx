/** The frame of every page: navigation, the tenant switcher and (for OAuth servers) the bearer token. */
import { useState, type ReactNode } from "react";
import { NavLink } from "react-router";
import { useQuery } from "@tanstack/react-query";
import { lh } from "../api/client";
import { useSession } from "../api/session";

function TenantSwitcher() {
  const { tenant, setTenant } = useSession();
  const [draft, setDraft] = useState(tenant);
  // only an admin may list tenants; anyone else types the tenant's id
  const tenants = useQuery({
    queryKey: ["tenants", tenant],
    queryFn: () => lh.searchTenant({ limit: 100 }),
    retry: false,
  });
  return (
    <form
      className="tenant"
      onSubmit={(e) => {
        e.preventDefault();
        setTenant(draft.trim());
      }}
    >
      <label>
        Tenant{" "}
        <input
          aria-label="tenant"
          list="tenant-list"
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          onBlur={() => draft.trim() !== tenant && setTenant(draft.trim())}
          size={12}
        />
      </label>
      <datalist id="tenant-list">
        {tenants.data?.results.map((t) => (
          <option key={t.id} value={t.id} />
        ))}
      </datalist>
    </form>
  );
}

function TokenField() {
  const { token, setToken } = useSession();
  const [open, setOpen] = useState(false);
  const [draft, setDraft] = useState(token);
  if (!open)
    return (
      <button type="button" className="link" onClick={() => setOpen(true)} title="OAuth bearer token">
        {token ? "Token ✓" : "Token"}
      </button>
    );
  return (
    <form
      className="token"
      onSubmit={(e) => {
        e.preventDefault();
        setToken(draft);
        setOpen(false);
      }}
    >
      <input
        aria-label="bearer token"
        placeholder="paste a bearer token (OAuth)"
        value={draft}
        onChange={(e) => setDraft(e.target.value)}
        size={30}
      />
      <button type="submit">Use</button>
    </form>
  );
}

export function Layout({ children }: { children: ReactNode }) {
  return (
    <>
      <header className="topbar">
        <NavLink to="/" className="brand">
          <img src="/favicon.svg" alt="" width={20} height={20} /> Pony
        </NavLink>
        <nav>
          <NavLink to="/" end>
            Home
          </NavLink>
          <NavLink to="/taskRuns">Task Runs</NavLink>
          <NavLink to="/userTasks">User Tasks</NavLink>
        </nav>
        <div className="spacer" />
        <TenantSwitcher />
        <TokenField />
      </header>
      <main>{children}</main>
    </>
  );
}
