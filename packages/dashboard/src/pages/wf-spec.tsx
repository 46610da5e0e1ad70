/**
 * A WfSpec: its graph (one tab per thread), version picker, variables with their types, the TaskDefs it
 * uses, and its WfRuns filtered by status and start time, paged by the server's bookmarks.
 */
import { useUrlParams, type ParamChanges } from "../components/url-params";
import { useState, useEffect } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { LHStatus, MetadataStatus, WfRunVariableAccessLevel, type WfSpec } from "@pony/proto";
import { lh } from "../api/client";
import { formatTime, formatValue, lhStatusName, variableTypeName } from "../api/format";
import { wfSpecLabel, wfSpecPath } from "../api/ids";
import { useSession } from "../api/session";
import { ErrorBox, Loaded } from "../components/errors";
import { Pager, usePaging } from "../components/pager";
import { StatusBadge } from "../components/status";
import { msParam, TimeRange, ts } from "../components/time-range";
import { WfRunTable } from "../components/wf-run-table";
import { nodeOrder, taskDefsOf } from "../graph/describe";
import { WfGraph } from "../graph/lazy-graph";

const RUN_STATUSES = [
  LHStatus.RUNNING,
  LHStatus.COMPLETED,
  LHStatus.ERROR,
  LHStatus.EXCEPTION,
  LHStatus.HALTED,
  LHStatus.HALTING,
  LHStatus.STARTING,
];

function VersionPicker({ spec }: { spec: WfSpec }) {
  const { tenant } = useSession();
  const navigate = useNavigate();
  const name = spec.id!.name;
  const versions = useQuery({
    queryKey: [tenant, "wfSpecVersions", name],
    queryFn: () => lh.searchWfSpec({ limit: 1000, wfSpecCriteria: { case: "name", value: name } }),
  });
  const current = wfSpecLabel(spec.id);
  return (
    <select
      aria-label="version"
      value={current}
      onChange={(e) => {
        const id = versions.data?.results.find((v) => wfSpecLabel(v) === e.target.value);
        if (id) void navigate(wfSpecPath(id));
      }}
    >
      {(versions.data?.results ?? [spec.id!]).map((v) => (
        <option key={wfSpecLabel(v)} value={wfSpecLabel(v)}>
          v{v.majorVersion}.{v.revision}
        </option>
      ))}
    </select>
  );
}

export function ThreadTabs({
  spec,
  thread,
  onChange,
  statusOf,
}: {
  spec: WfSpec;
  thread: string;
  onChange: (t: string) => void;
  statusOf?: (threadSpecName: string) => string | undefined;
}) {
  const names = Object.keys(spec.threadSpecs).sort((a, b) =>
    a === spec.entrypointThreadName ? -1 : b === spec.entrypointThreadName ? 1 : a.localeCompare(b),
  );
  return (
    <div className="tabs" role="tablist" aria-label="threads">
      {names.map((t) => (
        <button key={t} type="button" role="tab" aria-selected={t === thread} onClick={() => onChange(t)}>
          {t}
          {statusOf?.(t) ? <> · {statusOf(t)}</> : null}
        </button>
      ))}
    </div>
  );
}

function Variables({ spec, thread }: { spec: WfSpec; thread: string }) {
  const defs = spec.threadSpecs[thread]?.variableDefs ?? [];
  if (defs.length === 0) return <div className="empty">This thread declares no variables.</div>;
  return (
    <table data-testid="variables">
      <thead>
        <tr>
          <th>Name</th>
          <th>Type</th>
          <th>Required</th>
          <th>Searchable</th>
          <th>Access</th>
          <th>Default</th>
        </tr>
      </thead>
      <tbody>
        {defs.map((d) => (
          <tr key={d.varDef?.name}>
            <td>{d.varDef?.name}</td>
            <td>{variableTypeName(d.varDef?.type ?? d.varDef?.typeDef?.definedType.value)}</td>
            <td>{d.required ? "yes" : "no"}</td>
            <td>{d.searchable ? "yes" : "no"}</td>
            <td>{WfRunVariableAccessLevel[d.accessLevel]}</td>
            <td>
              {d.varDef?.defaultValue ? (
                <code className="value">{formatValue(d.varDef.defaultValue)}</code>
              ) : (
                "–"
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function WfRunsOfSpec({ spec }: { spec: WfSpec }) {
  const { tenant } = useSession();
  const [params, updateParams] = useUrlParams();
  const status = params.get("status") ?? "";
  const from = msParam(params, "from");
  const to = msParam(params, "to");
  const paging = usePaging();
  const id = spec.id!;
  const runs = useQuery({
    queryKey: [tenant, "wfRunsOf", wfSpecLabel(id), status, from, to, paging.bookmark],
    queryFn: () =>
      lh.searchWfRun({
        wfSpecName: id.name,
        wfSpecMajorVersion: id.majorVersion,
        wfSpecRevision: id.revision,
        status: status === "" ? undefined : LHStatus[status as keyof typeof LHStatus],
        earliestStart: ts(from),
        latestStart: ts(to),
        limit: 20,
        bookmark: paging.bookmark,
      }),
    placeholderData: keepPreviousData,
    refetchInterval: 5000,
  });
  const update = (changes: ParamChanges) => {
    paging.reset();
    updateParams(changes);
  };
  return (
    <section className="panel">
      <h2>WfRuns of this version</h2>
      <div className="filters">
        <label>
          Status
          <select aria-label="status" value={status} onChange={(e) => update({ status: e.target.value })}>
            <option value="">any</option>
            {RUN_STATUSES.map((s) => (
              <option key={s} value={lhStatusName(s)}>
                {lhStatusName(s)}
              </option>
            ))}
          </select>
        </label>
        <TimeRange
          from={from}
          to={to}
          onChange={(f, t) => update({ from: f?.toString(), to: t?.toString() })}
        />
      </div>
      {runs.error ? (
        <ErrorBox error={runs.error} what="WfRuns" />
      ) : !runs.data ? (
        <div className="loading">Loading WfRuns…</div>
      ) : (
        <WfRunTable ids={runs.data.results} showSpec={false} />
      )}
      <Pager paging={paging} nextBookmark={runs.data?.bookmark} />
    </section>
  );
}

function WfSpecView({ spec }: { spec: WfSpec }) {
  const [thread, setThread] = useState(spec.entrypointThreadName);
  const threadSpec = spec.threadSpecs[thread] ?? spec.threadSpecs[spec.entrypointThreadName];
  const taskDefs = taskDefsOf(Object.values(spec.threadSpecs));
  const id = spec.id!;
  return (
    <>
      <div className="actions">
        <h1>
          WfSpec {id.name} <VersionPicker spec={spec} />
        </h1>
        <div className="grow" />
        <Link to={`${wfSpecPath(id)}/metrics`}>Metrics →</Link>
      </div>
      <section className="panel">
        <dl className="facts">
          <dt>Status</dt>
          <dd>
            <StatusBadge status={MetadataStatus[spec.status]} />
          </dd>
          <dt>Created</dt>
          <dd>{formatTime(spec.createdAt)}</dd>
          <dt>Threads</dt>
          <dd>{Object.keys(spec.threadSpecs).length}</dd>
          <dt>Nodes</dt>
          <dd>{Object.values(spec.threadSpecs).reduce((n, t) => n + Object.keys(t.nodes).length, 0)}</dd>
        </dl>
      </section>
      <section className="panel">
        <ThreadTabs spec={spec} thread={thread} onChange={setThread} />
        {threadSpec && <WfGraph thread={threadSpec} />}
      </section>
      <div className="row">
        <section className="panel grow">
          <h2>Variables of thread {thread}</h2>
          <Variables spec={spec} thread={thread} />
        </section>
        <section className="panel grow">
          <h2>TaskDefs it uses</h2>
          {taskDefs.length === 0 ? (
            <div className="empty">None.</div>
          ) : (
            <ul data-testid="task-defs">
              {taskDefs.map((t) => (
                <li key={t}>
                  <Link to={`/taskDef/${encodeURIComponent(t)}`}>{t}</Link>
                </li>
              ))}
            </ul>
          )}
          <h2>Nodes of thread {thread}</h2>
          <div className="muted">
            {Object.keys(threadSpec?.nodes ?? {})
              .sort(nodeOrder)
              .join(" → ")}
          </div>
        </section>
      </div>
      <WfRunsOfSpec spec={spec} />
    </>
  );
}

export function WfSpecPage() {
  // the graph code starts loading while the page asks for its data
  useEffect(() => void WfGraph.preload(), []);
  const { name = "", major, revision } = useParams();
  const { tenant } = useSession();
  const exact = major !== undefined && revision !== undefined;
  const spec = useQuery({
    queryKey: [tenant, "wfSpec", name, major, revision],
    queryFn: () =>
      exact
        ? lh.getWfSpec({ name, majorVersion: Number(major), revision: Number(revision) })
        : lh.getLatestWfSpec({ name }),
  });
  return (
    <Loaded query={spec} what={`WfSpec '${name}'${exact ? ` v${major}.${revision}` : ""}`}>
      {(s) => <WfSpecView key={wfSpecLabel(s.id)} spec={s} />}
    </Loaded>
  );
}
