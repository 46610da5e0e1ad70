/**
 * Metrics RPCs (B-SRCH-5): GetTaskDefMetricsWindow, GetWfSpecMetricsWindow, ListTaskDefMetrics and
 * ListWfSpecMetrics, over the windows runtime/metrics.ts counts as runs happen.
 *
 * - A window is MINUTES_5, HOURS_2 or DAYS_1 long and aligned on the epoch (UTC); a request's time picks
 *   the window that holds it (no time: now). A window without any event reads as zeros.
 * - Averages are integer ms (rounded down): schedule-to-start over the started attempts, start-to-complete
 *   over the completed + errored ones.
 * - List*Metrics returns `num_windows` consecutive windows (at most 1000), oldest first, the last one
 *   holding `last_window_start` (default now), empty ones included as zeros; num_windows ≤ 0 is
 *   INVALID_ARGUMENT.
 * - An unknown TaskDef or WfSpec version is NOT_FOUND.
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromMs, type Timestamp } from "@bufbuild/protobuf/wkt";
import {
  ListTaskMetricsResponseSchema,
  ListWfMetricsResponseSchema,
  MetricsWindowLength,
  TaskDefMetricsSchema,
  WfSpecMetricsSchema,
  type ListTaskMetricsRequest,
  type ListWfMetricsRequest,
  type TaskDefMetricsQueryRequest,
  type WfSpecId,
  type WfSpecMetricsQueryRequest,
} from "@pony/proto";
import { InvalidArgumentError, NotFoundError, addMs, timestampToMs } from "@pony/engine";
import type { Runtime } from "../runtime/runtime";
import { WINDOW_MS, windowStart } from "../runtime/metrics";
import type { MetricsCounters, MetricsKind, MetricsWindowRow } from "../store/metrics-types";
import { emptyCounters } from "../store/metrics-types";
import type { CallContext } from "./context";

const MAX_WINDOWS = 1000;

function windowType(t: MetricsWindowLength): MetricsWindowLength {
  if (WINDOW_MS[t] === undefined) throw new InvalidArgumentError(`unknown window length ${t}`);
  return t;
}

/** a request's time (checked: engine/times.ts), or now */
const msOf = (t: Timestamp | undefined, nowMs: number, field: string): number =>
  t ? timestampToMs(t, field) : nowMs;

const avg = (total: number, count: number): bigint => (count > 0 ? BigInt(Math.floor(total / count)) : 0n);

function taskMetrics(name: string, type: MetricsWindowLength, startMs: number, c: MetricsCounters) {
  return create(TaskDefMetricsSchema, {
    taskDefId: { name },
    windowStart: timestampFromMs(startMs),
    type,
    scheduleToStartMax: BigInt(c.scheduleToStartMax),
    scheduleToStartAvg: avg(c.scheduleToStartTotal, c.started),
    startToCompleteMax: BigInt(c.startToCompleteMax),
    startToCompleteAvg: avg(c.startToCompleteTotal, c.completed + c.errored),
    totalCompleted: BigInt(c.completed),
    totalErrored: BigInt(c.errored),
    totalStarted: BigInt(c.started),
    totalScheduled: BigInt(c.scheduled),
  });
}

function wfMetrics(id: WfSpecId, type: MetricsWindowLength, startMs: number, c: MetricsCounters) {
  return create(WfSpecMetricsSchema, {
    wfSpecId: { name: id.name, majorVersion: id.majorVersion, revision: id.revision },
    windowStart: timestampFromMs(startMs),
    type,
    totalStarted: BigInt(c.started),
    totalCompleted: BigInt(c.completed),
    totalErrored: BigInt(c.errored),
    startToCompleteMax: BigInt(c.startToCompleteMax),
    startToCompleteAvg: avg(c.startToCompleteTotal, c.completed + c.errored),
  });
}

export function metricsHandlers(rt: Runtime) {
  function taskDefName(ctx: CallContext, name: string | undefined): string {
    if (!name) throw new InvalidArgumentError("the TaskDef name is required");
    if (!rt.metadata.get(ctx.tenant, "task_def", name))
      throw new NotFoundError(`TaskDef '${name}' not found`);
    return name;
  }

  function wfSpecId(ctx: CallContext, id: WfSpecId | undefined): WfSpecId {
    if (!id?.name) throw new InvalidArgumentError("wf_spec_id is required");
    if (
      !rt.metadata.get(ctx.tenant, "wf_spec", id.name, { major: id.majorVersion, minor: id.revision }, true)
    ) {
      throw new NotFoundError(`WfSpec '${id.name} ${id.majorVersion}.${id.revision}' not found`);
    }
    return id;
  }

  /** `count` windows ending with the one holding `lastMs`, oldest first, zeros where nothing happened. */
  async function windows(
    ctx: CallContext,
    kind: MetricsKind,
    name: string,
    major: number,
    revision: number,
    type: MetricsWindowLength,
    lastMs: number,
    count: number,
  ): Promise<{ startMs: number; counters: MetricsCounters }[]> {
    const len = WINDOW_MS[type];
    const last = windowStart(lastMs, type);
    // the first window must be a time too: near the earliest instant fewer windows exist
    const first = addMs(last, -(count - 1) * len, "the first window (num_windows before last_window_start)");
    const rows = await rt.store.metricsWindows({
      tenant: ctx.tenant,
      kind,
      name,
      major,
      revision,
      windowType: type,
      fromMs: first,
      toMs: last,
    });
    const byStart = new Map<number, MetricsWindowRow>(rows.map((r) => [r.windowStartMs, r]));
    const out: { startMs: number; counters: MetricsCounters }[] = [];
    for (let s = first; s <= last; s += len)
      out.push({ startMs: s, counters: byStart.get(s) ?? emptyCounters() });
    return out;
  }

  function windowCount(n: number): number {
    if (n <= 0) throw new InvalidArgumentError(`num_windows must be positive, got ${n}`);
    return Math.min(n, MAX_WINDOWS);
  }

  return {
    async getTaskDefMetricsWindow(req: TaskDefMetricsQueryRequest, ctx: CallContext) {
      const name = taskDefName(ctx, req.taskDefName);
      const type = windowType(req.windowType);
      const [w] = await windows(
        ctx,
        "task",
        name,
        0,
        0,
        type,
        msOf(req.windowStart, rt.now(), "window_start"),
        1,
      );
      return taskMetrics(name, type, w!.startMs, w!.counters);
    },

    async getWfSpecMetricsWindow(req: WfSpecMetricsQueryRequest, ctx: CallContext) {
      const id = wfSpecId(ctx, req.wfSpecId);
      const type = windowType(req.windowLength);
      const lastMs = msOf(req.windowStart, rt.now(), "window_start");
      const [w] = await windows(ctx, "wf", id.name, id.majorVersion, id.revision, type, lastMs, 1);
      return wfMetrics(id, type, w!.startMs, w!.counters);
    },

    async listTaskDefMetrics(req: ListTaskMetricsRequest, ctx: CallContext) {
      const name = taskDefName(ctx, req.taskDefId?.name);
      const type = windowType(req.windowLength);
      const count = windowCount(req.numWindows);
      const list = await windows(
        ctx,
        "task",
        name,
        0,
        0,
        type,
        msOf(req.lastWindowStart, rt.now(), "last_window_start"),
        count,
      );
      return create(ListTaskMetricsResponseSchema, {
        results: list.map((w) => taskMetrics(name, type, w.startMs, w.counters)),
      });
    },

    async listWfSpecMetrics(req: ListWfMetricsRequest, ctx: CallContext) {
      const id = wfSpecId(ctx, req.wfSpecId);
      const type = windowType(req.windowLength);
      const count = windowCount(req.numWindows);
      const lastMs = msOf(req.lastWindowStart, rt.now(), "last_window_start");
      const list = await windows(ctx, "wf", id.name, id.majorVersion, id.revision, type, lastMs, count);
      return create(ListWfMetricsResponseSchema, {
        results: list.map((w) => wfMetrics(id, type, w.startMs, w.counters)),
      });
    },
  };
}
