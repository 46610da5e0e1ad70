/**
 * Arriving at a TASK node (B-TASK-1, B-TASK-8): resolve the TaskDef (static, or dynamic from a variable or
 * format string), evaluate the inputs in TaskDef order, create the TaskRun with its first TaskAttempt in
 * TASK_SCHEDULED and ask the runtime to dispatch it. The NodeRun stays RUNNING and mirrors the TaskRun.
 * `prepareTask` and `scheduleTaskRun` also serve user task reminders (TaskRuns of a user task trigger).
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { attemptTime } from "./clock";
import {
  LHErrorType,
  TaskAttemptSchema,
  TaskRunSchema,
  TaskStatus,
  VarNameAndValSchema,
  type NodeRun,
  type TaskNode,
  type TaskRun,
  type TaskRunSource,
  type ThreadRun,
  type VarNameAndVal,
  type VariableValue,
} from "@pony/proto";
import { VarSubError, checkValueMatchesType, castTo, evaluateAssignment, valueType } from "../variables";
import { errorFailure, failNodeRun, type ThreadFailure } from "./failures";
import { threadScope } from "./scope";
import type { EngineContext, WfRunState } from "./state";

export const DEFAULT_TASK_TIMEOUT_SECONDS = 15;

export function arriveAtTaskNode(
  state: WfRunState,
  ctx: EngineContext,
  thread: ThreadRun,
  taskNode: TaskNode,
  nodeRun: NodeRun,
): void {
  nodeRun.nodeType = { case: "task", value: { $typeName: "littlehorse.TaskNodeRun" } };
  const prepared = prepareTask(state, ctx, thread.number, taskNode);
  if ("failure" in prepared) {
    failNodeRun(nodeRun, prepared.failure, ctx.nowMs);
    return;
  }
  const taskRun = scheduleTaskRun(state, ctx, taskNode, prepared, {
    case: "taskNode",
    value: { $typeName: "littlehorse.TaskNodeReference", nodeRunId: nodeRun.id },
  });
  nodeRun.nodeType = {
    case: "task",
    value: { $typeName: "littlehorse.TaskNodeRun", taskRunId: taskRun.id },
  };
}

/** A TaskNode made ready to run: its TaskDef's name and its inputs, in TaskDef order. */
export interface PreparedTask {
  taskDefName: string;
  inputs: VarNameAndVal[];
}

/**
 * Resolves a TaskNode's TaskDef (static, or dynamic from a variable or format string) and evaluates its inputs
 * in the scope of a thread. A failure says why it cannot run: VAR_SUB_ERROR, or TASK_FAILURE for a TaskDef
 * that does not exist; `taskDefName` is set when the name was resolved.
 */
export function prepareTask(
  state: WfRunState,
  ctx: EngineContext,
  threadNumber: number,
  taskNode: TaskNode,
): PreparedTask | { failure: ThreadFailure; taskDefName?: string } {
  const scope = threadScope(state, threadNumber);

  let taskDefName: string;
  const target = taskNode.taskToExecute;
  if (target.case === "taskDefId") {
    taskDefName = target.value.name;
  } else if (target.case === "dynamicTask") {
    try {
      const v = evaluateAssignment(target.value, scope);
      if (v.value.case !== "str") {
        throw new VarSubError(`the dynamic task name must be a STR, got ${String(v.value.case ?? "null")}`);
      }
      taskDefName = v.value.value;
    } catch (e) {
      if (!(e instanceof VarSubError)) throw e;
      return {
        failure: errorFailure(LHErrorType.VAR_SUB_ERROR, `resolving the task name: ${e.message}`),
      };
    }
  } else {
    return { failure: errorFailure(LHErrorType.VAR_SUB_ERROR, "the TASK node names no task") };
  }

  const taskDef = ctx.taskDef(taskDefName);
  if (!taskDef) {
    return {
      taskDefName,
      failure: errorFailure(
        LHErrorType.TASK_FAILURE,
        `TaskDef '${taskDefName}' does not exist (it may have been deleted)`,
      ),
    };
  }

  const inputs: VarNameAndVal[] = [];
  try {
    if (taskNode.variables.length !== taskDef.inputVars.length) {
      throw new VarSubError(
        `TaskDef '${taskDefName}' takes ${taskDef.inputVars.length} inputs but the node gives ${taskNode.variables.length}`,
      );
    }
    taskDef.inputVars.forEach((def, i) => {
      let value: VariableValue = evaluateAssignment(taskNode.variables[i]!, scope);
      const what = `input '${def.name}' of TaskDef '${taskDefName}'`;
      if (def.type !== undefined && valueType(value) !== undefined && valueType(value) !== def.type) {
        value = castTo(value, def.type, what);
      }
      if (def.type !== undefined) checkValueMatchesType(value, def.type, what);
      inputs.push(create(VarNameAndValSchema, { varName: def.name, value }));
    });
  } catch (e) {
    if (!(e instanceof VarSubError)) throw e;
    return { taskDefName, failure: errorFailure(LHErrorType.VAR_SUB_ERROR, e.message) };
  }
  return { taskDefName, inputs };
}

/**
 * Creates the TaskRun of a prepared TaskNode with its first TaskAttempt in TASK_SCHEDULED, records it and asks
 * the runtime to dispatch it. `source` says what the TaskRun belongs to (a TASK node, a user task trigger).
 */
export function scheduleTaskRun(
  state: WfRunState,
  ctx: EngineContext,
  taskNode: TaskNode,
  prepared: PreparedTask,
  source: TaskRunSource["taskRunSource"],
): TaskRun {
  const guid = ctx.newGuid();
  const taskRunId = { $typeName: "littlehorse.TaskRunId" as const, wfRunId: state.wfRun.id, taskGuid: guid };
  const taskRun = create(TaskRunSchema, {
    id: taskRunId,
    taskDefId: { name: prepared.taskDefName },
    attempts: [
      create(TaskAttemptSchema, {
        status: TaskStatus.TASK_SCHEDULED,
        scheduleTime: attemptTime(ctx),
      }),
    ],
    inputVariables: prepared.inputs,
    source: { taskRunSource: source, wfSpecId: state.wfRun.wfSpecId },
    scheduledAt: timestampFromMs(ctx.nowMs),
    status: TaskStatus.TASK_SCHEDULED,
    timeoutSeconds: taskNode.timeoutSeconds > 0 ? taskNode.timeoutSeconds : DEFAULT_TASK_TIMEOUT_SECONDS,
    totalAttempts: 1 + Math.max(0, taskNode.retries),
    exponentialBackoff: taskNode.exponentialBackoff,
  });
  state.taskRuns.set(guid, taskRun);
  state.changes.taskRuns.add(guid);
  ctx.effects.push({
    kind: "dispatchTask",
    taskDefName: prepared.taskDefName,
    taskGuid: guid,
    attemptNumber: 0,
  });
  return taskRun;
}

/** A TASK NodeRun's output is the output of the TaskRun's first successful attempt. */
export function taskNodeOutput(state: WfRunState, nodeRun: NodeRun): VariableValue | undefined {
  if (nodeRun.nodeType.case !== "task") return undefined;
  const guid = nodeRun.nodeType.value.taskRunId?.taskGuid;
  const taskRun = guid === undefined ? undefined : state.taskRuns.get(guid);
  const success = taskRun?.attempts.find((a) => a.status === TaskStatus.TASK_SUCCESS);
  return success?.result.case === "output" ? success.result.value : undefined;
}
