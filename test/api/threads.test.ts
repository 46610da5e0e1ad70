/**
 * Black-box tests of child threads through gRPC: START_THREAD, WAIT_FOR_THREADS, START_MULTIPLE_THREADS,
 * variables shared with ancestors, ThreadRetentionPolicy, and the guard rails that keep one WfRun from
 * growing without bound in one command (B-THR-1…3, B-THR-12).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server";
import type { Msg, TestClient } from "../support/client";
import {
  entry,
  exit,
  int,
  jsonArr,
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
  Runs,
  edge,
  externalEventNode,
  mutation,
  onFailure,
  report,
  startMultipleNode,
  startThreadNode,
  taskThread,
  taskWfRun,
  tsMs,
  waitThreadsNode,
} from "../support/threads";
import { startRawWorker, type RawWorker } from "../support/worker";
import { waitFor } from "../support/wait";

let ts: TestServer;
let c: TestClient;
let runs: Runs;
let held: RawWorker;

/** The tasks of `th-child` the held worker took for one WfRun, once there are `n` of them. */
function heldTasks(wfRunId: string, n: number): Promise<Msg[]> {
  return waitFor(
    async () => {
      const mine = held.received.filter((t) => taskWfRun(t) === wfRunId);
      return mine.length >= n ? mine : undefined;
    },
    15_000,
    `${n} held task(s) of ${wfRunId}`,
  );
}

/** The WfRun once `check` holds: a WfRun that moves in turns reaches its end after RunWf answered. */
function runOnce(id: Msg, check: (run: Msg) => boolean, what: string): Promise<Msg> {
  return waitFor(
    async () => {
      const run = await c.call("GetWfRun", id);
      return check(run) ? run : undefined;
    },
    30_000,
    what,
  );
}

const assignOutput = (lhs: string): Msg => ({ lhs_name: lhs, operation: "ASSIGN", node_output: {} });

beforeAll(async () => {
  ts = await startTestServer();
  c = ts.client();
  runs = new Runs(c);
  await c.call("PutTaskDef", taskDef("th-child", [["who", "STR"]]));
  await c.call("PutExternalEventDef", { name: "th-go" });
  held = startRawWorker(c, "th-child", () => ({ status: "NO_REPORT" }), { concurrency: 8 });

  // B-THR-1: root → child → grandchild, all working on the root's `counter` by name.
  await c.call(
    "PutWfSpec",
    wfSpec(
      "th-family",
      {},
      {
        thread_specs: {
          entrypoint: thread(
            [
              entry(),
              startThreadNode("1-start-START_THREAD", "child", { amount: lit(int(5)) }, [
                edge("2-wait-WAIT_FOR_THREADS", { variable_mutations: [assignOutput("childNo")] }),
              ]),
              waitThreadsNode("2-wait-WAIT_FOR_THREADS", [varRef("childNo")]),
              exit("3-exit-EXIT"),
            ],
            [varDef("counter", "INT", { default_value: int(0) }), varDef("childNo", "INT")],
          ),
          child: thread(
            [
              entry(),
              nop("1-add-NOP", [
                edge("2-start-START_THREAD", {
                  variable_mutations: [mutation("counter", "ADD", varRef("amount"))],
                }),
              ]),
              startThreadNode("2-start-START_THREAD", "grandchild", {}, [
                edge("3-wait-WAIT_FOR_THREADS", { variable_mutations: [assignOutput("grandNo")] }),
              ]),
              waitThreadsNode("3-wait-WAIT_FOR_THREADS", [varRef("grandNo")]),
              exit("4-exit-EXIT"),
            ],
            [varDef("amount", "INT"), varDef("grandNo", "INT")],
          ),
          grandchild: thread([
            entry(),
            nop("1-double-NOP", [
              edge("2-exit-EXIT", {
                variable_mutations: [
                  mutation("counter", "MULTIPLY", lit(int(2))),
                  mutation("amount", "ADD", lit(int(1))),
                ],
              }),
            ]),
            exit("2-exit-EXIT"),
          ]),
        },
      },
    ),
  );

  // B-THR-2: two children that each run one task; the parent waits for both by number.
  const twoChildren = (name: string, perThread: Msg[] = [], extraThreads: Record<string, Msg> = {}) =>
    wfSpec(
      name,
      {},
      {
        thread_specs: {
          entrypoint: thread(
            [
              entry(),
              startThreadNode("1-a-START_THREAD", "worker", { who: lit(str("a")) }, [
                edge("2-b-START_THREAD", { variable_mutations: [assignOutput("a")] }),
              ]),
              startThreadNode("2-b-START_THREAD", "worker", { who: lit(str("b")) }, [
                edge("3-wait-WAIT_FOR_THREADS", { variable_mutations: [assignOutput("b")] }),
              ]),
              waitThreadsNode("3-wait-WAIT_FOR_THREADS", [varRef("a"), varRef("b")], perThread),
              exit("4-exit-EXIT"),
            ],
            [varDef("a", "INT"), varDef("b", "INT"), varDef("fixed", "STR")],
          ),
          worker: thread(
            [entry(), taskNode("1-work-TASK", "th-child", [varRef("who")]), exit("2-exit-EXIT")],
            [varDef("who", "STR")],
          ),
          ...extraThreads,
        },
      },
    );
  await c.call("PutWfSpec", twoChildren("th-wait-two"));
  // a per-thread handler that records the failure's content in the parent's `fixed`
  const fixer = thread(
    [
      entry(),
      nop("1-fix-NOP", [
        edge("2-exit-EXIT", { variable_mutations: [mutation("fixed", "ASSIGN", varRef("INPUT"))] }),
      ]),
      exit("2-exit-EXIT"),
    ],
    [varDef("INPUT", "STR")],
  );
  await c.call(
    "PutWfSpec",
    twoChildren("th-wait-handled", [onFailure("fix", { specific: "bad-input" })], { fix: fixer }),
  );
  // a per-thread handler that fails itself
  await c.call(
    "PutWfSpec",
    twoChildren("th-wait-handler-fails", [onFailure("broken")], {
      broken: thread([
        entry(),
        {
          name: "1-exit-EXIT",
          node: { exit: { failure_def: { failure_name: "still-broken", message: "no" } } },
        },
      ]),
    }),
  );

  // B-THR-3: one child per element of `items`, each appending its INPUT (with a prefix) to `results`.
  await c.call(
    "PutWfSpec",
    wfSpec(
      "th-multi",
      {},
      {
        thread_specs: {
          entrypoint: thread(
            [
              entry(),
              {
                ...startMultipleNode("1-fan-START_MULTIPLE_THREADS", "item", varRef("items"), {
                  prefix: lit(str("p-")),
                }),
                edges: [edge("2-wait-WAIT_FOR_THREADS", { variable_mutations: [assignOutput("numbers")] })],
              },
              waitThreadsNode("2-wait-WAIT_FOR_THREADS", varRef("numbers")),
              exit("3-exit-EXIT"),
            ],
            [
              varDef("items", "JSON_ARR"),
              varDef("numbers", "JSON_ARR"),
              varDef("results", "JSON_ARR", { default_value: jsonArr([]) }),
            ],
          ),
          item: thread(
            [
              entry(),
              nop("1-append-NOP", [
                edge("2-exit-EXIT", {
                  variable_mutations: [
                    mutation("mine", "ASSIGN", varRef("prefix")),
                    mutation("mine", "ADD", varRef("INPUT")),
                    mutation("results", "ADD", varRef("mine")),
                  ],
                }),
              ]),
              exit("2-exit-EXIT"),
            ],
            [varDef("INPUT", "STR"), varDef("prefix", "STR"), varDef("mine", "STR")],
          ),
        },
      },
    ),
  );
});

afterAll(async () => {
  held?.stop();
  await ts.close();
});

describe("START_THREAD and variables shared with ancestors", () => {
  it("B-THR-1 START_THREAD starts a child numbered greatest + 1 whose output is its number; descendants read and mutate ancestors' variables by name", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "th-family" });
    expect(run.status).toBe("COMPLETED");
    expect(run.greatest_threadrun_number).toBe(2);
    const [root, child, grand] = run.thread_runs;
    expect(root).toMatchObject({ number: 0, type: "ENTRYPOINT", child_thread_ids: [1], status: "COMPLETED" });
    expect(child).toMatchObject({
      number: 1,
      type: "CHILD",
      parent_thread_id: 0,
      thread_spec_name: "child",
      child_thread_ids: [2],
      status: "COMPLETED",
    });
    expect(grand).toMatchObject({ number: 2, type: "CHILD", parent_thread_id: 1, status: "COMPLETED" });
    const vars = await runs.variables(run.id);
    // (0 + 5) * 2: the child added its input to the root's counter, the grandchild doubled it
    expect(vars["0/counter"]).toBe(10);
    // the grandchild mutated its parent's `amount` (one level up), not the root
    expect(vars["1/amount"]).toBe(6);
    // START_THREAD's output is the child's number
    expect(vars["0/childNo"]).toBe(1);
    expect(vars["1/grandNo"]).toBe(2);
    // the variables live where they are declared: no copies in the descendants
    expect(Object.keys(vars).sort()).toEqual(["0/childNo", "0/counter", "1/amount", "1/grandNo"]);
    const start = await runs.nodeRun(run.id, 0, 1);
    expect(start.start_thread).toMatchObject({ child_thread_id: 1, thread_spec_name: "child" });
  });

  it("B-THR-1 a child's own variable shadows an ancestor's of the same name", async () => {
    await c.call(
      "PutWfSpec",
      wfSpec(
        "th-shadow",
        {},
        {
          thread_specs: {
            entrypoint: thread(
              [
                entry(),
                startThreadNode("1-start-START_THREAD", "child", { x: lit(int(7)) }, [
                  edge("2-wait-WAIT_FOR_THREADS", { variable_mutations: [assignOutput("n")] }),
                ]),
                waitThreadsNode("2-wait-WAIT_FOR_THREADS", [varRef("n")]),
                exit("3-exit-EXIT"),
              ],
              [varDef("x", "INT", { default_value: int(1) }), varDef("n", "INT")],
            ),
            child: thread(
              [
                entry(),
                nop("1-NOP", [
                  edge("2-exit-EXIT", { variable_mutations: [mutation("x", "ADD", lit(int(100)))] }),
                ]),
                exit("2-exit-EXIT"),
              ],
              [varDef("x", "INT")],
            ),
          },
        },
      ),
    );
    const run = await c.call("RunWf", { wf_spec_name: "th-shadow" });
    expect(run.status).toBe("COMPLETED");
    const vars = await runs.variables(run.id);
    expect(vars["0/x"]).toBe(1);
    expect(vars["1/x"]).toBe(107);
  });
});

describe("WAIT_FOR_THREADS", () => {
  it("B-THR-2 WAIT_FOR_THREADS with a fixed list waits until every listed child has COMPLETED", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "th-wait-two" });
    const tasks = await heldTasks(run.id.id, 2);
    const wait = await runs.atNode(run.id, 0, "3-wait-WAIT_FOR_THREADS");
    expect(wait.status).toBe("RUNNING");
    expect(wait.wait_threads.threads).toMatchObject([
      { thread_run_number: 1, waiting_status: "THREAD_IN_PROGRESS" },
      { thread_run_number: 2, waiting_status: "THREAD_IN_PROGRESS" },
    ]);
    const byThread = new Map(tasks.map((t) => [taskThread(t), t]));
    await report(c, byThread.get(1)!, { status: "TASK_SUCCESS" });
    let after = await runs.nodeRun(run.id, 0, wait.id.position);
    expect(after.status).toBe("RUNNING");
    expect(after.wait_threads.threads[0]).toMatchObject({
      thread_run_number: 1,
      thread_status: "COMPLETED",
      waiting_status: "THREAD_COMPLETED_OR_FAILURE_HANDLED",
    });
    expect(after.wait_threads.threads[0].thread_end_time).toBeTruthy();
    expect(after.wait_threads.threads[1].waiting_status).toBe("THREAD_IN_PROGRESS");
    await report(c, byThread.get(2)!, { status: "TASK_SUCCESS" });
    const done = await runs.status(run.id, "COMPLETED");
    after = await runs.nodeRun(run.id, 0, wait.id.position);
    expect(after.status).toBe("COMPLETED");
    expect(after.wait_threads.threads.map((t: Msg) => t.waiting_status)).toEqual([
      "THREAD_COMPLETED_OR_FAILURE_HANDLED",
      "THREAD_COMPLETED_OR_FAILURE_HANDLED",
    ]);
    // the parent moved on only once the last child had ended
    expect(tsMs(after.end_time)).toBeGreaterThanOrEqual(tsMs(done.thread_runs[2].end_time));
  });

  it("B-THR-2 B-THR-5 a child ERROR is re-thrown as CHILD_FAILURE; its running sibling is halted", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "th-wait-two" });
    const tasks = await heldTasks(run.id.id, 2);
    const byThread = new Map(tasks.map((t) => [taskThread(t), t]));
    await report(c, byThread.get(1)!, { status: "TASK_FAILED", message: "boom" });
    const failed = await runs.status(run.id, "ERROR");
    const wait = await runs.nodeRun(run.id, 0, failed.thread_runs[0].current_node_position);
    expect(wait.node_name).toBe("3-wait-WAIT_FOR_THREADS");
    expect(wait.status).toBe("ERROR");
    expect(wait.failures[0]).toMatchObject({ failure_name: "CHILD_FAILURE", was_properly_handled: false });
    expect(wait.wait_threads.threads[0]).toMatchObject({
      thread_run_number: 1,
      thread_status: "ERROR",
      waiting_status: "THREAD_UNSUCCESSFUL",
    });
    expect(failed.thread_runs[0].status).toBe("ERROR");
    expect(failed.thread_runs[1].status).toBe("ERROR");
    // the sibling's task is still in flight: it halts once that attempt is reported
    const sibling = failed.thread_runs[2];
    expect(sibling.status).toBe("HALTING");
    expect(sibling.halt_reasons).toEqual([
      { parent_halted: { parent_thread_id: 0 }, reason: "parent_halted" },
    ]);
    // the failure was reported, not handled
    expect(failed.thread_runs[0].handled_failed_children).toEqual([]);
    await report(c, byThread.get(2)!, { status: "TASK_SUCCESS" });
    const halted = await runs.threadStatus(run.id, 2, "HALTED");
    expect(halted.status).toBe("ERROR");
    const siblingNode = await runs.nodeRun(run.id, 2, 1);
    expect(siblingNode.status).toBe("COMPLETED"); // the report was taken; the thread just does not move on
  });

  it("B-THR-2 a child EXCEPTION is re-thrown in the parent with its name and content", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "th-wait-two" });
    const tasks = await heldTasks(run.id.id, 2);
    const byThread = new Map(tasks.map((t) => [taskThread(t), t]));
    await report(c, byThread.get(2)!, { status: "TASK_SUCCESS" });
    await report(c, byThread.get(1)!, {
      status: "TASK_EXCEPTION",
      name: "bad-input",
      message: "no good",
      content: str("details"),
    });
    const failed = await runs.status(run.id, "EXCEPTION");
    expect(failed.thread_runs[0].status).toBe("EXCEPTION");
    expect(failed.thread_runs[1].status).toBe("EXCEPTION");
    const wait = await runs.current(run.id, 0);
    expect(wait.status).toBe("EXCEPTION");
    expect(wait.failures[0]).toMatchObject({ failure_name: "bad-input", content: { str: "details" } });
  });

  it("B-THR-2 B-THR-5 a per-thread failure handler runs as a child of the failed child; once it completes the wait goes on and EXIT does not fail", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "th-wait-handled" });
    const tasks = await heldTasks(run.id.id, 2);
    const byThread = new Map(tasks.map((t) => [taskThread(t), t]));
    await report(c, byThread.get(1)!, {
      status: "TASK_EXCEPTION",
      name: "bad-input",
      message: "x",
      content: str("repaired"),
    });
    // the handler ran (it does not wait for anything); the wait still waits for thread 2
    const mid = await runs.until(run.id, (r) => (r.thread_runs.length === 4 ? r : undefined), "handler");
    const handler = mid.thread_runs[3];
    expect(handler).toMatchObject({
      number: 3,
      type: "FAILURE_HANDLER",
      parent_thread_id: 1,
      thread_spec_name: "fix",
      status: "COMPLETED",
      failure_being_handled: { thread_run_number: 1, node_run_position: 1, failure_number: 0 },
    });
    expect(mid.thread_runs[1].status).toBe("EXCEPTION");
    expect(mid.thread_runs[1].child_thread_ids).toEqual([3]);
    const wait = await runs.current(run.id, 0);
    expect(wait.status).toBe("RUNNING");
    expect(wait.wait_threads.threads[0]).toMatchObject({
      thread_run_number: 1,
      thread_status: "EXCEPTION",
      waiting_status: "THREAD_COMPLETED_OR_FAILURE_HANDLED",
      failure_handler_thread_run_id: 3,
    });
    const failedNode = await runs.nodeRun(run.id, 1, 1);
    expect(failedNode.failures[0]).toMatchObject({
      failure_name: "bad-input",
      failure_handler_threadrun_id: 3,
      was_properly_handled: true,
    });
    expect(failedNode.failure_handler_ids).toEqual([3]);
    expect(mid.thread_runs[0].handled_failed_children).toEqual([1]);
    await report(c, byThread.get(2)!, { status: "TASK_SUCCESS" });
    const done = await runs.status(run.id, "COMPLETED");
    expect(done.thread_runs[0].status).toBe("COMPLETED");
    expect((await runs.variables(run.id))["0/fixed"]).toBe("repaired");
  });

  it("B-THR-2 a failure the per-thread handlers do not catch fails the wait", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "th-wait-handled" });
    const tasks = await heldTasks(run.id.id, 2);
    const byThread = new Map(tasks.map((t) => [taskThread(t), t]));
    await report(c, byThread.get(1)!, { status: "TASK_EXCEPTION", name: "other-problem" });
    const failed = await runs.status(run.id, "EXCEPTION");
    expect(failed.thread_runs).toHaveLength(3); // no handler thread
    const wait = await runs.current(run.id, 0);
    expect(wait.failures[0].failure_name).toBe("other-problem");
  });

  it("B-THR-2 when the per-thread handler fails, the wait fails", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "th-wait-handler-fails" });
    const tasks = await heldTasks(run.id.id, 2);
    const byThread = new Map(tasks.map((t) => [taskThread(t), t]));
    await report(c, byThread.get(1)!, { status: "TASK_FAILED" });
    const failed = await runs.until(
      run.id,
      (r) => (r.status === "ERROR" || r.status === "EXCEPTION" ? r : undefined),
      "the wait to fail",
    );
    const handler = failed.thread_runs[3];
    expect(handler).toMatchObject({ type: "FAILURE_HANDLER", parent_thread_id: 1, status: "EXCEPTION" });
    const wait = await runs.current(run.id, 0);
    expect(wait.node_name).toBe("3-wait-WAIT_FOR_THREADS");
    expect(wait.wait_threads.threads[0]).toMatchObject({
      waiting_status: "THREAD_UNSUCCESSFUL",
      failure_handler_thread_run_id: 3,
    });
    expect(failed.thread_runs[0].handled_failed_children).toEqual([]);
    const failedNode = await runs.nodeRun(run.id, 1, 1);
    expect(failedNode.failures[0]).toMatchObject({
      failure_handler_threadrun_id: 3,
      was_properly_handled: false,
    });
  });
});

describe("START_MULTIPLE_THREADS", () => {
  it("B-THR-3 B-THR-2 starts one child per element with the element in INPUT; its output is the JSON_ARR of child numbers, which WAIT_FOR_THREADS takes as its list", async () => {
    const run = await c.call("RunWf", {
      wf_spec_name: "th-multi",
      variables: { items: jsonArr(["a", "b", "c"]) },
    });
    expect(run.status).toBe("COMPLETED");
    expect(run.thread_runs.map((t: Msg) => [t.number, t.type, t.parent_thread_id ?? null])).toEqual([
      [0, "ENTRYPOINT", null],
      [1, "CHILD", 0],
      [2, "CHILD", 0],
      [3, "CHILD", 0],
    ]);
    const vars = await runs.variables(run.id);
    expect(vars["0/numbers"]).toEqual([1, 2, 3]);
    expect([vars["1/INPUT"], vars["2/INPUT"], vars["3/INPUT"]]).toEqual(["a", "b", "c"]);
    expect(vars["1/prefix"]).toBe("p-");
    expect((vars["0/results"] as string[]).sort()).toEqual(["p-a", "p-b", "p-c"]);
    const fan = await runs.nodeRun(run.id, 0, 1);
    expect(fan.start_multiple_threads).toMatchObject({
      thread_spec_name: "item",
      child_thread_ids: [1, 2, 3],
    });
    const wait = await runs.nodeRun(run.id, 0, 2);
    expect(wait.wait_threads.threads.map((t: Msg) => t.thread_run_number)).toEqual([1, 2, 3]);
  });

  it("B-THR-3 an empty list starts no thread; the output is [] and waiting on it completes at once", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "th-multi", variables: { items: jsonArr([]) } });
    expect(run.status).toBe("COMPLETED");
    expect(run.thread_runs).toHaveLength(1);
    expect(run.greatest_threadrun_number).toBe(0);
    expect((await runs.variables(run.id))["0/numbers"]).toEqual([]);
  });

  it("B-THR-3 an iterable that is not a JSON_ARR at run time fails the node with VAR_SUB_ERROR", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "th-multi" }); // items is null
    expect(run.status).toBe("ERROR");
    const fan = await runs.nodeRun(run.id, 0, 1);
    expect(fan.failures[0].failure_name).toBe("VAR_SUB_ERROR");
  });
});

describe("ThreadRetentionPolicy", () => {
  it("B-THR-12 a terminated child is removed after the retention seconds; thread numbers keep increasing", async () => {
    await c.call(
      "PutWfSpec",
      wfSpec(
        "th-retention",
        {},
        {
          thread_specs: {
            entrypoint: thread(
              [
                entry(),
                startThreadNode("1-start-START_THREAD", "quick", {}, [
                  edge("2-wait-WAIT_FOR_THREADS", { variable_mutations: [assignOutput("n")] }),
                ]),
                waitThreadsNode("2-wait-WAIT_FOR_THREADS", [varRef("n")]),
                externalEventNode("3-go-EXTERNAL_EVENT", "th-go"),
                startThreadNode("4-again-START_THREAD", "quick", {}, [
                  edge("5-wait-WAIT_FOR_THREADS", { variable_mutations: [assignOutput("n")] }),
                ]),
                waitThreadsNode("5-wait-WAIT_FOR_THREADS", [varRef("n")]),
                exit("6-exit-EXIT"),
              ],
              [varDef("n", "INT")],
            ),
            quick: {
              ...thread([entry(), exit("1-exit-EXIT")]),
              retention_policy: { seconds_after_thread_termination: "2" },
            },
          },
        },
      ),
    );
    const run = await c.call("RunWf", { wf_spec_name: "th-retention" });
    expect(run.thread_runs.map((t: Msg) => [t.number, t.status])).toEqual([
      [0, "RUNNING"],
      [1, "COMPLETED"],
    ]);
    const ended = tsMs(run.thread_runs[1].end_time);
    const gone = await runs.until(
      run.id,
      (r) => (r.thread_runs.length === 1 ? r : undefined),
      "thread 1 removed",
    );
    expect(gone.thread_runs[0].child_thread_ids).toEqual([]);
    expect(gone.greatest_threadrun_number).toBe(1);
    // removal happened no earlier than the policy allows (checked against the server's own clock)
    expect(Date.now()).toBeGreaterThanOrEqual(ended + 2000);
    await runs.postEvent(run.id, "th-go");
    const next = await runs.until(
      run.id,
      (r) => (r.thread_runs.length === 2 ? r : undefined),
      "second child",
    );
    expect(next.thread_runs[1].number).toBe(2);
    expect(next.greatest_threadrun_number).toBe(2);
    expect((await runs.variables(run.id))["0/n"]).toBe(2);
    const done = await runs.status(run.id, "COMPLETED");
    expect(done.thread_runs[0].type).toBe("ENTRYPOINT"); // the entrypoint is never removed
  });
});

describe("guard rails", () => {
  it("guard: a loop of NOP nodes fails the thread after 10,000 NodeRuns without an outside event, and the server keeps answering", async () => {
    await c.call(
      "PutWfSpec",
      wfSpec(
        "th-nop-loop",
        thread([
          entry(),
          nop("1-a-NOP", [edge("2-b-NOP")]),
          nop("2-b-NOP", [edge("1-a-NOP"), edge("3-exit-EXIT")]),
          exit("3-exit-EXIT"),
        ]),
      ),
    );
    const started = await c.call("RunWf", { wf_spec_name: "th-nop-loop" });
    const run = await runOnce(started.id, (r) => r.status === "ERROR", "the loop to be stopped");
    expect(run.thread_runs[0].error_message).toMatch(
      /more than 10000 nodes without waiting for anything outside/,
    );
    expect(run.thread_runs[0].current_node_position).toBe(10_000);
    expect((await c.call("GetServerVersion")).major_version).toBeDefined();
    expect(
      (await c.call("RunWf", { wf_spec_name: "th-multi", variables: { items: jsonArr([]) } })).status,
    ).toBe("COMPLETED");
  });

  it("guard: a loop that starts threads forever fails its START_THREAD node at 5,000 live threads, and the server keeps answering", async () => {
    await c.call(
      "PutWfSpec",
      wfSpec(
        "th-spawn-loop",
        {},
        {
          thread_specs: {
            entrypoint: thread([
              entry(),
              startThreadNode("1-spawn-START_THREAD", "sleeper", {}, [edge("1-spawn-START_THREAD")]),
              exit("2-exit-EXIT"),
            ]),
            sleeper: thread([
              entry(),
              externalEventNode("1-wait-EXTERNAL_EVENT", "th-go"),
              exit("2-exit-EXIT"),
            ]),
          },
        },
      ),
    );
    const started = await c.call("RunWf", { wf_spec_name: "th-spawn-loop" });
    const run = await runOnce(started.id, (r) => r.status === "ERROR", "the spawning to be stopped");
    expect(run.thread_runs).toHaveLength(5_000); // the entrypoint and 4,999 children
    const failed = await runs.current(run.id, 0);
    expect(failed.node_name).toBe("1-spawn-START_THREAD");
    expect(failed.failures[0].failure_name).toBe("INTERNAL_ERROR");
    expect(failed.failures[0].message).toMatch(/limit of 5000 live threads/);
    // the children halt with their failed parent
    expect(run.thread_runs[4_999]).toMatchObject({ status: "HALTED", type: "CHILD" });
    expect((await c.call("GetServerVersion")).major_version).toBeDefined();
  });

  it("guard: a loop that starts a thread and waits for it counts its NodeRuns across the turns it moves in", async () => {
    await c.call(
      "PutWfSpec",
      wfSpec(
        "th-spawn-wait-loop",
        {},
        {
          thread_specs: {
            entrypoint: thread(
              [
                entry(),
                startThreadNode("1-spawn-START_THREAD", "quick", {}, [
                  edge("2-wait-WAIT_FOR_THREADS", { variable_mutations: [assignOutput("n")] }),
                ]),
                waitThreadsNode("2-wait-WAIT_FOR_THREADS", [varRef("n")]),
                nop("3-again-NOP", [edge("1-spawn-START_THREAD")]),
                exit("4-exit-EXIT"),
              ],
              [varDef("n", "INT")],
            ),
            quick: thread([entry(), exit("1-exit-EXIT")]),
          },
        },
      ),
    );
    const started = await c.call("RunWf", { wf_spec_name: "th-spawn-wait-loop" });
    const run = await runOnce(started.id, (r) => r.status === "ERROR", "the loop to be stopped");
    expect(run.thread_runs[0].error_message).toMatch(
      /more than 10000 nodes without waiting for anything outside/,
    );
    expect((await c.call("GetServerVersion")).major_version).toBeDefined();
  });

  it("guard: threads handing work down a chain of children fail once the WfRun has moved for 10,000 rounds across its turns", async () => {
    const link = (child: string) =>
      thread(
        [
          entry(),
          startThreadNode("1-spawn-START_THREAD", child, {}, [
            edge("2-wait-WAIT_FOR_THREADS", { variable_mutations: [assignOutput("n")] }),
          ]),
          waitThreadsNode("2-wait-WAIT_FOR_THREADS", [varRef("n")]),
          exit("3-exit-EXIT"),
        ],
        [varDef("n", "INT")],
      );
    const root = link("b");
    // the root loops: start the chain, wait for it, again
    root.nodes["2-wait-WAIT_FOR_THREADS"].outgoing_edges = [{ sink_node_name: "1-spawn-START_THREAD" }];
    await c.call(
      "PutWfSpec",
      wfSpec(
        "th-chain-loop",
        {},
        {
          thread_specs: {
            entrypoint: root,
            b: link("c"),
            c: link("d"),
            d: link("e"),
            e: thread([entry(), exit("1-exit-EXIT")]),
          },
        },
      ),
    );
    const started = await c.call("RunWf", { wf_spec_name: "th-chain-loop" });
    const run = await runOnce(started.id, (r) => r.status === "ERROR", "the chain to be stopped");
    expect(run.thread_runs[0].error_message).toMatch(
      /still moving after 10000 rounds without hearing from outside/,
    );
    expect((await c.call("GetServerVersion")).major_version).toBeDefined();
  }, 60_000);

  it("guard: threads that each start one more thread (recursion) stop at 5,000 live threads without hanging the server", async () => {
    await c.call(
      "PutWfSpec",
      wfSpec(
        "th-spawn-recursive",
        {},
        {
          thread_specs: {
            entrypoint: thread([
              entry(),
              startThreadNode("1-spawn-START_THREAD", "again"),
              externalEventNode("2-wait-EXTERNAL_EVENT", "th-go"),
              exit("3-exit-EXIT"),
            ]),
            again: thread([
              entry(),
              startThreadNode("1-spawn-START_THREAD", "again"),
              externalEventNode("2-wait-EXTERNAL_EVENT", "th-go"),
              exit("3-exit-EXIT"),
            ]),
          },
        },
      ),
    );
    const started = await c.call("RunWf", { wf_spec_name: "th-spawn-recursive" });
    const run = await runOnce(
      started.id,
      (r) => r.thread_runs.length === 5_000 && r.thread_runs[4_999].status === "ERROR",
      "5,000 threads, the last one failed",
    );
    const deepest = run.thread_runs[4_999];
    expect(deepest.status).toBe("ERROR");
    const failed = await runs.current(run.id, deepest.number);
    expect(failed.failures[0].message).toMatch(/limit of 5000 live threads/);
    expect((await c.call("GetServerVersion")).major_version).toBeDefined();
  });
});
