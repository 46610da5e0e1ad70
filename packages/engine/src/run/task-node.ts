/**
 * Arriving at a TASK node (B-TASK-1, B-TASK-8): resolve the TaskDef (static, or dynamic from a variable or
 * format string), evaluate the inputs in TaskDef order, create the TaskRun with its first TaskAttempt in
 * TASK_SCHEDULED and ask the runtime to dispatch it. The NodeRun stays RUNNING and mirrors the TaskRun.
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  LHErrorType,
  TaskAttemptSchema,
  TaskRunSchema,
  TaskStatus,
  VarNameAndValSchema,
  type NodeRun,
  type TaskNode,
  type ThreadRun,
  type VarNameAndVal,
  type VariableValue,
} from "@pony/proto";
import { VarSubError, checkValueMatchesType, castTo, evaluateAssignment, valueType } from "../variables";
import { errorFailure, failNodeRun } from "./failures";
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
  const scope = threadScope(state, thread.number);

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
      failNodeRun(
        nodeRun,
        errorFailure(LHErrorType.VAR_SUB_ERROR, `resolving the task name: ${e.message}`),
        ctx.nowMs,
      );
      return;
    }
  } else {
    failNodeRun(nodeRun, errorFailure(LHErrorType.VAR_SUB_ERROR, "the TASK node names no task"), ctx.nowMs);
    return;
  }

  const taskDef = ctx.taskDef(taskDefName);
  if (!taskDef) {
    failNodeRun(
      nodeRun,
      errorFailure(
        LHErrorType.TASK_FAILURE,
        `TaskDef '${taskDefName}' does not exist (it may have been deleted)`,
      ),
      ctx.nowMs,
    );
    return;
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
    failNodeRun(nodeRun, errorFailure(LHErrorType.VAR_SUB_ERROR, e.message), ctx.nowMs);
    return;
  }

  const guid = ctx.newGuid();
  const taskRunId = { $typeName: "littlehorse.TaskRunId" as const, wfRunId: state.wfRun.id, taskGuid: guid };
  const taskRun = create(TaskRunSchema, {
    id: taskRunId,
    taskDefId: { name: taskDefName },
    attempts: [
      create(TaskAttemptSchema, {
        status: TaskStatus.TASK_SCHEDULED,
        scheduleTime: timestampFromMs(ctx.nowMs),
      }),
    ],
    inputVariables: inputs,
    source: {
      taskRunSource: { case: "taskNode", value: { nodeRunId: nodeRun.id } },
      wfSpecId: state.wfRun.wfSpecId,
    },
    scheduledAt: timestampFromMs(ctx.nowMs),
    status: TaskStatus.TASK_SCHEDULED,
    timeoutSeconds: taskNode.timeoutSeconds > 0 ? taskNode.timeoutSeconds : DEFAULT_TASK_TIMEOUT_SECONDS,
    totalAttempts: 1 + Math.max(0, taskNode.retries),
    exponentialBackoff: taskNode.exponentialBackoff,
  });
  state.taskRuns.set(guid, taskRun);
  state.changes.taskRuns.add(guid);
  nodeRun.nodeType = { case: "task", value: { $typeName: "littlehorse.TaskNodeRun", taskRunId } };
  ctx.effects.push({ kind: "dispatchTask", taskDefName, taskGuid: guid, attemptNumber: 0 });
}

/** A TASK NodeRun's output is the output of the TaskRun's first successful attempt. */
export function taskNodeOutput(state: WfRunState, nodeRun: NodeRun): VariableValue | undefined {
  if (nodeRun.nodeType.case !== "task") return undefined;
  const guid = nodeRun.nodeType.value.taskRunId?.taskGuid;
  const taskRun = guid === undefined ? undefined : state.taskRuns.get(guid);
  const success = taskRun?.attempts.find((a) => a.status === TaskStatus.TASK_SUCCESS);
  return success?.result.case === "output" ? success.result.value : undefined;
}
