import { describe, expect, it } from "vitest";
import { LHStatus, TaskStatus, VariableMutationType } from "@pony/proto";
import { create } from "@bufbuild/protobuf";
import { VariableMutationSchema } from "@pony/proto";
import { InvalidArgumentError } from "../../src";
import {
  edge,
  linearThread,
  lit,
  nopNode,
  task,
  taskDef,
  ref,
  threadVar,
  value,
  VariableType,
} from "../metadata/fixtures";
import { EngineHarness } from "./harness";
import { Comparator, EdgeConditionSchema, NodeSchema, ThreadSpecSchema } from "@pony/proto";

const oneTask = () => ({ entrypoint: linearThread([task("work")]) });

describe("WfRun state machine (pure engine)", () => {
  it("B-RUN-4 RunWf advances to the first TASK node and asks for a dispatch", () => {
    const h = new EngineHarness(oneTask());
    const s = h.run();
    expect(s.wfRun.status).toBe(LHStatus.RUNNING);
    expect(s.wfRun.threadRuns[0]!.currentNodePosition).toBe(1);
    expect(h.takeEffects()).toEqual([
      { kind: "dispatchTask", taskDefName: "work", taskGuid: "guid1", attemptNumber: 0 },
    ]);
    const taskRun = s.taskRuns.get("guid1")!;
    expect(taskRun.status).toBe(TaskStatus.TASK_SCHEDULED);
    expect(taskRun.totalAttempts).toBe(1);
    expect(taskRun.timeoutSeconds).toBe(15);
  });

  it("B-TASK-3 B-TASK-4 claim then success completes the node and the WfRun", () => {
    const h = new EngineHarness(oneTask());
    h.run();
    h.takeEffects();
    expect(h.claim("guid1")).toBe(true);
    const armed = h.takeEffects();
    expect(armed[0]).toMatchObject({
      kind: "armTimer",
      key: "task-timeout/guid1/0",
      dueMs: h.nowMs + 15_000,
    });
    expect(h.report("guid1", 0, TaskStatus.TASK_SUCCESS, value.str("done"))).toBe(true);
    expect(h.state.wfRun.status).toBe(LHStatus.COMPLETED);
    expect(h.state.wfRun.endTime).toBeDefined();
    expect(h.takeEffects()).toEqual([
      { kind: "cancelTimer", key: "task-timeout/guid1/0" },
      { kind: "wfRunEnded", status: LHStatus.COMPLETED },
    ]);
  });

  it("B-TASK-4 a duplicate or late report changes nothing", () => {
    const h = new EngineHarness(oneTask());
    h.run();
    expect(h.report("guid1", 0, TaskStatus.TASK_SUCCESS)).toBe(false); // not yet claimed
    h.claim("guid1");
    expect(h.report("guid1", 0, TaskStatus.TASK_SUCCESS)).toBe(true);
    expect(h.report("guid1", 0, TaskStatus.TASK_FAILED)).toBe(false);
    expect(h.state.wfRun.status).toBe(LHStatus.COMPLETED);
  });

  it("B-TASK-5 a failed attempt is retried at once while attempts remain, then the node fails", () => {
    const spec = linearThread([
      {
        node: {
          case: "task",
          value: { taskToExecute: { case: "taskDefId", value: { name: "work" } }, retries: 1 },
        },
      },
    ]);
    const h = new EngineHarness({ entrypoint: spec });
    h.run();
    h.claim("guid1", 0);
    h.takeEffects();
    h.report("guid1", 0, TaskStatus.TASK_FAILED);
    expect(h.takeEffects()).toContainEqual({
      kind: "dispatchTask",
      taskDefName: "work",
      taskGuid: "guid1",
      attemptNumber: 1,
    });
    h.claim("guid1", 1);
    h.report("guid1", 1, TaskStatus.TASK_FAILED);
    expect(h.state.wfRun.status).toBe(LHStatus.ERROR);
    const taskRun = h.state.taskRuns.get("guid1")!;
    expect(taskRun.attempts.map((a) => a.status)).toEqual([TaskStatus.TASK_FAILED, TaskStatus.TASK_FAILED]);
    expect(taskRun.status).toBe(TaskStatus.TASK_FAILED);
  });

  it("B-TASK-5 exponential backoff puts the retry in TASK_PENDING for base * multiplier^(n-1)", () => {
    const spec = linearThread([
      {
        node: {
          case: "task",
          value: {
            taskToExecute: { case: "taskDefId", value: { name: "work" } },
            retries: 2,
            exponentialBackoff: { baseIntervalMs: 100, multiplier: 3, maxDelayMs: 250n },
          },
        },
      },
    ]);
    const h = new EngineHarness({ entrypoint: spec });
    h.run();
    h.claim("guid1", 0);
    h.takeEffects();
    h.report("guid1", 0, TaskStatus.TASK_FAILED);
    const taskRun = h.state.taskRuns.get("guid1")!;
    expect(taskRun.status).toBe(TaskStatus.TASK_PENDING);
    expect(h.takeEffects()).toContainEqual(
      expect.objectContaining({ kind: "armTimer", key: "task-backoff/guid1/1", dueMs: h.nowMs + 100 }),
    );
    h.apply({ kind: "taskBackoffElapsed", taskGuid: "guid1", attemptNumber: 1 });
    expect(taskRun.status).toBe(TaskStatus.TASK_SCHEDULED);
    h.claim("guid1", 1);
    h.takeEffects();
    h.report("guid1", 1, TaskStatus.TASK_FAILED);
    // 100 * 3^1 = 300, capped at 250
    expect(h.takeEffects()).toContainEqual(
      expect.objectContaining({ kind: "armTimer", dueMs: h.nowMs + 250 }),
    );
  });

  it("B-TASK-7 a timeout of the running attempt fails it with TASK_TIMEOUT; a stale timeout does nothing", () => {
    const h = new EngineHarness(oneTask());
    h.run();
    expect(h.apply({ kind: "taskAttemptTimedOut", taskGuid: "guid1", attemptNumber: 0 })).toBe(false);
    h.claim("guid1");
    expect(h.apply({ kind: "taskAttemptTimedOut", taskGuid: "guid1", attemptNumber: 0 })).toBe(true);
    expect(h.state.wfRun.status).toBe(LHStatus.ERROR);
    expect(h.state.wfRun.threadRuns[0]!.errorMessage).toMatch(/timed out/);
  });

  it("B-TASK-6 an exception fails the thread with EXCEPTION and is never retried", () => {
    const h = new EngineHarness(oneTask());
    h.run();
    h.claim("guid1");
    h.apply({
      kind: "taskReported",
      report: {
        $typeName: "littlehorse.ReportTaskRun",
        taskRunId: { $typeName: "littlehorse.TaskRunId", wfRunId: h.state.wfRun.id, taskGuid: "guid1" },
        attemptNumber: 0,
        status: TaskStatus.TASK_EXCEPTION,
        result: {
          case: "exception",
          value: { $typeName: "littlehorse.LHTaskException", name: "out-of-stock", message: "none left" },
        },
      },
    });
    expect(h.state.wfRun.status).toBe(LHStatus.EXCEPTION);
  });

  it("B-RUN-3 RunWf rejects undeclared and wrongly typed variables", () => {
    const h = new EngineHarness({
      entrypoint: linearThread([], [threadVar("n", VariableType.INT, { required: true })]),
    });
    expect(() => h.run({})).toThrow(InvalidArgumentError);
    expect(() => h.run({ other: value.int(1) })).toThrow(/not declared/);
    expect(() => h.run({ n: value.str("x") })).toThrow(InvalidArgumentError);
    expect(h.run({ n: value.int(3) }).wfRun.status).toBe(LHStatus.COMPLETED);
  });

  it("B-RUN-11 a loop of NOP nodes runs until its condition fails, positions increasing", () => {
    const inc = create(VariableMutationSchema, {
      lhsName: "i",
      operation: VariableMutationType.ADD,
      rhsValue: { case: "literalValue", value: value.int(1) },
    });
    const loop = create(ThreadSpecSchema, {
      variableDefs: [threadVar("i", VariableType.INT, { defaultValue: value.int(0) })],
      nodes: {
        entrypoint: create(NodeSchema, {
          node: { case: "entrypoint", value: {} },
          outgoingEdges: [edge("loop")],
        }),
        loop: nopNode(
          edge("loop", {
            condition: create(EdgeConditionSchema, {
              comparator: Comparator.LESS_THAN,
              left: ref("i"),
              right: lit(value.int(5)),
            }),
            variableMutations: [inc],
          }),
          edge("exit"),
        ),
        exit: create(NodeSchema, { node: { case: "exit", value: {} } }),
      },
    });
    const h = new EngineHarness({ entrypoint: loop });
    h.run();
    expect(h.state.wfRun.status).toBe(LHStatus.COMPLETED);
    expect(h.variable("i")).toEqual(value.int(5));
    expect(h.state.wfRun.threadRuns[0]!.currentNodePosition).toBe(7); // entry, 6 × loop, exit
  });

  it("guard: a tight loop fails the thread instead of running forever", () => {
    const forever = create(ThreadSpecSchema, {
      nodes: {
        entrypoint: create(NodeSchema, {
          node: { case: "entrypoint", value: {} },
          outgoingEdges: [edge("loop")],
        }),
        loop: nopNode(edge("loop")),
        exit: create(NodeSchema, { node: { case: "exit", value: {} } }),
      },
    });
    const h = new EngineHarness({ entrypoint: forever });
    h.run({}, 50);
    expect(h.state.wfRun.status).toBe(LHStatus.ERROR);
    expect(h.state.wfRun.threadRuns[0]!.errorMessage).toMatch(/more than 50 nodes/);
  });

  it("B-META-8 a TASK node whose TaskDef is gone fails with a message naming it", () => {
    const h = new EngineHarness(oneTask(), { taskDefs: [taskDef("work", [])] });
    h.taskDefs.length = 0;
    h.run();
    expect(h.state.wfRun.status).toBe(LHStatus.ERROR);
    expect(h.state.wfRun.threadRuns[0]!.errorMessage).toMatch(/TaskDef 'work' does not exist/);
  });
});
