/** USER_TASK nodes, the UserTaskRun state machine and action triggers in the pure engine (B-UT-1…5). */
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import {
  LHStatus,
  TaskStatus,
  UTActionTrigger_UTHook,
  UserTaskDefSchema,
  UserTaskNodeSchema,
  UserTaskRunStatus,
  VariableMutationSchema,
  VariableMutationType,
  type UserTaskRun,
} from "@pony/proto";
import { describe, expect, it } from "vitest";
import {
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  type Effect,
  type WfRunCommand,
} from "../../src";
import {
  format,
  linearThread,
  lit,
  ref,
  taskDef,
  threadVar,
  value,
  VariableType,
} from "../metadata/fixtures";
import { EngineHarness } from "./harness";

type UserTaskInit = MessageInitShape<typeof UserTaskNodeSchema>;

const FIELDS = [
  { name: "approved", type: VariableType.BOOL, required: true },
  { name: "amount", type: VariableType.DOUBLE },
  { name: "note", type: VariableType.STR },
];

/** A WfRun "entrypoint → n1 (USER_TASK) → exit" whose n1 output is assigned to the JSON_OBJ `result`. */
function harness(ut: UserTaskInit = {}): EngineHarness {
  const spec = linearThread(
    [{ node: { case: "userTask", value: { userTaskDefName: "approve", ...ut } } }],
    [threadVar("who", VariableType.STR), threadVar("result", VariableType.JSON_OBJ)],
  );
  spec.nodes.n1!.outgoingEdges[0]!.variableMutations = [
    create(VariableMutationSchema, {
      lhsName: "result",
      operation: VariableMutationType.ASSIGN,
      rhsValue: { case: "nodeOutput", value: {} },
    }),
  ];
  const h = new EngineHarness(
    { entrypoint: spec },
    {
      taskDefs: [taskDef("remind", [["who", VariableType.STR]])],
      userTaskDefs: [
        { name: "approve", version: 0 },
        { name: "approve", version: 1 },
      ],
    },
  );
  h.userTaskDefs.push(
    create(UserTaskDefSchema, {
      name: "approve",
      version: 0,
      fields: [{ name: "old", type: VariableType.STR }],
    }),
    create(UserTaskDefSchema, { name: "approve", version: 1, fields: FIELDS }),
  );
  return h;
}

const nodeRun = (h: EngineHarness) => h.state.nodeRuns.get("0/1")!;
const onlyRun = (h: EngineHarness): UserTaskRun => [...h.state.userTaskRuns.values()][0]!;
const guidOf = (h: EngineHarness) => onlyRun(h).id!.userTaskGuid;
const timers = (effects: Effect[]) => effects.filter((e) => e.kind === "armTimer");
const cancels = (effects: Effect[]) => effects.filter((e) => e.kind === "cancelTimer").map((e) => e.key);

function fire(h: EngineHarness, actionIndex: number, epoch: number): boolean {
  return h.apply({ kind: "userTaskTriggerFired", userTaskGuid: guidOf(h), actionIndex, epoch });
}

/** Applies a command that must throw; checks that it changed nothing. */
function rejects(
  h: EngineHarness,
  command: WfRunCommand,
  type: new (...a: never[]) => Error,
  message: RegExp,
) {
  const before = JSON.stringify([...h.state.userTaskRuns.values()], (_k, v: unknown) =>
    typeof v === "bigint" ? v.toString() : v,
  );
  const effects = h.effects.length;
  expect(() => h.apply(command)).toThrow(type);
  expect(() => h.apply(command)).toThrow(message);
  expect(
    JSON.stringify([...h.state.userTaskRuns.values()], (_k, v: unknown) =>
      typeof v === "bigint" ? v.toString() : v,
    ),
  ).toBe(before);
  expect(h.effects.length).toBe(effects);
}

const uid = (s: string) => lit(value.str(s));

describe("USER_TASK arrival (B-UT-1)", () => {
  it("B-UT-1 creates an ASSIGNED UserTaskRun of the latest UserTaskDef with notes, an audit event and epoch 0", () => {
    const h = harness({
      userId: ref("who"),
      userGroup: uid("finance"),
      notes: format(lit(value.str("please approve for {0}")), ref("who")),
    });
    h.run({ who: value.str("ada") });
    const run = onlyRun(h);
    expect(run.userTaskDefId).toMatchObject({ name: "approve", version: 1 });
    expect(run.status).toBe(UserTaskRunStatus.ASSIGNED);
    expect(run.userId).toBe("ada");
    expect(run.userGroup).toBe("finance");
    expect(run.notes).toBe("please approve for ada");
    expect(run.epoch).toBe(0);
    expect(timestampMs(run.scheduledTime!)).toBe(h.nowMs);
    expect(run.nodeRunId).toMatchObject({ threadRunNumber: 0, position: 1 });
    expect(run.events).toHaveLength(1);
    expect(run.events[0]!.event).toMatchObject({
      case: "assigned",
      value: { newUserId: "ada", newUserGroup: "finance" },
    });
    expect(run.events[0]!.event.value).not.toHaveProperty("oldUserId", expect.anything());
    const n = nodeRun(h);
    expect(n.status).toBe(LHStatus.RUNNING);
    expect(n.nodeType.case).toBe("userTask");
    expect(n.nodeType.case === "userTask" && n.nodeType.value.userTaskRunId?.userTaskGuid).toBe(guidOf(h));
    expect(h.state.changes.userTaskRuns.has(guidOf(h))).toBe(true);
    expect(h.state.wfRun.status).toBe(LHStatus.RUNNING);
  });

  it("B-UT-1 uses the pinned user_task_def_version", () => {
    const h = harness({ userGroup: uid("finance"), userTaskDefVersion: 0 });
    h.run();
    expect(onlyRun(h).userTaskDefId).toMatchObject({ name: "approve", version: 0 });
  });

  it("B-UT-1 a group only makes it UNASSIGNED; null and empty owners count as unset", () => {
    const h = harness({ userId: ref("who"), userGroup: uid("finance") });
    h.run(); // who is null
    expect(onlyRun(h).status).toBe(UserTaskRunStatus.UNASSIGNED);
    expect(onlyRun(h).userId).toBeUndefined();
    const h2 = harness({ userId: uid(""), userGroup: uid("ops") });
    h2.run();
    expect(onlyRun(h2).status).toBe(UserTaskRunStatus.UNASSIGNED);
  });

  it("B-UT-1 neither a user nor a group fails the node with VAR_SUB_ERROR; a missing UserTaskDef with TASK_FAILURE", () => {
    const h = harness({ userId: ref("who") });
    h.run();
    expect(h.state.userTaskRuns.size).toBe(0);
    expect(nodeRun(h).status).toBe(LHStatus.ERROR);
    expect(nodeRun(h).failures[0]!.failureName).toBe("VAR_SUB_ERROR");
    expect(h.state.wfRun.status).toBe(LHStatus.ERROR);

    const gone = harness({ userGroup: uid("ops") });
    gone.userTaskDefs.length = 0;
    gone.run();
    expect(nodeRun(gone).failures[0]!.failureName).toBe("TASK_FAILURE");
    expect(nodeRun(gone).errorMessage).toMatch(/UserTaskDef 'approve' does not exist/);
  });
});

describe("AssignUserTaskRun (B-UT-2)", () => {
  const assign = (h: EngineHarness, owner: { userId?: string; userGroup?: string }, overrideClaim = false) =>
    h.apply({ kind: "userTaskAssigned", userTaskGuid: guidOf(h), overrideClaim, ...owner });

  it("B-UT-2 assigns an unclaimed run; a claimed one needs override_claim; every change is a UTEAssigned event", () => {
    const h = harness({ userGroup: uid("finance") });
    h.run();
    expect(assign(h, { userId: "bob", userGroup: "finance" })).toBe(true);
    let run = onlyRun(h);
    expect(run.status).toBe(UserTaskRunStatus.ASSIGNED);
    expect(run.epoch).toBe(1);
    expect(run.events[1]!.event.value).toMatchObject({
      oldUserGroup: "finance",
      newUserId: "bob",
      newUserGroup: "finance",
    });
    rejects(
      h,
      { kind: "userTaskAssigned", userTaskGuid: guidOf(h), userId: "eve", overrideClaim: false },
      FailedPreconditionError,
      /already claimed by user 'bob'/,
    );
    expect(assign(h, { userGroup: "ops" }, true)).toBe(true);
    run = onlyRun(h);
    expect(run.status).toBe(UserTaskRunStatus.UNASSIGNED);
    expect(run.userId).toBeUndefined();
    expect(run.userGroup).toBe("ops");
    expect(run.epoch).toBe(2);
    expect(run.events).toHaveLength(3);
    // the same owner again changes nothing
    expect(assign(h, { userGroup: "ops" })).toBe(false);
    expect(onlyRun(h).events).toHaveLength(3);
  });

  it("B-UT-2 neither user id nor group is INVALID_ARGUMENT; an unknown guid NOT_FOUND", () => {
    const h = harness({ userGroup: uid("finance") });
    h.run();
    rejects(
      h,
      { kind: "userTaskAssigned", userTaskGuid: guidOf(h), userId: "", overrideClaim: true },
      InvalidArgumentError,
      /user_id, a user_group or both/,
    );
    expect(() =>
      h.apply({ kind: "userTaskAssigned", userTaskGuid: "nope", userId: "x", overrideClaim: true }),
    ).toThrow(NotFoundError);
  });
});

describe("CompleteUserTaskRun (B-UT-3)", () => {
  const complete = (
    h: EngineHarness,
    results: Record<string, ReturnType<typeof value.str>>,
    userId?: string,
  ) => ({ kind: "userTaskCompleted", userTaskGuid: guidOf(h), userId, results }) as const;

  it("B-UT-3 checks the results against the fields before changing anything", () => {
    const h = harness({ userId: uid("ada") });
    h.run();
    rejects(h, complete(h, { amount: value.double(3) }), InvalidArgumentError, /required field 'approved'/);
    rejects(
      h,
      complete(h, { approved: value.bool(true), colour: value.str("red") }),
      InvalidArgumentError,
      /has no field 'colour'/,
    );
    rejects(
      h,
      complete(h, { approved: value.str("yes") }),
      InvalidArgumentError,
      /field 'approved' .* is declared BOOL but got a STR value/,
    );
    rejects(
      h,
      complete(h, { approved: value.bool(true), amount: value.str("3") }),
      InvalidArgumentError,
      /declared DOUBLE/,
    );
    expect(onlyRun(h).status).toBe(UserTaskRunStatus.ASSIGNED);
    expect(nodeRun(h).status).toBe(LHStatus.RUNNING);
  });

  it("B-UT-3 completing makes it DONE and the node's output a JSON_OBJ of the results (INT accepted for DOUBLE)", () => {
    const h = harness({ userId: uid("ada") });
    h.run();
    const guid = guidOf(h);
    const run = onlyRun(h);
    expect(
      h.apply(complete(h, { approved: value.bool(true), amount: value.int(12), note: value.str("ok") })),
    ).toBe(true);
    expect(run.status).toBe(UserTaskRunStatus.DONE);
    expect(run.results.amount!.value).toEqual({ case: "double", value: 12 });
    expect(run.events).toHaveLength(1); // the run's own user completed it
    expect(h.state.wfRun.status).toBe(LHStatus.COMPLETED);
    const result = h.variable("result")!;
    expect(result.value.case).toBe("jsonObj");
    expect(JSON.parse(result.value.value as string)).toEqual({ amount: 12, approved: true, note: "ok" });
    // finished: nothing more may happen to it
    expect(() =>
      h.apply({ kind: "userTaskCompleted", userTaskGuid: guid, results: { approved: value.bool(false) } }),
    ).toThrow(FailedPreconditionError);
  });

  it("B-UT-3 a completing user other than the owner becomes the user first; an unassigned run needs a user_id", () => {
    const h = harness({ userGroup: uid("finance") });
    h.run();
    rejects(h, complete(h, { approved: value.bool(true) }), InvalidArgumentError, /user_id is required/);
    h.apply(complete(h, { approved: value.bool(true) }, "carl"));
    const run = onlyRun(h);
    expect(run.status).toBe(UserTaskRunStatus.DONE);
    expect(run.userId).toBe("carl");
    expect(run.events[1]!.event.value).toMatchObject({ newUserId: "carl", oldUserGroup: "finance" });
  });
});

describe("CancelUserTaskRun (B-UT-4)", () => {
  it("B-UT-4 cancelling fails the node with USER_TASK_CANCELLED (ERROR) and records UTECancelled", () => {
    const h = harness({ userId: uid("ada") });
    h.run();
    const run = onlyRun(h);
    expect(h.apply({ kind: "userTaskCancelled", userTaskGuid: guidOf(h) })).toBe(true);
    expect(run.status).toBe(UserTaskRunStatus.CANCELLED);
    expect(run.events[1]!.event.case).toBe("cancelled");
    expect(nodeRun(h).status).toBe(LHStatus.ERROR);
    expect(nodeRun(h).failures[0]!.failureName).toBe("USER_TASK_CANCELLED");
    expect(h.state.wfRun.status).toBe(LHStatus.ERROR);
    expect(() => h.apply({ kind: "userTaskCancelled", userTaskGuid: run.id!.userTaskGuid })).toThrow(
      FailedPreconditionError,
    );
  });

  it("B-UT-4 with on_cancellation_exception_name the node fails with that business EXCEPTION", () => {
    const h = harness({ userId: uid("ada"), onCancellationExceptionName: uid("not-approved") });
    h.run();
    h.apply({ kind: "userTaskCancelled", userTaskGuid: guidOf(h) });
    expect(nodeRun(h).status).toBe(LHStatus.EXCEPTION);
    expect(nodeRun(h).failures[0]!.failureName).toBe("not-approved");
    expect(h.state.wfRun.status).toBe(LHStatus.EXCEPTION);
  });
});

describe("action triggers (B-UT-5)", () => {
  const remind = (hook: UTActionTrigger_UTHook, delay: number) => ({
    hook,
    delaySeconds: lit(value.int(delay)),
    action: {
      case: "task" as const,
      value: {
        task: {
          taskToExecute: { case: "taskDefId" as const, value: { name: "remind" } },
          variables: [ref("who")],
        },
      },
    },
  });
  const reassign = (
    hook: UTActionTrigger_UTHook,
    delay: number,
    to: { userId?: string; userGroup?: string },
  ) => ({
    hook,
    delaySeconds: lit(value.int(delay)),
    action: {
      case: "reassign" as const,
      value: {
        userId: to.userId === undefined ? undefined : uid(to.userId),
        userGroup: to.userGroup === undefined ? undefined : uid(to.userGroup),
      },
    },
  });

  it("B-UT-5 ON_ARRIVAL arms a timer with the delay; when it fires a reminder TaskRun runs, recorded as UTETaskExecuted", () => {
    const h = harness({ userGroup: uid("finance"), actions: [remind(UTActionTrigger_UTHook.ON_ARRIVAL, 5)] });
    h.run({ who: value.str("ada") });
    const guid = guidOf(h);
    expect(timers(h.takeEffects())).toEqual([
      {
        kind: "armTimer",
        key: `user-task/${guid}/0/0`,
        dueMs: h.nowMs + 5000,
        command: { kind: "userTaskTriggerFired", userTaskGuid: guid, actionIndex: 0, epoch: 0 },
      },
    ]);
    h.nowMs += 5000;
    expect(fire(h, 0, 0)).toBe(true);
    const run = onlyRun(h);
    expect(run.events[1]!.event.case).toBe("taskExecuted");
    const taskGuid =
      run.events[1]!.event.case === "taskExecuted" ? run.events[1]!.event.value.taskRun!.taskGuid : "";
    const taskRun = h.state.taskRuns.get(taskGuid)!;
    expect(taskRun.status).toBe(TaskStatus.TASK_SCHEDULED);
    expect(taskRun.inputVariables[0]!.value!.value).toEqual({ case: "str", value: "ada" });
    expect(taskRun.source?.taskRunSource).toMatchObject({
      case: "userTaskTrigger",
      value: { nodeRunId: { position: 1 }, userTaskEventNumber: 1, userGroup: "finance" },
    });
    expect(h.takeEffects()).toContainEqual({
      kind: "dispatchTask",
      taskDefName: "remind",
      taskGuid,
      attemptNumber: 0,
    });
    // the reminder's outcome does not move the USER_TASK node
    h.claim(taskGuid);
    h.report(taskGuid, 0, TaskStatus.TASK_SUCCESS, value.str("sent"));
    expect(taskRun.status).toBe(TaskStatus.TASK_SUCCESS);
    expect(nodeRun(h).status).toBe(LHStatus.RUNNING);
    expect(run.status).toBe(UserTaskRunStatus.UNASSIGNED);
  });

  it("B-UT-5 ON_TASK_ASSIGNED arms for each assignment to a user, in the new epoch; the old epoch's timers are cancelled", () => {
    const h = harness({
      userGroup: uid("finance"),
      actions: [
        remind(UTActionTrigger_UTHook.ON_ARRIVAL, 60),
        reassign(UTActionTrigger_UTHook.ON_TASK_ASSIGNED, 2, { userGroup: "finance" }),
      ],
    });
    h.run();
    const guid = guidOf(h);
    expect(timers(h.takeEffects()).map((t) => t.kind === "armTimer" && t.key)).toEqual([
      `user-task/${guid}/0/0`,
    ]);
    h.apply({
      kind: "userTaskAssigned",
      userTaskGuid: guid,
      userId: "bob",
      userGroup: "finance",
      overrideClaim: false,
    });
    const effects = h.takeEffects();
    expect(cancels(effects)).toEqual([`user-task/${guid}/0/0`]);
    expect(timers(effects)).toEqual([
      expect.objectContaining({ key: `user-task/${guid}/1/1`, dueMs: h.nowMs + 2000 }),
    ]);
    // the ON_ARRIVAL reminder of epoch 0 does nothing any more
    expect(fire(h, 0, 0)).toBe(false);
    // the release to the group fires in epoch 1: the user is unset, no new ON_TASK_ASSIGNED timer
    h.nowMs += 2000;
    expect(fire(h, 1, 1)).toBe(true);
    const run = onlyRun(h);
    expect(run.status).toBe(UserTaskRunStatus.UNASSIGNED);
    expect(run.userId).toBeUndefined();
    expect(run.epoch).toBe(2);
    expect(run.events[2]!.event.value).toMatchObject({ oldUserId: "bob", newUserGroup: "finance" });
    expect(timers(h.takeEffects())).toEqual([]);
  });

  it("B-UT-5 a trigger of an older epoch, or after the run finished, does nothing", () => {
    const h = harness({
      userId: uid("ada"),
      actions: [reassign(UTActionTrigger_UTHook.ON_ARRIVAL, 1, { userId: "zed" })],
    });
    h.run();
    const guid = guidOf(h);
    h.apply({ kind: "userTaskAssigned", userTaskGuid: guid, userId: "bob", overrideClaim: true });
    expect(fire(h, 0, 0)).toBe(false);
    expect(onlyRun(h).userId).toBe("bob");
    h.apply({ kind: "userTaskCompleted", userTaskGuid: guid, results: { approved: value.bool(true) } });
    expect(fire(h, 0, onlyRun(h).epoch)).toBe(false);
    expect(onlyRun(h).events).toHaveLength(2);
  });

  it("B-UT-5 completion cancels the pending timers of the current epoch", () => {
    const h = harness({
      userId: uid("ada"),
      actions: [
        reassign(UTActionTrigger_UTHook.ON_ARRIVAL, 1, { userId: "zed" }),
        remind(UTActionTrigger_UTHook.ON_TASK_ASSIGNED, 1),
      ],
    });
    h.run({ who: value.str("ada") });
    const guid = guidOf(h);
    expect(timers(h.takeEffects())).toHaveLength(2);
    h.apply({ kind: "userTaskCompleted", userTaskGuid: guid, results: { approved: value.bool(true) } });
    expect(cancels(h.takeEffects())).toEqual([`user-task/${guid}/0/0`, `user-task/${guid}/1/0`]);
  });

  it("B-UT-5 a cancel trigger cancels the run and fails the node", () => {
    const h = harness({
      userGroup: uid("finance"),
      actions: [
        {
          hook: UTActionTrigger_UTHook.ON_ARRIVAL,
          delaySeconds: lit(value.int(1)),
          action: { case: "cancel", value: {} },
        },
      ],
    });
    h.run();
    expect(fire(h, 0, 0)).toBe(true);
    expect(onlyRun(h).status).toBe(UserTaskRunStatus.CANCELLED);
    expect(nodeRun(h).failures[0]!.failureName).toBe("USER_TASK_CANCELLED");
  });

  it("B-UT-5 a reassign trigger without user or group unsets the user and keeps the group", () => {
    const h = harness({
      userId: uid("ada"),
      userGroup: uid("finance"),
      actions: [reassign(UTActionTrigger_UTHook.ON_ARRIVAL, 1, {})],
    });
    h.run();
    expect(fire(h, 0, 0)).toBe(true);
    expect(onlyRun(h)).toMatchObject({
      status: UserTaskRunStatus.UNASSIGNED,
      userGroup: "finance",
      epoch: 1,
    });
    expect(onlyRun(h).userId).toBeUndefined();
  });

  it("B-UT-5 a reminder that cannot be built is recorded as a TaskRun that failed at once", () => {
    const h = harness({ userGroup: uid("finance"), actions: [remind(UTActionTrigger_UTHook.ON_ARRIVAL, 0)] });
    h.taskDefs.length = 0; // the TaskDef was deleted after the WfSpec was put
    h.run();
    h.takeEffects();
    expect(fire(h, 0, 0)).toBe(true);
    const event = onlyRun(h).events[1]!.event;
    const taskRun = h.state.taskRuns.get(event.case === "taskExecuted" ? event.value.taskRun!.taskGuid : "")!;
    expect(taskRun.status).toBe(TaskStatus.TASK_INPUT_VAR_SUB_ERROR);
    expect(taskRun.attempts[0]!.result.value).toMatchObject({
      message: expect.stringMatching(/does not exist/),
    });
    expect(h.takeEffects().filter((e) => e.kind === "dispatchTask")).toEqual([]);
  });

  it("B-UT-5 a delay that does not evaluate fails the node on arrival", () => {
    const h = harness({
      userGroup: uid("finance"),
      actions: [{ ...remind(UTActionTrigger_UTHook.ON_ARRIVAL, 0), delaySeconds: lit(value.str("soon")) }],
    });
    h.run();
    expect(nodeRun(h).failures[0]!.failureName).toBe("VAR_SUB_ERROR");
    expect(h.state.userTaskRuns.size).toBe(0);
  });
});
