/**
 * Black-box tests of interrupts through gRPC: an ExternalEvent whose def is an InterruptDef halts the thread,
 * runs an INTERRUPT thread with the content in INPUT, and resumes the thread when it completes; stacked
 * interrupts; interrupts while a TaskRun is in flight; interrupts aimed at one child; children halting with
 * their interrupted parent (B-THR-7, B-THR-8).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server";
import type { Msg, TestClient } from "../support/client";
import {
  entry,
  exit,
  jsonArr,
  nop,
  str,
  taskDef,
  taskNode,
  thread,
  varDef,
  varRef,
  wfSpec,
} from "../support/specs";
import {
  HeldWorker,
  Runs,
  edge,
  externalEventNode,
  failingExit,
  interruptDef,
  mutation,
  reasons,
  report,
  startThreadNode,
  tsMs,
  waitThreadsNode,
} from "../support/threads";

let ts: TestServer;
let c: TestClient;
let runs: Runs;
let worker: HeldWorker;

const TASK = "in-task";
const assignOutput = (lhs: string): Msg => ({ lhs_name: lhs, operation: "ASSIGN", node_output: {} });

const HANDLERS: Record<string, Msg> = {
  // appends the event content (INPUT) to the root's `log`
  record: thread(
    [
      entry(),
      nop("1-log-NOP", [
        edge("2-exit-EXIT", { variable_mutations: [mutation("log", "ADD", varRef("INPUT"))] }),
      ]),
      exit("2-exit-EXIT"),
    ],
    [varDef("INPUT", "STR")],
  ),
  // the same without declaring INPUT
  "record-undeclared": thread([
    entry(),
    nop("1-log-NOP", [
      edge("2-exit-EXIT", { variable_mutations: [mutation("log", "ADD", varRef("INPUT"))] }),
    ]),
    exit("2-exit-EXIT"),
  ]),
  // logs INPUT, then waits for in-release before it completes
  hold: thread(
    [
      entry(),
      nop("1-log-NOP", [
        edge("2-wait-EXTERNAL_EVENT", { variable_mutations: [mutation("log", "ADD", varRef("INPUT"))] }),
      ]),
      externalEventNode("2-wait-EXTERNAL_EVENT", "in-release"),
      exit("3-exit-EXIT"),
    ],
    [varDef("INPUT", "STR")],
  ),
  broken: thread([entry(), failingExit("1-exit-EXIT", "interrupt-broke", "the interrupt handler gave up")]),
};

/** A WfSpec with the given threads (the entrypoint gets the `log` variable) and the handlers they name. */
function spec(name: string, entrypoint: Msg, threads: Record<string, Msg> = {}): Msg {
  const root = {
    ...entrypoint,
    variable_defs: [
      ...((entrypoint.variable_defs as Msg[] | undefined) ?? []),
      varDef("log", "JSON_ARR", { default_value: jsonArr([]) }),
    ],
  };
  const text = JSON.stringify([entrypoint, threads]);
  const used = Object.fromEntries(
    Object.entries(HANDLERS).filter(([n]) => text.includes(`"handler_spec_name":"${n}"`)),
  );
  return wfSpec(name, {}, { thread_specs: { entrypoint: root, ...used, ...threads } });
}

const waitForGo = () => [entry(), externalEventNode("1-wait-EXTERNAL_EVENT", "in-go"), exit("2-exit-EXIT")];
const interruptible = (handler: string, nodes = waitForGo()) => ({
  ...thread(nodes),
  interrupt_defs: [interruptDef("in-stop", handler)],
});

beforeAll(async () => {
  ts = await startTestServer();
  c = ts.client();
  runs = new Runs(c);
  await c.call("PutTaskDef", taskDef(TASK));
  for (const name of ["in-stop", "in-go", "in-release"]) await c.call("PutExternalEventDef", { name });
  worker = new HeldWorker(c, TASK);

  await c.call("PutWfSpec", spec("in-record", interruptible("record")));
  await c.call("PutWfSpec", spec("in-record-undeclared", interruptible("record-undeclared")));
  await c.call("PutWfSpec", spec("in-hold", interruptible("hold")));
  await c.call(
    "PutWfSpec",
    spec("in-task", interruptible("hold", [entry(), taskNode("1-work-TASK", TASK), exit("2-exit-EXIT")])),
  );
  await c.call("PutWfSpec", spec("in-broken", interruptible("broken")));
  // both the root and its child take in-stop; the root waits for the child
  const parentOf = (child: string) =>
    thread([
      entry(),
      startThreadNode("1-start-START_THREAD", child, {}, [
        edge("2-wait-WAIT_FOR_THREADS", { variable_mutations: [assignOutput("n")] }),
      ]),
      waitThreadsNode("2-wait-WAIT_FOR_THREADS", [varRef("n")]),
      exit("3-exit-EXIT"),
    ]);
  const withN = (t: Msg) => ({ ...t, variable_defs: [varDef("n", "INT")] });
  await c.call(
    "PutWfSpec",
    spec(
      "in-child",
      { ...withN(parentOf("kid")), interrupt_defs: [interruptDef("in-stop", "hold")] },
      { kid: interruptible("hold") },
    ),
  );
  // only the root takes in-stop; its child runs a task
  await c.call(
    "PutWfSpec",
    spec(
      "in-parent",
      { ...withN(parentOf("busy")), interrupt_defs: [interruptDef("in-stop", "hold")] },
      { busy: thread([entry(), taskNode("1-work-TASK", TASK), exit("2-exit-EXIT")]) },
    ),
  );
});

afterAll(async () => {
  worker?.stop();
  await ts.close();
});

describe("interrupts", () => {
  it("B-THR-7 an interrupting event runs an INTERRUPT thread with the content in INPUT; the thread then resumes where it was", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "in-record" });
    const event = await runs.postEvent(run.id, "in-stop", str("first"));
    const after = await runs.until(run.id, (r) => (r.thread_runs.length === 2 ? r : undefined), "handler");
    expect(after.thread_runs[1]).toMatchObject({
      number: 1,
      type: "INTERRUPT",
      parent_thread_id: 0,
      thread_spec_name: "record",
      status: "COMPLETED",
      interrupt_trigger_id: {
        wf_run_id: { id: run.id.id },
        external_event_def_id: { name: "in-stop" },
        guid: event.id.guid,
      },
    });
    expect(after.thread_runs[0]).toMatchObject({
      status: "RUNNING",
      halt_reasons: [],
      child_thread_ids: [1],
    });
    expect(after.pending_interrupts).toEqual([]);
    const vars = await runs.variables(run.id);
    expect(vars["1/INPUT"]).toBe("first");
    expect(vars["0/log"]).toEqual(["first"]);
    // the interrupt claimed the event; the thread still waits at its node
    expect((await c.call("GetExternalEvent", event.id)).claimed).toBe(true);
    const waiting = await runs.current(run.id, 0);
    expect(waiting).toMatchObject({ node_name: "1-wait-EXTERNAL_EVENT", status: "RUNNING" });
    await runs.postEvent(run.id, "in-go");
    await runs.status(run.id, "COMPLETED");
  });

  it("B-THR-7 a handler that does not declare INPUT still reads the content from INPUT", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "in-record-undeclared" });
    await runs.postEvent(run.id, "in-stop", str("undeclared"));
    const after = await runs.until(run.id, (r) => (r.thread_runs.length === 2 ? r : undefined), "handler");
    expect(after.thread_runs[1].status).toBe("COMPLETED");
    expect((await runs.variables(run.id))["0/log"]).toEqual(["undeclared"]);
  });

  it("B-THR-7 B-THR-8 a thread waiting at EXTERNAL_EVENT halts at once and stays HALTED (reason interrupted) until the handler completes", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "in-hold" });
    await runs.postEvent(run.id, "in-stop", str("x"));
    const halted = await runs.threadStatus(run.id, 0, "HALTED");
    expect(halted.status).toBe("HALTED");
    expect(halted.thread_runs[0].halt_reasons).toEqual([
      { reason: "interrupted", interrupted: { interrupt_thread_id: 1 } },
    ]);
    await runs.atNode(run.id, 1, "2-wait-EXTERNAL_EVENT");
    // an event for the halted thread's node waits until the thread runs again
    await runs.postEvent(run.id, "in-go");
    expect((await runs.current(run.id, 0)).status).toBe("RUNNING");
    expect((await runs.get(run.id)).thread_runs[0].status).toBe("HALTED");
    await runs.postEvent(run.id, "in-release");
    const done = await runs.status(run.id, "COMPLETED");
    expect(done.thread_runs[1].status).toBe("COMPLETED");
    // the thread resumed only after its handler had ended
    const resumedAt = tsMs((await runs.nodeRun(run.id, 0, 1)).end_time);
    expect(resumedAt).toBeGreaterThanOrEqual(tsMs(done.thread_runs[1].end_time));
  });

  it("a WfSpec that uses one ExternalEventDef both for an InterruptDef and an EXTERNAL_EVENT node is refused, naming both", async () => {
    const sameThread = spec("in-same-def", {
      ...thread([entry(), externalEventNode("1-wait-EXTERNAL_EVENT", "in-stop"), exit("2-exit-EXIT")]),
      interrupt_defs: [interruptDef("in-stop", "record")],
    });
    // the interrupt on one thread, the node in another (the handler waits for it)
    const otherThread = spec("in-same-def-2", {
      ...thread([entry(), externalEventNode("1-wait-EXTERNAL_EVENT", "in-release"), exit("2-exit-EXIT")]),
      interrupt_defs: [interruptDef("in-release", "record")],
    });
    for (const [name, request] of [
      ["in-same-def", sameThread],
      ["in-same-def-2", otherThread],
    ] as const) {
      const e = await c.fail("PutWfSpec", request);
      expect(e.code).toBe("INVALID_ARGUMENT");
      expect(e.message).toMatch(
        /ExternalEventDef 'in-(stop|release)' is both an interrupt of thread 'entrypoint'/,
      );
      expect(e.message).toMatch(/node '1-wait-EXTERNAL_EVENT'/);
      expect((await c.fail("GetWfSpec", { name, major_version: 0, revision: 0 })).code).toBe("NOT_FOUND");
    }
  });

  it("B-THR-8 B-THR-7 an interrupt while a TaskRun is in flight keeps the thread HALTING (pending_interrupt) until the attempt is reported, then HALTED while the handler runs, then it goes on", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "in-task" });
    const task = await worker.taskOf(run.id, 0);
    const event = await runs.postEvent(run.id, "in-stop", str("stop"));
    const halting = await runs.get(run.id);
    expect(halting.status).toBe("HALTING");
    expect(halting.thread_runs).toHaveLength(1);
    expect(halting.thread_runs[0].status).toBe("HALTING");
    expect(halting.thread_runs[0].halt_reasons).toMatchObject([
      {
        reason: "pending_interrupt",
        pending_interrupt: {
          external_event_id: {
            wf_run_id: { id: run.id.id },
            external_event_def_id: { name: "in-stop" },
            guid: event.id.guid,
          },
        },
      },
    ]);
    expect(halting.pending_interrupts).toEqual([
      {
        external_event_id: expect.objectContaining({ guid: event.id.guid }),
        handler_spec_name: "hold",
        interrupted_thread_id: 0,
      },
    ]);
    expect((await c.call("GetExternalEvent", event.id)).claimed).toBe(false);
    await report(c, task, { status: "TASK_SUCCESS", output: str("done") });
    const halted = await runs.threadStatus(run.id, 0, "HALTED");
    expect(halted.pending_interrupts).toEqual([]);
    expect(reasons(halted.thread_runs[0])).toEqual(["interrupted"]);
    expect(halted.thread_runs[1]).toMatchObject({ type: "INTERRUPT", status: "RUNNING" });
    const taskNodeRun = await runs.nodeRun(run.id, 0, 1);
    expect(taskNodeRun.status).toBe("COMPLETED");
    expect(halted.thread_runs[0].current_node_position).toBe(1); // it did not move on
    // the handler started only after the attempt had ended (server clock)
    const taskRun = await c.call("GetTaskRun", task.task_run_id);
    expect(tsMs(halted.thread_runs[1].start_time)).toBeGreaterThanOrEqual(tsMs(taskRun.attempts[0].end_time));
    expect((await runs.variables(run.id))["1/INPUT"]).toBe("stop");
    await runs.atNode(run.id, 1, "2-wait-EXTERNAL_EVENT");
    await runs.postEvent(run.id, "in-release");
    await runs.status(run.id, "COMPLETED");
  });

  it("B-THR-7 interrupts stack: each runs its own handler and the thread resumes when the last one completes", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "in-hold" });
    await runs.postEvent(run.id, "in-stop", str("a"));
    await runs.postEvent(run.id, "in-stop", str("b"));
    const both = await runs.until(
      run.id,
      (r) => (r.thread_runs.length === 3 ? r : undefined),
      "two handlers",
    );
    expect(both.thread_runs[0].status).toBe("HALTED");
    expect(both.thread_runs[0].halt_reasons).toEqual([
      { reason: "interrupted", interrupted: { interrupt_thread_id: 1 } },
      { reason: "interrupted", interrupted: { interrupt_thread_id: 2 } },
    ]);
    expect(both.thread_runs.slice(1).map((t: Msg) => [t.type, t.status])).toEqual([
      ["INTERRUPT", "RUNNING"],
      ["INTERRUPT", "RUNNING"],
    ]);
    await runs.atNode(run.id, 1, "2-wait-EXTERNAL_EVENT");
    await runs.atNode(run.id, 2, "2-wait-EXTERNAL_EVENT");
    expect((await runs.variables(run.id))["0/log"]).toEqual(["a", "b"]);
    await runs.postEvent(run.id, "in-release");
    const one = await runs.until(
      run.id,
      (r) => (r.thread_runs.filter((t: Msg) => t.status === "COMPLETED").length === 1 ? r : undefined),
      "one handler done",
    );
    expect(one.thread_runs[0].status).toBe("HALTED");
    expect(reasons(one.thread_runs[0])).toEqual(["interrupted"]);
    await runs.postEvent(run.id, "in-release");
    await runs.threadStatus(run.id, 0, "RUNNING");
    await runs.postEvent(run.id, "in-go");
    await runs.status(run.id, "COMPLETED");
  });

  it("B-THR-7 PutExternalEvent with thread_run_number interrupts only that thread", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "in-child" });
    await runs.atNode(run.id, 1, "1-wait-EXTERNAL_EVENT");
    await runs.postEvent(run.id, "in-stop", str("kid only"), { thread_run_number: 1 });
    const after = await runs.until(run.id, (r) => (r.thread_runs.length === 3 ? r : undefined), "handler");
    expect(after.thread_runs[0]).toMatchObject({ status: "RUNNING", halt_reasons: [] });
    expect(after.thread_runs[1]).toMatchObject({
      status: "HALTED",
      halt_reasons: [{ reason: "interrupted" }],
    });
    expect(after.thread_runs[2]).toMatchObject({ type: "INTERRUPT", parent_thread_id: 1, status: "RUNNING" });
    expect(after.status).toBe("RUNNING");
    await runs.atNode(run.id, 2, "2-wait-EXTERNAL_EVENT");
    await runs.postEvent(run.id, "in-release");
    await runs.threadStatus(run.id, 1, "RUNNING");
    await runs.postEvent(run.id, "in-go");
    await runs.status(run.id, "COMPLETED");
  });

  it("B-THR-7 B-THR-8 interrupting a parent halts its children; it stays HALTING until a child's task in flight is reported", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "in-parent" });
    const childTask = await worker.taskOf(run.id, 1);
    await runs.postEvent(run.id, "in-stop", str("p"));
    const halting = await runs.get(run.id);
    expect(halting.thread_runs.map((t: Msg) => t.status)).toEqual(["HALTING", "HALTING"]);
    expect(reasons(halting.thread_runs[0])).toEqual(["pending_interrupt"]);
    expect(halting.thread_runs[1].halt_reasons).toEqual([
      { reason: "parent_halted", parent_halted: { parent_thread_id: 0 } },
    ]);
    await report(c, childTask, { status: "TASK_SUCCESS" });
    const halted = await runs.until(run.id, (r) => (r.thread_runs.length === 3 ? r : undefined), "handler");
    expect(halted.thread_runs.map((t: Msg) => t.status)).toEqual(["HALTED", "HALTED", "RUNNING"]);
    expect(halted.thread_runs[2]).toMatchObject({ type: "INTERRUPT", parent_thread_id: 0 });
    // the child does not move on while its parent is interrupted
    expect(halted.thread_runs[1].current_node_position).toBe(1);
    await runs.atNode(run.id, 2, "2-wait-EXTERNAL_EVENT");
    await runs.postEvent(run.id, "in-release");
    const done = await runs.status(run.id, "COMPLETED");
    expect(done.thread_runs.map((t: Msg) => t.status)).toEqual(["COMPLETED", "COMPLETED", "COMPLETED"]);
  });

  it("B-THR-7 B-THR-10 rescuing a failed interrupt handler brings back the interrupted thread, which resumes once the handler ends", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "in-broken" });
    await runs.postEvent(run.id, "in-stop");
    await runs.status(run.id, "EXCEPTION");
    const rescued = await c.call("RescueThreadRun", {
      wf_run_id: run.id,
      thread_run_number: 1,
      skip_current_node: true,
    });
    expect(rescued.thread_runs[1]).toMatchObject({ type: "INTERRUPT", status: "COMPLETED" });
    // the interrupted thread is back where it waited (for in-go), running again
    expect(rescued.thread_runs[0]).toMatchObject({ status: "RUNNING", halt_reasons: [] });
    expect(rescued.status).toBe("RUNNING");
    await runs.postEvent(run.id, "in-go");
    await runs.status(run.id, "COMPLETED");
  });

  it("B-THR-7 B-THR-10 an interrupt handler that fails fails the interrupted thread, which cannot be rescued", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "in-broken" });
    await runs.postEvent(run.id, "in-stop");
    const failed = await runs.status(run.id, "EXCEPTION");
    expect(failed.thread_runs[0]).toMatchObject({
      status: "EXCEPTION",
      error_message: "the interrupt handler gave up",
      halt_reasons: [],
    });
    expect(failed.thread_runs[1]).toMatchObject({ type: "INTERRUPT", status: "EXCEPTION" });
    const refused = await c.fail("RescueThreadRun", { wf_run_id: run.id, thread_run_number: 0 });
    expect(refused.code).toBe("FAILED_PRECONDITION");
    expect(refused.message).toMatch(/did not fail/);
  });
});
