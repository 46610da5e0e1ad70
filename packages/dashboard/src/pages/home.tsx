/**
 * Home: prefix search over WfSpecs, TaskDefs, UserTaskDefs and ExternalEventDefs (one tab each, paged by the
 * server's bookmarks), and the most recent WfRuns of every WfSpec.
 */
import { useUrlParams } from "../components/url-params";
import { useState } from "react";
import { Link } from "react-router";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { lh } from "../api/client";
import { PAGE as RECENT_MAX, recentWfRuns } from "../api/recent";
import { useSession } from "../api/session";
import { wfSpecLabel, wfSpecPath } from "../api/ids";
import { ErrorBox } from "../components/errors";
import { Pager, usePaging } from "../components/pager";
import { WfRunTable } from "../components/wf-run-table";

const TABS = ["WfSpecs", "TaskDefs", "UserTaskDefs", "ExternalEventDefs"] as const;
type Tab = (typeof TABS)[number];
const PAGE_SIZE = 25;

interface Row {
  key: string;
  label: string;
  to: string;
}

async function search(tab: Tab, prefix: string, bookmark: Uint8Array | undefined) {
  const page = { limit: PAGE_SIZE, bookmark };
  const p = prefix || undefined;
  switch (tab) {
    case "WfSpecs": {
      const r = await lh.searchWfSpec({
        ...page,
        wfSpecCriteria: p ? { case: "prefix", value: p } : { case: undefined },
      });
      return {
        rows: r.results.map((id): Row => ({
          key: wfSpecLabel(id),
          label: wfSpecLabel(id),
          to: wfSpecPath(id),
        })),
        bookmark: r.bookmark,
      };
    }
    case "TaskDefs": {
      const r = await lh.searchTaskDef({ ...page, prefix: p });
      return {
        rows: r.results.map((id): Row => ({
          key: id.name,
          label: id.name,
          to: `/taskDef/${encodeURIComponent(id.name)}`,
        })),
        bookmark: r.bookmark,
      };
    }
    case "UserTaskDefs": {
      const r = await lh.searchUserTaskDef({
        ...page,
        userTaskDefCriteria: p ? { case: "prefix", value: p } : { case: undefined },
      });
      return {
        rows: r.results.map((id): Row => ({
          key: `${id.name}/${id.version}`,
          label: `${id.name} v${id.version}`,
          to: `/userTaskDef/${encodeURIComponent(id.name)}`,
        })),
        bookmark: r.bookmark,
      };
    }
    case "ExternalEventDefs": {
      const r = await lh.searchExternalEventDef({ ...page, prefix: p });
      return {
        rows: r.results.map((id): Row => ({
          key: id.name,
          label: id.name,
          to: `/externalEventDef/${encodeURIComponent(id.name)}`,
        })),
        bookmark: r.bookmark,
      };
    }
  }
}

function MetadataSearch() {
  const { tenant } = useSession();
  const [params, update] = useUrlParams();
  const tab = (TABS as readonly string[]).includes(params.get("tab") ?? "")
    ? (params.get("tab") as Tab)
    : "WfSpecs";
  const prefix = params.get("prefix") ?? "";
  const paging = usePaging();
  const result = useQuery({
    queryKey: [tenant, "search", tab, prefix, paging.bookmark],
    queryFn: () => search(tab, prefix, paging.bookmark),
    placeholderData: keepPreviousData,
  });
  const set = (next: { tab?: Tab; prefix?: string }) => {
    paging.reset();
    update({
      tab: next.tab ?? params.get("tab") ?? undefined,
      prefix: next.prefix ?? params.get("prefix") ?? "",
    });
  };
  return (
    <section className="panel">
      <div className="tabs" role="tablist">
        {TABS.map((t) => (
          <button key={t} type="button" role="tab" aria-selected={t === tab} onClick={() => set({ tab: t })}>
            {t}
          </button>
        ))}
      </div>
      <div className="filters">
        <label>
          Name prefix
          <input
            aria-label="name prefix"
            placeholder="search by name prefix"
            value={prefix}
            onChange={(e) => set({ prefix: e.target.value })}
          />
        </label>
      </div>
      {result.error ? (
        <ErrorBox error={result.error} what={tab} />
      ) : !result.data ? (
        <div className="loading">Loading {tab}…</div>
      ) : result.data.rows.length === 0 ? (
        <div className="empty">
          No {tab}
          {prefix ? ` starting with '${prefix}'` : ""}.
        </div>
      ) : (
        <table data-testid="metadata-results">
          <thead>
            <tr>
              <th>Name</th>
            </tr>
          </thead>
          <tbody>
            {result.data.rows.map((r) => (
              <tr key={r.key}>
                <td>
                  <Link to={r.to}>{r.label}</Link>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager paging={paging} nextBookmark={result.data?.bookmark} />
    </section>
  );
}

function RecentWfRuns() {
  const { tenant } = useSession();
  const [count, setCount] = useState(20);
  const recent = useQuery({
    queryKey: [tenant, "recentWfRuns", count],
    queryFn: () => recentWfRuns(count),
    refetchInterval: 5000,
  });
  return (
    <section className="panel">
      <h2>Most recent WfRuns</h2>
      {recent.error ? (
        <ErrorBox error={recent.error} what="recent WfRuns" />
      ) : !recent.data ? (
        <div className="loading">Loading WfRuns…</div>
      ) : (
        <WfRunTable ids={recent.data} />
      )}
      {recent.data && recent.data.length >= count && count + 20 <= RECENT_MAX && (
        <div className="pager">
          <button type="button" onClick={() => setCount((c) => c + 20)}>
            Show more
          </button>
        </div>
      )}
    </section>
  );
}

export function HomePage() {
  return (
    <>
      <h1>Workflows</h1>
      <MetadataSearch />
      <RecentWfRuns />
    </>
  );
}
