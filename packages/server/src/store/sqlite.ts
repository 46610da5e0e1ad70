import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { SQLITE_MIGRATIONS } from "./sqlite-migrations";
import { SqliteCommitter, type Statement } from "./sqlite-committer";
import { SqliteReadThread } from "./sqlite-read-thread";
import {
  TABLES,
  WF_RUN_TABLES,
  changesMetadata,
  createdWfRuns,
  mergeMetrics,
  metricsUpsertSet,
  metricsValues,
  METRICS_COLUMNS,
  METRICS_KEY,
  rowWrites,
  type RowWrite,
  type TableSpec,
} from "./row-writes";
import type { SqlReader, WriteResult, WriteStatement } from "./sql-reader";
import { SqlStore } from "./sql-store";
import type { Fence, WriteOp } from "./store";

/** `INSERT … ON CONFLICT` of a table's row: its update columns taken from the new row, or nothing done. */
function upsertSql(t: TableSpec): string {
  const cols = t.columns.map(([c]) => c);
  const action =
    t.update.length === 0
      ? "DO NOTHING"
      : `DO UPDATE SET ${t.update.map((c) => `${c} = excluded.${c}`).join(", ")}`;
  return `INSERT INTO ${t.name} (${cols.join(", ")}) VALUES (${cols.map(() => "?").join(", ")})
    ON CONFLICT (${t.key.join(", ")}) ${action}`;
}

const deleteSql = (t: TableSpec) =>
  `DELETE FROM ${t.name} WHERE ${t.key.map((k) => `${k} = ?`).join(" AND ")}`;

const UPSERT = new Map<TableSpec, string>(Object.values(TABLES).map((t) => [t, upsertSql(t)]));
const DELETE = new Map<TableSpec, string>(Object.values(TABLES).map((t) => [t, deleteSql(t)]));
const DELETE_OF_WF_RUN = WF_RUN_TABLES.map(
  (t) => `DELETE FROM ${t.name} WHERE tenant = ? AND wf_run_key = ?`,
);
const METRICS_UPSERT = `INSERT INTO metrics_windows (${METRICS_COLUMNS.map(([c]) => c).join(", ")})
  VALUES (${METRICS_COLUMNS.map(() => "?").join(", ")})
  ON CONFLICT (${METRICS_KEY.join(", ")}) DO UPDATE SET ${metricsUpsertSet("max")}`;
/** the fence: changes exactly one row while the committer holds the partition at that epoch */
const FENCE = `UPDATE partitions SET epoch = epoch WHERE part = ? AND epoch = ? AND owner = ?`;
/** a created WfRun is new: changes no row unless a WfRun of that key is stored already */
const NEW_WF_RUN = `UPDATE wf_runs SET wf_run_key = wf_run_key WHERE tenant = ? AND wf_run_key = ?`;
const BUMP_METADATA_VERSION = `UPDATE cluster_settings SET value = value + 1 WHERE name = 'metadata_version'`;

/**
 * Reads on the main connection, through prepared statements kept per SQL text; writes outside the batches
 * on the writer thread (an fsync there does not hold the main thread).
 */
class SqliteReader implements SqlReader {
  readonly joinInOrder = "CROSS JOIN";
  readonly nowMs = "pony_now_ms()";
  private readonly raw = new Map<string, Database.Statement>();
  private readonly plain = new Map<string, Database.Statement>();
  /** the reader thread of the long reads (longRows) */
  readonly reads: SqliteReadThread;

  constructor(
    private readonly db: Database.Database,
    private readonly writer: SqliteCommitter,
    file: string,
  ) {
    // if the thread dies, its reads run here, through the same cached statements as every other read
    this.reads = new SqliteReadThread(
      file,
      (sql, params) => this.statement(sql, true).all(...params) as unknown[][],
    );
  }

  private statement(sql: string, raw: boolean): Database.Statement {
    const cache = raw ? this.raw : this.plain;
    let s = cache.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      if (raw && s.reader) s.raw(true);
      cache.set(sql, s);
    }
    return s;
  }

  async rows(sql: string, params: readonly unknown[]): Promise<unknown[][]> {
    return this.statement(sql, true).all(...params) as unknown[][];
  }

  longRows(sql: string, params: readonly unknown[]): Promise<unknown[][]> {
    return this.reads.rows(sql, params);
  }

  async objects<T>(sql: string, params: readonly unknown[]): Promise<T[]> {
    return this.statement(sql, false).all(...params) as T[];
  }

  write(statements: readonly WriteStatement[]): Promise<WriteResult[]> {
    return this.writer.writeOutsideBatches(statements);
  }

  from(table: string, index: string, alias?: string): string {
    return `${table}${alias ? ` AS ${alias}` : ""} INDEXED BY ${index}`;
  }

  pageAggregate(keys: readonly string[]): string {
    // No ORDER BY in the aggregates: SQLite runs the ordered, LIMITed subquery as a co-routine and both
    // aggregates step through its rows as it yields them, in its order (an aggregate ORDER BY would sort
    // them again in a temporary B-tree, doubling the cost). group_concat copies a BLOB's bytes as they
    // are; the CAST gives them back as a BLOB.
    return `json_group_array(json_array(${keys.join(", ")}, length(b))), CAST(group_concat(b, '') AS BLOB)`;
  }

  inTextList(column: string): string {
    return `${column} IN (SELECT value FROM json_each(?))`;
  }

  textList(values: readonly string[]): unknown {
    return JSON.stringify(values);
  }
}

/**
 * The embedded store: one SQLite file in WAL mode with synchronous=FULL, so a committed batch survives a
 * crash of the process or the machine. A whole batch is one transaction and one fsync, written on the main
 * connection or the writer thread (sqlite-committer.ts); each row write is one statement.
 */
export class SqliteStore extends SqlStore {
  private readonly db: Database.Database;
  private readonly writer: SqliteCommitter;
  private readonly sqliteReader: SqliteReader;

  constructor(dataDir: string) {
    super();
    fs.mkdirSync(dataDir, { recursive: true });
    const file = path.join(dataDir, "pony.db");
    this.db = new Database(file);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = FULL");
    this.db.pragma("foreign_keys = OFF");
    // the store's clock (sql-store.ts compares leases and heartbeats with it): this process's
    this.db.function("pony_now_ms", { deterministic: false }, () => Date.now());
    this.migrate();
    this.writer = new SqliteCommitter(this.db, file);
    // its reader thread opens the file after the main connection made it WAL and migrated it
    this.sqliteReader = new SqliteReader(this.db, this.writer, file);
    this.useReader(this.sqliteReader);
  }

  private migrate(): void {
    this.db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)`);
    const done = new Set(
      (this.db.prepare(`SELECT version FROM schema_migrations`).all() as { version: number }[]).map(
        (r) => r.version,
      ),
    );
    for (const m of SQLITE_MIGRATIONS) {
      if (done.has(m.version)) continue;
      this.db.transaction(() => {
        this.db.exec(m.sql);
        this.db.prepare(`INSERT INTO schema_migrations (version) VALUES (?)`).run(m.version);
      })();
    }
  }

  /** The statements of one row write, for the committer. */
  private encode(w: RowWrite, out: Statement[]): void {
    switch (w.kind) {
      case "put":
        out.push([UPSERT.get(w.table)!, w.values]);
        return;
      case "delete":
        out.push([DELETE.get(w.table)!, w.key]);
        return;
      case "deleteWfRun":
        for (const sql of DELETE_OF_WF_RUN) out.push([sql, [w.tenant, w.wfRunKey]]);
        return;
      case "metrics":
        return; // summed over the whole batch in commit
    }
  }

  commit(ops: WriteOp[], fence?: Fence): Promise<void> {
    // nothing to write: nothing to fence either
    if (ops.length === 0) return this.writer.flushed();
    const statements: Statement[] = [];
    try {
      for (const [part, epoch] of fence?.epochs ?? [])
        statements.push([FENCE, [part, epoch, fence!.owner], part]);
      for (const r of createdWfRuns(ops)) statements.push([NEW_WF_RUN, [r.tenant, r.key], r]);
      const writes: RowWrite[] = [];
      for (const op of ops) rowWrites(op, writes);
      const deltas = [];
      for (const w of writes) {
        if (w.kind === "metrics") deltas.push(...w.deltas);
        else this.encode(w, statements);
      }
      for (const d of mergeMetrics(deltas))
        statements.push([METRICS_UPSERT, metricsValues(d, fence?.owner ?? "")]);
      if (changesMetadata(ops)) statements.push([BUMP_METADATA_VERSION, []]);
    } catch (e) {
      return this.writer.refuse(e);
    }
    return this.writer.commit(statements);
  }

  flushed(): Promise<void> {
    return this.writer.flushed();
  }

  resetAfterFailure(): Promise<void> {
    return this.writer.reset();
  }

  /** One process uses the file: there is no other server to wake. */
  async announce(): Promise<void> {}

  onAnnouncement(): () => void {
    return () => undefined;
  }

  async close(): Promise<void> {
    await this.sqliteReader.reads.close();
    await this.writer.close();
    this.db.close();
  }
}
