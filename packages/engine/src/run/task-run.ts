/**
 * The TaskRun / TaskAttempt state machine (B-TASK-1…7).
 *
 *   attempt: TASK_PENDING ──(backoff elapsed)──▶ TASK_SCHEDULED ──(claimed by a worker)──▶ TASK_RUNNING
 *            TASK_RUNNING ──(report)──▶ TASK_SUCCESS | TASK_FAILED | TASK_EXCEPTION
 *                                       | TASK_OUTPUT_SERIALIZING_ERROR | TASK_INPUT_VAR_SUB_ERROR
 *            TASK_RUNNING ──(timeout timer for this attempt number)──▶ TASK_TIMEOUT
 *
 * Only the newest attempt moves, and only from the status the command expects: a late, duplicate or
 * post-timeout report finds its attempt no longer RUNNING and changes nothing (B-TASK-4).
 * When an attempt ends:
 *  - TASK_SUCCESS completes the TaskRun and its NodeRun (output = the attempt's output);
 *  - TASK_FAILED / TASK_TIMEOUT with attempts left adds a new attempt: TASK_SCHEDULED at once, or
 *    TASK_PENDING for min(base * multiplier^(n-1), max) ms with an exponential backoff policy (B-TASK-5);
 *  - anything else fails the NodeRun with the matching failure (B-TASK-6).
 * The TaskRun's status is always its newest attempt's status.
 */
import { create } from "@bufbuild/protobuf";
import { attemptTime } from "./clock";
import {
  LHErrorType,
  TaskAttemptSchema,
  TaskStatus,
  type NodeRun,
  type ReportTaskRun,
  type TaskAttempt,
  type TaskRun,
} from "@pony/proto";
import { errorFailure, exceptionFailure, failNodeRun, type ThreadFailure } from "./failures";
import { nodeRunKey, type EngineContext, type WfRunState } from "./state";
import { completeNodeRun } from "./thread";

export const taskTimeoutTimerKey = (guid: string, attempt: number) => `task-timeout/${guid}/${attempt}`;
export const taskBackoffTimerKey = (guid: string, attempt: number) => `task-backoff/${guid}/${attempt}`;

function touch(state: WfRunState, taskRun: TaskRun): void {
  state.changes.taskRuns.add(taskRun.id!.taskGuid);
}

function newestAttempt(taskRun: TaskRun, attemptNumber: number): TaskAttempt | undefined {
  if (attemptNumber !== taskRun.attempts.length - 1) return undefined;
  return taskRun.attempts[attemptNumber];
}

/** A worker took the attempt (B-TASK-3). Returns false when the attempt was not SCHEDULED. */
export function claimTask(
  state: WfRunState,
  ctx: EngineContext,
  guid: string,
  attemptNumber: number,
  workerId: string,
  workerVersion: string | undefined,
): boolean {
  const taskRun = state.taskRuns.get(guid);
  const attempt = taskRun && newestAttempt(taskRun, attemptNumber);
  if (!taskRun || !attempt || attempt.status !== TaskStatus.TASK_SCHEDULED) return false;
  attempt.status = TaskStatus.TASK_RUNNING;
  attempt.startTime = attemptTime(ctx);
  attempt.taskWorkerId = workerId;
  attempt.taskWorkerVersion = workerVersion;
  taskRun.status = TaskStatus.TASK_RUNNING;
  touch(state, taskRun);
  ctx.effects.push({
    kind: "armTimer",
    key: taskTimeoutTimerKey(guid, attemptNumber),
    dueMs: ctx.nowMs + taskRun.timeoutSeconds * 1000,
    command: { kind: "taskAttemptTimedOut", taskGuid: guid, attemptNumber },
  });
  return true;
}

/**
 * A claimed attempt that never reached its worker (its stream closed first) is scheduled again, as if never
 * claimed: its timeout is cancelled and it goes back on its TaskDef's queue. Ignored unless the attempt is
 * still RUNNING for that worker. (Metrics counted it as started when it was claimed; it counts again when
 * a worker claims it for real.)
 */
export function unclaimTask(
  state: WfRunState,
  ctx: EngineContext,
  guid: string,
  attemptNumber: number,
  workerId: string,
): boolean {
  const taskRun = state.taskRuns.get(guid);
  const attempt = taskRun && newestAttempt(taskRun, attemptNumber);
  if (!taskRun || !attempt || attempt.status !== TaskStatus.TASK_RUNNING || attempt.taskWorkerId !== workerId)
    return false;
  attempt.status = TaskStatus.TASK_SCHEDULED;
  attempt.startTime = undefined;
  attempt.taskWorkerId = "";
  attempt.taskWorkerVersion = undefined;
  taskRun.status = TaskStatus.TASK_SCHEDULED;
  touch(state, taskRun);
  ctx.effects.push({ kind: "cancelTimer", key: taskTimeoutTimerKey(guid, attemptNumber) });
  ctx.effects.push({
    kind: "dispatchTask",
    taskDefName: taskRun.taskDefId?.name ?? "",
    taskGuid: guid,
    attemptNumber,
    again: true,
  });
  return true;
}

/** A worker reported the attempt's result (B-TASK-4). Ignored unless the attempt is RUNNING. */
export function reportTask(state: WfRunState, ctx: EngineContext, report: ReportTaskRun): boolean {
  const guid = report.taskRunId?.taskGuid ?? "";
  const taskRun = state.taskRuns.get(guid);
  const attempt = taskRun && newestAttempt(taskRun, report.attemptNumber);
  if (!taskRun || !attempt || attempt.status !== TaskStatus.TASK_RUNNING) return false;
  ctx.effects.push({ kind: "cancelTimer", key: taskTimeoutTimerKey(guid, report.attemptNumber) });
  attempt.endTime = report.time ?? attemptTime(ctx);
  attempt.logOutput = report.logOutput;
  attempt.status = report.status;
  switch (report.result.case) {
    case "output":
      attempt.result = { case: "output", value: report.result.value };
      break;
    case "error":
      attempt.result = { case: "error", value: report.result.value };
      break;
    case "exception":
      attempt.result = { case: "exception", value: report.result.value };
      break;
    default:
      attempt.result = { case: undefined };
  }
  // A status the worker may not report is treated as a failure, so the run can never get stuck on it.
  if (
    report.status === TaskStatus.TASK_SCHEDULED ||
    report.status === TaskStatus.TASK_RUNNING ||
    report.status === TaskStatus.TASK_PENDING
  ) {
    attempt.status = TaskStatus.TASK_FAILED;
  }
  finishAttempt(state, ctx, taskRun, attempt);
  return true;
}

/** The attempt's timeout timer fired (B-TASK-7). */
export function timeOutTask(
  state: WfRunState,
  ctx: EngineContext,
  guid: string,
  attemptNumber: number,
): boolean {
  const taskRun = state.taskRuns.get(guid);
  const attempt = taskRun && newestAttempt(taskRun, attemptNumber);
  if (!taskRun || !attempt || attempt.status !== TaskStatus.TASK_RUNNING) return false;
  attempt.status = TaskStatus.TASK_TIMEOUT;
  attempt.endTime = attemptTime(ctx);
  attempt.result = {
    case: "error",
    value: {
      $typeName: "littlehorse.LHTaskError",
      type: LHErrorType.TIMEOUT,
      message: `the worker did not report within ${taskRun.timeoutSeconds}s`,
    },
  };
  finishAttempt(state, ctx, taskRun, attempt);
  return true;
}

/** The backoff before a retry elapsed: the pending attempt is scheduled. */
export function endTaskBackoff(
  state: WfRunState,
  ctx: EngineContext,
  guid: string,
  attemptNumber: number,
): boolean {
  const taskRun = state.taskRuns.get(guid);
  const attempt = taskRun && newestAttempt(taskRun, attemptNumber);
  if (!taskRun || !attempt || attempt.status !== TaskStatus.TASK_PENDING) return false;
  attempt.status = TaskStatus.TASK_SCHEDULED;
  attempt.scheduleTime = attemptTime(ctx);
  taskRun.status = TaskStatus.TASK_SCHEDULED;
  touch(state, taskRun);
  ctx.effects.push({
    kind: "dispatchTask",
    taskDefName: taskRun.taskDefId!.name,
    taskGuid: guid,
    attemptNumber,
  });
  return true;
}

const RETRYABLE = new Set([TaskStatus.TASK_FAILED, TaskStatus.TASK_TIMEOUT]);

function finishAttempt(state: WfRunState, ctx: EngineContext, taskRun: TaskRun, attempt: TaskAttempt): void {
  touch(state, taskRun);
  const guid = taskRun.id!.taskGuid;
  if (attempt.status === TaskStatus.TASK_SUCCESS) {
    taskRun.status = TaskStatus.TASK_SUCCESS;
    const nodeRun = owningNodeRun(state, taskRun);
    if (nodeRun) {
      completeNodeRun(nodeRun, ctx.nowMs);
      continueThread(state, ctx, nodeRun);
    }
    return;
  }
  if (RETRYABLE.has(attempt.status) && taskRun.attempts.length < taskRun.totalAttempts) {
    const retryNumber = taskRun.attempts.length; // 1 for the first retry
    const attemptNumber = taskRun.attempts.length;
    const backoff = taskRun.exponentialBackoff;
    const delayMs = backoff
      ? Math.min(
          backoff.baseIntervalMs * Math.pow(backoff.multiplier || 1, retryNumber - 1),
          Number(backoff.maxDelayMs) > 0 ? Number(backoff.maxDelayMs) : Number.POSITIVE_INFINITY,
        )
      : 0;
    if (delayMs > 0) {
      taskRun.attempts.push(create(TaskAttemptSchema, { status: TaskStatus.TASK_PENDING }));
      taskRun.status = TaskStatus.TASK_PENDING;
      ctx.effects.push({
        kind: "armTimer",
        key: taskBackoffTimerKey(guid, attemptNumber),
        dueMs: ctx.nowMs + Math.round(delayMs),
        command: { kind: "taskBackoffElapsed", taskGuid: guid, attemptNumber },
      });
    } else {
      taskRun.attempts.push(
        create(TaskAttemptSchema, {
          status: TaskStatus.TASK_SCHEDULED,
          scheduleTime: attemptTime(ctx),
        }),
      );
      taskRun.status = TaskStatus.TASK_SCHEDULED;
      ctx.effects.push({
        kind: "dispatchTask",
        taskDefName: taskRun.taskDefId!.name,
        taskGuid: guid,
        attemptNumber,
      });
    }
    return;
  }
  taskRun.status = attempt.status;
  const nodeRun = owningNodeRun(state, taskRun);
  if (nodeRun) {
    failNodeRun(nodeRun, failureOf(attempt), ctx.nowMs);
    continueThread(state, ctx, nodeRun);
  }
}

/** B-TASK-6: how a final attempt status becomes the NodeRun's failure. */
function failureOf(attempt: TaskAttempt): ThreadFailure {
  const detail =
    attempt.result.case === "error"
      ? attempt.result.value.message
      : attempt.result.case === "exception"
        ? attempt.result.value.message
        : "";
  const suffix = detail ? `: ${detail}` : "";
  switch (attempt.status) {
    case TaskStatus.TASK_TIMEOUT:
      return errorFailure(LHErrorType.TIMEOUT, `the task timed out${suffix}`);
    case TaskStatus.TASK_OUTPUT_SERIALIZING_ERROR:
      return errorFailure(
        LHErrorType.VAR_MUTATION_ERROR,
        `the worker could not serialize the output${suffix}`,
      );
    case TaskStatus.TASK_INPUT_VAR_SUB_ERROR:
      return errorFailure(LHErrorType.VAR_SUB_ERROR, `the worker could not use the inputs${suffix}`);
    case TaskStatus.TASK_EXCEPTION:
      if (attempt.result.case === "exception") {
        const ex = attempt.result.value;
        return exceptionFailure(ex.name, ex.message, ex.content);
      }
      return exceptionFailure("task-exception", `the task threw an exception${suffix}`);
    default:
      return errorFailure(LHErrorType.TASK_FAILURE, `the task failed${suffix}`);
  }
}

function owningNodeRun(state: WfRunState, taskRun: TaskRun): NodeRun | undefined {
  const src = taskRun.source?.taskRunSource;
  if (src?.case !== "taskNode" || !src.value.nodeRunId) return undefined;
  const id = src.value.nodeRunId;
  const key = nodeRunKey(id.threadRunNumber, id.position);
  const nodeRun = state.nodeRuns.get(key);
  if (nodeRun) state.changes.nodeRuns.add(key);
  return nodeRun;
}

/** The NodeRun changed: the WfRun settles after the command, which moves its thread on. */
function continueThread(state: WfRunState, _ctx: EngineContext, nodeRun: NodeRun): void {
  state.changes.nodeRuns.add(nodeRunKey(nodeRun.id!.threadRunNumber, nodeRun.id!.position));
}
