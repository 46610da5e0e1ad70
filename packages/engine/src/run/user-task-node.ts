/**
 * Arriving at a USER_TASK node (B-UT-1). The UserTaskDef is the pinned `user_task_def_version`, else the
 * latest version; the owner (`user_id`, `user_group`) and the `notes` are evaluated in the thread's scope. The
 * node creates a UserTaskRun, ASSIGNED when it has a user id, else UNASSIGNED (a group only), with epoch 0 and
 * a UTEAssigned audit event for its first owner; its ON_ARRIVAL triggers are armed, and so are its
 * ON_TASK_ASSIGNED triggers when it starts out with a user. The NodeRun then waits RUNNING, with
 * `user_task.user_task_run_id` set, until the UserTaskRun is completed or cancelled (user-task-run.ts).
 * The output of a completed USER_TASK NodeRun is a JSON_OBJ of the results, keyed by field name.
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  LHErrorType,
  UTActionTrigger_UTHook,
  UserTaskRunSchema,
  UserTaskRunStatus,
  VariableType,
  type NodeRun,
  type ThreadRun,
  type UserTaskNode,
  type UserTaskRun,
  type VariableAssignment,
  type VariableValue,
} from "@pony/proto";
import {
  VarSubError,
  evaluateAssignment,
  isNullValue,
  jsonTextValue,
  stringForm,
  toJs,
  type AssignmentScope,
} from "../variables";
import { toJsonText } from "../variables/json";
import { errorFailure, failNodeRun } from "./failures";
import { threadScope } from "./scope";
import type { EngineContext, WfRunState } from "./state";
import { armTriggers, triggerDelays } from "./user-task-triggers";
import { assignedEvent, type Owner } from "./user-task-run";

export function arriveAtUserTaskNode(
  state: WfRunState,
  ctx: EngineContext,
  thread: ThreadRun,
  node: UserTaskNode,
  nodeRun: NodeRun,
): void {
  nodeRun.nodeType = { case: "userTask", value: { $typeName: "littlehorse.UserTaskNodeRun" } };
  const def = ctx.userTaskDef(node.userTaskDefName, node.userTaskDefVersion);
  if (!def) {
    const version = node.userTaskDefVersion === undefined ? "" : ` version ${node.userTaskDefVersion}`;
    failNodeRun(
      nodeRun,
      errorFailure(
        LHErrorType.TASK_FAILURE,
        `UserTaskDef '${node.userTaskDefName}'${version} does not exist (it may have been deleted)`,
      ),
      ctx.nowMs,
    );
    return;
  }

  // Everything that can fail is evaluated before anything is created.
  const scope = threadScope(state, thread.number);
  let owner: Owner;
  let notes: string | undefined;
  let arrivalTriggers: ReturnType<typeof triggerDelays>;
  let assignedTriggers: ReturnType<typeof triggerDelays>;
  try {
    owner = {
      userId: evaluateText(node.userId, scope, "user_id"),
      userGroup: evaluateText(node.userGroup, scope, "user_group"),
    };
    if (owner.userId === undefined && owner.userGroup === undefined) {
      throw new VarSubError("the USER_TASK node assigns the task to neither a user id nor a user group");
    }
    notes = isSet(node.notes) ? stringForm(evaluateAssignment(node.notes, scope)) : undefined;
    arrivalTriggers = triggerDelays(node, UTActionTrigger_UTHook.ON_ARRIVAL, scope);
    assignedTriggers =
      owner.userId === undefined ? [] : triggerDelays(node, UTActionTrigger_UTHook.ON_TASK_ASSIGNED, scope);
  } catch (e) {
    if (!(e instanceof VarSubError)) throw e;
    failNodeRun(
      nodeRun,
      errorFailure(LHErrorType.VAR_SUB_ERROR, `USER_TASK '${nodeRun.nodeName}': ${e.message}`),
      ctx.nowMs,
    );
    return;
  }

  const guid = ctx.newGuid();
  const run = create(UserTaskRunSchema, {
    id: { wfRunId: state.wfRun.id, userTaskGuid: guid },
    userTaskDefId: { name: def.name, version: def.version },
    userId: owner.userId,
    userGroup: owner.userGroup,
    status: owner.userId === undefined ? UserTaskRunStatus.UNASSIGNED : UserTaskRunStatus.ASSIGNED,
    events: [assignedEvent(ctx.nowMs, {}, owner)],
    notes,
    scheduledTime: timestampFromMs(ctx.nowMs),
    nodeRunId: nodeRun.id,
    epoch: 0,
  });
  state.userTaskRuns.set(guid, run);
  state.changes.userTaskRuns.add(guid);
  nodeRun.nodeType = {
    case: "userTask",
    value: { $typeName: "littlehorse.UserTaskNodeRun", userTaskRunId: run.id },
  };
  armTriggers(ctx, run, [...arrivalTriggers, ...assignedTriggers]);
}

const isSet = (a: VariableAssignment | undefined): a is VariableAssignment => a?.source.case !== undefined;

/**
 * A user id, user group or name from its assignment: unset when there is none, or it evaluates to null or
 * "". A primitive is used in its text form; JSON and BYTES are a VarSubError.
 */
export function evaluateText(
  assignment: VariableAssignment | undefined,
  scope: AssignmentScope,
  what: string,
): string | undefined {
  if (!isSet(assignment)) return undefined;
  const v = evaluateAssignment(assignment, scope);
  if (isNullValue(v)) return undefined;
  const kind = v.value.case;
  if (kind === "jsonObj" || kind === "jsonArr" || kind === "bytes") {
    throw new VarSubError(`${what} must be a STR, got ${kind}`);
  }
  const text = stringForm(v);
  return text === "" ? undefined : text;
}

/** The output of a completed USER_TASK NodeRun: a JSON_OBJ of the UserTaskRun's results. */
export function userTaskNodeOutput(state: WfRunState, nodeRun: NodeRun): VariableValue | undefined {
  if (nodeRun.nodeType.case !== "userTask") return undefined;
  const guid = nodeRun.nodeType.value.userTaskRunId?.userTaskGuid;
  const run = guid === undefined ? undefined : state.userTaskRuns.get(guid);
  return run ? resultsAsJson(run) : undefined;
}

/** The results of a UserTaskRun as one JSON_OBJ (VarSubError when a value cannot be JSON). */
export function resultsAsJson(run: Pick<UserTaskRun, "results">): VariableValue {
  const obj: Record<string, unknown> = {};
  for (const name of Object.keys(run.results).sort()) obj[name] = toJs(run.results[name]);
  return jsonTextValue(VariableType.JSON_OBJ, toJsonText(obj));
}
