/**
 * Task Runs (B-KES-1, B-KES-2; Kestra's "Task Runs" page): the TaskRuns of every WfRun, filtered by state,
 * TaskDef, WfSpec and scheduled time (all in the URL, so a filtered view can be shared), paged by the
 * server's bookmarks. A row shows the WfRun, TaskDef, state, start (first attempt), end (last attempt), a
 * duration that ticks while the TaskRun runs and the number of attempts; clicking it opens its attempts
 * (each with its status, times, worker, output or error and log output). Above the table, a stacked chart
 * of TaskRun attempt states over the range, from the TaskDefs' metrics windows, and a table of how Kestra's
 * states map onto LittleHorse's TaskStatus values.
 *
 * Without a WfSpec, a page is one SearchTaskRun page (every TaskDef's TaskRuns when none is chosen, a Pony
 * extension), each TaskRun read with GetTaskRun. SearchTaskRun has no WfSpec criterion, so with a WfSpec a
 * page is the TaskRuns of the next 10 WfRuns of it (SearchWfRun + ListTaskRuns), filtered here.
 */
import { useUrlParams } from "../components/url-params";
import { Fragment, useEffect, useState } from "react";
import { Link } from "react-router";
import { keepPreviousData, useQueries, useQuery } from "@tanstack/react-query";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { MetricsWindowLength, TaskStatus, type TaskRun, type TaskRunId, type WfRunId } from "@pony/proto";
import { isNotFound, lh } from "../api/client";
import { durationOf, formatDuration, formatTime, ms, taskStatusName } from "../api/format";
import { wfRunIdOf, wfRunKey, wfRunPath } from "../api/ids";
import { useSession } from "../api/session";
import { CountsChart } from "../components/lazy-charts";
import {
  COLORS,
  Totals,
  WINDOW_MS,
  windowLabel,
  windowsCovering,
  type WindowRow,
} from "../components/metrics-windows";
import { ErrorBox } from "../components/errors";
import { Pager, usePaging } from "../components/pager";
import { StatusBadge } from "../components/status";
import { msParam, TimeRange, ts } from "../components/time-range";
import { taskDefsOf } from "../graph/describe";
import { TaskRunAttempts } from "./wf-run-details";

const PAGE_SIZE = 25;
const WF_RUNS_PER_PAGE = 10;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** every TaskStatus, in the order a TaskRun goes through them */
const STATUSES = [
  TaskStatus.TASK_SCHEDULED,
  TaskStatus.TASK_PENDING,
  TaskStatus.TASK_RUNNING,
  TaskStatus.TASK_SUCCESS,
  TaskStatus.TASK_FAILED,
  TaskStatus.TASK_TIMEOUT,
  TaskStatus.TASK_OUTPUT_SERIALIZING_ERROR,
  TaskStatus.TASK_INPUT_VAR_SUB_ERROR,
  TaskStatus.TASK_EXCEPTION,
];

const FINAL = new Set([
  TaskStatus.TASK_SUCCESS,
  TaskStatus.TASK_FAILED,
  TaskStatus.TASK_TIMEOUT,
  TaskStatus.TASK_OUTPUT_SERIALIZING_ERROR,
  TaskStatus.TASK_INPUT_VAR_SUB_ERROR,
  TaskStatus.TASK_EXCEPTION,
]);

export const isFinal = (s: TaskStatus): boolean => FINAL.has(s);

/** How Kestra's task-run states read in LittleHorse, and where the chart counts each. */
const STATE_MAPPING: { kestra: string; statuses: string; meaning: string; chart: string }[] = [
  {
    kestra: "CREATED",
    statuses: "TASK_SCHEDULED, TASK_PENDING",
    meaning: "waiting in its TaskDef's queue for a worker",
    chart: "still in flight",
  },
  {
    kestra: "RUNNING",
    statuses: "TASK_RUNNING",
    meaning: "a worker is running the attempt",
    chart: "still in flight",
  },
  {
    kestra: "RETRYING",
    statuses: "TASK_SCHEDULED or TASK_RUNNING after a failed attempt",
    meaning: "the retry is a new attempt of the same TaskRun (attempts > 1)",
    chart: "the failed attempt: errored; the retry: in flight",
  },
  {
    kestra: "SUCCESS",
    statuses: "TASK_SUCCESS",
    meaning: "the worker returned an output",
    chart: "completed",
  },
  {
    kestra: "FAILED",
    statuses: "TASK_FAILED, TASK_TIMEOUT, TASK_OUTPUT_SERIALIZING_ERROR, TASK_INPUT_VAR_SUB_ERROR",
    meaning: "a technical error: the task threw, did not report in time, or its input/output did not convert",
    chart: "errored",
  },
  {
    kestra: "WARNING",
    statuses: "TASK_EXCEPTION",
    meaning: "a business exception the task threw on purpose; the WfSpec may handle it and go on",
    chart: "errored",
  },
  {
    kestra: "KILLING, KILLED, RETRIED",
    statuses: "–",
    meaning: "no TaskRun state: halting a WfRun lets its running attempt end; retries stay in the TaskRun",
    chart: "–",
  },
];

/** Kestra's name for a TaskRun's state (see STATE_MAPPING) */
export function kestraState(t: TaskRun): string {
  switch (t.status) {
    case TaskStatus.TASK_SUCCESS:
      return "SUCCESS";
    case TaskStatus.TASK_EXCEPTION:
      return "WARNING";
    case TaskStatus.TASK_FAILED:
    case TaskStatus.TASK_TIMEOUT:
    case TaskStatus.TASK_OUTPUT_SERIALIZING_ERROR:
    case TaskStatus.TASK_INPUT_VAR_SUB_ERROR:
      return "FAILED";
    default:
      if (t.attempts.length > 1) return "RETRYING";
      return t.status === TaskStatus.TASK_RUNNING ? "RUNNING" : "CREATED";
  }
}

export const taskRunKey = (id: TaskRunId | undefined): string =>
  `${wfRunKey(id?.wfRunId)}/${id?.taskGuid ?? ""}`;

function taskRunIdOf(key: string): { wfRunId: WfRunId; taskGuid: string } | undefined {
  const at = key.lastIndexOf("/");
  if (at <= 0 || at === key.length - 1) return undefined;
  return { wfRunId: wfRunIdOf(key.slice(0, at)), taskGuid: key.slice(at + 1) };
}

/** the current time, ticking every second while `active` */
export function useNow(active: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [active]);
  return now;
}

/** start: the first attempt's start; end: the last attempt's end, once the TaskRun is over */
function timesOf(t: TaskRun) {
  const start = t.attempts.find((a) => a.startTime)?.startTime;
  const last = t.attempts[t.attempts.length - 1];
  const end = isFinal(t.status) ? last?.endTime : undefined;
  return { start, end };
}

export interface TaskRunRow {
  id: TaskRunId;
  /** undefined while it loads */
  run: TaskRun | undefined;
}

/**
 * TaskRuns as rows; a click on a row opens its attempts right below it (another click closes them).
 * `selected` and `onSelect` hold the open row's key (taskRunKey).
 */
export function TaskRunTable({
  rows,
  selected,
  onSelect,
}: {
  rows: TaskRunRow[];
  selected: string | undefined;
  onSelect: (key: string | undefined) => void;
}) {
  const now = useNow(rows.some((r) => r.run && !isFinal(r.run.status)));
  return (
    <div className="table-scroll">
      <table data-testid="task-runs" className="task-runs">
        <thead>
          <tr>
            <th>WfRun</th>
            <th>TaskDef</th>
            <th>State</th>
            <th>Scheduled</th>
            <th>Start</th>
            <th>End</th>
            <th>Duration</th>
            <th>Attempts</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(({ id, run }) => {
            const key = taskRunKey(id);
            const open = key === selected;
            const times = run ? timesOf(run) : undefined;
            const running = run !== undefined && !isFinal(run.status);
            const kestra = run ? kestraState(run) : undefined;
            const label = run ? taskStatusName(run.status).replace(/^TASK_/, "") : undefined;
            return (
              <Fragment key={key}>
                <tr
                  className={open ? "clickable selected" : "clickable"}
                  data-testid="task-run-row"
                  data-wf-run={wfRunKey(id.wfRunId)}
                  data-task-def={run?.taskDefId?.name}
                  data-kestra-state={kestra}
                  aria-expanded={open}
                  tabIndex={0}
                  title="show the attempts"
                  onClick={() => onSelect(open ? undefined : key)}
                  onKeyDown={(e) => {
                    if (e.key === "Enter" || e.key === " ") {
                      e.preventDefault();
                      onSelect(open ? undefined : key);
                    }
                  }}
                >
                  <td>
                    <span className="expander">{open ? "▾" : "▸"}</span>
                    <Link to={wfRunPath(id.wfRunId)} onClick={(e) => e.stopPropagation()}>
                      {wfRunKey(id.wfRunId)}
                    </Link>
                  </td>
                  <td>
                    {run ? (
                      <Link
                        to={`/taskDef/${encodeURIComponent(run.taskDefId?.name ?? "")}`}
                        onClick={(e) => e.stopPropagation()}
                      >
                        {run.taskDefId?.name}
                      </Link>
                    ) : (
                      "…"
                    )}
                  </td>
                  <td>
                    {run ? (
                      <>
                        <StatusBadge status={taskStatusName(run.status)} />
                        {/* Kestra's name for the state, where it is not the same word */}
                        {kestra !== label && (
                          <span className="muted kestra-state" title="Kestra's state">
                            {" "}
                            {kestra}
                          </span>
                        )}
                      </>
                    ) : (
                      "…"
                    )}
                  </td>
                  <td>{run ? formatTime(run.scheduledAt) : "…"}</td>
                  <td>{times ? formatTime(times.start) : "…"}</td>
                  <td>{times ? formatTime(times.end) : "…"}</td>
                  <td data-testid="duration" className={running ? "live" : undefined}>
                    {times ? formatDuration(durationOf(times.start, times.end, now)) : "…"}
                  </td>
                  <td data-testid="attempts-count">{run ? run.attempts.length : "…"}</td>
                </tr>
                {open && (
                  <tr className="attempts-row">
                    <td colSpan={8}>
                      <TaskRunAttempts wfRun={id.wfRunId} taskGuid={id.taskGuid} />
                    </td>
                  </tr>
                )}
              </Fragment>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** TaskRuns read by their ids (GetTaskRun), re-read every 2 s until they are over */
export function useTaskRuns(ids: TaskRunId[]): TaskRunRow[] {
  const { tenant } = useSession();
  const runs = useQueries({
    queries: ids.map((id) => ({
      queryKey: [tenant, "taskRun", wfRunKey(id.wfRunId), id.taskGuid],
      queryFn: () => lh.getTaskRun(id),
      refetchInterval: (q: { state: { data?: TaskRun } }) =>
        q.state.data && isFinal(q.state.data.status) ? false : 2000,
    })),
  });
  return ids.map((id, i) => ({ id, run: runs[i]?.data }));
}

/** Every TaskDef's name (SearchTaskDef, page by page). */
async function allTaskDefs(): Promise<string[]> {
  const names: string[] = [];
  let bookmark: Uint8Array | undefined;
  do {
    const page = await lh.searchTaskDef({ limit: 1000, bookmark });
    names.push(...page.results.map((id) => id.name));
    bookmark = page.bookmark && page.bookmark.length > 0 ? page.bookmark : undefined;
  } while (bookmark && names.length < 10_000);
  return names.sort();
}

/** Every WfSpec's name (any version). */
async function allWfSpecNames(): Promise<string[]> {
  const names = new Set<string>();
  let bookmark: Uint8Array | undefined;
  let read = 0;
  do {
    const page = await lh.searchWfSpec({ limit: 1000, bookmark, wfSpecCriteria: { case: undefined } });
    for (const id of page.results) names.add(id.name);
    read += page.results.length;
    bookmark = page.bookmark && page.bookmark.length > 0 ? page.bookmark : undefined;
  } while (bookmark && read < 10_000);
  return [...names].sort();
}

/** Every TaskRun of a WfRun (ListTaskRuns, page by page). */
async function taskRunsOf(wfRunId: WfRunId): Promise<TaskRun[]> {
  const out: TaskRun[] = [];
  let bookmark: Uint8Array | undefined;
  do {
    const page = await lh.listTaskRuns({ wfRunId, limit: 1000, bookmark });
    out.push(...page.results);
    bookmark = page.bookmark && page.bookmark.length > 0 ? page.bookmark : undefined;
  } while (bookmark);
  return out;
}

/** runs `fn` over `items`, at most `width` at a time */
async function inBatches<T, R>(items: T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += width)
    out.push(...(await Promise.all(items.slice(i, i + width).map(fn))));
  return out;
}

const STATE_SERIES = [
  { key: "completed", name: "Completed", color: COLORS.completed },
  { key: "errored", name: "Errored", color: COLORS.errored },
  { key: "inFlight", name: "Still in flight", color: COLORS.inFlight },
];

/**
 * TaskRun attempt states over [from, to], per 2 hours (ranges up to 2 days) or per day, summed over the
 * TaskDefs' metrics windows: completed, errored and still in flight (scheduled − completed − errored).
 */
function StatesChart({
  taskDefs,
  from,
  to,
  scope,
}: {
  taskDefs: string[] | undefined;
  from: number;
  to: number;
  scope: string;
}) {
  const { tenant } = useSession();
  const length = to - from <= 2 * DAY_MS ? MetricsWindowLength.HOURS_2 : MetricsWindowLength.DAYS_1;
  const { last, count } = windowsCovering(from, to, length);
  const metrics = useQuery({
    queryKey: [tenant, "taskRunStates", taskDefs, length, last, count],
    enabled: taskDefs !== undefined,
    placeholderData: keepPreviousData,
    refetchInterval: 10_000,
    queryFn: async (): Promise<WindowRow[]> => {
      const rows: WindowRow[] = [];
      for (let i = 0; i < count; i++) {
        const start = last - (count - 1 - i) * WINDOW_MS[length];
        rows.push({
          start,
          label: windowLabel(start, length),
          completed: 0,
          errored: 0,
          inFlight: 0,
          scheduled: 0,
        });
      }
      const lists = await inBatches(taskDefs ?? [], 16, (name) =>
        lh
          .listTaskDefMetrics({
            taskDefId: { name },
            windowLength: length,
            lastWindowStart: timestampFromMs(last),
            numWindows: count,
          })
          // a TaskDef deleted since it was listed counts nothing
          .catch((e: unknown) => {
            if (isNotFound(e)) return undefined;
            throw e;
          }),
      );
      const byStart = new Map(rows.map((r) => [r.start, r]));
      for (const list of lists)
        for (const w of list?.results ?? []) {
          const row = byStart.get(ms(w.windowStart) ?? -1);
          if (!row) continue;
          const completed = Number(w.totalCompleted);
          const errored = Number(w.totalErrored);
          const scheduled = Number(w.totalScheduled);
          row.completed = Number(row.completed) + completed;
          row.errored = Number(row.errored) + errored;
          row.scheduled = Number(row.scheduled) + scheduled;
          row.inFlight = Number(row.inFlight) + Math.max(0, scheduled - completed - errored);
        }
      return rows;
    },
  });
  const per = length === MetricsWindowLength.HOURS_2 ? "per 2 hours" : "per day";
  return (
    <section className="panel" data-testid="states-chart">
      {metrics.error ? (
        <ErrorBox error={metrics.error} what="the TaskDef metrics" />
      ) : !metrics.data ? (
        <div className="loading">Loading the TaskDef metrics…</div>
      ) : (
        <>
          <CountsChart
            title={`TaskRun attempts by state, ${per}`}
            data={metrics.data}
            series={STATE_SERIES}
            length={length}
            yLabel="attempts"
            stacked
            note={`${scope}, ${formatTime(from)} – ${formatTime(to)} (local time)`}
          />
          <Totals data={metrics.data} series={STATE_SERIES} />
        </>
      )}
    </section>
  );
}

function StateMapping() {
  return (
    <section className="panel state-mapping">
      <h2>Kestra's states in LittleHorse</h2>
      <table data-testid="state-mapping">
        <thead>
          <tr>
            <th>Kestra state</th>
            <th>LittleHorse TaskStatus</th>
            <th>Meaning</th>
            <th>In the chart</th>
          </tr>
        </thead>
        <tbody>
          {STATE_MAPPING.map((m) => (
            <tr key={m.kestra}>
              <td>
                <strong>{m.kestra}</strong>
              </td>
              <td>
                <code>{m.statuses}</code>
              </td>
              <td>{m.meaning}</td>
              <td>{m.chart}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted">
        The chart counts <em>attempts</em>, from each TaskDef's metrics windows (a retried TaskRun counts once
        per attempt): <strong>completed</strong> ended TASK_SUCCESS, <strong>errored</strong> ended in any
        other final status (TASK_EXCEPTION included), and <strong>still in flight</strong> is scheduled −
        completed − errored in the window (never below 0). Windows are aligned on UTC; the state filter does
        not apply to the chart, and with a WfSpec chosen it counts its TaskDefs' attempts from every WfSpec.
      </p>
    </section>
  );
}

interface Filters {
  status: string;
  taskDef: string;
  wfSpec: string;
  from: number;
  to: number | undefined;
}

/** One page of TaskRuns found by SearchTaskRun. */
function SearchedTaskRuns({ filters, selected, onSelect }: PageProps) {
  const { tenant } = useSession();
  const paging = usePaging();
  const { status, taskDef, from, to } = filters;
  const search = useQuery({
    queryKey: [tenant, "searchTaskRun", taskDef, status, from, to, paging.bookmark],
    queryFn: () =>
      lh.searchTaskRun({
        taskDefName: taskDef,
        status: status === "" ? undefined : TaskStatus[status as keyof typeof TaskStatus],
        earliestStart: ts(from),
        latestStart: ts(to),
        limit: PAGE_SIZE,
        bookmark: paging.bookmark,
      }),
    placeholderData: keepPreviousData,
    refetchInterval: 5000,
  });
  const rows = useTaskRuns(search.data?.results ?? []);
  return (
    <>
      <p className="muted" data-testid="page-note">
        Oldest first, {PAGE_SIZE} TaskRuns a page{taskDef ? ` of TaskDef ${taskDef}` : " of every TaskDef"},
        scheduled in the range.
      </p>
      {search.error ? (
        <ErrorBox error={search.error} what="TaskRuns" />
      ) : !search.data ? (
        <div className="loading">Loading TaskRuns…</div>
      ) : rows.length === 0 ? (
        <div className="empty" data-testid="no-task-runs">
          No TaskRuns match these filters.
        </div>
      ) : (
        <TaskRunTable rows={rows} selected={selected} onSelect={onSelect} />
      )}
      <Pager paging={paging} nextBookmark={search.data?.bookmark} />
    </>
  );
}

/** The TaskRuns of one page of a WfSpec's WfRuns (10 WfRuns a page), filtered here. */
function TaskRunsOfWfSpec({ filters, selected, onSelect }: PageProps) {
  const { tenant } = useSession();
  const paging = usePaging();
  const { status, taskDef, wfSpec, from, to } = filters;
  const page = useQuery({
    queryKey: [tenant, "taskRunsOfWfRuns", wfSpec, from, to, paging.bookmark],
    queryFn: async () => {
      const wfRuns = await lh.searchWfRun({
        wfSpecName: wfSpec,
        earliestStart: ts(from),
        latestStart: ts(to),
        limit: WF_RUNS_PER_PAGE,
        bookmark: paging.bookmark,
      });
      const taskRuns = await Promise.all(wfRuns.results.map(taskRunsOf));
      return { wfRuns: wfRuns.results, taskRuns: taskRuns.flat(), bookmark: wfRuns.bookmark };
    },
    placeholderData: keepPreviousData,
    refetchInterval: 5000,
  });
  const wanted = (t: TaskRun) => {
    if (status !== "" && taskStatusName(t.status) !== status) return false;
    if (taskDef !== "" && t.taskDefId?.name !== taskDef) return false;
    const at = ms(t.scheduledAt) ?? 0;
    return at >= from && (to === undefined || at <= to);
  };
  const rows: TaskRunRow[] = (page.data?.taskRuns ?? [])
    .filter(wanted)
    .sort((a, b) => (ms(a.scheduledAt) ?? 0) - (ms(b.scheduledAt) ?? 0))
    .map((run) => ({ id: run.id!, run }));
  const wfRuns = page.data?.wfRuns ?? [];
  return (
    <>
      <p className="note" data-testid="page-note">
        With a WfSpec chosen, a page is <strong>the TaskRuns of the next {WF_RUNS_PER_PAGE} WfRuns</strong> of{" "}
        <strong>{wfSpec}</strong> started in the range (oldest first), filtered by state and TaskDef here.
        {page.data &&
          ` This page: ${rows.length} TaskRun(s) of ${wfRuns.length} WfRun(s)${
            wfRuns.length > 0 ? ` (${wfRunKey(wfRuns[0])} … ${wfRunKey(wfRuns[wfRuns.length - 1])})` : ""
          }.`}
      </p>
      {page.error ? (
        <ErrorBox error={page.error} what="TaskRuns" />
      ) : !page.data ? (
        <div className="loading">Loading TaskRuns…</div>
      ) : rows.length === 0 ? (
        <div className="empty" data-testid="no-task-runs">
          No TaskRuns of these WfRuns match these filters.
        </div>
      ) : (
        <TaskRunTable rows={rows} selected={selected} onSelect={onSelect} />
      )}
      <Pager paging={paging} nextBookmark={page.data?.bookmark} />
    </>
  );
}

interface PageProps {
  filters: Filters;
  selected: string | undefined;
  onSelect: (key: string | undefined) => void;
}

const PRESETS: [string, number][] = [
  ["Last hour", HOUR_MS],
  ["Last 24 hours", DAY_MS],
  ["Last 7 days", 7 * DAY_MS],
  ["Last 30 days", 30 * DAY_MS],
];

export function TaskRunsPage() {
  // the charts code starts loading while the page asks for its data
  useEffect(() => void CountsChart.preload(), []);
  const { tenant } = useSession();
  const [params, update] = useUrlParams();
  const [defaultFrom] = useState(() => Date.now() - DAY_MS);
  const filters: Filters = {
    status: params.get("status") ?? "",
    taskDef: params.get("taskDef") ?? "",
    wfSpec: params.get("wfSpec") ?? "",
    from: msParam(params, "from") ?? defaultFrom,
    to: msParam(params, "to"),
  };
  const selected = params.get("taskRun") ?? undefined;

  const select = (key: string | undefined) => update({ taskRun: key });
  // a shared link may name an open TaskRun: only keep it if it parses
  const open = selected && taskRunIdOf(selected) ? selected : undefined;

  const taskDefs = useQuery({ queryKey: [tenant, "allTaskDefs"], queryFn: allTaskDefs, staleTime: 30_000 });
  const wfSpecs = useQuery({
    queryKey: [tenant, "allWfSpecNames"],
    queryFn: allWfSpecNames,
    staleTime: 30_000,
  });
  const spec = useQuery({
    queryKey: [tenant, "wfSpec", filters.wfSpec, undefined, undefined],
    queryFn: () => lh.getLatestWfSpec({ name: filters.wfSpec }),
    enabled: filters.wfSpec !== "",
  });

  // the TaskDefs the chart sums: the chosen one, those of the chosen WfSpec, or all of them
  let chartDefs: string[] | undefined;
  let scope: string;
  if (filters.taskDef) {
    chartDefs = [filters.taskDef];
    scope = `TaskDef ${filters.taskDef}`;
  } else if (filters.wfSpec) {
    chartDefs = spec.data ? taskDefsOf(Object.values(spec.data.threadSpecs)) : spec.error ? [] : undefined;
    scope = `the ${chartDefs?.length ?? "…"} TaskDef(s) of WfSpec ${filters.wfSpec}`;
  } else {
    chartDefs = taskDefs.data;
    scope = `all ${taskDefs.data?.length ?? "…"} TaskDef(s)`;
  }
  const chartTo = filters.to ?? Date.now();

  const taskDefOptions = [
    ...new Set([...(taskDefs.data ?? []), ...(filters.taskDef ? [filters.taskDef] : [])]),
  ].sort();
  const wfSpecOptions = [
    ...new Set([...(wfSpecs.data ?? []), ...(filters.wfSpec ? [filters.wfSpec] : [])]),
  ].sort();

  return (
    <>
      <div className="actions">
        <h1>Task Runs</h1>
        <div className="grow" />
        <span className="muted">the TaskRuns of every WfRun, as Kestra's Task Runs page shows them</span>
      </div>
      <section className="panel">
        <div className="filters" data-testid="task-run-filters">
          <label>
            State
            <select
              aria-label="state"
              value={filters.status}
              onChange={(e) => update({ status: e.target.value, taskRun: undefined })}
            >
              <option value="">any</option>
              {STATUSES.map((s) => (
                <option key={s} value={taskStatusName(s)}>
                  {taskStatusName(s)}
                </option>
              ))}
            </select>
          </label>
          <label>
            TaskDef
            <select
              aria-label="TaskDef"
              value={filters.taskDef}
              onChange={(e) => update({ taskDef: e.target.value, taskRun: undefined })}
            >
              <option value="">all TaskDefs</option>
              {taskDefOptions.map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </select>
          </label>
          <label>
            WfSpec
            <select
              aria-label="WfSpec"
              value={filters.wfSpec}
              onChange={(e) => update({ wfSpec: e.target.value, taskRun: undefined })}
            >
              <option value="">all WfSpecs</option>
              {wfSpecOptions.map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </select>
          </label>
          <TimeRange
            from={filters.from}
            to={filters.to}
            onChange={(f, t) =>
              update({ from: (f ?? defaultFrom).toString(), to: t?.toString(), taskRun: undefined })
            }
          />
          <div className="presets">
            {PRESETS.map(([label, span]) => (
              <button
                key={label}
                type="button"
                onClick={() => update({ from: String(Date.now() - span), to: undefined, taskRun: undefined })}
              >
                {label}
              </button>
            ))}
          </div>
        </div>
        <div className="muted range-note">
          Scheduled between {formatTime(filters.from)} and{" "}
          {filters.to === undefined ? "now" : formatTime(filters.to)} (local time).
        </div>
        {/* keyed by the filters: a change of filter starts again at page 1 */}
        {filters.wfSpec ? (
          <TaskRunsOfWfSpec
            key={`${filters.wfSpec}|${filters.from}|${filters.to}`}
            filters={filters}
            selected={open}
            onSelect={select}
          />
        ) : (
          <SearchedTaskRuns
            key={`${filters.status}|${filters.taskDef}|${filters.from}|${filters.to}`}
            filters={filters}
            selected={open}
            onSelect={select}
          />
        )}
      </section>
      <StatesChart taskDefs={chartDefs} from={filters.from} to={chartTo} scope={scope} />
      <StateMapping />
    </>
  );
}
