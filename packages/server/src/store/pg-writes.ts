/**
 * A batch as PostgreSQL statements: the last write of each row wins within the batch, and each table is
 * written with one bulk statement (`INSERT … SELECT * FROM unnest($1::text[], …) ON CONFLICT …`, `DELETE …
 * WHERE (key) IN (SELECT * FROM unnest(…))`), so a batch of thousands of row writes is a dozen round trips.
 *
 * Only the final state of each row matters to a batch, so the order between rows is free, with two
 * exceptions: a row deleted and then put again is deleted first (it is a new row: an upsert would keep the
 * columns an update leaves alone, and a queued task its old place in the queue); and a WfRun deleted in the
 * batch loses the rows written for it before the delete (they are dropped here) and keeps those written
 * after it (the deletes of whole WfRuns run first, then deletes of rows, then puts, in the order of their
 * last writes).
 */
import {
  TABLES,
  WF_RUN_TABLES,
  keyOf,
  mergeMetrics,
  metricsUpsertSet,
  metricsValues,
  METRICS_COLUMNS,
  METRICS_KEY,
  type ColumnType,
  type RowWrite,
  type TableSpec,
} from "./row-writes";
import type { MetricsDelta } from "./metrics-types";

export interface PgStatement {
  text: string;
  values: unknown[];
}

const SEP = "\u0000";
const rowKey = (key: readonly unknown[]) => key.map(String).join(SEP) + SEP;

const arrayType = (t: ColumnType) => `${t === "int" ? "integer" : t}[]`;

/** `SELECT * FROM unnest($1::text[], …)` over these columns, parameters from $first */
function unnest(columns: readonly (readonly [string, ColumnType])[]): string {
  return `SELECT * FROM unnest(${columns.map(([, t], i) => `$${i + 1}::${arrayType(t)}`).join(", ")})`;
}

/** per column, the values of every row (the arrays unnest zips back into rows) */
function columnsOf(width: number, rows: readonly (readonly unknown[])[]): unknown[][] {
  const out: unknown[][] = Array.from({ length: width }, () => []);
  for (const row of rows) for (let i = 0; i < width; i++) out[i]!.push(row[i] ?? null);
  return out;
}

function putSql(t: TableSpec): string {
  const action =
    t.update.length === 0
      ? "DO NOTHING"
      : `DO UPDATE SET ${t.update.map((c) => `${c} = excluded.${c}`).join(", ")}`;
  return `INSERT INTO ${t.name} (${t.columns.map(([c]) => c).join(", ")}) ${unnest(t.columns)}
    ON CONFLICT (${t.key.join(", ")}) ${action}`;
}

function deleteSql(t: TableSpec): string {
  const keyColumns = t.key.map((k) => t.columns.find(([c]) => c === k)!);
  return `DELETE FROM ${t.name} WHERE (${t.key.join(", ")}) IN (${unnest(keyColumns)})`;
}

const PUT = new Map<TableSpec, string>(Object.values(TABLES).map((t) => [t, putSql(t)]));
const DELETE = new Map<TableSpec, string>(Object.values(TABLES).map((t) => [t, deleteSql(t)]));
const RUN_KEY: readonly (readonly [string, ColumnType])[] = [
  ["tenant", "text"],
  ["wf_run_key", "text"],
];
const DELETE_OF_WF_RUNS = WF_RUN_TABLES.map(
  (t) => `DELETE FROM ${t.name} WHERE (tenant, wf_run_key) IN (${unnest(RUN_KEY)})`,
);
const METRICS_UPSERT = `INSERT INTO metrics_windows (${METRICS_COLUMNS.map(([c]) => c).join(", ")})
  ${unnest(METRICS_COLUMNS)}
  ON CONFLICT (${METRICS_KEY.join(", ")}) DO UPDATE SET ${metricsUpsertSet("greatest")}`;

/** a row's last write; a put after a delete of the same row also deletes it first (a new row, not an update) */
type Final = { put: unknown[]; del?: unknown[] } | { del: unknown[] };

/**
 * The statements that bring the tables to the batch's final state. `independent`: no row is written by two
 * of them (no WfRun deleted, no row deleted and put again), so they may run as one statement.
 */
export function pgStatements(
  writes: readonly RowWrite[],
  shard: string,
): { statements: PgStatement[]; independent: boolean } {
  const finals = new Map<TableSpec, Map<string, Final>>();
  const deletedRuns = new Map<string, [string, string]>();
  const deltas: MetricsDelta[] = [];
  const tableFinals = (t: TableSpec) => {
    let m = finals.get(t);
    if (!m) finals.set(t, (m = new Map<string, Final>()));
    return m;
  };
  for (const w of writes) {
    switch (w.kind) {
      case "put": {
        const m = tableFinals(w.table);
        const key = keyOf(w.table, w.values);
        const k = rowKey(key);
        const before = m.get(k);
        // a table whose rows are never updated (update: []) keeps a row's first put, as an INSERT that
        // ignores a conflict does: the same row put twice in a batch keeps its first values and place
        if (w.table.update.length === 0 && before && "put" in before) break;
        // the map's order is the order of last writes (queued tasks are inserted in it)
        m.delete(k);
        m.set(
          k,
          before && (!("put" in before) || before.del) ? { put: w.values, del: key } : { put: w.values },
        );
        break;
      }
      case "delete": {
        const m = tableFinals(w.table);
        const k = rowKey(w.key);
        m.delete(k);
        m.set(k, { del: w.key });
        break;
      }
      case "deleteWfRun": {
        const prefix = rowKey([w.tenant, w.wfRunKey]);
        deletedRuns.set(prefix, [w.tenant, w.wfRunKey]);
        for (const t of WF_RUN_TABLES) {
          const m = finals.get(t);
          if (!m) continue;
          for (const k of m.keys()) if (k.startsWith(prefix)) m.delete(k);
        }
        break;
      }
      case "metrics":
        deltas.push(...w.deltas);
        break;
    }
  }
  const out: PgStatement[] = [];
  let independent = deletedRuns.size === 0;
  if (deletedRuns.size > 0) {
    const values = columnsOf(2, [...deletedRuns.values()]);
    for (const text of DELETE_OF_WF_RUNS) out.push({ text, values });
  }
  for (const [t, m] of finals) {
    const dels: unknown[][] = [];
    const puts: unknown[][] = [];
    for (const f of m.values()) {
      if (f.del) dels.push(f.del);
      if ("put" in f) puts.push(f.put);
      if (f.del && "put" in f) independent = false;
    }
    if (dels.length > 0) out.push({ text: DELETE.get(t)!, values: columnsOf(t.key.length, dels) });
    if (puts.length > 0) out.push({ text: PUT.get(t)!, values: columnsOf(t.columns.length, puts) });
  }
  const merged = mergeMetrics(deltas);
  if (merged.length > 0) {
    const rows = merged.map((d) => metricsValues(d, shard));
    out.push({ text: METRICS_UPSERT, values: columnsOf(METRICS_COLUMNS.length, rows) });
  }
  return { statements: out, independent };
}

/**
 * Independent statements as ONE statement (one round trip, its own transaction): each a data-modifying
 * WITH query, parameters renumbered, and the final SELECT, which fails with division_by_zero (22012) when
 * the fence (`fence`: a query whose rows must number `fenceCount`, at parameters $1…) does not hold, or
 * when `absent` (a query whose rows must be none: WfRuns created that were stored already) finds a row, so
 * nothing of the batch is written. Every part of one statement sees the tables as they were before it.
 * `finalColumns` are added to that SELECT (a pg_notify).
 */
export function oneStatement(
  statements: readonly PgStatement[],
  fence: PgStatement | undefined,
  fenceCount: number,
  finalColumns: string[],
  absent?: PgStatement,
): PgStatement {
  const values: unknown[] = [];
  const withs: string[] = [];
  const renumber = (s: PgStatement) => {
    const offset = values.length;
    values.push(...s.values);
    return s.text.replace(/\$(\d+)/g, (_m, n: string) => `$${Number(n) + offset}`);
  };
  if (fence) withs.push(`fence AS (${renumber(fence)})`);
  if (absent) withs.push(`present AS (${renumber(absent)})`);
  statements.forEach((s, i) => withs.push(`w${i} AS (${renumber(s)})`));
  const holds: string[] = [];
  if (fence) {
    values.push(fenceCount);
    holds.push(`(SELECT count(*) FROM fence) = $${values.length}`);
  }
  if (absent) holds.push("NOT EXISTS (SELECT 1 FROM present)");
  const check = holds.length > 0 ? `1 / (CASE WHEN ${holds.join(" AND ")} THEN 1 ELSE 0 END)` : "1";
  return {
    text: `WITH ${withs.join(",\n")}\nSELECT ${[check, ...finalColumns].join(", ")}`,
    values,
  };
}
