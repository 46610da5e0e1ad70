/**
 * Metrics windows (B-SRCH-5), read in both stores from table `metrics_windows` (migration 5). The runtime
 * adds deltas in the batches that change what they count; the deltas of a batch are summed per window row
 * before they are written (row-writes.ts), so a batch of thousands of commands writes each row once.
 */
import type { MetricsQuery, MetricsWindowRow } from "./metrics-types";
import type { SqlReader } from "./sql-reader";

/** a window's rows (one per server that counted in it: migration 10) summed */
const SELECT_RANGE = `SELECT tenant, kind, name, major, revision, window_type, window_start,
    CAST(SUM(scheduled) AS BIGINT) AS scheduled, CAST(SUM(started) AS BIGINT) AS started,
    CAST(SUM(completed) AS BIGINT) AS completed, CAST(SUM(errored) AS BIGINT) AS errored,
    CAST(SUM(schedule_to_start_total) AS BIGINT) AS schedule_to_start_total,
    MAX(schedule_to_start_max) AS schedule_to_start_max,
    CAST(SUM(start_to_complete_total) AS BIGINT) AS start_to_complete_total,
    MAX(start_to_complete_max) AS start_to_complete_max
  FROM metrics_windows
  WHERE tenant = ? AND kind = ? AND name = ? AND major = ? AND revision = ? AND window_type = ?
    AND window_start >= ? AND window_start <= ?
  GROUP BY tenant, kind, name, major, revision, window_type, window_start
  ORDER BY window_start`;

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

export class MetricsReads {
  constructor(private readonly db: SqlReader) {}

  async windows(q: MetricsQuery): Promise<MetricsWindowRow[]> {
    const rows = await this.db.objects<Row>(SELECT_RANGE, [
      q.tenant,
      q.kind,
      q.name,
      q.major,
      q.revision,
      q.windowType,
      q.fromMs,
      q.toMs,
    ]);
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
