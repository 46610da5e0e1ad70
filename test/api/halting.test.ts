/**
 * Black-box tests of halting through gRPC: StopWfRun / ResumeWfRun on the entrypoint and on a child,
 * interruptibility (a TaskRun in flight keeps a thread HALTING; EXTERNAL_EVENT and SLEEP halt at once),
 * children halting with their parent, and halt reasons stacking (B-THR-8, B-THR-9).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server";
import type { Msg, TestClient } from "../support/client";
import { entry, exit, nop, str, taskDef, taskNode, thread, varDef, varRef, wfSpec } from "../support/specs";
import {
  HeldWorker,
  Runs,
  edge,
  externalEventNode,
  interruptDef,
  reasons,
  report,
  sleepNode,
  startThreadNode,
  tsMs,
  waitThreadsNode,
} from "../support/threads";
import { waitFor } from "../support/wait";

let ts: TestServer;
let c: TestClient;
let runs: Runs;
let worker: HeldWorker;

const TASK = "ha-task";
const assignOutput = (lhs: string): Msg => ({ lhs_name: lhs, operation: "ASSIGN", node_output: {} });
const stop = (id: Msg, thread?: number) =>
  c.call(
    "StopWfRun",
    thread === undefined ? { wf_run_id: id } : { wf_run_id: id, thread_run_number: thread },
  );
const resume = (id: Msg, thread?: number) =>
  c.call(
    "ResumeWfRun",
    thread === undefined ? { wf_run_id: id } : { wf_run_id: id, thread_run_number: thread },
  );
const MANUAL = { reason: "manual_halt", manual_halt: { meaning_of_life: true } };

/** A root that starts `child` and waits for it. */
const parentOf = (child: string) => ({
  ...thread([
    entry(),
    startThreadNode("1-start-START_THREAD", child, {}, [
      edge("2-wait-WAIT_FOR_THREADS", { variable_mutations: [assignOutput("n")] }),
    ]),
    waitThreadsNode("2-wait-WAIT_FOR_THREADS", [varRef("n")]),
    exit("3-exit-EXIT"),
  ]),
  variable_defs: [varDef("n", "INT")],
});
const waitsForGo = () =>
  thread([entry(), externalEventNode("1-wait-EXTERNAL_EVENT", "ha-go"), exit("2-exit-EXIT")]);
const runsTask = () => thread([entry(), taskNode("1-work-TASK", TASK), nop("2-NOP"), exit("3-exit-EXIT")]);

beforeAll(async () => {
  ts = await startTestServer();
  c = ts.client();
  runs = new Runs(c);
  await c.call("PutTaskDef", taskDef(TASK));
  for (const name of ["ha-go", "ha-stop", "ha-release"]) await c.call("PutExternalEventDef", { name });
  worker = new HeldWorker(c, TASK);
  await c.call("PutWfSpec", wfSpec("ha-wait", waitsForGo()));
  await c.call("PutWfSpec", wfSpec("ha-task", runsTask()));
  await c.call(
    "PutWfSpec",
    wfSpec("ha-sleep", thread([entry(), sleepNode("1-sleep-SLEEP", 1), exit("2-exit-EXIT")])),
  );
  await c.call(
    "PutWfSpec",
    wfSpec("ha-parent", {}, { thread_specs: { entrypoint: parentOf("kid"), kid: waitsForGo() } }),
  );
  await c.call(
    "PutWfSpec",
    wfSpec("ha-parent-task", {}, { thread_specs: { entrypoint: parentOf("busy"), busy: runsTask() } }),
  );
  await c.call(
    "PutWfSpec",
    wfSpec(
      "ha-interrupted",
      {},
      {
        thread_specs: {
          entrypoint: { ...waitsForGo(), interrupt_defs: [interruptDef("ha-stop", "hold")] },
          hold: thread([
            entry(),
            externalEventNode("1-wait-EXTERNAL_EVENT", "ha-release"),
            exit("2-exit-EXIT"),
          ]),
        },
      },
    ),
  );
});

afterAll(async () => {
  worker?.stop();
  await ts.close();
});

describe("StopWfRun and ResumeWfRun", () => {
  it("B-THR-9 B-THR-8 StopWfRun halts thread 0 (the default) at once while it waits at EXTERNAL_EVENT; ResumeWfRun lets it go on", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "ha-wait" });
    expect(await stop(run.id)).toEqual({});
    const halted = await runs.get(run.id);
    expect(halted.status).toBe("HALTED");
    expect(halted.thread_runs[0]).toMatchObject({ status: "HALTED", halt_reasons: [MANUAL] });
    // an event that arrives meanwhile waits for the thread to run again
    await runs.postEvent(run.id, "ha-go", str("hello"));
    expect((await runs.current(run.id, 0)).status).toBe("RUNNING");
    expect((await runs.get(run.id)).status).toBe("HALTED");
    expect(await resume(run.id)).toEqual({});
    const done = await runs.get(run.id);
    expect(done.status).toBe("COMPLETED");
    expect(done.thread_runs[0].halt_reasons).toEqual([]);
  });

  it("B-THR-8 B-THR-9 a thread with a TaskRun in flight stays HALTING until the attempt is reported, then HALTED; it moves on only after ResumeWfRun", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "ha-task" });
    const task = await worker.taskOf(run.id, 0);
    await stop(run.id, 0);
    const halting = await runs.get(run.id);
    expect(halting.status).toBe("HALTING");
    expect(halting.thread_runs[0]).toMatchObject({ status: "HALTING", halt_reasons: [MANUAL] });
    await report(c, task, { status: "TASK_SUCCESS" });
    const halted = await runs.get(run.id);
    expect(halted.status).toBe("HALTED");
    expect(halted.thread_runs[0].current_node_position).toBe(1);
    expect((await runs.nodeRun(run.id, 0, 1)).status).toBe("COMPLETED");
    await resume(run.id, 0);
    const done = await runs.get(run.id);
    expect(done.status).toBe("COMPLETED");
    // the thread went on after the resume, not at the report
    expect((await runs.nodeRuns(run.id, 0)).map((n) => n.node_name)).toEqual([
      "0-entrypoint-ENTRYPOINT",
      "1-work-TASK",
      "2-NOP",
      "3-exit-EXIT",
    ]);
  });

  it("B-THR-8 a thread waiting at SLEEP halts at once; the sleep matures while it is halted and it goes on after ResumeWfRun", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "ha-sleep" });
    await stop(run.id);
    expect((await runs.get(run.id)).status).toBe("HALTED");
    const matured = await waitFor(
      async () => {
        const n = await runs.nodeRun(run.id, 0, 1);
        return n.status === "COMPLETED" ? n : undefined;
      },
      15_000,
      "the sleep to mature",
    );
    expect(matured.sleep.matured).toBe(true);
    const still = await runs.get(run.id);
    expect(still.status).toBe("HALTED");
    expect(still.thread_runs[0].current_node_position).toBe(1);
    await resume(run.id);
    const done = await runs.get(run.id);
    expect(done.status).toBe("COMPLETED");
    expect(tsMs(done.end_time)).toBeGreaterThanOrEqual(tsMs(matured.end_time));
  });

  it("B-THR-9 StopWfRun and ResumeWfRun on a child halt and resume only that child", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "ha-parent" });
    await stop(run.id, 1);
    const halted = await runs.get(run.id);
    expect(halted.status).toBe("RUNNING");
    expect(halted.thread_runs[0]).toMatchObject({ status: "RUNNING", halt_reasons: [] });
    expect(halted.thread_runs[1]).toMatchObject({ status: "HALTED", halt_reasons: [MANUAL] });
    await runs.postEvent(run.id, "ha-go");
    expect((await runs.current(run.id, 1)).status).toBe("RUNNING");
    await resume(run.id, 1);
    const done = await runs.get(run.id);
    expect(done.status).toBe("COMPLETED");
    expect(done.thread_runs[1].status).toBe("COMPLETED");
  });

  it("B-THR-8 B-THR-9 halting a parent halts its children; the parent is HALTED only once a child's task in flight is reported", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "ha-parent-task" });
    const task = await worker.taskOf(run.id, 1);
    await stop(run.id);
    const halting = await runs.get(run.id);
    expect(halting.status).toBe("HALTING");
    expect(halting.thread_runs[0]).toMatchObject({ status: "HALTING", halt_reasons: [MANUAL] });
    expect(halting.thread_runs[1]).toMatchObject({
      status: "HALTING",
      halt_reasons: [{ reason: "parent_halted", parent_halted: { parent_thread_id: 0 } }],
    });
    await report(c, task, { status: "TASK_SUCCESS" });
    const halted = await runs.get(run.id);
    expect(halted.thread_runs.map((t: Msg) => t.status)).toEqual(["HALTED", "HALTED"]);
    expect(halted.status).toBe("HALTED");
    expect(halted.thread_runs[1].current_node_position).toBe(1);
    await resume(run.id);
    const done = await runs.get(run.id);
    expect(done.status).toBe("COMPLETED");
    expect(done.thread_runs.map((t: Msg) => t.halt_reasons)).toEqual([[], []]);
  });

  it("B-THR-9 ResumeWfRun removes only the manual halt: a child stopped on its own stays halted when its parent resumes", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "ha-parent" });
    await stop(run.id, 1);
    await stop(run.id, 0);
    const both = await runs.get(run.id);
    expect(both.thread_runs[1].halt_reasons).toEqual([
      MANUAL,
      { reason: "parent_halted", parent_halted: { parent_thread_id: 0 } },
    ]);
    await resume(run.id, 0);
    const parentBack = await runs.get(run.id);
    expect(parentBack.thread_runs[0].status).toBe("RUNNING");
    expect(parentBack.thread_runs[1]).toMatchObject({ status: "HALTED", halt_reasons: [MANUAL] });
    await resume(run.id, 1);
    await runs.postEvent(run.id, "ha-go");
    expect((await runs.get(run.id)).status).toBe("COMPLETED");
  });

  it("B-THR-9 B-THR-7 a stopped, interrupted thread halts its interrupt handler too; after ResumeWfRun it stays halted until the handler completes", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "ha-interrupted" });
    await runs.postEvent(run.id, "ha-stop");
    await runs.atNode(run.id, 1, "1-wait-EXTERNAL_EVENT");
    await stop(run.id);
    const stopped = await runs.get(run.id);
    expect(reasons(stopped.thread_runs[0])).toEqual(["interrupted", "manual_halt"]);
    expect(stopped.thread_runs[1]).toMatchObject({ type: "INTERRUPT", status: "HALTED" });
    expect(reasons(stopped.thread_runs[1])).toEqual(["parent_halted"]);
    // the handler does not take its event while halted
    await runs.postEvent(run.id, "ha-release");
    expect((await runs.current(run.id, 1)).status).toBe("RUNNING");
    await resume(run.id);
    const resumed = await runs.get(run.id);
    expect(resumed.thread_runs[1].status).toBe("COMPLETED");
    expect(resumed.thread_runs[0]).toMatchObject({ status: "RUNNING", halt_reasons: [] });
    await runs.postEvent(run.id, "ha-go");
    expect((await runs.get(run.id)).status).toBe("COMPLETED");
  });

  it("B-THR-9 StopWfRun twice leaves one manual halt; ResumeWfRun on a running thread changes nothing", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "ha-wait" });
    await resume(run.id);
    expect((await runs.get(run.id)).thread_runs[0]).toMatchObject({ status: "RUNNING", halt_reasons: [] });
    await stop(run.id);
    await stop(run.id);
    expect((await runs.get(run.id)).thread_runs[0].halt_reasons).toEqual([MANUAL]);
    await resume(run.id);
    expect((await runs.get(run.id)).status).toBe("RUNNING");
  });

  it("B-THR-9 StopWfRun / ResumeWfRun on a thread the WfRun does not have is INVALID_ARGUMENT; on a missing WfRun NOT_FOUND; on an ended WfRun a no-op", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "ha-wait" });
    for (const method of ["StopWfRun", "ResumeWfRun"]) {
      const bad = await c.fail(method, { wf_run_id: run.id, thread_run_number: 5 });
      expect(bad.code).toBe("INVALID_ARGUMENT");
      expect(bad.message).toMatch(/no thread 5/);
      expect((await c.fail(method, { wf_run_id: { id: "ha-nobody" } })).code).toBe("NOT_FOUND");
    }
    await runs.postEvent(run.id, "ha-go");
    await runs.status(run.id, "COMPLETED");
    await stop(run.id);
    const after = await runs.get(run.id);
    expect(after.status).toBe("COMPLETED");
    expect(after.thread_runs[0].halt_reasons).toEqual([]);
  });
});
