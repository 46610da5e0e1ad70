/**
 * Metrics windows as stored (B-SRCH-5): one row per (TaskDef or WfSpec version, window length, window
 * start) holding counters and duration sums / maxima in ms. The runtime adds deltas in the same batch as
 * the changes they count; the store sums the deltas of a batch before writing them.
 */

/** "task": a TaskDef (major = revision = 0); "wf": a WfSpec version */
export type MetricsKind = "task" | "wf";

export interface MetricsKey {
  tenant: string;
  kind: MetricsKind;
  name: string;
  major: number;
  revision: number;
  /** MetricsWindowLength */
  windowType: number;
  /** epoch ms, a multiple of the window length */
  windowStartMs: number;
}

export interface MetricsCounters {
  scheduled: number;
  started: number;
  completed: number;
  errored: number;
  /** TaskDefs only: sum and maximum of schedule-to-start over the `started` attempts */
  scheduleToStartTotal: number;
  scheduleToStartMax: number;
  /** sum and maximum of start-to-complete over the `completed` + `errored` ones */
  startToCompleteTotal: number;
  startToCompleteMax: number;
}

export type MetricsDelta = MetricsKey & MetricsCounters;

export type MetricsWindowRow = MetricsDelta;

export interface MetricsQuery {
  tenant: string;
  kind: MetricsKind;
  name: string;
  major: number;
  revision: number;
  windowType: number;
  /** window starts from `fromMs` to `toMs`, inclusive */
  fromMs: number;
  toMs: number;
}

export interface MetricsStore {
  /** the stored windows in the range, oldest first (windows without any event are not stored) */
  metricsWindows(q: MetricsQuery): Promise<MetricsWindowRow[]>;
}

export function emptyCounters(): MetricsCounters {
  return {
    scheduled: 0,
    started: 0,
    completed: 0,
    errored: 0,
    scheduleToStartTotal: 0,
    scheduleToStartMax: 0,
    startToCompleteTotal: 0,
    startToCompleteMax: 0,
  };
}
