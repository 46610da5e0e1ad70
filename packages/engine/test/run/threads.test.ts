/**
 * The ThreadRun state machine in the pure engine: children and their variables, WAIT_FOR_THREADS and
 * START_MULTIPLE_THREADS, failure handlers, child failures, EXIT with a failure_def, rescue, retention and
 * the guards (B-THR-1…6, B-THR-10, B-THR-12).
 */
import { describe, expect, it } from "vitest";
import {
  LHErrorType,
  LHStatus,
  ThreadType,
  VariableMutationType,
  WaitForThreadsRun_WaitingThreadStatus as Waiting,
} from "@pony/proto";
import { FailedPreconditionError, InvalidArgumentError, errorFailure, exceptionFailure } from "../../src";
import { isTerminal } from "../../src/run/halting";
import { liveThreadCount, matchFailureHandler } from "../../src/run/thread";
import { lit, ref, task, threadVar, value, VariableType } from "../metadata/fixtures";
import {
  TaskStatus,
  ThreadHarness,
  catching,
  eventStep,
  mutate,
  nopStep,
  outputTo,
  startMultipleStep,
  startThreadStep,
  threadWith,
  waitStep,
} from "./harness";

const INT = VariableType.INT;

/** entrypoint: start `child` (its number into n), wait for it, exit. */
const parentOf = (
  child: string,
  waitHandlers = [] as ReturnType<typeof catching>[],
  extra: Parameters<typeof threadWith>[1] = [],
) =>
  threadWith(
    [
      { node: startThreadStep(child), mutations: [outputTo("n")] },
      { node: waitStep([ref("n")]), handlers: waitHandlers },
    ],
    [threadVar("n", INT), ...extra],
  );

describe("ThreadRun: RUNNING → COMPLETED", () => {
  it("B-THR-1 a child is numbered greatest + 1, its START_THREAD output is its number, and it reads and mutates its ancestors' variables by name", () => {
    const h = new ThreadHarness({
      entrypoint: threadWith(
        [
          { node: startThreadStep("child", { amount: lit(value.int(3)) }), mutations: [outputTo("n")] },
          { node: waitStep([ref("n")]) },
        ],
        [threadVar("n", INT), threadVar("total", INT, { defaultValue: value.int(1) })],
      ),
      child: threadWith(
        [{ node: startThreadStep("grandchild"), mutations: [outputTo("m")] }, { node: waitStep([ref("m")]) }],
        [threadVar("amount", INT), threadVar("m", INT)],
      ),
      grandchild: threadWith([
        { node: nopStep(), mutations: [mutate("total", VariableMutationType.ADD, ref("amount"))] },
      ]),
    });
    const s = h.run();
    expect(s.wfRun.status).toBe(LHStatus.COMPLETED);
    expect(s.wfRun.greatestThreadrunNumber).toBe(2);
    expect(s.wfRun.threadRuns.map((t) => [t.number, t.type, t.parentThreadId, t.status])).toEqual([
      [0, ThreadType.ENTRYPOINT, undefined, LHStatus.COMPLETED],
      [1, ThreadType.CHILD, 0, LHStatus.COMPLETED],
      [2, ThreadType.CHILD, 1, LHStatus.COMPLETED],
    ]);
    expect(h.thread(0).childThreadIds).toEqual([1]);
    expect(h.variable("n")).toEqual(value.int(1));
    expect(h.variable("m", 1)).toEqual(value.int(2));
    expect(h.variable("total")).toEqual(value.int(4)); // the grandchild added its parent's amount to the root's total
    expect(h.variable("total", 2)).toBeUndefined();
  });

  it("B-THR-2 WAIT_FOR_THREADS stays RUNNING until every listed child has COMPLETED, recording each child", () => {
    const h = new ThreadHarness({
      entrypoint: threadWith(
        [
          { node: startThreadStep("worker"), mutations: [outputTo("a")] },
          { node: startThreadStep("worker"), mutations: [outputTo("b")] },
          { node: waitStep([ref("a"), ref("b")]) },
        ],
        [threadVar("a", INT), threadVar("b", INT)],
      ),
      worker: threadWith([{ node: task("work") }]),
    });
    h.run();
    const wait = h.current(0);
    expect(wait.nodeType.case).toBe("waitThreads");
    expect(wait.status).toBe(LHStatus.RUNNING);
    h.finishTask(2, TaskStatus.TASK_SUCCESS);
    expect(h.status(0)).toBe(LHStatus.RUNNING);
    const entries = () => (wait.nodeType.case === "waitThreads" ? wait.nodeType.value.threads : []);
    expect(entries().map((e) => [e.threadRunNumber, e.threadStatus, e.waitingStatus])).toEqual([
      [1, LHStatus.RUNNING, Waiting.THREAD_IN_PROGRESS],
      [2, LHStatus.COMPLETED, Waiting.THREAD_COMPLETED_OR_FAILURE_HANDLED],
    ]);
    h.finishTask(1, TaskStatus.TASK_SUCCESS);
    expect(wait.status).toBe(LHStatus.COMPLETED);
    expect(h.state.wfRun.status).toBe(LHStatus.COMPLETED);
  });

  it("B-THR-3 START_MULTIPLE_THREADS starts one child per element with it in INPUT (declared or not); output = the child numbers; [] starts none", () => {
    const threads = {
      entrypoint: threadWith(
        [
          { node: startMultipleStep("item", ref("items")), mutations: [outputTo("numbers")] },
          { node: waitStep(ref("numbers")) },
        ],
        [
          threadVar("items", VariableType.JSON_ARR),
          threadVar("numbers", VariableType.JSON_ARR),
          threadVar("seen", VariableType.JSON_ARR, { defaultValue: value.jsonArr("[]") }),
        ],
      ),
      // reads INPUT without declaring it
      item: threadWith([
        { node: nopStep(), mutations: [mutate("seen", VariableMutationType.ADD, ref("INPUT"))] },
      ]),
    };
    const h = new ThreadHarness(threads);
    h.run({ items: value.jsonArr('["x",{"k":2}]') });
    expect(h.state.wfRun.status).toBe(LHStatus.COMPLETED);
    expect(h.variable("numbers")).toEqual(value.jsonArr("[1,2]"));
    expect(h.variable("INPUT", 1)).toEqual(value.str("x"));
    expect(h.variable("INPUT", 2)).toEqual(value.jsonObj('{"k":2}'));
    expect(h.variable("seen")).toEqual(value.jsonArr('["x",{"k":2}]'));

    const empty = new ThreadHarness(threads);
    empty.run({ items: value.jsonArr("[]") });
    expect(empty.state.wfRun.status).toBe(LHStatus.COMPLETED);
    expect(empty.state.wfRun.threadRuns).toHaveLength(1);
    expect(empty.variable("numbers")).toEqual(value.jsonArr("[]"));
  });
});

describe("ThreadRun: RUNNING → ERROR / EXCEPTION", () => {
  it("B-THR-5 an unhandled built-in failure makes the thread ERROR and a business one EXCEPTION; the WfRun follows its entrypoint", () => {
    const spec = { entrypoint: threadWith([{ node: task("work") }]) };
    const a = new ThreadHarness(spec);
    a.run();
    a.takeEffects();
    a.finishTask(0, TaskStatus.TASK_FAILED);
    expect(a.status(0)).toBe(LHStatus.ERROR);
    expect(a.state.wfRun.status).toBe(LHStatus.ERROR);
    expect(a.takeEffects()).toContainEqual({ kind: "wfRunEnded", status: LHStatus.ERROR });

    const b = new ThreadHarness(spec);
    b.run();
    b.finishTask(0, TaskStatus.TASK_EXCEPTION, { exception: { name: "no-stock" } });
    expect(b.status(0)).toBe(LHStatus.EXCEPTION);
    expect(b.state.wfRun.status).toBe(LHStatus.EXCEPTION);
    expect(b.current(0).failures[0]!.failureName).toBe("no-stock");
  });

  it("B-THR-6 EXIT with a failure_def throws it: a business name is an EXCEPTION with its content, an LHErrorType name an ERROR", () => {
    const exn = new ThreadHarness({
      entrypoint: threadWith([], [threadVar("x", INT)], {
        exitFailure: { failureName: "too-big", message: "way too big", content: ref("x") },
      }),
    });
    exn.run({ x: value.int(9) });
    expect(exn.status(0)).toBe(LHStatus.EXCEPTION);
    expect(exn.thread(0).errorMessage).toBe("way too big");
    expect(exn.current(0).failures[0]).toMatchObject({ failureName: "too-big", content: value.int(9) });

    const err = new ThreadHarness({
      entrypoint: threadWith([], [], { exitFailure: { failureName: "TIMEOUT", message: "late" } }),
    });
    err.run();
    expect(err.status(0)).toBe(LHStatus.ERROR);
  });

  it("B-THR-2 B-THR-5 a child ERROR fails WAIT_FOR_THREADS with CHILD_FAILURE, a child EXCEPTION with its own name; running siblings halt", () => {
    const threads = {
      entrypoint: threadWith(
        [
          { node: startThreadStep("worker"), mutations: [outputTo("a")] },
          { node: startThreadStep("worker"), mutations: [outputTo("b")] },
          { node: waitStep([ref("a"), ref("b")]) },
        ],
        [threadVar("a", INT), threadVar("b", INT)],
      ),
      worker: threadWith([{ node: task("work") }]),
    };
    const h = new ThreadHarness(threads);
    h.run();
    h.finishTask(1, TaskStatus.TASK_FAILED);
    expect(h.current(0).failures[0]!.failureName).toBe("CHILD_FAILURE");
    expect(h.status(0)).toBe(LHStatus.ERROR);
    expect(h.thread(0).handledFailedChildren).toEqual([]);
    expect(h.status(2)).toBe(LHStatus.HALTING); // its task is in flight
    expect(h.reasons(2)).toEqual(["parentHalted"]);
    h.finishTask(2, TaskStatus.TASK_SUCCESS);
    expect(h.status(2)).toBe(LHStatus.HALTED);

    const e = new ThreadHarness(threads);
    e.run();
    e.finishTask(1, TaskStatus.TASK_EXCEPTION, { exception: { name: "bad", content: value.str("why") } });
    expect(e.status(0)).toBe(LHStatus.EXCEPTION);
    expect(e.current(0).failures[0]).toMatchObject({ failureName: "bad", content: value.str("why") });
  });

  it("B-THR-5 a failed child never waited for fails its parent's EXIT; one whose failure was handled does not", () => {
    const failing = threadWith([], [], { exitFailure: { failureName: "oops", message: "child failed" } });
    const unwaited = new ThreadHarness({
      entrypoint: threadWith([{ node: startThreadStep("child") }]),
      child: failing,
    });
    unwaited.run();
    expect(unwaited.status(0)).toBe(LHStatus.EXCEPTION);
    expect(unwaited.current(0).nodeName).toBe("exit");
    expect(unwaited.current(0).failures[0]!.failureName).toBe("oops");

    const handled = new ThreadHarness({
      entrypoint: parentOf("child", [catching("fix")]),
      child: failing,
      fix: threadWith([]),
    });
    handled.run();
    expect(handled.status(0)).toBe(LHStatus.COMPLETED);
    expect(handled.thread(0).handledFailedChildren).toEqual([1]);
  });
});

describe("failure handlers (B-THR-4)", () => {
  it("B-THR-4 matchFailureHandler takes the first def that matches: exact name, any ERROR, any EXCEPTION, or any", () => {
    const err = errorFailure(LHErrorType.TASK_FAILURE, "x");
    const exn = exceptionFailure("out-of-stock", "x");
    const defs = [
      catching("by-name", { specific: "out-of-stock" }),
      catching("errors", { type: "ERROR" }),
      catching("exceptions", { type: "EXCEPTION" }),
      catching("anything"),
    ];
    expect(matchFailureHandler(defs, exn)?.handlerSpecName).toBe("by-name");
    expect(matchFailureHandler(defs, err)?.handlerSpecName).toBe("errors");
    expect(matchFailureHandler(defs.slice(1), exn)?.handlerSpecName).toBe("exceptions");
    expect(matchFailureHandler([defs[3]!], err)?.handlerSpecName).toBe("anything");
    expect(matchFailureHandler([defs[0]!, defs[1]!], exceptionFailure("other", "x"))).toBeUndefined();
    expect(
      matchFailureHandler([catching("errors", { specific: "TASK_FAILURE" })], err)?.handlerSpecName,
    ).toBe("errors");
  });

  it("B-THR-4 RUNNING → HALTED (pending failure, then handling failure) → RUNNING: the handler gets the content in INPUT and the thread goes on along the node's edge without its mutations", () => {
    const h = new ThreadHarness({
      entrypoint: threadWith(
        [
          {
            node: task("work"),
            handlers: [catching("fix", { specific: "no-stock" })],
            mutations: [mutate("after", VariableMutationType.ASSIGN, lit(value.str("mutated")))],
          },
          { node: nopStep() },
        ],
        [threadVar("after", VariableType.STR), threadVar("got", VariableType.STR)],
      ),
      fix: threadWith(
        [
          {
            node: eventStep("release"),
            mutations: [mutate("got", VariableMutationType.ASSIGN, ref("INPUT"))],
          },
        ],
        [threadVar("INPUT", VariableType.STR)],
      ),
    });
    h.run();
    h.finishTask(0, TaskStatus.TASK_EXCEPTION, {
      exception: { name: "no-stock", content: value.str("restock") },
    });
    expect(h.status(0)).toBe(LHStatus.HALTED);
    expect(h.thread(0).haltReasons).toEqual([
      expect.objectContaining({
        reason: { case: "handlingFailure", value: expect.objectContaining({ handlerThreadId: 1 }) },
      }),
    ]);
    expect(h.state.wfRun.pendingFailures).toEqual([]);
    const handler = h.thread(1);
    expect(handler).toMatchObject({
      type: ThreadType.FAILURE_HANDLER,
      parentThreadId: 0,
      status: LHStatus.RUNNING,
    });
    expect(handler.failureBeingHandled).toMatchObject({
      threadRunNumber: 0,
      nodeRunPosition: 1,
      failureNumber: 0,
    });
    expect(h.variable("INPUT", 1)).toEqual(value.str("restock"));
    const failed = h.nodeRun(0, 1);
    expect(failed.failures[0]).toMatchObject({ failureHandlerThreadrunId: 1, wasProperlyHandled: false });
    expect(failed.failureHandlerIds).toEqual([1]);

    h.post("release");
    expect(h.status(1)).toBe(LHStatus.COMPLETED);
    expect(h.nodeRun(0, 1).failures[0]!.wasProperlyHandled).toBe(true);
    expect(h.status(0)).toBe(LHStatus.COMPLETED);
    expect(h.nodeRun(0, 2).nodeName).toBe("n2");
    expect(h.variable("got")).toEqual(value.str("restock"));
    expect(h.variable("after")).toEqual(expect.objectContaining({ value: { case: undefined } }));
  });

  it("B-THR-4 a pending failure waits for the thread's children to halt before the handler starts", () => {
    const h = new ThreadHarness({
      entrypoint: threadWith([
        { node: startThreadStep("busy") },
        { node: task("work"), handlers: [catching("fix")] },
      ]),
      busy: threadWith([{ node: task("work") }]),
      fix: threadWith([]),
    });
    h.run();
    h.finishTask(0, TaskStatus.TASK_FAILED);
    expect(h.status(0)).toBe(LHStatus.HALTING);
    expect(h.reasons(0)).toEqual(["pendingFailure"]);
    expect(h.state.wfRun.pendingFailures).toEqual([
      expect.objectContaining({ failedThreadRun: 0, handlerSpecName: "fix" }),
    ]);
    expect(h.status(1)).toBe(LHStatus.HALTING);
    expect(h.state.wfRun.threadRuns).toHaveLength(2);
    h.finishTask(1, TaskStatus.TASK_SUCCESS);
    // child HALTED → parent HALTED → handler 2 ran and completed → both resume and finish
    expect(h.thread(2)).toMatchObject({ type: ThreadType.FAILURE_HANDLER, status: LHStatus.COMPLETED });
    expect(h.state.wfRun.pendingFailures).toEqual([]);
    expect(h.state.wfRun.status).toBe(LHStatus.COMPLETED);
  });

  it("B-THR-4 when the handler fails, the thread fails with the handler's failure", () => {
    const h = new ThreadHarness({
      entrypoint: threadWith([{ node: task("work"), handlers: [catching("broken")] }]),
      broken: threadWith([], [], { exitFailure: { failureName: "gave-up", message: "handler gave up" } }),
    });
    h.run();
    h.finishTask(0, TaskStatus.TASK_FAILED);
    expect(h.status(1)).toBe(LHStatus.EXCEPTION);
    expect(h.status(0)).toBe(LHStatus.EXCEPTION);
    expect(h.thread(0).errorMessage).toBe("handler gave up");
    expect(h.thread(0).haltReasons).toEqual([]);
    expect(h.nodeRun(0, 1).failures[0]).toMatchObject({
      failureHandlerThreadrunId: 1,
      wasProperlyHandled: false,
    });
  });

  it("B-THR-2 a per-thread failure handler runs as a child of the failed child; when it completes the child counts as handled", () => {
    const h = new ThreadHarness({
      entrypoint: parentOf("child", []),
      child: threadWith([{ node: task("work") }]),
      fix: threadWith([{ node: eventStep("release") }]),
    });
    // the per-thread handler goes on the WAIT_FOR_THREADS node itself
    const wait = h.wfSpec.threadSpecs.entrypoint!.nodes.n2!;
    if (wait.node.case === "waitForThreads") wait.node.value.perThreadFailureHandlers = [catching("fix")];
    h.run();
    h.finishTask(1, TaskStatus.TASK_FAILED);
    expect(h.thread(2)).toMatchObject({
      type: ThreadType.FAILURE_HANDLER,
      parentThreadId: 1,
      status: LHStatus.RUNNING,
    });
    const entry = () => {
      const n = h.current(0);
      return n.nodeType.case === "waitThreads" ? n.nodeType.value.threads[0]! : undefined;
    };
    expect(entry()).toMatchObject({
      waitingStatus: Waiting.THREAD_HANDLING_FAILURE,
      failureHandlerThreadRunId: 2,
    });
    expect(h.nodeRun(1, 1).failures[0]!.failureHandlerThreadrunId).toBe(2);
    const waitRun = h.current(0);
    h.post("release");
    expect(waitRun.status).toBe(LHStatus.COMPLETED);
    expect(waitRun.nodeType.case === "waitThreads" && waitRun.nodeType.value.threads[0]).toMatchObject({
      waitingStatus: Waiting.THREAD_COMPLETED_OR_FAILURE_HANDLED,
    });
    expect(h.thread(0).handledFailedChildren).toEqual([1]);
    expect(h.state.wfRun.status).toBe(LHStatus.COMPLETED);
  });
});

describe("RescueThreadRun (B-THR-10)", () => {
  const oneTask = () => ({ entrypoint: threadWith([{ node: task("work") }]) });

  it("B-THR-10 ERROR → RUNNING: the failed node runs again as a new NodeRun; with skip_current_node the thread takes the node's edge", () => {
    const h = new ThreadHarness(oneTask());
    h.run();
    h.finishTask(0, TaskStatus.TASK_FAILED);
    h.takeEffects();
    h.rescue(0);
    expect(h.state.wfRun.status).toBe(LHStatus.RUNNING);
    expect(h.thread(0)).toMatchObject({
      status: LHStatus.RUNNING,
      currentNodePosition: 2,
      endTime: undefined,
    });
    expect(h.current(0).nodeName).toBe("n1");
    expect(h.takeEffects()).toContainEqual(
      expect.objectContaining({ kind: "dispatchTask", attemptNumber: 0 }),
    );
    h.finishTask(0, TaskStatus.TASK_SUCCESS);
    expect(h.state.wfRun.status).toBe(LHStatus.COMPLETED);

    const s = new ThreadHarness(oneTask());
    s.run();
    s.finishTask(0, TaskStatus.TASK_FAILED);
    s.rescue(0, true);
    expect(s.state.wfRun.status).toBe(LHStatus.COMPLETED);
    expect(s.current(0).nodeName).toBe("exit");
  });

  it("B-THR-10 rescue refuses threads that did not fail, failures that went to a handler or that a parent handled, and unknown numbers", () => {
    const running = new ThreadHarness(oneTask());
    running.run();
    expect(() => running.rescue(0)).toThrow(FailedPreconditionError);
    expect(() => running.rescue(3)).toThrow(InvalidArgumentError);

    const viaHandler = new ThreadHarness({
      entrypoint: threadWith([{ node: task("work"), handlers: [catching("broken")] }]),
      broken: threadWith([], [], { exitFailure: { failureName: "gave-up", message: "no" } }),
    });
    viaHandler.run();
    viaHandler.finishTask(0, TaskStatus.TASK_FAILED);
    expect(() => viaHandler.rescue(0)).toThrow(/failure handler thread 1/);

    const handledByParent = new ThreadHarness({
      entrypoint: parentOf("child", [catching("fix")]),
      child: threadWith([], [], { exitFailure: { failureName: "oops", message: "x" } }),
      fix: threadWith([]),
    });
    handledByParent.run();
    expect(handledByParent.state.wfRun.status).toBe(LHStatus.COMPLETED);
    expect(() => handledByParent.rescue(1)).toThrow(/already handled the failure of thread 1/);
  });

  it("B-THR-10 rescuing a child revives the parent whose WAIT_FOR_THREADS re-threw its failure", () => {
    const h = new ThreadHarness({
      entrypoint: parentOf("child"),
      child: threadWith([{ node: task("work") }]),
    });
    h.run();
    h.finishTask(1, TaskStatus.TASK_FAILED);
    expect(h.state.wfRun.status).toBe(LHStatus.ERROR);
    h.rescue(1);
    expect(h.status(0)).toBe(LHStatus.RUNNING);
    expect(h.current(0).nodeName).toBe("n2");
    expect(h.thread(0).currentNodePosition).toBe(3);
    h.finishTask(1, TaskStatus.TASK_SUCCESS);
    expect(h.state.wfRun.status).toBe(LHStatus.COMPLETED);
  });

  it("B-THR-10 skipping a failed WAIT_FOR_THREADS counts the children it re-threw as handled, so EXIT does not re-throw them", () => {
    const h = new ThreadHarness({
      entrypoint: parentOf("child"),
      child: threadWith([{ node: task("work") }]),
    });
    h.run();
    h.finishTask(1, TaskStatus.TASK_FAILED);
    h.rescue(0); // runs the wait again: still failed
    expect(h.status(0)).toBe(LHStatus.ERROR);
    h.rescue(0, true);
    expect(h.thread(0).handledFailedChildren).toEqual([1]);
    expect(h.state.wfRun.status).toBe(LHStatus.COMPLETED);
  });
});

describe("ThreadRetentionPolicy (B-THR-12)", () => {
  it("B-THR-12 a terminated thread gets a removal timer; removal drops it and its number is never reused; running threads and the entrypoint stay", () => {
    const h = new ThreadHarness({
      entrypoint: threadWith([
        { node: startThreadStep("quick") },
        { node: startThreadStep("slow") },
        { node: eventStep("go") },
        { node: startThreadStep("quick") },
        { node: eventStep("go") },
      ]),
      quick: threadWith([], [], { retentionSeconds: 5 }),
      slow: threadWith([{ node: eventStep("release") }], [], { retentionSeconds: 5 }),
    });
    h.run();
    expect(h.takeEffects()).toContainEqual({
      kind: "armTimer",
      key: "thread-retention/1",
      dueMs: h.nowMs + 5000,
      command: { kind: "threadExpired", threadRunNumber: 1 },
    });
    expect(h.apply({ kind: "threadExpired", threadRunNumber: 2 })).toBe(false); // still running
    expect(h.apply({ kind: "threadExpired", threadRunNumber: 0 })).toBe(false);
    expect(h.apply({ kind: "threadExpired", threadRunNumber: 1 })).toBe(true);
    expect(h.state.wfRun.threadRuns.map((t) => t.number)).toEqual([0, 2]);
    expect(h.thread(0).childThreadIds).toEqual([2]);
    h.post("go");
    expect(h.state.wfRun.threadRuns.map((t) => t.number)).toEqual([0, 2, 3]);
    expect(h.state.wfRun.greatestThreadrunNumber).toBe(3);
  });
});

describe("turns", () => {
  const nopChain = (n: number) => threadWith(Array.from({ length: n }, () => ({ node: nopStep() })));
  const continued = (h: ThreadHarness) =>
    h.takeEffects().filter((e) => e.kind === "armTimer" && e.command.kind === "wfRunContinued");

  it("a WfRun stops after maxNodeRunsPerTurn NodeRuns, resting between nodes, and goes on in later turns to the same end", () => {
    const h = new ThreadHarness({ entrypoint: nopChain(25) });
    h.maxNodeRunsPerTurn = 10;
    h.run();
    expect(h.status(0)).toBe(LHStatus.RUNNING);
    expect(h.thread(0).currentNodePosition).toBe(9); // ten NodeRuns: positions 0 to 9
    expect(continued(h)).toEqual([expect.objectContaining({ key: "continue", dueMs: h.nowMs })]);
    let turns = 1;
    while (h.status(0) === LHStatus.RUNNING) {
      expect(h.apply({ kind: "wfRunContinued" })).toBe(true);
      turns++;
      if (h.status(0) === LHStatus.RUNNING) expect(continued(h)).toHaveLength(1);
    }
    // 27 NodeRuns (entrypoint, 25 NOPs, exit) in turns of 10
    expect(turns).toBe(3);
    expect(h.status(0)).toBe(LHStatus.COMPLETED);
    expect(continued(h)).toEqual([]);
  });

  it("without a turn budget the same WfRun completes in one command", () => {
    const h = new ThreadHarness({ entrypoint: nopChain(25) });
    h.run();
    expect(h.status(0)).toBe(LHStatus.COMPLETED);
    expect(continued(h)).toEqual([]);
  });

  it("guard: the tight-loop guard counts NodeRuns across turns until the WfRun hears from outside", () => {
    // a NOP loop: it never waits, so only the guard stops it, at 100 NodeRuns whatever the turns
    const loop = threadWith([{ node: nopStep(), next: "n1" }]);
    const h = new ThreadHarness({ entrypoint: loop });
    h.maxNodeRunsPerTurn = 30;
    h.run({}, 100);
    let turns = 1;
    while (h.status(0) === LHStatus.RUNNING && turns < 50) {
      h.apply({ kind: "wfRunContinued" });
      turns++;
    }
    expect(h.status(0)).toBe(LHStatus.ERROR);
    expect(h.thread(0).errorMessage).toMatch(/more than 1000 nodes without waiting for anything outside/);
    expect(turns).toBeGreaterThan(1);
  });
});

describe("guards", () => {
  it("guard: the NodeRun budget counts a thread's NodeRuns over the whole command, across rounds", () => {
    const root = threadWith(
      [
        { node: startThreadStep("quick"), mutations: [outputTo("n")] },
        { node: waitStep([ref("n")]), next: "n1" },
      ],
      [threadVar("n", INT)],
    );
    const h = new ThreadHarness({ entrypoint: root, quick: threadWith([]) });
    h.run({}, 100);
    expect(h.status(0)).toBe(LHStatus.ERROR);
    expect(h.thread(0).errorMessage).toMatch(/more than 100 nodes without waiting for anything outside/);
    expect(h.thread(0).currentNodePosition).toBe(100);
  });

  it("guard: a START_THREAD that would pass the live-thread limit fails with INTERNAL_ERROR; terminated threads do not count", () => {
    const h = new ThreadHarness({
      entrypoint: threadWith([{ node: startThreadStep("sleeper"), next: "n1" }]),
      sleeper: threadWith([{ node: eventStep("go") }]),
    });
    h.run();
    expect(h.state.wfRun.threadRuns).toHaveLength(100); // the harness allows 100 live threads
    expect(h.current(0).failures[0]).toMatchObject({
      failureName: "INTERNAL_ERROR",
      message: expect.stringMatching(/limit of 100 live threads/),
    });
    expect(h.status(99)).toBe(LHStatus.HALTED); // children halt with their failed parent

    // a loop that waits for each child: they end before the next starts, so the limit is never reached
    const quick = new ThreadHarness({
      entrypoint: threadWith(
        [
          { node: startThreadStep("done"), mutations: [outputTo("n")] },
          { node: waitStep([ref("n")]), next: "n1" },
        ],
        [threadVar("n", INT)],
      ),
      done: threadWith([]),
    });
    quick.run({}, 500);
    expect(quick.thread(0).errorMessage).toMatch(/more than 500 nodes/); // the NodeRun guard, not the thread one
    expect(quick.state.wfRun.threadRuns).toHaveLength(251);
    // the count kept as threads start and end is the count of threads not terminated
    for (const harness of [h, quick]) {
      const live = harness.state.wfRun.threadRuns.filter((t) => !isTerminal(t.status)).length;
      expect(harness.state.liveThreads).toBe(live);
      expect(liveThreadCount(harness.state)).toBe(live);
    }
  });

  it("guard: a WfRun still moving after 10,000 rounds without hearing from outside fails the moving threads and their ancestors", () => {
    const link = (child: string) =>
      threadWith(
        [{ node: startThreadStep(child), mutations: [outputTo("n")] }, { node: waitStep([ref("n")]) }],
        [threadVar("n", INT)],
      );
    const root = threadWith(
      [
        { node: startThreadStep("b"), mutations: [outputTo("n")] },
        { node: waitStep([ref("n")]), next: "n1" },
      ],
      [threadVar("n", INT)],
    );
    const h = new ThreadHarness({
      entrypoint: root,
      b: link("c"),
      c: link("d"),
      d: link("e"),
      e: threadWith([]),
    });
    h.run({}, 1_000_000);
    expect(h.state.wfRun.status).toBe(LHStatus.ERROR);
    expect(h.thread(0).errorMessage).toMatch(/still moving after 10000 rounds without hearing from outside/);
    expect(h.state.wfRun.threadRuns.filter((t) => t.status === LHStatus.RUNNING)).toEqual([]);
  });
});
