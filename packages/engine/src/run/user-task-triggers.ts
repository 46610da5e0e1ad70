/**
 * Action triggers of USER_TASK nodes (B-UT-5).
 *
 * Each UTActionTrigger of a node is armed as a durable timer, `delay_seconds` (unset or negative: 0) after its
 * hook happened:
 *  - ON_ARRIVAL: once, when the node creates the UserTaskRun;
 *  - ON_TASK_ASSIGNED: each time the run becomes assigned to a user — at arrival when the node gives a user
 *    id, and at every ownership change (AssignUserTaskRun, a reassign trigger) that leaves it with a user.
 * The timer carries the run's ownership epoch when it was armed. An ownership change, completion or
 * cancellation cancels the timers of the current epoch; and a trigger that fires anyway does nothing unless
 * the run is still ASSIGNED / UNASSIGNED, its node still waits and the epoch is still the run's. Then:
 *  - task: a reminder TaskRun of the action's TaskNode, inputs evaluated in the thread's scope now, with
 *    TaskRunSource `user_task_trigger` (the NodeRun, the event number, the owner), recorded as a
 *    UTETaskExecuted event. It is dispatched like any TaskRun but belongs to no node: its outcome never moves
 *    the thread. A reminder that cannot be built (an input that does not evaluate, a TaskDef that is gone) is
 *    recorded all the same, as a TaskRun that failed at once with TASK_INPUT_VAR_SUB_ERROR. The action's
 *    `mutations` are applied to the thread's variables first, all or none (as an edge's), so the reminder's
 *    inputs see them; when one fails, no variable changes and the reminder is recorded as a TaskRun that
 *    failed at once with VAR_MUTATION_ERROR and the reason (the user task itself goes on waiting).
 *  - reassign: to the evaluated user_id and / or user_group (exactly those); when both are unset, the user is
 *    unset and the group kept (nothing happens without a group). An owner that does not change, or one that
 *    does not evaluate, changes nothing.
 *  - cancel: as CancelUserTaskRun.
 */
import { MAX_DURATION_MS } from "../times";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  LHErrorType,
  TaskAttemptSchema,
  TaskRunSchema,
  TaskStatus,
  UTActionTrigger_UTHook,
  UserTaskEventSchema,
  type TaskNode,
  type TaskRun,
  type TaskRunSource,
  type UserTaskNode,
  type UserTaskRun,
  type VariableAssignment,
  type VariableMutation,
} from "@pony/proto";
import { VarSubError, evaluateAssignment, type AssignmentScope } from "../variables";
import { errorFailure, type ThreadFailure } from "./failures";
import { applyMutations } from "./mutations";
import { threadScope } from "./scope";
import type { EngineContext, WfRunState } from "./state";
import { prepareTask, scheduleTaskRun } from "./task-node";
import { evaluateText } from "./user-task-node";
import { cancelLiveUserTask, changeOwner, findLiveUserTask, type LiveUserTask } from "./user-task-run";

export const userTaskTriggerTimerKey = (guid: string, actionIndex: number, epoch: number): string =>
  `user-task/${guid}/${actionIndex}/${epoch}`;

/** A trigger to arm: the index of the action in the node, and its delay. */
export interface DueTrigger {
  actionIndex: number;
  delaySeconds: number;
}

/**
 * The node's triggers of one hook, with their delays evaluated in `scope`. A delay that does not evaluate to
 * an INT is a VarSubError, or with `lenient` skips its trigger.
 */
export function triggerDelays(
  node: UserTaskNode,
  hook: UTActionTrigger_UTHook,
  scope: AssignmentScope,
  opts: { lenient?: boolean } = {},
): DueTrigger[] {
  const out: DueTrigger[] = [];
  node.actions.forEach((action, actionIndex) => {
    if (action.hook !== hook) return;
    try {
      out.push({ actionIndex, delaySeconds: delaySecondsOf(action.delaySeconds, scope) });
    } catch (e) {
      if (!(e instanceof VarSubError) || !opts.lenient) throw e;
    }
  });
  return out;
}

function delaySecondsOf(assignment: VariableAssignment | undefined, scope: AssignmentScope): number {
  if (assignment?.source.case === undefined) return 0;
  const v = evaluateAssignment(assignment, scope);
  let seconds: number;
  if (v.value.case === "int") seconds = Number(v.value.value);
  else if (v.value.case === "double" && Number.isInteger(v.value.value)) seconds = v.value.value;
  else throw new VarSubError(`delay_seconds must be an INT, got ${String(v.value.case ?? "null")}`);
  if (seconds * 1000 > MAX_DURATION_MS)
    throw new VarSubError(`delay_seconds ${seconds} is out of range (at most ${MAX_DURATION_MS / 1000})`);
  return Math.max(0, seconds);
}

/** Arms timers for the given triggers, for the run's current epoch. */
export function armTriggers(ctx: EngineContext, run: UserTaskRun, due: readonly DueTrigger[]): void {
  const guid = run.id!.userTaskGuid;
  for (const t of due) {
    ctx.effects.push({
      kind: "armTimer",
      key: userTaskTriggerTimerKey(guid, t.actionIndex, run.epoch),
      dueMs: ctx.nowMs + t.delaySeconds * 1000,
      command: {
        kind: "userTaskTriggerFired",
        userTaskGuid: guid,
        actionIndex: t.actionIndex,
        epoch: run.epoch,
      },
    });
  }
}

/** Cancels the timers the run's current epoch may have armed (ON_ARRIVAL in epoch 0; ON_TASK_ASSIGNED with a user). */
export function cancelTriggers(ctx: EngineContext, run: UserTaskRun, node: UserTaskNode): void {
  const guid = run.id!.userTaskGuid;
  node.actions.forEach((action, actionIndex) => {
    const armed =
      action.hook === UTActionTrigger_UTHook.ON_ARRIVAL ? run.epoch === 0 : run.userId !== undefined;
    if (armed)
      ctx.effects.push({ kind: "cancelTimer", key: userTaskTriggerTimerKey(guid, actionIndex, run.epoch) });
  });
}

/** A trigger's timer fired (see the comment at the top). Returns false when it did nothing. */
export function fireUserTaskTrigger(
  state: WfRunState,
  ctx: EngineContext,
  guid: string,
  actionIndex: number,
  epoch: number,
): boolean {
  const live = findLiveUserTask(state, guid);
  if (live instanceof Error || epoch !== live.run.epoch) return false;
  const action = live.node.actions[actionIndex];
  switch (action?.action.case) {
    case "task": {
      const { task: taskNode, mutations } = action.action.value;
      if (!taskNode) return false;
      runReminder(state, ctx, live, taskNode, mutations);
      return true;
    }
    case "reassign": {
      const scope = threadScope(state, live.thread.number);
      let userId: string | undefined;
      let userGroup: string | undefined;
      try {
        userId = evaluateText(action.action.value.userId, scope, "user_id");
        userGroup = evaluateText(action.action.value.userGroup, scope, "user_group");
      } catch (e) {
        if (e instanceof VarSubError) return false;
        throw e;
      }
      if (userId === undefined && userGroup === undefined) {
        if (live.run.userGroup === undefined) return false;
        userGroup = live.run.userGroup;
      }
      return changeOwner(state, ctx, live, { userId, userGroup }, true);
    }
    case "cancel":
      cancelLiveUserTask(
        state,
        ctx,
        live,
        `cancelled by action ${actionIndex} of node '${live.nodeRun.nodeName}'`,
      );
      return true;
    default:
      return false;
  }
}

/** Creates the reminder TaskRun of a task action and records it as a UTETaskExecuted event. */
function runReminder(
  state: WfRunState,
  ctx: EngineContext,
  live: LiveUserTask,
  taskNode: TaskNode,
  mutations: readonly VariableMutation[],
): void {
  const { run } = live;
  const source: TaskRunSource["taskRunSource"] = {
    case: "userTaskTrigger",
    value: {
      $typeName: "littlehorse.UserTaskTriggerReference",
      nodeRunId: run.nodeRunId,
      userTaskEventNumber: run.events.length,
      userId: run.userId,
      userGroup: run.userGroup,
    },
  };
  const mutationError =
    mutations.length > 0
      ? applyMutations(state, live.thread.number, mutations, new Map(), undefined)
      : undefined;
  const prepared =
    mutationError === undefined
      ? prepareTask(state, ctx, live.thread.number, taskNode)
      : {
          taskDefName:
            taskNode.taskToExecute.case === "taskDefId" ? taskNode.taskToExecute.value.name : undefined,
          failure: errorFailure(
            LHErrorType.VAR_MUTATION_ERROR,
            `mutating variables before the reminder of node '${live.nodeRun.nodeName}': ${mutationError}`,
          ),
        };
  const taskRun =
    "failure" in prepared
      ? unrunnableTaskRun(state, ctx, prepared.taskDefName ?? "", source, prepared.failure)
      : scheduleTaskRun(state, ctx, taskNode, prepared, source);
  run.events.push(
    create(UserTaskEventSchema, {
      time: timestampFromMs(ctx.nowMs),
      event: { case: "taskExecuted", value: { taskRun: taskRun.id } },
    }),
  );
  state.changes.userTaskRuns.add(run.id!.userTaskGuid);
}

/** A reminder that could not be built: a TaskRun whose only attempt failed at once, never dispatched. */
function unrunnableTaskRun(
  state: WfRunState,
  ctx: EngineContext,
  taskDefName: string,
  source: TaskRunSource["taskRunSource"],
  failure: ThreadFailure,
): TaskRun {
  const guid = ctx.newGuid();
  const now = timestampFromMs(ctx.nowMs);
  const type = LHErrorType[failure.name as keyof typeof LHErrorType] as LHErrorType | undefined;
  const taskRun = create(TaskRunSchema, {
    id: { wfRunId: state.wfRun.id, taskGuid: guid },
    taskDefId: { name: taskDefName },
    attempts: [
      create(TaskAttemptSchema, {
        status: TaskStatus.TASK_INPUT_VAR_SUB_ERROR,
        scheduleTime: now,
        endTime: now,
        result: {
          case: "error",
          value: { type: type ?? LHErrorType.VAR_SUB_ERROR, message: failure.message },
        },
      }),
    ],
    source: { taskRunSource: source, wfSpecId: state.wfRun.wfSpecId },
    scheduledAt: now,
    status: TaskStatus.TASK_INPUT_VAR_SUB_ERROR,
    totalAttempts: 1,
  });
  state.taskRuns.set(guid, taskRun);
  state.changes.taskRuns.add(guid);
  return taskRun;
}
