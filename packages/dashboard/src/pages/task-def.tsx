/**
 * A TaskDef: its input variables, the WfSpecs that use it, its metrics windows as charts (counts per
 * window; schedule-to-start and start-to-complete latencies) with a window length picker, and its latest
 * TaskRuns (a row opens its attempts), with a link to the Task Runs page filtered on it.
 */
import { useState, useEffect } from "react";
import { Link, useParams } from "react-router";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import type { TaskDef, TaskRunId } from "@pony/proto";
import { lh } from "../api/client";
import { formatDuration, formatTime, ms, variableTypeName } from "../api/format";
import { wfSpecLabel, wfSpecPath } from "../api/ids";
import { useSession } from "../api/session";
import { CountsChart, LatencyChart } from "../components/lazy-charts";
import {
  COLORS,
  Totals,
  useWindowParam,
  WINDOW_COUNTS,
  WINDOW_LABELS,
  windowLabel,
  WindowPicker,
  type WindowRow,
} from "../components/metrics-windows";
import { ErrorBox, Loaded } from "../components/errors";
import { Pager, usePaging } from "../components/pager";
import { TaskRunTable, useTaskRuns } from "./task-runs";
import { newest, PAGE } from "../api/recent";

const LATEST = 10;

/** The newest `count` TaskRuns of a TaskDef, newest first (api/recent.ts). */
const latestTaskRuns = (taskDefName: string, count: number): Promise<TaskRunId[]> =>
  newest(count, (earliestStart) => lh.searchTaskRun({ taskDefName, earliestStart, limit: PAGE }));

const COUNT_SERIES = [
  { key: "scheduled", name: "Scheduled", color: COLORS.scheduled },
  { key: "started", name: "Started", color: COLORS.started },
  { key: "completed", name: "Completed", color: COLORS.completed },
  { key: "errored", name: "Errored", color: COLORS.errored },
];
const SCHEDULE_TO_START = [
  { key: "scheduleToStartAvg", name: "Average", color: COLORS.avg },
  { key: "scheduleToStartMax", name: "Maximum", color: COLORS.max },
];
const START_TO_COMPLETE = [
  { key: "startToCompleteAvg", name: "Average", color: COLORS.avg },
  { key: "startToCompleteMax", name: "Maximum", color: COLORS.max },
];

function Metrics({ name }: { name: string }) {
  const { tenant } = useSession();
  const [length, setLength] = useWindowParam();
  const count = WINDOW_COUNTS[length];
  const metrics = useQuery({
    queryKey: [tenant, "taskDefMetrics", name, length, count],
    queryFn: () => lh.listTaskDefMetrics({ taskDefId: { name }, windowLength: length, numWindows: count }),
    placeholderData: keepPreviousData,
    refetchInterval: 10_000,
  });
  const rows: WindowRow[] = (metrics.data?.results ?? []).map((w) => {
    const start = ms(w.windowStart) ?? 0;
    const ended = w.totalCompleted + w.totalErrored;
    return {
      start,
      label: windowLabel(start, length),
      scheduled: Number(w.totalScheduled),
      started: Number(w.totalStarted),
      completed: Number(w.totalCompleted),
      errored: Number(w.totalErrored),
      // latencies only where something was measured: a gap in the line, not a zero
      scheduleToStartAvg: w.totalStarted > 0n ? Number(w.scheduleToStartAvg) : null,
      scheduleToStartMax: w.totalStarted > 0n ? Number(w.scheduleToStartMax) : null,
      startToCompleteAvg: ended > 0n ? Number(w.startToCompleteAvg) : null,
      startToCompleteMax: ended > 0n ? Number(w.startToCompleteMax) : null,
    };
  });
  const worst = (key: string) => {
    const measured = rows.map((r) => r[key]).filter((v): v is number => typeof v === "number");
    return measured.length > 0 ? Math.max(...measured) : undefined;
  };
  return (
    <section className="panel" data-testid="task-def-metrics">
      <div className="actions">
        <h2>Metrics</h2>
        <div className="grow" />
        <WindowPicker value={length} onChange={setLength} />
      </div>
      {metrics.error ? (
        <ErrorBox error={metrics.error} what="the metrics" />
      ) : !metrics.data ? (
        <div className="loading">Loading the metrics…</div>
      ) : (
        <>
          <p className="muted">
            The last {count} windows of {WINDOW_LABELS[length]}, counting attempts (a retried TaskRun counts
            once per attempt). Over them: schedule to start at most{" "}
            {formatDuration(worst("scheduleToStartMax"))}, start to complete at most{" "}
            {formatDuration(worst("startToCompleteMax"))}.
          </p>
          <Totals data={rows} series={COUNT_SERIES} />
          <CountsChart
            title={`Attempts per ${WINDOW_LABELS[length]}`}
            data={rows}
            series={COUNT_SERIES}
            length={length}
            yLabel="attempts"
            testId="counts-chart"
          />
          <div className="charts-grid">
            <LatencyChart
              title="Schedule to start"
              note="waiting in the queue"
              data={rows}
              series={SCHEDULE_TO_START}
              length={length}
              testId="schedule-to-start-chart"
            />
            <LatencyChart
              title="Start to complete"
              note="running on a worker"
              data={rows}
              series={START_TO_COMPLETE}
              length={length}
              testId="start-to-complete-chart"
            />
          </div>
        </>
      )}
    </section>
  );
}

function WfSpecsUsing({ name }: { name: string }) {
  const { tenant } = useSession();
  const paging = usePaging();
  const specs = useQuery({
    queryKey: [tenant, "wfSpecsUsing", name, paging.bookmark],
    queryFn: () =>
      lh.searchWfSpec({
        wfSpecCriteria: { case: "taskDefName", value: name },
        limit: 25,
        bookmark: paging.bookmark,
      }),
    placeholderData: keepPreviousData,
  });
  return (
    <section className="panel grow">
      <h2>WfSpecs that use it</h2>
      {specs.error ? (
        <ErrorBox error={specs.error} what="WfSpecs" />
      ) : !specs.data ? (
        <div className="loading">Loading WfSpecs…</div>
      ) : specs.data.results.length === 0 ? (
        <div className="empty">No WfSpec uses this TaskDef.</div>
      ) : (
        <ul data-testid="wf-specs-using">
          {specs.data.results.map((id) => (
            <li key={wfSpecLabel(id)}>
              <Link to={wfSpecPath(id)}>{wfSpecLabel(id)}</Link>
            </li>
          ))}
        </ul>
      )}
      {(paging.page > 1 || (specs.data?.bookmark?.length ?? 0) > 0) && (
        <Pager paging={paging} nextBookmark={specs.data?.bookmark} />
      )}
    </section>
  );
}

function LatestTaskRuns({ name }: { name: string }) {
  const { tenant } = useSession();
  const [selected, setSelected] = useState<string | undefined>();
  const latest = useQuery({
    queryKey: [tenant, "latestTaskRuns", name],
    queryFn: () => latestTaskRuns(name, LATEST),
    refetchInterval: 5000,
  });
  const rows = useTaskRuns(latest.data ?? []);
  const link = `/taskRuns?taskDef=${encodeURIComponent(name)}`;
  return (
    <section className="panel" data-testid="latest-task-runs">
      <div className="actions">
        <h2>Latest {LATEST} TaskRuns</h2>
        <span className="muted">newest first · click a row for its attempts</span>
        <div className="grow" />
        <Link to={link}>All its Task Runs →</Link>
      </div>
      {latest.error ? (
        <ErrorBox error={latest.error} what="TaskRuns" />
      ) : !latest.data ? (
        <div className="loading">Loading TaskRuns…</div>
      ) : rows.length === 0 ? (
        <div className="empty">No TaskRuns yet.</div>
      ) : (
        <TaskRunTable rows={rows} selected={selected} onSelect={setSelected} />
      )}
    </section>
  );
}

function TaskDefView({ taskDef }: { taskDef: TaskDef }) {
  const name = taskDef.id?.name ?? "";
  return (
    <>
      <div className="actions">
        <h1>TaskDef {name}</h1>
        <div className="grow" />
        <Link to={`/taskRuns?taskDef=${encodeURIComponent(name)}`} data-testid="task-runs-link">
          Task Runs of {name} →
        </Link>
      </div>
      <div className="row">
        <section className="panel grow">
          <h2>Input variables</h2>
          {taskDef.inputVars.length === 0 ? (
            <div className="empty">It takes no input.</div>
          ) : (
            <table data-testid="input-vars">
              <thead>
                <tr>
                  <th>#</th>
                  <th>Name</th>
                  <th>Type</th>
                </tr>
              </thead>
              <tbody>
                {taskDef.inputVars.map((v, i) => (
                  <tr key={v.name}>
                    <td>{i + 1}</td>
                    <td>{v.name}</td>
                    <td>
                      <code className="value">
                        {variableTypeName(v.type ?? v.typeDef?.definedType.value)}
                      </code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <dl className="facts created">
            <dt>Created</dt>
            <dd>{formatTime(taskDef.createdAt)}</dd>
          </dl>
        </section>
        <WfSpecsUsing name={name} />
      </div>
      <Metrics name={name} />
      <LatestTaskRuns name={name} />
    </>
  );
}

export function TaskDefPage() {
  // the charts code starts loading while the page asks for its data
  useEffect(() => void CountsChart.preload(), []);
  const { name = "" } = useParams();
  const { tenant } = useSession();
  const taskDef = useQuery({
    queryKey: [tenant, "taskDef", name],
    queryFn: () => lh.getTaskDef({ name }),
  });
  return (
    <Loaded query={taskDef} what={`TaskDef '${name}'`}>
      {(t) => <TaskDefView key={name} taskDef={t} />}
    </Loaded>
  );
}
