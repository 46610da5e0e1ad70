/**
 * The UserTaskRun state machine (B-UT-1…5).
 *
 *   (USER_TASK node reached) ──▶ ASSIGNED (a user id, maybe a group) | UNASSIGNED (a group only)
 *   ASSIGNED | UNASSIGNED ──(assign)───▶ ASSIGNED | UNASSIGNED   UTEAssigned event, epoch + 1
 *   ASSIGNED | UNASSIGNED ──(complete)─▶ DONE                    the NodeRun completes with the results
 *   ASSIGNED | UNASSIGNED ──(cancel)───▶ CANCELLED               UTECancelled event, the NodeRun fails
 *
 * DONE and CANCELLED are final: assigning, completing or cancelling such a run is FAILED_PRECONDITION.
 *  - assign (AssignUserTaskRun, or a reassign trigger): the new owner is exactly the user id and / or group
 *    given, at least one of them (INVALID_ARGUMENT otherwise). From the API, a run that already has a user id
 *    needs `override_claim` (FAILED_PRECONDITION otherwise). An actual change appends a UTEAssigned event
 *    (old and new owner) and increments the ownership `epoch`: the timers of the old epoch's triggers are
 *    cancelled, and the ON_TASK_ASSIGNED triggers are armed for the new epoch when the run now has a user
 *    (user-task-triggers.ts). Assigning the owner the run already has changes nothing.
 *  - complete (CompleteUserTaskRun): the results are checked against the run's UserTaskDef version: only
 *    declared fields, every required field present and not null, each value of its field's type (an INT is
 *    accepted for a DOUBLE) — INVALID_ARGUMENT otherwise. The completing `user_id`, when given and not the
 *    run's user, becomes its user first (a UTEAssigned event); a run without a user needs one. The NodeRun's
 *    output is a JSON_OBJ of the results (user-task-node.ts).
 *  - cancel (CancelUserTaskRun, or a cancel trigger): the node fails with USER_TASK_CANCELLED (ERROR), or with
 *    the business EXCEPTION named by `on_cancellation_exception_name` when the node sets one.
 * Every check runs before anything changes, so a rejected request leaves the run as it was.
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  LHErrorType,
  LHStatus,
  UTActionTrigger_UTHook,
  UserTaskEventSchema,
  UserTaskRunStatus,
  VariableType,
  type NodeRun,
  type ThreadRun,
  type UserTaskDef,
  type UserTaskEvent,
  type UserTaskNode,
  type UserTaskRun,
  type VariableValue,
} from "@pony/proto";
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, type PonyError } from "../errors";
import { VarSubError, castTo, checkValueMatchesType, isNullValue, valueType } from "../variables";
import { errorFailure, exceptionFailure, failNodeRun, type ThreadFailure } from "./failures";
import { isTerminal } from "./halting";
import { threadScope } from "./scope";
import { nodeRunKey, type EngineContext, type WfRunState } from "./state";
import { completeNodeRun, findThread, touchNodeRun } from "./thread";
import { evaluateText, resultsAsJson } from "./user-task-node";
import { armTriggers, cancelTriggers, triggerDelays } from "./user-task-triggers";

/** Who a UserTaskRun belongs to. */
export interface Owner {
  userId?: string;
  userGroup?: string;
}

/** A UserTaskRun that is still ASSIGNED or UNASSIGNED, with its waiting NodeRun, thread and node. */
export interface LiveUserTask {
  run: UserTaskRun;
  nodeRun: NodeRun;
  thread: ThreadRun;
  node: UserTaskNode;
}

export const isFinished = (status: UserTaskRunStatus): boolean =>
  status === UserTaskRunStatus.DONE || status === UserTaskRunStatus.CANCELLED;

export function assignedEvent(nowMs: number, from: Owner, to: Owner): UserTaskEvent {
  return create(UserTaskEventSchema, {
    time: timestampFromMs(nowMs),
    event: {
      case: "assigned",
      value: {
        oldUserId: from.userId,
        oldUserGroup: from.userGroup,
        newUserId: to.userId,
        newUserGroup: to.userGroup,
      },
    },
  });
}

/** The live UserTaskRun `guid`, or the error a request on it gets. */
export function findLiveUserTask(state: WfRunState, guid: string): LiveUserTask | PonyError {
  const run = state.userTaskRuns.get(guid);
  if (!run) {
    return new NotFoundError(`UserTaskRun '${guid}' is not a user task of WfRun '${state.wfRun.id?.id}'`);
  }
  if (isFinished(run.status)) {
    return new FailedPreconditionError(`UserTaskRun '${guid}' is ${UserTaskRunStatus[run.status]}`);
  }
  const id = run.nodeRunId;
  const nodeRun = id && state.nodeRuns.get(nodeRunKey(id.threadRunNumber, id.position));
  const thread = id && findThread(state, id.threadRunNumber);
  const node = thread && nodeRun && state.wfSpec.threadSpecs[thread.threadSpecName]?.nodes[nodeRun.nodeName];
  if (
    !nodeRun ||
    !thread ||
    nodeRun.status !== LHStatus.RUNNING ||
    isTerminal(thread.status) ||
    node?.node.case !== "userTask"
  ) {
    return new FailedPreconditionError(`the USER_TASK node of UserTaskRun '${guid}' is no longer waiting`);
  }
  return { run, nodeRun, thread, node: node.node.value };
}

function requireLiveUserTask(state: WfRunState, guid: string): LiveUserTask {
  const live = findLiveUserTask(state, guid);
  if (live instanceof Error) throw live;
  return live;
}

function touch(state: WfRunState, run: UserTaskRun): void {
  state.changes.userTaskRuns.add(run.id!.userTaskGuid);
}

const clean = (s: string | undefined): string | undefined => (s === undefined || s === "" ? undefined : s);

/** AssignUserTaskRun (B-UT-2). Returns false when the owner does not change. */
export function assignUserTaskRun(
  state: WfRunState,
  ctx: EngineContext,
  guid: string,
  requested: Owner,
  overrideClaim: boolean,
): boolean {
  const owner = { userId: clean(requested.userId), userGroup: clean(requested.userGroup) };
  if (owner.userId === undefined && owner.userGroup === undefined) {
    throw new InvalidArgumentError("give a user_id, a user_group or both to assign a UserTaskRun to");
  }
  const live = requireLiveUserTask(state, guid);
  if (live.run.userId !== undefined && !overrideClaim) {
    throw new FailedPreconditionError(
      `UserTaskRun '${guid}' is already claimed by user '${live.run.userId}': set override_claim to reassign it`,
    );
  }
  return changeOwner(state, ctx, live, owner, true);
}

/**
 * Gives the run a new owner (see the comment at the top). With `armAssigned`, the ON_TASK_ASSIGNED triggers
 * are armed for the new epoch when the new owner has a user id; a delay that cannot be evaluated now skips its
 * trigger. Returns false when the owner is the same.
 */
export function changeOwner(
  state: WfRunState,
  ctx: EngineContext,
  live: LiveUserTask,
  owner: Owner,
  armAssigned: boolean,
): boolean {
  const { run, node } = live;
  if (run.userId === owner.userId && run.userGroup === owner.userGroup) return false;
  const due =
    armAssigned && owner.userId !== undefined
      ? triggerDelays(node, UTActionTrigger_UTHook.ON_TASK_ASSIGNED, threadScope(state, live.thread.number), {
          lenient: true,
        })
      : [];
  cancelTriggers(ctx, run, node);
  run.events.push(assignedEvent(ctx.nowMs, run, owner));
  run.userId = owner.userId;
  run.userGroup = owner.userGroup;
  run.status = owner.userId === undefined ? UserTaskRunStatus.UNASSIGNED : UserTaskRunStatus.ASSIGNED;
  run.epoch += 1;
  touch(state, run);
  armTriggers(ctx, run, due);
  return true;
}

/** CompleteUserTaskRun (B-UT-3). */
export function completeUserTaskRun(
  state: WfRunState,
  ctx: EngineContext,
  guid: string,
  userId: string | undefined,
  results: Record<string, VariableValue>,
): boolean {
  const live = requireLiveUserTask(state, guid);
  const { run, nodeRun } = live;
  const defId = run.userTaskDefId;
  const def = defId && ctx.userTaskDef(defId.name, defId.version);
  if (!def) {
    throw new FailedPreconditionError(
      `UserTaskDef '${defId?.name}' version ${defId?.version} of UserTaskRun '${guid}' no longer exists: ` +
        `the run can only be cancelled`,
    );
  }
  const checked = checkResults(def, results);
  try {
    resultsAsJson({ results: checked });
  } catch (e) {
    if (e instanceof VarSubError)
      throw new InvalidArgumentError(`the results cannot be output: ${e.message}`);
    throw e;
  }
  const completer = clean(userId);
  if (completer === undefined && run.userId === undefined) {
    throw new InvalidArgumentError(`user_id is required: UserTaskRun '${guid}' is not assigned to a user`);
  }

  if (completer !== undefined && completer !== run.userId) {
    // the completing user becomes the owner first; no trigger is armed for a run that ends now
    changeOwner(state, ctx, live, { userId: completer, userGroup: run.userGroup }, false);
  } else {
    cancelTriggers(ctx, run, live.node);
  }
  run.results = checked;
  run.status = UserTaskRunStatus.DONE;
  touch(state, run);
  completeNodeRun(nodeRun, ctx.nowMs);
  touchNodeRun(state, nodeRun);
  return true;
}

/** The results as they are stored: only declared fields, of the field's type; null values are dropped. */
function checkResults(
  def: UserTaskDef,
  results: Record<string, VariableValue>,
): Record<string, VariableValue> {
  const fields = new Map(def.fields.map((f) => [f.name, f]));
  const where = `UserTaskDef '${def.name}' version ${def.version}`;
  const out: Record<string, VariableValue> = {};
  for (const [name, value] of Object.entries(results)) {
    const field = fields.get(name);
    if (!field) throw new InvalidArgumentError(`${where} has no field '${name}'`);
    if (isNullValue(value)) continue;
    const what = `field '${name}' of ${where}`;
    let v = value;
    try {
      if (field.type === VariableType.DOUBLE && valueType(v) === VariableType.INT) {
        v = castTo(v, VariableType.DOUBLE, what);
      }
      checkValueMatchesType(v, field.type, what);
    } catch (e) {
      if (e instanceof VarSubError) throw new InvalidArgumentError(e.message);
      throw e;
    }
    out[name] = v;
  }
  for (const field of def.fields) {
    if (field.required && !(field.name in out)) {
      throw new InvalidArgumentError(`required field '${field.name}' of ${where} is missing`);
    }
  }
  return out;
}

/** CancelUserTaskRun (B-UT-4). */
export function cancelUserTaskRun(state: WfRunState, ctx: EngineContext, guid: string): boolean {
  cancelLiveUserTask(state, ctx, requireLiveUserTask(state, guid), "cancelled by CancelUserTaskRun");
  return true;
}

/** Cancels a live run and fails its node (see the comment at the top). */
export function cancelLiveUserTask(
  state: WfRunState,
  ctx: EngineContext,
  live: LiveUserTask,
  message: string,
): void {
  const { run, nodeRun, node } = live;
  let failure: ThreadFailure;
  try {
    const name = evaluateText(
      node.onCancellationExceptionName,
      threadScope(state, live.thread.number),
      "on_cancellation_exception_name",
    );
    failure =
      name === undefined
        ? errorFailure(LHErrorType.USER_TASK_CANCELLED, `UserTaskRun ${message}`)
        : exceptionFailure(name, `UserTaskRun ${message}`);
  } catch (e) {
    if (!(e instanceof VarSubError)) throw e;
    failure = errorFailure(LHErrorType.VAR_SUB_ERROR, `UserTaskRun ${message}; ${e.message}`);
  }
  cancelTriggers(ctx, run, node);
  run.status = UserTaskRunStatus.CANCELLED;
  run.events.push(
    create(UserTaskEventSchema, {
      time: timestampFromMs(ctx.nowMs),
      event: { case: "cancelled", value: { message } },
    }),
  );
  touch(state, run);
  failNodeRun(nodeRun, failure, ctx.nowMs);
  touchNodeRun(state, nodeRun);
}
