/**
 * Black-box tests of the metrics windows through gRPC (B-SRCH-5): known workloads, then every counter and
 * the averages / maxima of GetTaskDefMetricsWindow, GetWfSpecMetricsWindow, ListTaskDefMetrics and
 * ListWfSpecMetrics, checked against the times the TaskRuns and WfRuns themselves report.
 *
 * TaskDef metrics count TaskAttempts: scheduled, started (claimed by a worker), completed (TASK_SUCCESS) and
 * errored (any other final status); schedule-to-start is start − schedule time of the started attempts,
 * start-to-complete is end − start time of the ended ones. WfSpec metrics count WfRuns started, COMPLETED
 * and ERROR / EXCEPTION, with start-to-complete over the ended ones. Averages are integer ms.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server";
import type { Msg, TestClient } from "../support/client";
import { entry, exit, str, taskDef, taskNode, thread, varDef, varRef, wfSpec } from "../support/specs";
import { startRawWorker, type RawWorker } from "../support/worker";
import { waitFor } from "../support/wait";

let ts: TestServer;
let c: TestClient;
const workers: RawWorker[] = [];

const WINDOWS = { MINUTES_5: 300_000, HOURS_2: 7_200_000, DAYS_1: 86_400_000 } as const;
type WindowType = keyof typeof WINDOWS;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tsMs = (t: Msg): number => Number(t.seconds) * 1000 + Math.floor(t.nanos / 1e6);
const at = (ms: number): Msg => ({ seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 });

/** The task each input asks the worker for: how long to work, then which status to report. */
function outcome(input: string): { delay: number; status?: string } {
  const [kind, delay] = input.split(":") as [string, string | undefined];
  const ms = Number(delay ?? 0);
  if (kind === "ok") return { delay: ms, status: "TASK_SUCCESS" };
  if (kind === "fail") return { delay: ms, status: "TASK_FAILED" };
  if (kind === "exc") return { delay: ms, status: "TASK_EXCEPTION" };
  if (kind === "once") return { delay: ms }; // first attempt: no report (times out); later ones succeed
  return { delay: 0 }; // "hold": never reported
}

/** A worker that reports with the exact time (ms) it finished, so durations can be checked exactly. */
function startWorker(taskDefName: string): void {
  workers.push(
    startRawWorker(
      c,
      taskDefName,
      async (task) => {
        const input = task.variables?.[0]?.value?.str as string;
        const { delay, status: planned } = outcome(input);
        let status = planned;
        if (input.startsWith("once") && Number(task.attempt_number) > 0) status = "TASK_SUCCESS";
        if (!status) return { status: "NO_REPORT" };
        await sleep(delay);
        const report: Msg = {
          task_run_id: task.task_run_id,
          attempt_number: task.attempt_number,
          status,
          time: at(Date.now()),
        };
        if (status === "TASK_FAILED") report.error = { type: "TASK_FAILURE", message: "failed" };
        if (status === "TASK_EXCEPTION") report.exception = { name: "met-exc", message: "thrown" };
        await c.call("ReportTask", report);
        return { status: "NO_REPORT" };
      },
      { concurrency: 8, clientId: `met-${taskDefName}` },
    ),
  );
}

function oneTaskSpec(name: string, taskDefName: string, node: Msg = {}): Msg {
  return wfSpec(
    name,
    thread(
      [entry(), taskNode("1-task-TASK", taskDefName, [varRef("input")], node), exit("2-exit-EXIT")],
      [varDef("input", "STR")],
    ),
  );
}

async function waitEnded(id: string): Promise<Msg> {
  return waitFor(
    async () => {
      const r = await c.call("GetWfRun", { id });
      return r.status === "RUNNING" ? undefined : r;
    },
    15_000,
    `WfRun ${id} to end`,
  );
}

async function taskRunOf(wfRunId: string): Promise<Msg> {
  const list = await c.call("ListTaskRuns", { wf_run_id: { id: wfRunId } });
  return list.results[0];
}

interface Expected {
  scheduled?: number;
  started: number;
  completed: number;
  errored: number;
  scheduleToStart?: number[];
  startToComplete: number[];
}

const avg = (xs: number[]) => (xs.length ? Math.floor(xs.reduce((a, b) => a + b, 0) / xs.length) : 0);
const max = (xs: number[]) => (xs.length ? Math.max(...xs) : 0);

/**
 * The windows of each length that hold [fromMs, now]: normally one; two when the workload crossed a window
 * boundary. Counters are summed over them and maxima taken; averages are checked when there is one window.
 */
function combine(windows: Msg[]): {
  counts: Record<string, number>;
  maxima: Record<string, number>;
  single?: Msg;
} {
  const counts: Record<string, number> = {};
  const maxima: Record<string, number> = {};
  const nonEmpty = windows.filter((w) =>
    ["total_scheduled", "total_started", "total_completed", "total_errored"].some(
      (k) => Number(w[k] ?? 0) > 0,
    ),
  );
  for (const w of windows) {
    for (const k of ["total_scheduled", "total_started", "total_completed", "total_errored"])
      counts[k] = (counts[k] ?? 0) + Number(w[k] ?? 0);
    for (const k of ["schedule_to_start_max", "start_to_complete_max"])
      maxima[k] = Math.max(maxima[k] ?? 0, Number(w[k] ?? 0));
  }
  return { counts, maxima, single: nonEmpty.length === 1 ? nonEmpty[0] : undefined };
}

async function taskWindows(name: string, type: WindowType, fromMs: number): Promise<Msg[]> {
  const first = await c.call("GetTaskDefMetricsWindow", {
    task_def_name: name,
    window_type: type,
    window_start: at(fromMs),
  });
  const last = await c.call("GetTaskDefMetricsWindow", { task_def_name: name, window_type: type });
  return tsMs(first.window_start) === tsMs(last.window_start) ? [last] : [first, last];
}

async function wfWindows(id: Msg, type: WindowType, fromMs: number): Promise<Msg[]> {
  const first = await c.call("GetWfSpecMetricsWindow", {
    wf_spec_id: id,
    window_length: type,
    window_start: at(fromMs),
  });
  const last = await c.call("GetWfSpecMetricsWindow", { wf_spec_id: id, window_length: type });
  return tsMs(first.window_start) === tsMs(last.window_start) ? [last] : [first, last];
}

function checkTask(windows: Msg[], e: Expected): void {
  const { counts, maxima, single } = combine(windows);
  if (e.scheduled !== undefined) expect(counts.total_scheduled).toBe(e.scheduled);
  expect(counts.total_started).toBe(e.started);
  expect(counts.total_completed).toBe(e.completed);
  expect(counts.total_errored).toBe(e.errored);
  if (e.scheduleToStart) expect(maxima.schedule_to_start_max).toBe(max(e.scheduleToStart));
  expect(maxima.start_to_complete_max).toBe(max(e.startToComplete));
  if (single) {
    if (e.scheduleToStart) expect(Number(single.schedule_to_start_avg)).toBe(avg(e.scheduleToStart));
    expect(Number(single.start_to_complete_avg)).toBe(avg(e.startToComplete));
  }
}

beforeAll(async () => {
  ts = await startTestServer();
  c = ts.client();
});

afterAll(async () => {
  for (const w of workers) w.stop();
  await ts?.close();
});

describe("TaskDef metrics", () => {
  it("B-SRCH-5 counts scheduled, started, completed and errored attempts with their durations, as they happen", async () => {
    const def = "met-task";
    await c.call("PutTaskDef", taskDef(def, [["input", "STR"]]));
    await c.call("PutWfSpec", oneTaskSpec("met-task-wf", def));
    const t0 = Date.now();
    const inputs: Record<string, string> = {
      "mt-ok-1": "ok:40",
      "mt-ok-2": "ok:120",
      "mt-fail": "fail:10",
      "mt-exc": "exc:60",
    };
    for (const [id, input] of Object.entries(inputs))
      await c.call("RunWf", { wf_spec_name: "met-task-wf", id, variables: { input: str(input) } });

    // nobody polls yet: scheduled, not started
    for (const type of Object.keys(WINDOWS) as WindowType[]) {
      checkTask(await taskWindows(def, type, t0), {
        scheduled: 4,
        started: 0,
        completed: 0,
        errored: 0,
        startToComplete: [],
      });
    }
    await sleep(150);
    startWorker(def);
    for (const id of Object.keys(inputs)) await waitEnded(id);

    const scheduleToStart: number[] = [];
    const startToComplete: number[] = [];
    for (const id of Object.keys(inputs)) {
      const [a] = (await taskRunOf(id)).attempts;
      scheduleToStart.push(tsMs(a.start_time) - tsMs(a.schedule_time));
      startToComplete.push(tsMs(a.end_time) - tsMs(a.start_time));
    }
    expect(Math.min(...scheduleToStart)).toBeGreaterThanOrEqual(150);
    expect(max(startToComplete)).toBeGreaterThanOrEqual(120);
    const expected = { scheduled: 4, started: 4, completed: 2, errored: 2, scheduleToStart, startToComplete };
    for (const type of Object.keys(WINDOWS) as WindowType[])
      checkTask(await taskWindows(def, type, t0), expected);

    // the window holds the request's time and is aligned on its length
    const w = await c.call("GetTaskDefMetricsWindow", { task_def_name: def, window_type: "HOURS_2" });
    expect(tsMs(w.window_start) % WINDOWS.HOURS_2).toBe(0);
    expect(w).toMatchObject({ task_def_id: { name: def }, type: "HOURS_2" });
    // an inline claim (a worker already waiting) is counted too: schedule-to-start ~0
    await c.call("RunWf", {
      wf_spec_name: "met-task-wf",
      id: "mt-inline",
      variables: { input: str("ok:0") },
    });
    await waitEnded("mt-inline");
    const after = combine(await taskWindows(def, "DAYS_1", t0)).counts;
    expect(after).toMatchObject({
      total_scheduled: 5,
      total_started: 5,
      total_completed: 3,
      total_errored: 2,
    });
  });

  it("B-SRCH-5 a retried TaskRun counts once per attempt; a timeout is an errored attempt", async () => {
    const def = "met-retry";
    await c.call("PutTaskDef", taskDef(def, [["input", "STR"]]));
    await c.call("PutWfSpec", oneTaskSpec("met-retry-wf", def, { retries: 1, timeout_seconds: 1 }));
    startWorker(def);
    const t0 = Date.now();
    await c.call("RunWf", { wf_spec_name: "met-retry-wf", id: "mr-1", variables: { input: str("once:30") } });
    expect((await waitEnded("mr-1")).status).toBe("COMPLETED");
    const attempts = (await taskRunOf("mr-1")).attempts;
    expect(attempts.map((a: Msg) => a.status)).toEqual(["TASK_TIMEOUT", "TASK_SUCCESS"]);
    const startToComplete = attempts.map((a: Msg) => tsMs(a.end_time) - tsMs(a.start_time));
    expect(startToComplete[0]).toBeGreaterThanOrEqual(1000);
    const scheduleToStart = attempts.map((a: Msg) => tsMs(a.start_time) - tsMs(a.schedule_time));
    for (const type of Object.keys(WINDOWS) as WindowType[]) {
      checkTask(await taskWindows(def, type, t0), {
        scheduled: 2,
        started: 2,
        completed: 1,
        errored: 1,
        scheduleToStart,
        startToComplete,
      });
    }
  });

  it("B-SRCH-5 ListTaskDefMetrics: num_windows consecutive windows, oldest first, empty ones as zeros", async () => {
    const def = "met-task";
    const now = Date.now();
    const r = await c.call("ListTaskDefMetrics", {
      task_def_id: { name: def },
      window_length: "MINUTES_5",
      num_windows: 4,
      last_window_start: at(now),
    });
    expect(r.results).toHaveLength(4);
    const starts = r.results.map((w: Msg) => tsMs(w.window_start));
    const last = Math.floor(now / WINDOWS.MINUTES_5) * WINDOWS.MINUTES_5;
    expect(starts).toEqual([3, 2, 1, 0].map((k) => last - k * WINDOWS.MINUTES_5));
    for (const w of r.results) expect(w).toMatchObject({ task_def_id: { name: def }, type: "MINUTES_5" });
    const total = r.results.reduce((n: number, w: Msg) => n + Number(w.total_scheduled), 0);
    expect(total).toBe(5);
    // an hour ago nothing ran: zeros
    const old = await c.call("ListTaskDefMetrics", {
      task_def_id: { name: def },
      window_length: "MINUTES_5",
      num_windows: 2,
      last_window_start: at(now - 3_600_000),
    });
    expect(old.results).toHaveLength(2);
    for (const w of old.results) {
      expect(w).toMatchObject({
        total_scheduled: "0",
        total_started: "0",
        total_completed: "0",
        total_errored: "0",
        schedule_to_start_avg: "0",
        start_to_complete_max: "0",
      });
    }
  });

  it("B-SRCH-5 unknown TaskDef is NOT_FOUND; a missing name or num_windows ≤ 0 is INVALID_ARGUMENT", async () => {
    expect(
      (await c.fail("GetTaskDefMetricsWindow", { task_def_name: "met-nope", window_type: "MINUTES_5" })).code,
    ).toBe("NOT_FOUND");
    expect((await c.fail("GetTaskDefMetricsWindow", { window_type: "MINUTES_5" })).code).toBe(
      "INVALID_ARGUMENT",
    );
    expect(
      (await c.fail("ListTaskDefMetrics", { task_def_id: { name: "met-nope" }, num_windows: 1 })).code,
    ).toBe("NOT_FOUND");
    expect(
      (await c.fail("ListTaskDefMetrics", { task_def_id: { name: "met-task" }, num_windows: 0 })).code,
    ).toBe("INVALID_ARGUMENT");
  });
});

describe("WfSpec metrics", () => {
  it("B-SRCH-5 counts WfRuns started, completed and errored per WfSpec version, with start-to-complete", async () => {
    const def = "met-flow-task";
    const spec = "met-flow";
    await c.call("PutTaskDef", taskDef(def, [["input", "STR"]]));
    const v0 = (await c.call("PutWfSpec", oneTaskSpec(spec, def))).id;
    startWorker(def);
    const t0 = Date.now();
    const runs: Record<string, string> = {
      "mf-ok-1": "ok:30",
      "mf-ok-2": "ok:90",
      "mf-fail": "fail:0",
      "mf-exc": "exc:20",
      "mf-hold": "hold",
    };
    for (const [id, input] of Object.entries(runs))
      await c.call("RunWf", { wf_spec_name: spec, id, variables: { input: str(input) } });
    const ended: Msg[] = [];
    for (const id of ["mf-ok-1", "mf-ok-2", "mf-fail", "mf-exc"]) ended.push(await waitEnded(id));
    expect(ended.map((r) => r.status)).toEqual(["COMPLETED", "COMPLETED", "ERROR", "EXCEPTION"]);
    const took = ended.map((r) => tsMs(r.end_time) - tsMs(r.start_time));
    expect(max(took)).toBeGreaterThanOrEqual(90);

    // a new revision of the WfSpec has windows of its own
    const v1 = (
      await c.call(
        "PutWfSpec",
        wfSpec(
          spec,
          thread(
            [entry(), taskNode("1-task-TASK", def, [varRef("input")]), exit("2-exit-EXIT")],
            [varDef("input", "STR"), varDef("unused", "STR")],
          ),
        ),
      )
    ).id;
    expect(v1).toMatchObject({ major_version: 0, revision: 1 });
    await c.call("RunWf", { wf_spec_name: spec, id: "mf-v1", variables: { input: str("ok:0") } });
    await waitEnded("mf-v1");

    for (const type of Object.keys(WINDOWS) as WindowType[]) {
      const windows = await wfWindows(v0, type, t0);
      const { counts, maxima, single } = combine(windows);
      expect(counts.total_started).toBe(5);
      expect(counts.total_completed).toBe(2);
      expect(counts.total_errored).toBe(2);
      expect(maxima.start_to_complete_max).toBe(max(took));
      if (single) expect(Number(single.start_to_complete_avg)).toBe(avg(took));
      for (const w of windows) expect(w).toMatchObject({ wf_spec_id: v0, type });

      const other = combine(await wfWindows(v1, type, t0)).counts;
      expect(other).toMatchObject({ total_started: 1, total_completed: 1, total_errored: 0 });
    }

    const list = await c.call("ListWfSpecMetrics", {
      wf_spec_id: v0,
      window_length: "DAYS_1",
      num_windows: 3,
      last_window_start: at(Date.now()),
    });
    expect(list.results).toHaveLength(3);
    const starts = list.results.map((w: Msg) => tsMs(w.window_start));
    expect(starts[1] - starts[0]).toBe(WINDOWS.DAYS_1);
    expect(starts[2] - starts[1]).toBe(WINDOWS.DAYS_1);
    expect(list.results.reduce((n: number, w: Msg) => n + Number(w.total_started), 0)).toBe(5);
  });

  it("B-SRCH-5 unknown WfSpec version is NOT_FOUND; a missing id or num_windows ≤ 0 is INVALID_ARGUMENT", async () => {
    const missing = { name: "met-flow", major_version: 7, revision: 0 };
    expect((await c.fail("GetWfSpecMetricsWindow", { wf_spec_id: missing })).code).toBe("NOT_FOUND");
    expect((await c.fail("GetWfSpecMetricsWindow", {})).code).toBe("INVALID_ARGUMENT");
    expect((await c.fail("ListWfSpecMetrics", { wf_spec_id: missing, num_windows: 1 })).code).toBe(
      "NOT_FOUND",
    );
    const v0 = { name: "met-flow", major_version: 0, revision: 0 };
    expect((await c.fail("ListWfSpecMetrics", { wf_spec_id: v0, num_windows: -2 })).code).toBe(
      "INVALID_ARGUMENT",
    );
  });
});
