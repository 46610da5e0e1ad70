/**
 * Metrics windows in SQLite (B-SRCH-5): table `metrics_windows` (migration 5). The deltas of one batch are
 * summed per window first, so a batch of thousands of commands writes each window row once.
 */
import type Database from "better-sqlite3";
import type { MetricsDelta, MetricsQuery, MetricsWindowRow } from "./metrics-types";

type Statement = [string, unknown[]];

const UPSERT = `INSERT INTO metrics_windows (tenant, kind, name, major, revision, window_type, window_start,
    scheduled, started, completed, errored, schedule_to_start_total, schedule_to_start_max,
    start_to_complete_total, start_to_complete_max)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (tenant, kind, name, major, revision, window_type, window_start) DO UPDATE SET
    scheduled = scheduled + excluded.scheduled,
    started = started + excluded.started,
    completed = completed + excluded.completed,
    errored = errored + excluded.errored,
    schedule_to_start_total = schedule_to_start_total + excluded.schedule_to_start_total,
    schedule_to_start_max = max(schedule_to_start_max, excluded.schedule_to_start_max),
    start_to_complete_total = start_to_complete_total + excluded.start_to_complete_total,
    start_to_complete_max = max(start_to_complete_max, excluded.start_to_complete_max)`;

const SELECT_RANGE = `SELECT tenant, kind, name, major, revision, window_type, window_start, scheduled, started,
    completed, errored, schedule_to_start_total, schedule_to_start_max, start_to_complete_total,
    start_to_complete_max
  FROM metrics_windows
  WHERE tenant = ? AND kind = ? AND name = ? AND major = ? AND revision = ? AND window_type = ?
    AND window_start >= ? AND window_start <= ?
  ORDER BY window_start`;

/** The upserts for every addMetrics delta of a batch, summed per window row. */
export function encodeMetrics(deltas: Iterable<MetricsDelta>, out: Statement[]): void {
  const merged = new Map<string, MetricsDelta>();
  for (const d of deltas) {
    const k = [d.tenant, d.kind, d.name, d.major, d.revision, d.windowType, d.windowStartMs].join("\u0000");
    const m = merged.get(k);
    if (!m) {
      merged.set(k, { ...d });
      continue;
    }
    m.scheduled += d.scheduled;
    m.started += d.started;
    m.completed += d.completed;
    m.errored += d.errored;
    m.scheduleToStartTotal += d.scheduleToStartTotal;
    m.scheduleToStartMax = Math.max(m.scheduleToStartMax, d.scheduleToStartMax);
    m.startToCompleteTotal += d.startToCompleteTotal;
    m.startToCompleteMax = Math.max(m.startToCompleteMax, d.startToCompleteMax);
  }
  for (const d of merged.values()) {
    out.push([
      UPSERT,
      [
        d.tenant,
        d.kind,
        d.name,
        d.major,
        d.revision,
        d.windowType,
        d.windowStartMs,
        d.scheduled,
        d.started,
        d.completed,
        d.errored,
        d.scheduleToStartTotal,
        d.scheduleToStartMax,
        d.startToCompleteTotal,
        d.startToCompleteMax,
      ],
    ]);
  }
}

interface Row {
  tenant: string;
  kind: "task" | "wf";
  name: string;
  major: number;
  revision: number;
  window_type: number;
  window_start: number;
  scheduled: number;
  started: number;
  completed: number;
  errored: number;
  schedule_to_start_total: number;
  schedule_to_start_max: number;
  start_to_complete_total: number;
  start_to_complete_max: number;
}

export class SqliteMetricsReads {
  private readonly range: Database.Statement;

  constructor(db: Database.Database) {
    this.range = db.prepare(SELECT_RANGE);
  }

  windows(q: MetricsQuery): MetricsWindowRow[] {
    const rows = this.range.all(
      q.tenant,
      q.kind,
      q.name,
      q.major,
      q.revision,
      q.windowType,
      q.fromMs,
      q.toMs,
    ) as Row[];
    return rows.map((r) => ({
      tenant: r.tenant,
      kind: r.kind,
      name: r.name,
      major: r.major,
      revision: r.revision,
      windowType: r.window_type,
      windowStartMs: r.window_start,
      scheduled: r.scheduled,
      started: r.started,
      completed: r.completed,
      errored: r.errored,
      scheduleToStartTotal: r.schedule_to_start_total,
      scheduleToStartMax: r.schedule_to_start_max,
      startToCompleteTotal: r.start_to_complete_total,
      startToCompleteMax: r.start_to_complete_max,
    }));
  }
}
