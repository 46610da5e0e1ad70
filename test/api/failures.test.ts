/**
 * Black-box tests of failures through gRPC: FailureHandlerDef matching and FAILURE_HANDLER threads, ERROR vs
 * EXCEPTION, child failures reported at WAIT_FOR_THREADS or EXIT, EXIT with a failure_def, and
 * RescueThreadRun (B-THR-4…6, B-THR-10).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server";
import type { Msg, TestClient } from "../support/client";
import {
  entry,
  exit,
  int,
  lit,
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
  cond,
  edge,
  externalEventNode,
  failingExit,
  mutation,
  onFailure,
  reasons,
  report,
  startThreadNode,
  waitThreadsNode,
  withHandlers,
} from "../support/threads";

let ts: TestServer;
let c: TestClient;
let runs: Runs;
let worker: HeldWorker;

const TASK = "fl-task";
const work = (name = "1-work-TASK") => taskNode(name, TASK);
const assignOutput = (lhs: string): Msg => ({ lhs_name: lhs, operation: "ASSIGN", node_output: {} });

/** A handler thread that sets the root's `handledBy` to its own name. */
const noting = (name: string) =>
  thread([
    entry(),
    nop("1-note-NOP", [
      edge("2-exit-EXIT", { variable_mutations: [mutation("handledBy", "ASSIGN", lit(str(name)))] }),
    ]),
    exit("2-exit-EXIT"),
  ]);

const HANDLERS: Record<string, Msg> = {
  note: noting("note"),
  "note-exn": noting("note-exn"),
  "note-err": noting("note-err"),
  "note-any": noting("note-any"),
  // copies the failure's content (its INPUT) into the root's `seen`
  "take-input": thread(
    [
      entry(),
      nop("1-take-NOP", [
        edge("2-exit-EXIT", { variable_mutations: [mutation("seen", "ASSIGN", varRef("INPUT"))] }),
      ]),
      exit("2-exit-EXIT"),
    ],
    [varDef("INPUT", "STR")],
  ),
  // waits for fl-go before it completes
  slow: thread([entry(), externalEventNode("1-wait-EXTERNAL_EVENT", "fl-go"), exit("2-exit-EXIT")]),
  broken: thread([entry(), failingExit("1-exit-EXIT", "handler-broke", "the handler gave up")]),
};

const ROOT_VARS = [
  varDef("handledBy", "STR"),
  varDef("seen", "STR"),
  varDef("route", "STR"),
  varDef("n", "INT"),
];

/** A WfSpec whose entrypoint is `nodes` (with the root variables), with the handler threads it names. */
function spec(name: string, nodes: Parameters<typeof thread>[0], threads: Record<string, Msg> = {}): Msg {
  const text = JSON.stringify([nodes, threads]);
  const used = Object.fromEntries(
    Object.entries(HANDLERS).filter(([n]) => text.includes(`"handler_spec_name":"${n}"`)),
  );
  return wfSpec(name, {}, { thread_specs: { entrypoint: thread(nodes, ROOT_VARS), ...used, ...threads } });
}

beforeAll(async () => {
  ts = await startTestServer();
  c = ts.client();
  runs = new Runs(c);
  await c.call("PutTaskDef", taskDef(TASK));
  await c.call("PutExternalEventDef", { name: "fl-go" });
  worker = new HeldWorker(c, TASK);

  // B-THR-4: handlers tried in order; the handled task node's edges decide where the thread goes next.
  await c.call(
    "PutWfSpec",
    spec("fl-match", [
      entry(),
      {
        ...withHandlers(
          work(),
          onFailure("note", { specific: "wrong-name" }),
          onFailure("take-input", { specific: "out-of-stock" }),
          onFailure("note-exn", { type: "EXCEPTION" }),
          onFailure("note-err", { type: "ERROR" }),
        ),
        edges: [
          edge("2-yes-NOP", {
            condition: cond(varRef("seen"), "EQUALS", lit(str("restock"))),
            variable_mutations: [mutation("route", "ASSIGN", lit(str("mutated")))],
          }),
          edge("3-no-NOP"),
        ],
      },
      nop("2-yes-NOP", [edge("4-exit-EXIT")]),
      nop("3-no-NOP", [edge("4-exit-EXIT")]),
      exit("4-exit-EXIT"),
    ]),
  );
  await c.call(
    "PutWfSpec",
    spec("fl-any", [entry(), withHandlers(work(), onFailure("note-any")), exit("2-exit-EXIT")]),
  );
  await c.call(
    "PutWfSpec",
    spec("fl-exn-only", [
      entry(),
      withHandlers(work(), onFailure("note-exn", { type: "EXCEPTION" })),
      exit("2-exit-EXIT"),
    ]),
  );
  await c.call(
    "PutWfSpec",
    spec("fl-slow", [entry(), withHandlers(work(), onFailure("slow")), exit("2-exit-EXIT")]),
  );
  await c.call(
    "PutWfSpec",
    spec("fl-handler-fails", [entry(), withHandlers(work(), onFailure("broken")), exit("2-exit-EXIT")]),
  );
  // a failing node whose thread has a child with a task in flight: the handler waits for the child to halt
  await c.call(
    "PutWfSpec",
    spec(
      "fl-pending",
      [
        entry(),
        startThreadNode("1-start-START_THREAD", "busy"),
        withHandlers(work("2-work-TASK"), onFailure("note")),
        exit("3-exit-EXIT"),
      ],
      { busy: thread([entry(), work(), exit("2-exit-EXIT")]) },
    ),
  );
  await c.call("PutWfSpec", spec("fl-plain", [entry(), work(), exit("2-exit-EXIT")]));

  // B-THR-5: children that fail and are never waited for
  const failingChild = (failureName: string) =>
    thread([entry(), failingExit("1-exit-EXIT", failureName, "child gave up")]);
  await c.call(
    "PutWfSpec",
    spec(
      "fl-unwaited-err",
      [entry(), startThreadNode("1-start-START_THREAD", "child"), nop("2-NOP"), exit("3-exit-EXIT")],
      {
        child: failingChild("VAR_SUB_ERROR"),
      },
    ),
  );
  await c.call(
    "PutWfSpec",
    spec(
      "fl-unwaited-exn",
      [entry(), startThreadNode("1-start-START_THREAD", "child"), nop("2-NOP"), exit("3-exit-EXIT")],
      {
        child: failingChild("kaput"),
      },
    ),
  );
  await c.call(
    "PutWfSpec",
    spec(
      "fl-unwaited-running",
      [entry(), startThreadNode("1-start-START_THREAD", "child"), exit("2-exit-EXIT")],
      {
        child: thread([entry(), externalEventNode("1-wait-EXTERNAL_EVENT", "fl-go"), exit("2-exit-EXIT")]),
      },
    ),
  );
  // a child failure handled by a failure handler on the WAIT_FOR_THREADS node itself
  await c.call(
    "PutWfSpec",
    spec(
      "fl-wait-handled-node",
      [
        entry(),
        startThreadNode("1-start-START_THREAD", "child", {}, [
          edge("2-wait-WAIT_FOR_THREADS", { variable_mutations: [assignOutput("n")] }),
        ]),
        withHandlers(
          waitThreadsNode("2-wait-WAIT_FOR_THREADS", [varRef("n")]),
          onFailure("note", { specific: "kaput" }),
        ),
        exit("3-exit-EXIT"),
      ],
      { child: failingChild("kaput") },
    ),
  );

  // B-THR-6
  await c.call(
    "PutWfSpec",
    spec("fl-exit-exn", [
      entry(),
      failingExit("1-exit-EXIT", "order-rejected", "the order is too big", varRef("n")),
    ]),
  );
  await c.call(
    "PutWfSpec",
    spec("fl-exit-err", [entry(), failingExit("1-exit-EXIT", "INTERNAL_ERROR", "broken on purpose")]),
  );

  // B-THR-10: two children with one task each; the parent waits for both
  await c.call(
    "PutWfSpec",
    spec(
      "fl-two",
      [
        entry(),
        startThreadNode("1-a-START_THREAD", "worker", {}, [
          edge("2-b-START_THREAD", { variable_mutations: [assignOutput("n")] }),
        ]),
        startThreadNode("2-b-START_THREAD", "worker"),
        waitThreadsNode("3-wait-WAIT_FOR_THREADS", [lit(int(1)), lit(int(2))]),
        exit("4-exit-EXIT"),
      ],
      { worker: thread([entry(), work(), exit("2-exit-EXIT")]) },
    ),
  );
});

afterAll(async () => {
  worker?.stop();
  await ts.close();
});

describe("failure handlers", () => {
  it("B-THR-4 the first handler whose specific_failure matches runs as a FAILURE_HANDLER thread with the content in INPUT; the thread then follows the node's edges without their mutations", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "fl-match" });
    await report(c, await worker.taskOf(run.id, 0), {
      status: "TASK_EXCEPTION",
      name: "out-of-stock",
      message: "none left",
      content: str("restock"),
    });
    const done = await runs.status(run.id, "COMPLETED");
    const handler = done.thread_runs[1];
    expect(handler).toMatchObject({
      number: 1,
      type: "FAILURE_HANDLER",
      parent_thread_id: 0,
      thread_spec_name: "take-input",
      status: "COMPLETED",
      failure_being_handled: { thread_run_number: 0, node_run_position: 1, failure_number: 0 },
    });
    expect(done.thread_runs[0].child_thread_ids).toEqual([1]);
    const failed = await runs.nodeRun(run.id, 0, 1);
    expect(failed.status).toBe("EXCEPTION");
    expect(failed.failure_handler_ids).toEqual([1]);
    expect(failed.failures).toHaveLength(1);
    expect(failed.failures[0]).toMatchObject({
      failure_name: "out-of-stock",
      message: "none left",
      content: { str: "restock" },
      failure_handler_threadrun_id: 1,
      was_properly_handled: true,
    });
    // the handler saw the content; the edge whose condition holds was taken; its mutation did not run
    expect((await runs.nodeRuns(run.id, 0)).map((n) => n.node_name)).toEqual([
      "0-entrypoint-ENTRYPOINT",
      "1-work-TASK",
      "2-yes-NOP",
      "4-exit-EXIT",
    ]);
    const vars = await runs.variables(run.id);
    expect(vars["1/INPUT"]).toBe("restock");
    expect(vars["0/seen"]).toBe("restock");
    expect(vars["0/route"]).toBeNull();
    expect(vars["0/handledBy"]).toBeNull();
  });

  it("B-THR-4 any_failure_of_type EXCEPTION catches an exception no specific handler names", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "fl-match" });
    await report(c, await worker.taskOf(run.id, 0), { status: "TASK_EXCEPTION", name: "something-else" });
    await runs.status(run.id, "COMPLETED");
    expect((await runs.variables(run.id))["0/handledBy"]).toBe("note-exn");
    expect((await runs.nodeRuns(run.id, 0)).map((n) => n.node_name)).toContain("3-no-NOP");
  });

  it("B-THR-4 any_failure_of_type ERROR catches a built-in failure (TASK_FAILURE)", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "fl-match" });
    await report(c, await worker.taskOf(run.id, 0), { status: "TASK_FAILED", message: "crashed" });
    const done = await runs.status(run.id, "COMPLETED");
    expect(done.thread_runs[1].thread_spec_name).toBe("note-err");
    expect((await runs.variables(run.id))["0/handledBy"]).toBe("note-err");
    const failed = await runs.nodeRun(run.id, 0, 1);
    expect(failed.status).toBe("ERROR");
    expect(failed.failures[0]).toMatchObject({ failure_name: "TASK_FAILURE", was_properly_handled: true });
  });

  it("B-THR-4 a handler with neither a name nor a type catches ERRORs and EXCEPTIONs", async () => {
    const a = await c.call("RunWf", { wf_spec_name: "fl-any" });
    await report(c, await worker.taskOf(a.id, 0), { status: "TASK_FAILED" });
    const b = await c.call("RunWf", { wf_spec_name: "fl-any" });
    await report(c, await worker.taskOf(b.id, 0), { status: "TASK_EXCEPTION", name: "whatever" });
    for (const run of [a, b]) {
      await runs.status(run.id, "COMPLETED");
      expect((await runs.variables(run.id))["0/handledBy"]).toBe("note-any");
    }
  });

  it("B-THR-4 B-THR-5 a failure no handler matches fails the thread", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "fl-exn-only" });
    await report(c, await worker.taskOf(run.id, 0), { status: "TASK_FAILED", message: "crashed" });
    const failed = await runs.status(run.id, "ERROR");
    expect(failed.thread_runs).toHaveLength(1);
    expect(failed.thread_runs[0]).toMatchObject({ status: "ERROR" });
    expect(failed.thread_runs[0].error_message).toMatch(/crashed/);
  });

  it("B-THR-4 the failing thread is HALTED with reason handling_failure while its handler runs, then goes on", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "fl-slow" });
    await report(c, await worker.taskOf(run.id, 0), { status: "TASK_FAILED" });
    const halted = await runs.threadStatus(run.id, 0, "HALTED");
    expect(halted.status).toBe("HALTED");
    expect(halted.thread_runs[0].halt_reasons).toEqual([
      { reason: "handling_failure", handling_failure: { handler_thread_id: 1 } },
    ]);
    expect(halted.thread_runs[1]).toMatchObject({ type: "FAILURE_HANDLER", status: "RUNNING" });
    expect(halted.pending_failures).toEqual([]);
    await runs.atNode(run.id, 1, "1-wait-EXTERNAL_EVENT");
    await runs.postEvent(run.id, "fl-go");
    const done = await runs.status(run.id, "COMPLETED");
    expect(done.thread_runs[0].halt_reasons).toEqual([]);
  });

  it("B-THR-4 B-THR-8 a handler starts only once the failing thread is HALTED: pending_failures and pending_failure while a child's task is in flight", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "fl-pending" });
    const childTask = await worker.taskOf(run.id, 1);
    await report(c, await worker.taskOf(run.id, 0), { status: "TASK_FAILED" });
    const halting = await runs.threadStatus(run.id, 0, "HALTING");
    expect(halting.status).toBe("HALTING");
    expect(halting.pending_failures).toEqual([{ failed_thread_run: 0, handler_spec_name: "note" }]);
    expect(halting.thread_runs[0].halt_reasons).toEqual([
      { reason: "pending_failure", pending_failure: { node_run_position: 2 } },
    ]);
    expect(halting.thread_runs[1]).toMatchObject({
      status: "HALTING",
      halt_reasons: [{ reason: "parent_halted" }],
    });
    expect(halting.thread_runs).toHaveLength(2); // no handler yet
    const failedNode = await runs.nodeRun(run.id, 0, 2);
    expect(failedNode.failures[0].failure_handler_threadrun_id).toBeUndefined();
    // the child's attempt ends: the child halts, so does its parent, and the handler starts (and completes)
    await report(c, childTask, { status: "TASK_SUCCESS" });
    const done = await runs.status(run.id, "COMPLETED");
    expect(done.thread_runs[2]).toMatchObject({ number: 2, type: "FAILURE_HANDLER", status: "COMPLETED" });
    expect(done.pending_failures).toEqual([]);
    expect((await runs.nodeRun(run.id, 0, 2)).failures[0]).toMatchObject({
      failure_handler_threadrun_id: 2,
      was_properly_handled: true,
    });
    expect(done.thread_runs[1].status).toBe("COMPLETED"); // the child resumed with its parent
  });

  it("B-THR-4 a failure inside the handler thread fails the thread with the handler's failure", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "fl-handler-fails" });
    await report(c, await worker.taskOf(run.id, 0), { status: "TASK_FAILED", message: "original" });
    const failed = await runs.status(run.id, "EXCEPTION");
    expect(failed.thread_runs[0]).toMatchObject({
      status: "EXCEPTION",
      error_message: "the handler gave up",
    });
    expect(failed.thread_runs[0].halt_reasons).toEqual([]);
    expect(failed.thread_runs[1]).toMatchObject({ type: "FAILURE_HANDLER", status: "EXCEPTION" });
    const node = await runs.nodeRun(run.id, 0, 1);
    expect(node.failures[0]).toMatchObject({
      failure_name: "TASK_FAILURE",
      failure_handler_threadrun_id: 1,
      was_properly_handled: false,
    });
  });
});

describe("unhandled failures and child failures", () => {
  it("B-THR-5 a built-in failure makes the thread and WfRun ERROR; a business exception makes them EXCEPTION", async () => {
    const a = await c.call("RunWf", { wf_spec_name: "fl-plain" });
    await report(c, await worker.taskOf(a.id, 0), { status: "TASK_FAILED" });
    const b = await c.call("RunWf", { wf_spec_name: "fl-plain" });
    await report(c, await worker.taskOf(b.id, 0), { status: "TASK_EXCEPTION", name: "card-declined" });
    expect((await runs.status(a.id, "ERROR")).thread_runs[0].status).toBe("ERROR");
    expect((await runs.status(b.id, "EXCEPTION")).thread_runs[0].status).toBe("EXCEPTION");
    expect((await runs.nodeRun(a.id, 0, 1)).failures[0].failure_name).toBe("TASK_FAILURE");
    expect((await runs.nodeRun(b.id, 0, 1)).failures[0].failure_name).toBe("card-declined");
  });

  it("B-THR-5 a child ERROR never waited for is reported when the parent reaches EXIT, as CHILD_FAILURE", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "fl-unwaited-err" });
    expect(run.status).toBe("ERROR");
    expect(run.thread_runs[1]).toMatchObject({ status: "ERROR", error_message: "child gave up" });
    const exitRun = await runs.current(run.id, 0);
    expect(exitRun.node_name).toBe("3-exit-EXIT");
    expect(exitRun.status).toBe("ERROR");
    expect(exitRun.failures[0].failure_name).toBe("CHILD_FAILURE");
    expect(run.thread_runs[0].handled_failed_children).toEqual([]);
  });

  it("B-THR-5 a child EXCEPTION never waited for is re-thrown at EXIT with its name", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "fl-unwaited-exn" });
    expect(run.status).toBe("EXCEPTION");
    expect((await runs.current(run.id, 0)).failures[0].failure_name).toBe("kaput");
  });

  it("B-THR-5 EXIT waits for running children before the thread completes", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "fl-unwaited-running" });
    const exitRun = await runs.atNode(run.id, 0, "2-exit-EXIT");
    expect(exitRun.status).toBe("RUNNING");
    expect((await runs.get(run.id)).status).toBe("RUNNING");
    await runs.postEvent(run.id, "fl-go");
    const done = await runs.status(run.id, "COMPLETED");
    expect(done.thread_runs[1].status).toBe("COMPLETED");
  });

  it("B-THR-5 a child failure handled by the WAIT_FOR_THREADS node's own handler does not fail the parent at EXIT", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "fl-wait-handled-node" });
    expect(run.status).toBe("COMPLETED");
    expect(run.thread_runs[0].handled_failed_children).toEqual([1]);
    expect(run.thread_runs[1].status).toBe("EXCEPTION");
    expect(run.thread_runs[2]).toMatchObject({
      type: "FAILURE_HANDLER",
      parent_thread_id: 0,
      status: "COMPLETED",
    });
    const wait = await runs.nodeRun(run.id, 0, 2);
    expect(wait.status).toBe("EXCEPTION");
    expect(wait.failures[0]).toMatchObject({ failure_name: "kaput", was_properly_handled: true });
    expect((await runs.variables(run.id))["0/handledBy"]).toBe("note");
  });
});

describe("EXIT with a failure_def", () => {
  it("B-THR-6 a business failure_def throws an EXCEPTION with its name, message and content", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "fl-exit-exn", variables: { n: int(42) } });
    expect(run.status).toBe("EXCEPTION");
    expect(run.thread_runs[0]).toMatchObject({ status: "EXCEPTION", error_message: "the order is too big" });
    const exitRun = await runs.current(run.id, 0);
    expect(exitRun.status).toBe("EXCEPTION");
    expect(exitRun.failures[0]).toMatchObject({
      failure_name: "order-rejected",
      message: "the order is too big",
      content: { int: "42" },
    });
  });

  it("B-THR-6 B-THR-5 a failure_def naming a built-in error makes the thread ERROR", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "fl-exit-err" });
    expect(run.status).toBe("ERROR");
    expect((await runs.current(run.id, 0)).failures[0].failure_name).toBe("INTERNAL_ERROR");
  });
});

describe("RescueThreadRun", () => {
  it("B-THR-10 rescue runs the failed node again and the WfRun continues", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "fl-plain" });
    await report(c, await worker.taskOf(run.id, 0), { status: "TASK_FAILED" });
    await runs.status(run.id, "ERROR");
    const rescued = await c.call("RescueThreadRun", { wf_run_id: run.id, thread_run_number: 0 });
    expect(rescued.status).toBe("RUNNING");
    expect(rescued.thread_runs[0]).toMatchObject({ status: "RUNNING", current_node_position: 2 });
    expect(rescued.thread_runs[0].end_time).toBeUndefined();
    await report(c, await worker.taskOf(run.id, 0, 2), { status: "TASK_SUCCESS" });
    const done = await runs.status(run.id, "COMPLETED");
    expect(done.end_time).toBeTruthy();
    const nodes = await runs.nodeRuns(run.id, 0);
    expect(nodes.map((n) => [n.node_name, n.status])).toEqual([
      ["0-entrypoint-ENTRYPOINT", "COMPLETED"],
      ["1-work-TASK", "ERROR"],
      ["1-work-TASK", "COMPLETED"],
      ["2-exit-EXIT", "COMPLETED"],
    ]);
    expect((await c.call("ListTaskRuns", { wf_run_id: run.id })).results).toHaveLength(2);
  });

  it("B-THR-10 rescue with skip_current_node goes on along the failed node's edges", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "fl-plain" });
    await report(c, await worker.taskOf(run.id, 0), { status: "TASK_EXCEPTION", name: "card-declined" });
    await runs.status(run.id, "EXCEPTION");
    const rescued = await c.call("RescueThreadRun", {
      wf_run_id: run.id,
      thread_run_number: 0,
      skip_current_node: true,
    });
    expect(rescued.status).toBe("COMPLETED");
    expect((await runs.nodeRuns(run.id, 0)).map((n) => n.node_name)).toEqual([
      "0-entrypoint-ENTRYPOINT",
      "1-work-TASK",
      "2-exit-EXIT",
    ]);
  });

  it("B-THR-10 RescueThreadRun is FAILED_PRECONDITION for a thread that has not failed, whose failure went to a handler, or whose failure a parent handled", async () => {
    const running = await c.call("RunWf", { wf_spec_name: "fl-plain" });
    const notFailed = await c.fail("RescueThreadRun", { wf_run_id: running.id, thread_run_number: 0 });
    expect(notFailed.code).toBe("FAILED_PRECONDITION");
    expect(notFailed.message).toMatch(/RUNNING/);

    const completed = await c.call("RunWf", { wf_spec_name: "fl-wait-handled-node" });
    expect((await c.fail("RescueThreadRun", { wf_run_id: completed.id, thread_run_number: 0 })).code).toBe(
      "FAILED_PRECONDITION",
    );
    // thread 1 failed, but its parent's WAIT_FOR_THREADS handler handled that failure
    const handled = await c.fail("RescueThreadRun", { wf_run_id: completed.id, thread_run_number: 1 });
    expect(handled.code).toBe("FAILED_PRECONDITION");
    expect(handled.message).toMatch(/already handled/);

    const viaHandler = await c.call("RunWf", { wf_spec_name: "fl-handler-fails" });
    await report(c, await worker.taskOf(viaHandler.id, 0), { status: "TASK_FAILED" });
    await runs.status(viaHandler.id, "EXCEPTION");
    const went = await c.fail("RescueThreadRun", { wf_run_id: viaHandler.id, thread_run_number: 0 });
    expect(went.code).toBe("FAILED_PRECONDITION");
    expect(went.message).toMatch(/failure handler thread 1/);
    // nothing changed
    expect((await runs.get(viaHandler.id)).status).toBe("EXCEPTION");
  });

  it("B-THR-10 B-THR-4 rescuing a failed failure-handler thread brings back the thread it served, which goes on once the handler ends", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "fl-handler-fails" });
    await report(c, await worker.taskOf(run.id, 0), { status: "TASK_FAILED", message: "original" });
    await runs.status(run.id, "EXCEPTION");
    // the handler's EXIT threw; skipping it ends the handler, which handles the original failure
    const rescued = await c.call("RescueThreadRun", {
      wf_run_id: run.id,
      thread_run_number: 1,
      skip_current_node: true,
    });
    expect(rescued.status).toBe("COMPLETED");
    expect(rescued.thread_runs[1]).toMatchObject({ type: "FAILURE_HANDLER", status: "COMPLETED" });
    expect(rescued.thread_runs[0]).toMatchObject({ status: "COMPLETED", halt_reasons: [] });
    expect(rescued.thread_runs[0].error_message ?? "").toBe("");
    const node = await runs.nodeRun(run.id, 0, 1);
    expect(node.failures[0]).toMatchObject({ failure_handler_threadrun_id: 1, was_properly_handled: true });
    expect((await runs.nodeRuns(run.id, 0)).map((n) => [n.node_name, n.status])).toEqual([
      ["0-entrypoint-ENTRYPOINT", "COMPLETED"],
      ["1-work-TASK", "ERROR"],
      ["2-exit-EXIT", "COMPLETED"],
    ]);
  });

  it("B-THR-10 rescuing a failed failure-handler thread that fails again fails the thread it served again", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "fl-handler-fails" });
    await report(c, await worker.taskOf(run.id, 0), { status: "TASK_FAILED" });
    await runs.status(run.id, "EXCEPTION");
    // without skipping, the handler's EXIT throws again at once
    const again = await c.call("RescueThreadRun", { wf_run_id: run.id, thread_run_number: 1 });
    expect(again.status).toBe("EXCEPTION");
    expect(again.thread_runs[0]).toMatchObject({ status: "EXCEPTION", error_message: "the handler gave up" });
    expect(again.thread_runs[1]).toMatchObject({ type: "FAILURE_HANDLER", status: "EXCEPTION" });
  });

  it("B-THR-10 RescueThreadRun on a thread the WfRun never had is INVALID_ARGUMENT; on a missing WfRun NOT_FOUND", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "fl-exit-err" });
    expect((await c.fail("RescueThreadRun", { wf_run_id: run.id, thread_run_number: 7 })).code).toBe(
      "INVALID_ARGUMENT",
    );
    expect(
      (await c.fail("RescueThreadRun", { wf_run_id: { id: "fl-nobody" }, thread_run_number: 0 })).code,
    ).toBe("NOT_FOUND");
  });

  it("B-THR-10 B-THR-8 rescuing a failed child brings back the parent that failed at WAIT_FOR_THREADS and its halted sibling", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "fl-two" });
    const siblingTask = await worker.taskOf(run.id, 2);
    await report(c, await worker.taskOf(run.id, 1), { status: "TASK_FAILED" });
    const failed = await runs.status(run.id, "ERROR");
    expect(failed.thread_runs[2].status).toBe("HALTING"); // its task is still in flight
    await report(c, siblingTask, { status: "TASK_SUCCESS" });
    await runs.threadStatus(run.id, 2, "HALTED");

    const rescued = await c.call("RescueThreadRun", { wf_run_id: run.id, thread_run_number: 1 });
    expect(rescued.status).toBe("RUNNING");
    expect(rescued.thread_runs.map((t: Msg) => t.status)).toEqual(["RUNNING", "RUNNING", "COMPLETED"]);
    expect(reasons(rescued.thread_runs[2])).toEqual([]);
    await report(c, await worker.taskOf(run.id, 1, 2), { status: "TASK_SUCCESS" });
    await runs.status(run.id, "COMPLETED");
    const parentNodes = await runs.nodeRuns(run.id, 0);
    expect(parentNodes.map((n) => [n.node_name, n.status])).toEqual([
      ["0-entrypoint-ENTRYPOINT", "COMPLETED"],
      ["1-a-START_THREAD", "COMPLETED"],
      ["2-b-START_THREAD", "COMPLETED"],
      ["3-wait-WAIT_FOR_THREADS", "ERROR"],
      ["3-wait-WAIT_FOR_THREADS", "COMPLETED"],
      ["4-exit-EXIT", "COMPLETED"],
    ]);
  });

  it("B-THR-10 rescuing a parent whose child failed: re-running the wait fails again; skipping it handles the child's failure", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "fl-two" });
    const siblingTask = await worker.taskOf(run.id, 2);
    await report(c, await worker.taskOf(run.id, 1), { status: "TASK_FAILED" });
    await runs.status(run.id, "ERROR");
    const again = await c.call("RescueThreadRun", { wf_run_id: run.id, thread_run_number: 0 });
    expect(again.status).toBe("ERROR");
    expect((await runs.current(run.id, 0)).failures[0].failure_name).toBe("CHILD_FAILURE");

    const skipped = await c.call("RescueThreadRun", {
      wf_run_id: run.id,
      thread_run_number: 0,
      skip_current_node: true,
    });
    expect(skipped.thread_runs[0].handled_failed_children).toEqual([1]);
    // the parent waits at EXIT for the sibling, which runs again now that its parent does
    expect(skipped.status).toBe("RUNNING");
    await runs.atNode(run.id, 0, "4-exit-EXIT");
    await report(c, siblingTask, { status: "TASK_SUCCESS" });
    const done = await runs.status(run.id, "COMPLETED");
    expect(done.thread_runs[1].status).toBe("ERROR");
  });
});
