/**
 * TaskDef and WfSpec metrics windows (B-SRCH-5), counted as runs happen: at the end of each command,
 * `recordMetrics` reads what the command did from its effects and changes, and adds one `addMetrics` write
 * to the same batch, so the counts commit together with the changes they count (no double count after a
 * crash, nothing lost).
 *
 * What counts, per TaskAttempt (a retried TaskRun counts once per attempt):
 *  - scheduled: an attempt was dispatched to its TaskDef's queue (a `dispatchTask` effect);
 *  - started: a worker claimed it (its timeout timer was armed); schedule-to-start = start − schedule time;
 *  - completed / errored: the attempt ended TASK_SUCCESS / any other final status (reported: its timeout
 *    timer was cancelled; timed out: TASK_TIMEOUT with this command's time as end time);
 *    start-to-complete = end − start time, where the end is the reported time clamped to [start, now].
 * Per WfSpec version: started (the WfRun was created), completed (COMPLETED) and errored (ERROR or
 * EXCEPTION) when it ends, with start-to-complete = end − start time over the ended ones.
 * Each event counts in the MINUTES_5, HOURS_2 and DAYS_1 windows holding the command's time (windows are
 * aligned on the epoch, in UTC). Durations are in ms.
 */
import { MetricsWindowLength, TaskStatus, LHStatus, type TaskAttempt, type WfRun } from "@pony/proto";
import { nodeRunKey, taskTimeoutTimerKey, type EngineContext, type WfRunState } from "@pony/engine";
import type { WriteOp } from "../store/store";
import {
  emptyCounters,
  type MetricsCounters,
  type MetricsDelta,
  type MetricsKind,
} from "../store/metrics-types";

/** The window lengths, in ms. */
export const WINDOW_MS: Record<MetricsWindowLength, number> = {
  [MetricsWindowLength.MINUTES_5]: 5 * 60_000,
  [MetricsWindowLength.HOURS_2]: 2 * 3_600_000,
  [MetricsWindowLength.DAYS_1]: 86_400_000,
};

const WINDOWS = [MetricsWindowLength.MINUTES_5, MetricsWindowLength.HOURS_2, MetricsWindowLength.DAYS_1];

/** The start of the window of this length that holds `ms`. */
export const windowStart = (ms: number, type: MetricsWindowLength): number =>
  Math.floor(ms / WINDOW_MS[type]) * WINDOW_MS[type];

const ENDED_TASK = new Set([
  TaskStatus.TASK_SUCCESS,
  TaskStatus.TASK_FAILED,
  TaskStatus.TASK_TIMEOUT,
  TaskStatus.TASK_OUTPUT_SERIALIZING_ERROR,
  TaskStatus.TASK_INPUT_VAR_SUB_ERROR,
  TaskStatus.TASK_EXCEPTION,
]);

/**
 * Timed-out attempts already counted. A timeout has no effect of its own, so it is recognised by its end
 * time (the command's time); this guards against a second command on the same run in the same millisecond.
 */
const countedTimeouts = new WeakSet<TaskAttempt>();

const ms = (t: { seconds: bigint; nanos: number } | undefined): number | undefined =>
  t ? Number(t.seconds) * 1000 + Math.floor(t.nanos / 1e6) : undefined;

class Deltas {
  private readonly byKey = new Map<
    string,
    MetricsCounters & { kind: MetricsKind; name: string; major: number; revision: number }
  >();

  add(
    kind: MetricsKind,
    name: string,
    major: number,
    revision: number,
    change: Partial<MetricsCounters>,
  ): void {
    const k = `${kind}\u0000${name}\u0000${major}\u0000${revision}`;
    let d = this.byKey.get(k);
    if (!d) this.byKey.set(k, (d = { kind, name, major, revision, ...emptyCounters() }));
    d.scheduled += change.scheduled ?? 0;
    d.started += change.started ?? 0;
    d.completed += change.completed ?? 0;
    d.errored += change.errored ?? 0;
    d.scheduleToStartTotal += change.scheduleToStartTotal ?? 0;
    d.scheduleToStartMax = Math.max(d.scheduleToStartMax, change.scheduleToStartMax ?? 0);
    d.startToCompleteTotal += change.startToCompleteTotal ?? 0;
    d.startToCompleteMax = Math.max(d.startToCompleteMax, change.startToCompleteMax ?? 0);
  }

  /** one delta per window length, at the windows holding `nowMs` */
  toOps(tenant: string, nowMs: number): MetricsDelta[] {
    const out: MetricsDelta[] = [];
    for (const d of this.byKey.values()) {
      for (const windowType of WINDOWS) {
        out.push({ tenant, ...d, windowType, windowStartMs: windowStart(nowMs, windowType) });
      }
    }
    return out;
  }

  get empty(): boolean {
    return this.byKey.size === 0;
  }
}

function taskEnded(d: Deltas, name: string, attempt: TaskAttempt, nowMs: number): void {
  const start = ms(attempt.startTime) ?? nowMs;
  const end = Math.min(Math.max(ms(attempt.endTime) ?? nowMs, start), nowMs);
  const took = Math.max(0, end - start);
  const ok = attempt.status === TaskStatus.TASK_SUCCESS;
  d.add("task", name, 0, 0, {
    completed: ok ? 1 : 0,
    errored: ok ? 0 : 1,
    startToCompleteTotal: took,
    startToCompleteMax: took,
  });
}

function wfEnded(d: Deltas, wfRun: WfRun, status: LHStatus): void {
  const completed = status === LHStatus.COMPLETED;
  const errored = status === LHStatus.ERROR || status === LHStatus.EXCEPTION;
  if (!completed && !errored) return;
  const took = Math.max(0, (ms(wfRun.endTime) ?? 0) - (ms(wfRun.startTime) ?? 0));
  const id = wfRun.wfSpecId;
  d.add("wf", id?.name ?? "", id?.majorVersion ?? 0, id?.revision ?? 0, {
    completed: completed ? 1 : 0,
    errored: errored ? 1 : 0,
    startToCompleteTotal: took,
    startToCompleteMax: took,
  });
}

/** Adds the metrics of one command to the batch. Call after the effects are carried out, before clearing them. */
export function recordMetrics(ops: WriteOp[], state: WfRunState, ctx: EngineContext): void {
  const d = new Deltas();
  const armed = new Set<string>();
  const cancelled = new Set<string>();
  for (const e of ctx.effects) {
    switch (e.kind) {
      case "dispatchTask":
        if (!e.again) d.add("task", e.taskDefName, 0, 0, { scheduled: 1 });
        break;
      case "armTimer":
        if (e.command.kind === "taskAttemptTimedOut") armed.add(e.key);
        break;
      case "cancelTimer":
        cancelled.add(e.key);
        break;
      case "wfRunEnded":
        wfEnded(d, state.wfRun, e.status);
        break;
      default:
        break;
    }
  }
  for (const guid of state.changes.taskRuns) {
    const taskRun = state.taskRuns.get(guid);
    const name = taskRun?.taskDefId?.name;
    if (!taskRun || !name) continue;
    taskRun.attempts.forEach((attempt, n) => {
      const timerKey = taskTimeoutTimerKey(guid, n);
      if (armed.has(timerKey)) {
        const start = ms(attempt.startTime) ?? ctx.nowMs;
        const waited = Math.max(0, start - (ms(attempt.scheduleTime) ?? start));
        d.add("task", name, 0, 0, { started: 1, scheduleToStartTotal: waited, scheduleToStartMax: waited });
      }
      if (!ENDED_TASK.has(attempt.status)) return;
      if (cancelled.has(timerKey)) {
        taskEnded(d, name, attempt, ctx.nowMs);
      } else if (
        attempt.status === TaskStatus.TASK_TIMEOUT &&
        ms(attempt.endTime) === ctx.nowMs &&
        !countedTimeouts.has(attempt)
      ) {
        countedTimeouts.add(attempt);
        taskEnded(d, name, attempt, ctx.nowMs);
      }
    });
  }
  // A new WfRun: its entrypoint thread's first NodeRun was written by this very command.
  const wfRun = state.wfRun;
  if (state.changes.nodeRuns.has(nodeRunKey(0, 0)) && ms(wfRun.startTime) === ctx.nowMs) {
    const id = wfRun.wfSpecId;
    d.add("wf", id?.name ?? "", id?.majorVersion ?? 0, id?.revision ?? 0, { started: 1 });
  }
  if (!d.empty) ops.push({ op: "addMetrics", deltas: d.toOps(state.tenant, ctx.nowMs) });
}
