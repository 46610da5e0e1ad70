/**
 * Black-box tests of TaskRuns and task workers through gRPC: TaskRun creation, PollTask, claims, reports,
 * retries and backoff, failure mapping, timeouts, dynamic tasks, task worker groups and ScheduledTask
 * (B-TASK-1…B-TASK-10).
 */
import type * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server";
import type { Msg, TestClient } from "../support/client";
import {
  entry,
  exit,
  int,
  jsonObj,
  lit,
  str,
  taskDef,
  taskNode,
  thread,
  varDef,
  varRef,
  wfSpec,
} from "../support/specs";
import { startRawWorker, type RawWorker } from "../support/worker";
import { waitFor } from "../support/wait";

let ts: TestServer;
let c: TestClient;

const POLL_WAIT_MS = 1000;
const HEARTBEAT_TIMEOUT_MS = 1000;

const tsMs = (t: Msg | undefined | null): number => Number(t!.seconds) * 1000 + Math.floor(t!.nanos / 1e6);
const timestamp = (ms: number): Msg => ({ seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One PollTask stream driven by hand: each `poll` sends one request and waits for its response. */
class PollStream {
  private readonly stream: grpc.ClientDuplexStream<Msg, Msg>;
  private readonly responses: { res: Msg; at: number }[] = [];
  private readonly waiters: ((r: { res: Msg; at: number }) => void)[] = [];
  /** every response, in arrival order */
  readonly all: { res: Msg; at: number }[] = [];

  constructor(
    client: TestClient,
    private readonly taskDefName: string,
    private readonly clientId = "tk-poller",
    private readonly version?: string,
  ) {
    this.stream = client.raw.PollTask(client.metadata()) as grpc.ClientDuplexStream<Msg, Msg>;
    this.stream.on("data", (res: Msg) => {
      const r = { res, at: Date.now() };
      this.all.push(r);
      const w = this.waiters.shift();
      if (w) w(r);
      else this.responses.push(r);
    });
    this.stream.on("error", () => undefined);
  }

  ask(): number {
    const req: Msg = { task_def_id: { name: this.taskDefName }, client_id: this.clientId };
    if (this.version !== undefined) req.task_worker_version = this.version;
    this.stream.write(req);
    return Date.now();
  }

  next(timeoutMs = 5000): Promise<{ task: Msg | undefined; at: number }> {
    const ready = this.responses.shift();
    if (ready) return Promise.resolve({ task: ready.res.result ?? undefined, at: ready.at });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Error(`no PollTask response for ${this.taskDefName} within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = (r: { res: Msg; at: number }) => {
        clearTimeout(timer);
        resolve({ task: r.res.result ?? undefined, at: r.at });
      };
      this.waiters.push(waiter);
    });
  }

  /** asks, and asks again after every empty response, until a task comes back */
  async poll(timeoutMs = 5000): Promise<{ task: Msg; at: number }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.ask();
      const r = await this.next(Math.max(1, deadline - Date.now()));
      if (r.task) return { task: r.task, at: r.at };
    }
  }

  close(): void {
    this.stream.end();
    this.stream.cancel();
  }
}

/** Reports an attempt with a millisecond-precise `time`; returns when the report was sent (epoch ms). */
async function report(task: Msg, status: string, extra: Msg = {}): Promise<number> {
  const sent = Date.now();
  await c.call("ReportTask", {
    task_run_id: task.task_run_id,
    attempt_number: task.attempt_number,
    status,
    time: timestamp(sent),
    ...extra,
  });
  return sent;
}

const getTaskRun = (task: Msg) => c.call("GetTaskRun", task.task_run_id);
const taskRunsOf = async (wfRunId: Msg): Promise<Msg[]> =>
  (await c.call("ListTaskRuns", { wf_run_id: wfRunId })).results;
const nodeRun = (wfRunId: Msg, position: number) =>
  c.call("GetNodeRun", { wf_run_id: wfRunId, thread_run_number: 0, position });

async function waitForStatus(wfRunId: Msg, status: string, timeoutMs = 10_000): Promise<Msg> {
  return waitFor(
    async () => {
      const r = await c.call("GetWfRun", wfRunId);
      return r.status === status ? r : undefined;
    },
    timeoutMs,
    `WfRun ${wfRunId.id} to be ${status}`,
  );
}

/**
 * Creates a TaskDef (one STR input `x`) and a WfSpec ENTRYPOINT → TASK → EXIT with the node options given;
 * the task node's output is copied into the JSON_OBJ variable `out` when it is a JSON_OBJ.
 */
async function oneTask(name: string, node: Msg = {}, opts: { outVar?: string } = {}): Promise<void> {
  await c.call("PutTaskDef", taskDef(name, [["x", "STR"]]));
  const vars = [varDef("x", "STR", { default_value: str("input") })];
  let edges: Msg[] | undefined;
  if (opts.outVar) {
    vars.push(varDef(opts.outVar, "JSON_OBJ"));
    edges = [
      {
        sink_node_name: "2-exit-EXIT",
        variable_mutations: [{ lhs_name: opts.outVar, operation: "ASSIGN", node_output: {} }],
      },
    ];
  }
  const task = taskNode("1-task-TASK", name, [varRef("x")], node);
  await c.call("PutWfSpec", wfSpec(name, thread([entry(), { ...task, edges }, exit("2-exit-EXIT")], vars)));
}

const run = (spec: string, variables: Msg = {}) => c.call("RunWf", { wf_spec_name: spec, variables });

beforeAll(async () => {
  ts = await startTestServer({
    extraArgs: [
      "--poll-wait-seconds",
      String(POLL_WAIT_MS / 1000),
      "--worker-heartbeat-timeout-seconds",
      String(HEARTBEAT_TIMEOUT_MS / 1000),
    ],
  });
  c = ts.client();
});

afterAll(async () => {
  await ts?.close();
});

describe("TaskRun creation", () => {
  it("B-TASK-1 arriving at a TASK node creates a TaskRun with its inputs in TaskDef order and a scheduled attempt", async () => {
    await c.call(
      "PutTaskDef",
      taskDef("tk-fields", [
        ["b", "INT"],
        ["a", "STR"],
        ["c", "JSON_OBJ"],
      ]),
    );
    await c.call(
      "PutWfSpec",
      wfSpec(
        "tk-fields",
        thread(
          [
            entry(),
            taskNode("1-task-TASK", "tk-fields", [lit(int(42)), varRef("s"), lit(jsonObj({ k: [1] }))], {
              retries: 2,
            }),
            exit("2-exit-EXIT"),
          ],
          [varDef("s", "STR")],
        ),
      ),
    );
    const before = Date.now();
    const wf = await run("tk-fields", { s: str("hello") });
    const after = Date.now();
    const tasks = await taskRunsOf(wf.id);
    expect(tasks).toHaveLength(1);
    const t = tasks[0]!;
    expect(t.id.wf_run_id).toEqual(wf.id);
    expect(t.id.task_guid).toMatch(/\S/);
    expect(t.task_def_id).toEqual({ name: "tk-fields" });
    expect(t.input_variables).toEqual([
      { var_name: "b", value: { int: "42", value: "int" } },
      { var_name: "a", value: { str: "hello", value: "str" } },
      { var_name: "c", value: { json_obj: '{"k":[1]}', value: "json_obj" } },
    ]);
    expect(t.total_attempts).toBe(3);
    expect(t.timeout_seconds).toBe(15);
    expect(t.status).toBe("TASK_SCHEDULED");
    expect(t.attempts).toHaveLength(1);
    expect(t.attempts[0].status).toBe("TASK_SCHEDULED");
    expect(tsMs(t.attempts[0].schedule_time)).toBeGreaterThanOrEqual(before - 5);
    expect(tsMs(t.attempts[0].schedule_time)).toBeLessThanOrEqual(after + 5);
    expect(tsMs(t.scheduled_at)).toBeGreaterThanOrEqual(before - 5);
    expect(t.source.task_node.node_run_id).toEqual({ wf_run_id: wf.id, thread_run_number: 0, position: 1 });
    expect(t.source.wf_spec_id).toEqual({ name: "tk-fields", major_version: 0, revision: 0 });
    // the NodeRun points at the TaskRun and mirrors it (RUNNING while the task is scheduled)
    const n = await nodeRun(wf.id, 1);
    expect(n.status).toBe("RUNNING");
    expect(n.task.task_run_id).toEqual(t.id);
    expect(await getTaskRun({ task_run_id: t.id })).toEqual(t);
  });

  it("B-TASK-1 timeout_seconds comes from the node, and retries 0 means one attempt", async () => {
    await oneTask("tk-timeout-field", { timeout_seconds: 7 });
    const wf = await run("tk-timeout-field");
    const [t] = await taskRunsOf(wf.id);
    expect(t!.timeout_seconds).toBe(7);
    expect(t!.total_attempts).toBe(1);
  });

  it("B-TASK-1 each TaskRun of a WfRun gets its own guid under the WfRun id", async () => {
    const runs = await Promise.all([
      run("tk-timeout-field"),
      run("tk-timeout-field"),
      run("tk-timeout-field"),
    ]);
    const guids = new Set<string>();
    for (const wf of runs) {
      const [t] = await taskRunsOf(wf.id);
      expect(t!.id.wf_run_id).toEqual(wf.id);
      guids.add(t!.id.task_guid);
    }
    expect(guids.size).toBe(3);
  });
});

describe("PollTask", () => {
  it("B-TASK-2 each PollTask request gets exactly one response: a task when one is queued, else an empty one", async () => {
    await oneTask("tk-one-each");
    const wfs = [await run("tk-one-each"), await run("tk-one-each")];
    const ps = new PollStream(c, "tk-one-each");
    try {
      const asked = ps.ask();
      ps.ask();
      ps.ask();
      const first = await ps.next();
      const second = await ps.next();
      expect(first.task).toBeDefined();
      expect(second.task).toBeDefined();
      expect(first.at - asked).toBeLessThan(500);
      const got = [first.task!.task_run_id.wf_run_id.id, second.task!.task_run_id.wf_run_id.id].sort();
      expect(got).toEqual(wfs.map((w) => w.id.id).sort());
      // the third request finds nothing: it is answered empty once the poll wait is over
      const third = await ps.next(POLL_WAIT_MS + 2000);
      expect(third.task).toBeUndefined();
      expect(third.at - asked).toBeGreaterThanOrEqual(POLL_WAIT_MS - 50);
      await sleep(POLL_WAIT_MS + 300);
      expect(ps.all).toHaveLength(3);
      // a request that is waiting gets a task as soon as one is scheduled
      ps.ask();
      await sleep(100);
      const scheduledAt = Date.now();
      const later = await run("tk-one-each");
      const fourth = await ps.next();
      expect(fourth.task?.task_run_id.wf_run_id).toEqual(later.id);
      expect(fourth.at - scheduledAt).toBeLessThan(300);
      expect(ps.all).toHaveLength(4);
    } finally {
      ps.close();
    }
  });

  it("B-TASK-2 with several workers polling at once on many runs, every task is delivered exactly once", async () => {
    await oneTask("tk-many");
    const N = 80;
    const queuedFirst = await Promise.all(Array.from({ length: N / 2 }, () => run("tk-many")));
    const workers: RawWorker[] = [];
    try {
      for (let w = 0; w < 5; w++) {
        workers.push(
          startRawWorker(
            c,
            "tk-many",
            async () => {
              await sleep(Math.random() * 5);
              return { status: "TASK_SUCCESS", output: str("ok") };
            },
            { clientId: `tk-many-${w}`, concurrency: 4 },
          ),
        );
      }
      const startedLater = await Promise.all(Array.from({ length: N / 2 }, () => run("tk-many")));
      const all = [...queuedFirst, ...startedLater];
      for (const wf of all) await waitForStatus(wf.id, "COMPLETED");
      const delivered = workers.flatMap((w) => w.received.map((t) => t.task_run_id.task_guid as string));
      expect(delivered).toHaveLength(N);
      expect(new Set(delivered).size).toBe(N);
      const expected = new Set<string>();
      for (const wf of all) {
        const tasks = await taskRunsOf(wf.id);
        expect(tasks).toHaveLength(1);
        expect(tasks[0]!.attempts).toHaveLength(1);
        expected.add(tasks[0]!.id.task_guid);
      }
      expect(new Set(delivered)).toEqual(expected);
    } finally {
      for (const w of workers) w.stop();
    }
  });
});

describe("PollTask after a worker leaves", () => {
  it("B-TASK-2 a worker that closed its stream is given no more tasks; another worker gets them", async () => {
    await oneTask("tk-left");
    const gone = new PollStream(c, "tk-left", "gone-worker");
    gone.ask();
    gone.ask();
    await sleep(50);
    gone.close();
    await sleep(200);
    const ps = new PollStream(c, "tk-left", "staying-worker");
    try {
      ps.ask();
      await sleep(50);
      const wf = await run("tk-left");
      const got = await ps.next(2000);
      expect(got.task?.task_run_id.wf_run_id).toEqual(wf.id);
      const t = await getTaskRun(got.task!);
      expect(t.attempts[0].task_worker_id).toBe("staying-worker");
      expect(gone.all).toHaveLength(0);
      await report(got.task!, "TASK_SUCCESS", { output: str("ok") });
      await waitForStatus(wf.id, "COMPLETED");
    } finally {
      ps.close();
    }
  });
});

describe("claims and reports", () => {
  it("B-TASK-3 claiming a task makes the attempt TASK_RUNNING with start_time, task_worker_id and task_worker_version", async () => {
    await oneTask("tk-claim");
    const wf = await run("tk-claim");
    const ps = new PollStream(c, "tk-claim", "claim-worker-7", "2.5.1");
    try {
      const before = Date.now();
      const { task } = await ps.poll();
      const after = Date.now();
      const t = await getTaskRun(task);
      expect(t.status).toBe("TASK_RUNNING");
      expect(t.attempts).toHaveLength(1);
      const a = t.attempts[0];
      expect(a.status).toBe("TASK_RUNNING");
      expect(a.task_worker_id).toBe("claim-worker-7");
      expect(a.task_worker_version).toBe("2.5.1");
      expect(tsMs(a.start_time)).toBeGreaterThanOrEqual(Math.max(before, tsMs(a.schedule_time)) - 5);
      expect(tsMs(a.start_time)).toBeLessThanOrEqual(after + 5);
      expect(a.end_time ?? null).toBeNull();
      expect((await nodeRun(wf.id, 1)).status).toBe("RUNNING");

      await report(task, "TASK_SUCCESS", { output: str("done") });
      const done = await getTaskRun(task);
      expect(done.status).toBe("TASK_SUCCESS");
      expect(done.attempts[0].task_worker_id).toBe("claim-worker-7");
      expect(tsMs(done.attempts[0].end_time)).toBeGreaterThanOrEqual(tsMs(done.attempts[0].start_time));
      expect((await nodeRun(wf.id, 1)).status).toBe("COMPLETED");
      expect((await c.call("GetWfRun", wf.id)).status).toBe("COMPLETED");
    } finally {
      ps.close();
    }
  });

  it("B-TASK-4 TASK_SUCCESS completes the TaskRun and its output is the NodeRun's output", async () => {
    await oneTask("tk-success", {}, { outVar: "out" });
    const wf = await run("tk-success");
    const ps = new PollStream(c, "tk-success");
    try {
      const { task } = await ps.poll();
      await report(task, "TASK_SUCCESS", {
        output: jsonObj({ answer: 42, items: ["a"] }),
        log_output: str("all good"),
      });
      const t = await getTaskRun(task);
      expect(t.status).toBe("TASK_SUCCESS");
      expect(t.attempts).toHaveLength(1);
      expect(t.attempts[0].status).toBe("TASK_SUCCESS");
      expect(JSON.parse(t.attempts[0].output.json_obj)).toEqual({ answer: 42, items: ["a"] });
      expect(t.attempts[0].log_output).toMatchObject({ str: "all good" });
      const v = await c.call("GetVariable", { wf_run_id: wf.id, thread_run_number: 0, name: "out" });
      expect(JSON.parse(v.value.json_obj)).toEqual({ answer: 42, items: ["a"] });
      expect((await c.call("GetWfRun", wf.id)).status).toBe("COMPLETED");
    } finally {
      ps.close();
    }
  });

  it("B-TASK-4 duplicate reports and reports for another attempt number are ignored", async () => {
    await oneTask("tk-dup", { retries: 1 });
    const wf = await run("tk-dup");
    const ps = new PollStream(c, "tk-dup");
    try {
      const { task } = await ps.poll();
      // a report naming an attempt that does not exist changes nothing
      await c.call("ReportTask", {
        task_run_id: task.task_run_id,
        attempt_number: 1,
        status: "TASK_SUCCESS",
        output: str("wrong attempt"),
        time: timestamp(Date.now()),
      });
      const stillRunning = await getTaskRun(task);
      expect(stillRunning.status).toBe("TASK_RUNNING");
      expect(stillRunning.attempts).toHaveLength(1);
      expect(stillRunning.attempts[0].status).toBe("TASK_RUNNING");

      await report(task, "TASK_SUCCESS", { output: str("first") });
      const done = await getTaskRun(task);
      const wfDone = await c.call("GetWfRun", wf.id);
      expect(done.status).toBe("TASK_SUCCESS");
      // the same attempt reported again, with another outcome: acknowledged, ignored
      await report(task, "TASK_FAILED", { error: { type: "TASK_FAILURE", message: "late" } });
      await report(task, "TASK_SUCCESS", { output: str("second") });
      expect(await getTaskRun(task)).toEqual(done);
      expect(await c.call("GetWfRun", wf.id)).toEqual(wfDone);
      expect(done.attempts[0].output).toMatchObject({ str: "first" });
    } finally {
      ps.close();
    }
  });

  it("B-TASK-4 ReportTask with a status that is not an outcome is INVALID_ARGUMENT and changes nothing", async () => {
    await oneTask("tk-bad-report");
    const wf = await run("tk-bad-report");
    const ps = new PollStream(c, "tk-bad-report");
    try {
      const { task } = await ps.poll();
      for (const status of ["TASK_SCHEDULED", "TASK_RUNNING", "TASK_PENDING"]) {
        const err = await c.fail("ReportTask", {
          task_run_id: task.task_run_id,
          attempt_number: 0,
          status,
          time: timestamp(Date.now()),
        });
        expect(err.code).toBe("INVALID_ARGUMENT");
        expect(err.message).toContain(status);
      }
      const t = await getTaskRun(task);
      expect(t.status).toBe("TASK_RUNNING");
      expect(t.attempts[0].status).toBe("TASK_RUNNING");
      await report(task, "TASK_SUCCESS", { output: str("ok") });
      await waitForStatus(wf.id, "COMPLETED");
    } finally {
      ps.close();
    }
  });
});

describe("retries", () => {
  it("B-TASK-5 TASK_FAILED is retried at once when there is no backoff", async () => {
    await oneTask("tk-retry", { retries: 2 });
    const wf = await run("tk-retry");
    const ps = new PollStream(c, "tk-retry");
    try {
      const a0 = await ps.poll();
      expect(a0.task.attempt_number).toBe(0);
      await report(a0.task, "TASK_FAILED", { error: { type: "TASK_FAILURE", message: "first try" } });
      const a1 = await ps.poll();
      expect(a1.task.attempt_number).toBe(1);
      expect(a1.task.task_run_id).toEqual(a0.task.task_run_id);
      await report(a1.task, "TASK_FAILED", { error: { type: "TASK_FAILURE", message: "second try" } });
      const a2 = await ps.poll();
      expect(a2.task.attempt_number).toBe(2);
      await report(a2.task, "TASK_SUCCESS", { output: str("third time lucky") });
      await waitForStatus(wf.id, "COMPLETED");

      const t = await getTaskRun(a0.task);
      expect(t.status).toBe("TASK_SUCCESS");
      expect(t.attempts.map((a: Msg) => a.status)).toEqual(["TASK_FAILED", "TASK_FAILED", "TASK_SUCCESS"]);
      expect(t.attempts[0].error).toMatchObject({ type: "TASK_FAILURE", message: "first try" });
      for (const k of [1, 2]) {
        const gap = tsMs(t.attempts[k].schedule_time) - tsMs(t.attempts[k - 1].end_time);
        expect(gap).toBeGreaterThanOrEqual(-5);
        expect(gap).toBeLessThan(50);
      }
      // the ScheduledTask of a retry carries the retry's attempt number and schedule time
      expect(tsMs(a2.task.created_at)).toBe(tsMs(t.attempts[2].schedule_time));
      expect((await nodeRun(wf.id, 1)).status).toBe("COMPLETED");
    } finally {
      ps.close();
    }
  });

  it("B-TASK-5 B-TASK-6 when the attempts run out after TASK_FAILED the node fails with TASK_FAILURE", async () => {
    await oneTask("tk-retry-out", { retries: 1 });
    const wf = await run("tk-retry-out");
    const ps = new PollStream(c, "tk-retry-out");
    try {
      for (let k = 0; k < 2; k++) {
        const { task } = await ps.poll();
        expect(task.attempt_number).toBe(k);
        await report(task, "TASK_FAILED", { error: { type: "TASK_FAILURE", message: `fail ${k}` } });
      }
      const done = await waitForStatus(wf.id, "ERROR");
      expect(done.thread_runs[0].status).toBe("ERROR");
      const [t] = await taskRunsOf(wf.id);
      expect(t!.status).toBe("TASK_FAILED");
      expect(t!.attempts.map((a: Msg) => a.status)).toEqual(["TASK_FAILED", "TASK_FAILED"]);
      const n = await nodeRun(wf.id, 1);
      expect(n.status).toBe("ERROR");
      expect(n.failures.at(-1).failure_name).toBe("TASK_FAILURE");
      // nothing more is handed out
      ps.ask();
      const extra = await ps.next(POLL_WAIT_MS + 2000);
      expect(extra.task).toBeUndefined();
    } finally {
      ps.close();
    }
  });

  it("B-TASK-5 with exponential backoff, attempt N waits min(base * multiplier^(N-1), max) in TASK_PENDING", async () => {
    const base = 200;
    const delays = [200, 400, 500]; // 200 * 2^0, 200 * 2^1, min(200 * 2^2, 500)
    await oneTask("tk-backoff", {
      retries: 3,
      exponential_backoff: { base_interval_ms: base, multiplier: 2, max_delay_ms: "500" },
    });
    const wf = await run("tk-backoff");
    const ps = new PollStream(c, "tk-backoff");
    try {
      let { task } = await ps.poll();
      for (let k = 0; k < 3; k++) {
        const failedAt = await report(task, "TASK_FAILED", {
          error: { type: "TASK_FAILURE", message: `f${k}` },
        });
        const pending = await getTaskRun(task);
        expect(pending.status).toBe("TASK_PENDING");
        expect(pending.attempts).toHaveLength(k + 2);
        expect(pending.attempts[k + 1].status).toBe("TASK_PENDING");
        expect(pending.attempts[k].status).toBe("TASK_FAILED");
        const next = await ps.poll();
        expect(next.task.attempt_number).toBe(k + 1);
        const waited = next.at - failedAt;
        expect(waited).toBeGreaterThanOrEqual(delays[k]! - 10);
        expect(waited).toBeLessThan(delays[k]! + 250);
        task = next.task;
      }
      await report(task, "TASK_SUCCESS", { output: str("finally") });
      await waitForStatus(wf.id, "COMPLETED");
      const t = await getTaskRun(task);
      expect(t.exponential_backoff).toMatchObject({
        base_interval_ms: base,
        multiplier: 2,
        max_delay_ms: "500",
      });
      expect(t.attempts.map((a: Msg) => a.status)).toEqual([
        "TASK_FAILED",
        "TASK_FAILED",
        "TASK_FAILED",
        "TASK_SUCCESS",
      ]);
      for (let k = 1; k <= 3; k++) {
        const gap = tsMs(t.attempts[k].schedule_time) - tsMs(t.attempts[k - 1].end_time);
        expect(gap).toBeGreaterThanOrEqual(delays[k - 1]! - 10);
        expect(gap).toBeLessThan(delays[k - 1]! + 150);
      }
    } finally {
      ps.close();
    }
  });

  it("B-TASK-5 B-TASK-6 TASK_EXCEPTION is never retried and fails the node with the exception's name, message and content", async () => {
    await oneTask("tk-exception", { retries: 3 });
    const wf = await run("tk-exception");
    const ps = new PollStream(c, "tk-exception");
    try {
      const { task } = await ps.poll();
      await report(task, "TASK_EXCEPTION", {
        exception: { name: "card-declined", message: "insufficient funds", content: jsonObj({ balance: 3 }) },
      });
      const done = await waitForStatus(wf.id, "EXCEPTION");
      expect(done.thread_runs[0].status).toBe("EXCEPTION");
      const t = await getTaskRun(task);
      expect(t.status).toBe("TASK_EXCEPTION");
      expect(t.attempts).toHaveLength(1);
      expect(t.attempts[0].exception).toMatchObject({ name: "card-declined", message: "insufficient funds" });
      const n = await nodeRun(wf.id, 1);
      expect(n.status).toBe("EXCEPTION");
      const f = n.failures.at(-1);
      expect(f.failure_name).toBe("card-declined");
      expect(f.message).toContain("insufficient funds");
      expect(JSON.parse(f.content.json_obj)).toEqual({ balance: 3 });
      ps.ask();
      expect((await ps.next(POLL_WAIT_MS + 2000)).task).toBeUndefined();
    } finally {
      ps.close();
    }
  });

  const notRetried: [string, string][] = [
    ["TASK_OUTPUT_SERIALIZING_ERROR", "VAR_MUTATION_ERROR"],
    ["TASK_INPUT_VAR_SUB_ERROR", "VAR_SUB_ERROR"],
  ];
  for (const [status, failure] of notRetried) {
    it(`B-TASK-5 B-TASK-6 ${status} is never retried and fails the node with ${failure}`, async () => {
      const name = `tk-${status.toLowerCase().replaceAll("_", "-")}`;
      await oneTask(name, { retries: 2 });
      const wf = await run(name);
      const ps = new PollStream(c, name);
      try {
        const { task } = await ps.poll();
        await report(task, status, { error: { type: failure, message: "worker-side problem" } });
        const done = await waitForStatus(wf.id, "ERROR");
        expect(done.thread_runs[0].status).toBe("ERROR");
        const t = await getTaskRun(task);
        expect(t.status).toBe(status);
        expect(t.attempts).toHaveLength(1);
        const n = await nodeRun(wf.id, 1);
        expect(n.status).toBe("ERROR");
        expect(n.failures.at(-1).failure_name).toBe(failure);
      } finally {
        ps.close();
      }
    });
  }
});

describe("timeouts", () => {
  it("B-TASK-7 B-TASK-4 a task taken and never reported times out after timeout_seconds, is retried, and a late report is ignored", async () => {
    // 2 s leaves the test time to inspect the retry while it is still RUNNING, even on a loaded machine
    await oneTask("tk-timeout", { timeout_seconds: 2, retries: 1 }, { outVar: "out" });
    const wf = await run("tk-timeout");
    // the clock starts at the claim: a task waiting in the queue does not time out
    await sleep(2200);
    expect((await taskRunsOf(wf.id))[0]!.status).toBe("TASK_SCHEDULED");
    const ps = new PollStream(c, "tk-timeout", "dying-worker");
    try {
      const first = await ps.poll();
      expect(first.task.attempt_number).toBe(0);
      // this worker "dies": it never reports attempt 0
      const retry = await ps.poll(6000);
      expect(retry.task.attempt_number).toBe(1);
      const t = await getTaskRun(first.task);
      // the retry cannot come before the first attempt's timeout, counted from its claim on the server
      const waited = retry.at - tsMs(t.attempts[0].start_time);
      expect(waited).toBeGreaterThanOrEqual(1990);
      expect(waited).toBeLessThan(3000);
      expect(t.attempts[0].status).toBe("TASK_TIMEOUT");
      const ran = tsMs(t.attempts[0].end_time) - tsMs(t.attempts[0].start_time);
      expect(ran).toBeGreaterThanOrEqual(1990);
      expect(ran).toBeLessThan(2600);
      expect(t.attempts[1].status).toBe("TASK_RUNNING");
      expect(t.status).toBe("TASK_RUNNING");

      // the dead worker's late report of attempt 0 changes nothing
      await report(first.task, "TASK_SUCCESS", { output: jsonObj({ from: "late" }) });
      expect(await getTaskRun(first.task)).toEqual(t);
      expect((await c.call("GetWfRun", wf.id)).status).toBe("RUNNING");

      await report(retry.task, "TASK_SUCCESS", { output: jsonObj({ from: "retry" }) });
      await waitForStatus(wf.id, "COMPLETED");
      const v = await c.call("GetVariable", { wf_run_id: wf.id, thread_run_number: 0, name: "out" });
      expect(JSON.parse(v.value.json_obj)).toEqual({ from: "retry" });
      const final = await getTaskRun(first.task);
      expect(final.attempts.map((a: Msg) => a.status)).toEqual(["TASK_TIMEOUT", "TASK_SUCCESS"]);
    } finally {
      ps.close();
    }
  });

  it("B-TASK-7 B-TASK-6 a retry attempt can time out too; when every attempt times out the node fails with TIMEOUT", async () => {
    await oneTask("tk-timeout-all", { timeout_seconds: 1, retries: 1 });
    const wf = await run("tk-timeout-all");
    const ps = new PollStream(c, "tk-timeout-all");
    try {
      const first = await ps.poll();
      const retry = await ps.poll(5000);
      expect(retry.task.attempt_number).toBe(1);
      const done = await waitForStatus(wf.id, "ERROR", 5000);
      expect(done.thread_runs[0].status).toBe("ERROR");
      const t = await getTaskRun(first.task);
      expect(t.status).toBe("TASK_TIMEOUT");
      expect(t.attempts.map((a: Msg) => a.status)).toEqual(["TASK_TIMEOUT", "TASK_TIMEOUT"]);
      const ran = tsMs(t.attempts[1].end_time) - tsMs(t.attempts[1].start_time);
      expect(ran).toBeGreaterThanOrEqual(990);
      expect(ran).toBeLessThan(1600);
      const n = await nodeRun(wf.id, 1);
      expect(n.status).toBe("ERROR");
      expect(n.failures.at(-1).failure_name).toBe("TIMEOUT");
    } finally {
      ps.close();
    }
  });
});

describe("dynamic tasks", () => {
  beforeAll(async () => {
    await c.call("PutTaskDef", taskDef("tk-dyn-a", [["x", "STR"]]));
    await c.call("PutTaskDef", taskDef("tk-dyn-b", [["x", "STR"]]));
    await c.call(
      "PutWfSpec",
      wfSpec(
        "tk-dyn-var",
        thread(
          [
            entry(),
            {
              name: "1-task-TASK",
              node: { task: { dynamic_task: varRef("which"), variables: [lit(str("in"))] } },
            },
            exit("2-exit-EXIT"),
          ],
          [varDef("which", "STR")],
        ),
      ),
    );
    await c.call(
      "PutWfSpec",
      wfSpec(
        "tk-dyn-fmt",
        thread(
          [
            entry(),
            {
              name: "1-task-TASK",
              node: {
                task: {
                  dynamic_task: {
                    format_string: { format: lit(str("tk-dyn-{0}")), args: [varRef("suffix")] },
                  },
                  variables: [lit(str("in"))],
                },
              },
            },
            exit("2-exit-EXIT"),
          ],
          [varDef("suffix", "STR")],
        ),
      ),
    );
  });

  it("B-TASK-8 a dynamic task takes its TaskDef name from a variable at run time", async () => {
    const wf = await run("tk-dyn-var", { which: str("tk-dyn-b") });
    const [t] = await taskRunsOf(wf.id);
    expect(t!.task_def_id).toEqual({ name: "tk-dyn-b" });
    const ps = new PollStream(c, "tk-dyn-b");
    try {
      const { task } = await ps.poll();
      expect(task.task_def_id).toEqual({ name: "tk-dyn-b" });
      expect(task.task_run_id).toEqual(t!.id);
      await report(task, "TASK_SUCCESS", { output: str("b done") });
      await waitForStatus(wf.id, "COMPLETED");
    } finally {
      ps.close();
    }
  });

  it("B-TASK-8 a dynamic task takes its TaskDef name from a format string", async () => {
    const wf = await run("tk-dyn-fmt", { suffix: str("a") });
    const [t] = await taskRunsOf(wf.id);
    expect(t!.task_def_id).toEqual({ name: "tk-dyn-a" });
    const ps = new PollStream(c, "tk-dyn-a");
    try {
      const { task } = await ps.poll();
      expect(task.task_run_id).toEqual(t!.id);
      await report(task, "TASK_SUCCESS", { output: str("a done") });
      await waitForStatus(wf.id, "COMPLETED");
    } finally {
      ps.close();
    }
  });

  it("B-TASK-8 an unknown dynamic task name fails the node with a message that names it", async () => {
    const wf = await run("tk-dyn-var", { which: str("tk-dyn-nope") });
    expect(wf.status).toBe("ERROR");
    const n = await nodeRun(wf.id, 1);
    expect(n.status).toBe("ERROR");
    const f = n.failures.at(-1);
    expect(f.failure_name).toMatch(/^[A-Z_]+$/);
    expect(f.message).toContain("tk-dyn-nope");
    expect(await taskRunsOf(wf.id)).toEqual([]);
    const fmt = await run("tk-dyn-fmt", { suffix: str("zzz") });
    expect(fmt.status).toBe("ERROR");
    expect((await nodeRun(fmt.id, 1)).failures.at(-1).message).toContain("tk-dyn-zzz");
  });
});

describe("task worker groups", () => {
  it("B-TASK-9 RegisterTaskWorker answers your_hosts and GetTaskWorkerGroup shows every worker's heartbeat", async () => {
    await c.call("PutTaskDef", taskDef("tk-group", [["x", "STR"]]));
    const before = Date.now();
    const r1 = await c.call("RegisterTaskWorker", {
      task_worker_id: "w-1",
      task_def_id: { name: "tk-group" },
    });
    const r2 = await c.call("RegisterTaskWorker", {
      task_worker_id: "w-2",
      task_def_id: { name: "tk-group" },
    });
    const after = Date.now();
    for (const r of [r1, r2]) {
      expect(r.your_hosts).toHaveLength(1);
      expect(r.your_hosts[0].host).toMatch(/\S/);
      expect(r.your_hosts[0].port).toBe(ts.server.grpcPort);
    }
    const g = await c.call("GetTaskWorkerGroup", { name: "tk-group" });
    expect(g.id.task_def_id).toEqual({ name: "tk-group" });
    expect(tsMs(g.created_at)).toBeGreaterThanOrEqual(before - 5);
    expect(Object.keys(g.task_workers).sort()).toEqual(["w-1", "w-2"]);
    for (const id of ["w-1", "w-2"]) {
      const w = g.task_workers[id];
      expect(w.task_worker_id).toBe(id);
      expect(tsMs(w.latest_heartbeat)).toBeGreaterThanOrEqual(before - 5);
      expect(tsMs(w.latest_heartbeat)).toBeLessThanOrEqual(after + 5);
    }
    // a new heartbeat moves latest_heartbeat forward
    await sleep(20);
    await c.call("RegisterTaskWorker", { task_worker_id: "w-1", task_def_id: { name: "tk-group" } });
    const g2 = await c.call("GetTaskWorkerGroup", { name: "tk-group" });
    expect(tsMs(g2.task_workers["w-1"].latest_heartbeat)).toBeGreaterThan(
      tsMs(g.task_workers["w-1"].latest_heartbeat),
    );
  });

  it("B-TASK-9 a worker silent for longer than the heartbeat timeout is dropped from the group", async () => {
    await c.call("PutTaskDef", taskDef("tk-group-gc", [["x", "STR"]]));
    await c.call("RegisterTaskWorker", { task_worker_id: "silent", task_def_id: { name: "tk-group-gc" } });
    await c.call("RegisterTaskWorker", { task_worker_id: "alive", task_def_id: { name: "tk-group-gc" } });
    await sleep(HEARTBEAT_TIMEOUT_MS / 2);
    await c.call("RegisterTaskWorker", { task_worker_id: "alive", task_def_id: { name: "tk-group-gc" } });
    await sleep(HEARTBEAT_TIMEOUT_MS / 2 + 200);
    await c.call("RegisterTaskWorker", { task_worker_id: "alive", task_def_id: { name: "tk-group-gc" } });
    const g = await c.call("GetTaskWorkerGroup", { name: "tk-group-gc" });
    expect(Object.keys(g.task_workers)).toEqual(["alive"]);
  });
});

describe("tasks handed to a dead worker", () => {
  it("B-TASK-2 a task claimed for a stream that closes before it is written goes to another worker, not to its timeout", async () => {
    await oneTask("tk-dead-stream", { timeout_seconds: lit(int(60)) });
    const N = 20;
    const ids: Msg[] = [];
    for (let i = 0; i < N; i++) ids.push((await run("tk-dead-stream")).id);
    // N workers that ask for a task and vanish at once: each claim commits after its stream is gone
    for (let i = 0; i < N; i++) {
      const stream = c.raw.PollTask(c.metadata()) as grpc.ClientDuplexStream<Msg, Msg>;
      stream.on("error", () => undefined);
      stream.write({ task_def_id: { name: "tk-dead-stream" }, client_id: `gone-${i}` });
      setImmediate(() => stream.cancel());
    }
    await sleep(200);
    const live = startRawWorker(c, "tk-dead-stream", () => ({ status: "TASK_SUCCESS", output: str("ok") }), {
      clientId: "live",
      concurrency: 4,
    });
    try {
      for (const id of ids) await waitForStatus(id, "COMPLETED", 5_000);
      for (const id of ids) {
        const taskRun = (await taskRunsOf(id))[0]!;
        // the claim that never reached its worker was undone: one attempt, done by the live worker
        expect(taskRun.attempts).toHaveLength(1);
        expect(taskRun.attempts[0]).toMatchObject({ status: "TASK_SUCCESS", task_worker_id: "live" });
      }
    } finally {
      live.stop();
    }
  });
});

describe("overload", () => {
  it("B-TASK-2 a PollTask stream beyond --max-poll-streams is refused with RESOURCE_EXHAUSTED; closing one makes room", async () => {
    const server = await startTestServer({
      extraArgs: ["--max-poll-streams", "2", "--poll-wait-seconds", "0.3"],
    });
    const client = server.client();
    try {
      await client.call("PutTaskDef", taskDef("tk-overload", [["x", "STR"]]));
      const open = (id: string) => new PollStream(client, "tk-overload", id);
      const a = open("a");
      const b = open("b");
      // both are open once each has answered an empty poll
      a.ask();
      b.ask();
      await Promise.all([a.next(), b.next()]);
      const third = client.raw.PollTask(client.metadata()) as grpc.ClientDuplexStream<Msg, Msg>;
      const refused = await new Promise<grpc.ServiceError>((resolve) => {
        third.on("error", resolve);
        third.on("data", () => undefined);
        third.write({ task_def_id: { name: "tk-overload" }, client_id: "c" });
      });
      expect(refused.code).toBe(8); // RESOURCE_EXHAUSTED
      expect(refused.details).toMatch(/max-poll-streams/);
      a.close();
      await waitFor(async () => {
        const s = new PollStream(client, "tk-overload", "d");
        try {
          s.ask();
          await s.next(1500);
          return true;
        } catch {
          return undefined;
        } finally {
          s.close();
        }
      });
      b.close();
    } finally {
      client.close();
      await server.close();
    }
  });
});

describe("task worker groups across a restart", () => {
  it("B-TASK-9 task worker groups are stored: after a restart GetTaskWorkerGroup shows the same group and heartbeats", async () => {
    const server = await startTestServer({ extraArgs: ["--worker-heartbeat-timeout-seconds", "60"] });
    try {
      const client = server.client();
      await client.call("PutTaskDef", taskDef("tk-group-restart", [["x", "STR"]]));
      for (const id of ["w-a", "w-b"]) {
        await client.call("RegisterTaskWorker", {
          task_worker_id: id,
          task_def_id: { name: "tk-group-restart" },
        });
      }
      const before = await client.call("GetTaskWorkerGroup", { name: "tk-group-restart" });
      client.close();
      await server.stop();
      const again = await startTestServer({
        dataDir: server.dataDir,
        databaseUrl: server.databaseUrl,
        extraArgs: ["--worker-heartbeat-timeout-seconds", "60"],
      });
      try {
        const after = await again.client().call("GetTaskWorkerGroup", { name: "tk-group-restart" });
        expect(after.created_at).toEqual(before.created_at);
        expect(Object.keys(after.task_workers).sort()).toEqual(["w-a", "w-b"]);
        for (const id of ["w-a", "w-b"]) {
          expect(after.task_workers[id].latest_heartbeat).toEqual(before.task_workers[id].latest_heartbeat);
        }
      } finally {
        await again.close();
      }
    } finally {
      await server.close().catch(() => undefined);
    }
  });

  it("B-TASK-9 RegisterTaskWorker refuses a task_worker_id longer than 256 characters, and stores nothing", async () => {
    await c.call("PutTaskDef", taskDef("tk-group-long", [["x", "STR"]]));
    const err = await c
      .call("RegisterTaskWorker", { task_worker_id: "w".repeat(257), task_def_id: { name: "tk-group-long" } })
      .catch((e: unknown) => e as { code: number; details: string });
    expect(err).toMatchObject({ code: 3, details: expect.stringContaining("task_worker_id") });
    await expect(c.call("GetTaskWorkerGroup", { name: "tk-group-long" })).rejects.toMatchObject({ code: 5 });
  });
});

describe("ScheduledTask", () => {
  it("B-TASK-10 the ScheduledTask carries the TaskRun id, TaskDef, attempt number, inputs, created_at and source", async () => {
    await c.call(
      "PutTaskDef",
      taskDef("tk-scheduled", [
        ["name", "STR"],
        ["count", "INT"],
      ]),
    );
    await c.call(
      "PutWfSpec",
      wfSpec(
        "tk-scheduled",
        thread(
          [
            entry(),
            { name: "1-nop-NOP", node: { nop: {} } },
            taskNode("2-task-TASK", "tk-scheduled", [varRef("who"), lit(int(3))]),
            exit("3-exit-EXIT"),
          ],
          [varDef("who", "STR")],
        ),
      ),
    );
    const wf = await run("tk-scheduled", { who: str("ada") });
    const ps = new PollStream(c, "tk-scheduled");
    try {
      const { task } = await ps.poll();
      const [t] = await taskRunsOf(wf.id);
      expect(task.task_run_id).toEqual({ wf_run_id: wf.id, task_guid: t!.id.task_guid });
      expect(task.task_def_id).toEqual({ name: "tk-scheduled" });
      expect(task.attempt_number).toBe(0);
      expect(task.variables).toEqual([
        { var_name: "name", value: { str: "ada", value: "str" } },
        { var_name: "count", value: { int: "3", value: "int" } },
      ]);
      // created_at is the attempt's schedule time, kept to the microsecond
      expect(task.created_at).toEqual(t!.attempts[0].schedule_time);
      expect(Number(task.created_at.nanos) % 1000).toBe(0);
      expect(task.source.task_run_source).toBe("task_node");
      expect(task.source.task_node.node_run_id).toEqual({
        wf_run_id: wf.id,
        thread_run_number: 0,
        position: 2,
      });
      expect(task.source.wf_spec_id).toEqual({ name: "tk-scheduled", major_version: 0, revision: 0 });
      const n = await nodeRun(wf.id, 2);
      expect(n.node_name).toBe("2-task-TASK");
      expect(n.task.task_run_id).toEqual(task.task_run_id);
      await report(task, "TASK_SUCCESS", { output: str("ok") });
      await waitForStatus(wf.id, "COMPLETED");
    } finally {
      ps.close();
    }
  });
});
