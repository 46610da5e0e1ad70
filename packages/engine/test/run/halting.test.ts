/**
 * The halt / resume machinery in the pure engine: halt reasons and the RUNNING ⇄ HALTING ⇄ HALTED
 * transitions they drive, interruptibility, children halting with their parent, interrupts (B-THR-7…9).
 */
import { describe, expect, it } from "vitest";
import { LHStatus, ThreadType, VariableMutationType } from "@pony/proto";
import { InvalidArgumentError } from "../../src";
import { lit, ref, threadVar, value, VariableType } from "../metadata/fixtures";
import {
  TaskStatus,
  ThreadHarness,
  eventStep,
  mutate,
  nopStep,
  outputTo,
  startThreadStep,
  threadWith,
  waitStep,
} from "./harness";

const taskStep = (retries = 0) => ({
  node: {
    node: {
      case: "task" as const,
      value: { taskToExecute: { case: "taskDefId" as const, value: { name: "work" } }, retries },
    },
  },
});
const waitsForGo = () => threadWith([{ node: eventStep("go") }]);
const logInput = () =>
  threadWith(
    [{ node: nopStep(), mutations: [mutate("log", VariableMutationType.ADD, ref("INPUT"))] }],
    [threadVar("INPUT", VariableType.STR)],
  );
const LOG = threadVar("log", VariableType.JSON_ARR, { defaultValue: value.jsonArr("[]") });

describe("manual halt (B-THR-9)", () => {
  it("B-THR-9 B-THR-8 RUNNING → HALTED at once at an EXTERNAL_EVENT; the WfRun mirrors thread 0; ResumeWfRun → RUNNING and the thread goes on", () => {
    const h = new ThreadHarness({ entrypoint: waitsForGo() });
    h.run();
    expect(h.stop()).toBe(true);
    expect(h.status(0)).toBe(LHStatus.HALTED);
    expect(h.state.wfRun.status).toBe(LHStatus.HALTED);
    expect(h.reasons(0)).toEqual(["manualHalt"]);
    expect(h.stop()).toBe(false); // one manual halt only
    h.post("go");
    expect(h.current(0).status).toBe(LHStatus.RUNNING); // not taken while halted
    expect(h.resume()).toBe(true);
    expect(h.state.wfRun.status).toBe(LHStatus.COMPLETED);
    expect(h.resume()).toBe(false);
  });

  it("B-THR-9 StopWfRun / ResumeWfRun name a thread of the WfRun; a terminated thread is left alone", () => {
    const h = new ThreadHarness({ entrypoint: waitsForGo() });
    h.run();
    expect(() => h.stop(4)).toThrow(InvalidArgumentError);
    expect(() => h.resume(4)).toThrow(InvalidArgumentError);
    h.post("go");
    expect(h.stop()).toBe(false);
    expect(h.status(0)).toBe(LHStatus.COMPLETED);
  });

  it("B-THR-8 a TaskRun in flight (scheduled or running) keeps the thread HALTING; once its attempt is reported it is HALTED and stays at the node", () => {
    const h = new ThreadHarness({ entrypoint: threadWith([taskStep()]) });
    h.run();
    h.stop();
    expect(h.status(0)).toBe(LHStatus.HALTING); // TASK_SCHEDULED
    expect(h.state.wfRun.status).toBe(LHStatus.HALTING);
    h.claim(h.taskOf(0));
    expect(h.status(0)).toBe(LHStatus.HALTING); // TASK_RUNNING
    h.finishTask(0, TaskStatus.TASK_SUCCESS);
    expect(h.status(0)).toBe(LHStatus.HALTED);
    expect(h.current(0)).toMatchObject({ nodeName: "n1", status: LHStatus.COMPLETED });
    h.resume();
    expect(h.state.wfRun.status).toBe(LHStatus.COMPLETED);
  });

  it("B-THR-8 an attempt that times out ends the halting too; the failure is dealt with once the thread resumes", () => {
    const h = new ThreadHarness({ entrypoint: threadWith([taskStep()]) });
    h.run();
    const guid = h.taskOf(0);
    h.claim(guid);
    h.stop();
    expect(h.status(0)).toBe(LHStatus.HALTING);
    h.apply({ kind: "taskAttemptTimedOut", taskGuid: guid, attemptNumber: 0 });
    expect(h.status(0)).toBe(LHStatus.HALTED);
    expect(h.current(0).status).toBe(LHStatus.ERROR);
    h.resume();
    expect(h.status(0)).toBe(LHStatus.ERROR);
    expect(h.current(0).failures[0]!.failureName).toBe("TIMEOUT");
  });

  it("B-THR-8 as in LittleHorse, a TaskRun is interruptible only when it is done: a retry keeps the thread HALTING", () => {
    const h = new ThreadHarness({ entrypoint: threadWith([taskStep(1)]) });
    h.run();
    h.stop();
    h.finishTask(0, TaskStatus.TASK_FAILED);
    expect(h.state.taskRuns.get(h.taskOf(0))!.attempts).toHaveLength(2);
    expect(h.status(0)).toBe(LHStatus.HALTING);
    h.finishTask(0, TaskStatus.TASK_SUCCESS);
    expect(h.status(0)).toBe(LHStatus.HALTED);
  });

  it("B-THR-8 a SLEEP halts at once; it matures while halted and the thread goes on after the resume", () => {
    const h = new ThreadHarness({
      entrypoint: threadWith([
        {
          node: {
            node: {
              case: "sleep",
              value: { sleepLength: { case: "rawSeconds", value: lit(value.int(30)) } },
            },
          },
        },
      ]),
    });
    h.run();
    h.stop();
    expect(h.status(0)).toBe(LHStatus.HALTED);
    h.apply({ kind: "sleepMatured", threadRunNumber: 0, nodeRunPosition: 1 });
    expect(h.current(0).status).toBe(LHStatus.COMPLETED);
    expect(h.status(0)).toBe(LHStatus.HALTED);
    h.resume();
    expect(h.state.wfRun.status).toBe(LHStatus.COMPLETED);
  });
});

describe("children halt with their parent (B-THR-8)", () => {
  it("B-THR-8 a halted parent halts its CHILD threads (parent halted) and is HALTED only once they are", () => {
    const h = new ThreadHarness({
      entrypoint: threadWith(
        [{ node: startThreadStep("busy"), mutations: [outputTo("n")] }, { node: waitStep([ref("n")]) }],
        [threadVar("n", VariableType.INT)],
      ),
      busy: threadWith([taskStep()]),
    });
    h.run();
    h.stop(0);
    expect(h.status(0)).toBe(LHStatus.HALTING);
    expect(h.status(1)).toBe(LHStatus.HALTING);
    expect(h.thread(1).haltReasons[0]!.reason).toMatchObject({
      case: "parentHalted",
      value: { parentThreadId: 0 },
    });
    h.finishTask(1, TaskStatus.TASK_SUCCESS);
    expect([h.status(0), h.status(1)]).toEqual([LHStatus.HALTED, LHStatus.HALTED]);
    expect(h.current(1).nodeName).toBe("n1"); // the child does not move on while halted
    h.resume(0);
    expect(h.reasons(1)).toEqual([]);
    expect(h.state.wfRun.status).toBe(LHStatus.COMPLETED);
  });

  it("B-THR-8 a child does not move in the same command in which its parent fails: it halts instead", () => {
    // the child waits for its own parent; when the parent fails, the child must halt, not react
    const h = new ThreadHarness({
      entrypoint: threadWith(
        [
          { node: startThreadStep("watcher") },
          taskStep(),
          { node: nopStep(), mutations: [mutate("n", VariableMutationType.DIVIDE, lit(value.int(0)))] },
        ],
        [threadVar("n", VariableType.INT, { defaultValue: value.int(1) })],
      ),
      watcher: threadWith([{ node: waitStep([lit(value.int(0))]) }]),
    });
    h.run();
    expect(h.status(1)).toBe(LHStatus.RUNNING);
    h.finishTask(0, TaskStatus.TASK_SUCCESS);
    expect(h.status(0)).toBe(LHStatus.ERROR);
    expect(h.status(1)).toBe(LHStatus.HALTED);
    expect(h.reasons(1)).toEqual(["parentHalted"]);
    expect(h.current(1).status).toBe(LHStatus.RUNNING);
  });

  it("B-THR-9 a child's own manual halt outlives its parent's halt", () => {
    const h = new ThreadHarness({
      entrypoint: threadWith(
        [{ node: startThreadStep("kid"), mutations: [outputTo("n")] }, { node: waitStep([ref("n")]) }],
        [threadVar("n", VariableType.INT)],
      ),
      kid: waitsForGo(),
    });
    h.run();
    h.stop(1);
    h.stop(0);
    expect(h.reasons(1)).toEqual(["manualHalt", "parentHalted"]);
    h.resume(0);
    expect(h.status(0)).toBe(LHStatus.RUNNING);
    expect([h.status(1), ...h.reasons(1)]).toEqual([LHStatus.HALTED, "manualHalt"]);
    h.resume(1);
    h.post("go");
    expect(h.state.wfRun.status).toBe(LHStatus.COMPLETED);
  });
});

describe("interrupts (B-THR-7)", () => {
  const handlers = {
    onStop: logInput(),
    hold: threadWith([{ node: eventStep("release") }]),
    broken: threadWith([], [], { exitFailure: { failureName: "gave-up", message: "interrupt gave up" } }),
  };
  const interrupted = (handler: keyof typeof handlers = "onStop") =>
    new ThreadHarness({
      entrypoint: threadWith([{ node: eventStep("go") }], [LOG], { interrupts: { stop: handler } }),
      [handler]: handlers[handler],
    });

  it("B-THR-7 pending interrupt → HALTED → INTERRUPT thread with the content in INPUT → RUNNING again; the event is claimed by the interrupt", () => {
    const h = interrupted("hold");
    h.run();
    const event = h.post("stop", value.str("halt!"));
    expect(h.status(0)).toBe(LHStatus.HALTED);
    expect(h.reasons(0)).toEqual(["interrupted"]);
    expect(h.state.wfRun.pendingInterrupts).toEqual([]);
    const handler = h.thread(1);
    expect(handler).toMatchObject({
      type: ThreadType.INTERRUPT,
      parentThreadId: 0,
      status: LHStatus.RUNNING,
    });
    expect(handler.interruptTriggerId).toEqual(event.id);
    expect(h.variable("INPUT", 1)).toEqual(value.str("halt!")); // created although `hold` does not declare it
    expect(h.state.externalEvents.get(`stop/${event.id!.guid}`)?.claimed).toBe(true);
    h.post("release");
    expect(h.status(1)).toBe(LHStatus.COMPLETED);
    expect(h.status(0)).toBe(LHStatus.RUNNING);
    expect(h.reasons(0)).toEqual([]);
  });

  it("B-THR-8 an interrupt waits for the TaskRun in flight: HALTING with a pending interrupt, and the event stays unclaimed until the handler starts", () => {
    const h = new ThreadHarness({
      entrypoint: threadWith([taskStep()], [LOG], { interrupts: { stop: "onStop" } }),
      onStop: logInput(),
    });
    h.run();
    const event = h.post("stop", value.str("a"));
    expect(h.status(0)).toBe(LHStatus.HALTING);
    expect(h.reasons(0)).toEqual(["pendingInterrupt"]);
    expect(h.state.wfRun.pendingInterrupts).toEqual([
      expect.objectContaining({
        externalEventId: event.id,
        handlerSpecName: "onStop",
        interruptedThreadId: 0,
      }),
    ]);
    expect(h.state.externalEvents.get(`stop/${event.id!.guid}`)?.claimed).toBe(false);
    h.finishTask(0, TaskStatus.TASK_SUCCESS);
    // HALTED → the handler ran and completed → the thread went on to the end
    expect(h.thread(1).status).toBe(LHStatus.COMPLETED);
    expect(h.variable("log")).toEqual(value.jsonArr('["a"]'));
    expect(h.state.wfRun.status).toBe(LHStatus.COMPLETED);
  });

  it("B-THR-7 interrupts stack: each gets its own handler and the thread resumes after the last", () => {
    const h = interrupted("hold");
    h.run();
    h.post("stop");
    h.post("stop");
    expect(h.reasons(0)).toEqual(["interrupted", "interrupted"]);
    expect([h.status(1), h.status(2)]).toEqual([LHStatus.RUNNING, LHStatus.RUNNING]);
    h.post("release");
    expect(h.status(0)).toBe(LHStatus.HALTED);
    h.post("release");
    expect(h.status(0)).toBe(LHStatus.RUNNING);
  });

  it("B-THR-7 an interrupt handler that fails fails the interrupted thread", () => {
    const h = interrupted("broken");
    h.run();
    h.post("stop");
    expect(h.status(1)).toBe(LHStatus.EXCEPTION);
    expect(h.status(0)).toBe(LHStatus.EXCEPTION);
    expect(h.thread(0).errorMessage).toBe("interrupt gave up");
    expect(h.reasons(0)).toEqual([]);
  });

  it("B-THR-7 an event naming a thread interrupts only that thread; events for ended threads interrupt nothing", () => {
    const h = new ThreadHarness({
      entrypoint: threadWith(
        [{ node: startThreadStep("kid"), mutations: [outputTo("n")] }, { node: waitStep([ref("n")]) }],
        [threadVar("n", VariableType.INT), LOG],
        { interrupts: { stop: "onStop" } },
      ),
      kid: threadWith([{ node: eventStep("go") }], [], { interrupts: { stop: "hold" } }),
      onStop: logInput(),
      hold: threadWith([{ node: eventStep("release") }]),
    });
    h.run();
    h.post("stop", value.str("kid"), 1);
    expect(h.status(0)).toBe(LHStatus.RUNNING);
    expect(h.status(1)).toBe(LHStatus.HALTED);
    expect(h.thread(2)).toMatchObject({ type: ThreadType.INTERRUPT, parentThreadId: 1 });
    h.post("release");
    h.post("go");
    expect(h.state.wfRun.status).toBe(LHStatus.COMPLETED);
    const before = h.state.wfRun.threadRuns.length;
    h.post("stop", value.str("late"));
    expect(h.state.wfRun.threadRuns).toHaveLength(before);
  });

  it("B-THR-7 B-THR-9 an INTERRUPT thread runs while its parent is interrupted, but halts when the parent is stopped", () => {
    const h = interrupted("hold");
    h.run();
    h.post("stop");
    expect(h.status(1)).toBe(LHStatus.RUNNING);
    h.stop(0);
    expect(h.reasons(0)).toEqual(["interrupted", "manualHalt"]);
    expect(h.status(1)).toBe(LHStatus.HALTED);
    expect(h.reasons(1)).toEqual(["parentHalted"]);
    h.post("release");
    expect(h.current(1).status).toBe(LHStatus.RUNNING); // halted: the event waits
    h.resume(0);
    expect(h.status(1)).toBe(LHStatus.COMPLETED);
    expect(h.status(0)).toBe(LHStatus.RUNNING);
  });

  it("B-THR-7 B-THR-9 an interrupt of a stopped thread starts its handler at once, halted with its parent until ResumeWfRun", () => {
    const h = interrupted();
    h.run();
    h.stop();
    h.post("stop", value.str("x"));
    expect(h.thread(1)).toMatchObject({ type: ThreadType.INTERRUPT, status: LHStatus.HALTED });
    expect(h.reasons(1)).toEqual(["parentHalted"]);
    expect(h.reasons(0)).toEqual(["manualHalt", "interrupted"]);
    h.resume();
    expect(h.thread(1).status).toBe(LHStatus.COMPLETED);
    expect(h.variable("log")).toEqual(value.jsonArr('["x"]'));
    expect(h.status(0)).toBe(LHStatus.RUNNING);
  });
});
