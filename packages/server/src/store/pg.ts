/**
 * The clustered store: PostgreSQL (`pg` 8), shared by every server of a cluster. Reads run on a pool;
 * batches are written in order on one connection of their own, one transaction each (pg-writes.ts turns a
 * batch into a dozen bulk statements); metadata changes are announced with NOTIFY in the committing transaction.
 */
import { commitFailure } from "./write-errors";
import pg from "pg";
import { PG_MIGRATIONS } from "./pg-migrations";
import { oneStatement, pgStatements, type PgStatement } from "./pg-writes";
import { changesMetadata, createdWfRuns, rowWrites, type RowWrite } from "./row-writes";
import { numberedPlaceholders, type SqlReader, type WriteResult, type WriteStatement } from "./sql-reader";
import { SqlStore } from "./sql-store";
import {
  FencedError,
  WfRunExistsError,
  type ClusterTopic,
  type Fence,
  type WfRunRef,
  type WriteOp,
} from "./store";

const INT8 = 20;
/** BIGINT columns hold epoch ms and counters, all within Number's safe range: read them as numbers */
const parseInt8 = (v: string): number => Number(v);
const types = {
  getTypeParser: ((oid: number, format?: "text" | "binary"): unknown =>
    oid === INT8 && format !== "binary"
      ? parseInt8
      : (pg.types.getTypeParser(oid, format) as unknown)) as typeof pg.types.getTypeParser,
};

/** the LISTEN/NOTIFY channel of cluster announcements; the payload is the topic */
const CHANNEL = "pony_cluster";

/**
 * The fence of a batch: the partitions the committer holds at the epochs it names, locked FOR KEY SHARE
 * until the batch commits. (part, epoch) is a unique key (migration 11), so a takeover, which raises the
 * epoch, changes a key and waits for the batch; a batch after the takeover finds the new epoch and is
 * refused. Lease renewals change no key: they never wait on a batch, nor batches on them.
 */
const FENCE = `SELECT part FROM partitions
  WHERE owner = $1 AND (part, epoch) IN (SELECT * FROM unnest($2::integer[], $3::bigint[])) FOR KEY SHARE`;
/** tries of a batch the database aborted (deadlock_detected 40P01, serialization_failure 40001) */
const MAX_ATTEMPTS = 5;
/** batch shapes prepared at most (beyond that, a shape is parsed at each commit) */
const MAX_BATCH_SHAPES = 256;
const BUMP_METADATA_VERSION = `UPDATE cluster_settings SET value = value + 1 WHERE name = 'metadata_version'`;
/**
 * Of the WfRuns a batch creates, those stored already (there must be none). One probe of the key's index per
 * WfRun (LATERAL … LIMIT 1): a join the planner may choose for `IN (SELECT … unnest …)` in a generic plan
 * reads the whole index instead, and the table only grows.
 */
const STORED_WF_RUNS = `SELECT n.tenant, n.wf_run_key FROM unnest($1::text[], $2::text[]) AS n (tenant, wf_run_key)
  CROSS JOIN LATERAL (SELECT 1 FROM wf_runs w
    WHERE w.tenant = n.tenant AND w.wf_run_key = n.wf_run_key LIMIT 1) AS stored`;

const storedWfRuns = (rows: unknown[][]) =>
  new WfRunExistsError(rows.map(([tenant, key]) => ({ tenant: String(tenant), key: String(key) })));

class PgReader implements SqlReader {
  readonly joinInOrder = "JOIN";
  readonly nowMs = "(extract(epoch from clock_timestamp()) * 1000)::bigint";
  /** SQL text → prepared statement name and numbered text */
  private readonly prepared = new Map<string, { name: string; text: string }>();

  constructor(private readonly pool: pg.Pool) {}

  private query(sql: string) {
    let p = this.prepared.get(sql);
    if (!p)
      this.prepared.set(sql, (p = { name: `pony_${this.prepared.size}`, text: numberedPlaceholders(sql) }));
    return p;
  }

  async rows(sql: string, params: readonly unknown[], planEachRun = false): Promise<unknown[][]> {
    const { name, text } = this.query(sql);
    const r = await this.pool.query({
      ...(planEachRun ? {} : { name }),
      text,
      values: params as unknown[],
      rowMode: "array",
    });
    return r.rows as unknown[][];
  }

  /** PostgreSQL's reads never hold the main thread: a long read is a read like any other */
  longRows(sql: string, params: readonly unknown[]): Promise<unknown[][]> {
    return this.rows(sql, params);
  }

  async objects<T>(sql: string, params: readonly unknown[]): Promise<T[]> {
    const { name, text } = this.query(sql);
    const r = await this.pool.query({ name: `${name}_o`, text, values: params as unknown[] });
    return r.rows as T[];
  }

  async write(statements: readonly WriteStatement[]): Promise<WriteResult[]> {
    const c = await this.pool.connect();
    try {
      if (statements.length > 1) await c.query("BEGIN");
      const out: WriteResult[] = [];
      for (const [sql, params] of statements) {
        const { name, text } = this.query(sql);
        const r = await c.query({ name, text, values: params as unknown[], rowMode: "array" });
        out.push({ changes: r.rowCount ?? 0, rows: r.rows as unknown[][] });
      }
      if (statements.length > 1) await c.query("COMMIT");
      return out;
    } catch (e) {
      if (statements.length > 1) await c.query("ROLLBACK").catch(() => undefined);
      throw e;
    } finally {
      c.release();
    }
  }

  from(table: string, _index: string, alias?: string): string {
    return alias ? `${table} ${alias}` : table;
  }

  pageAggregate(keys: readonly string[]): string {
    const order = keys.join(", ");
    // as text, parsed by the caller as SQLite's is; NULL for an empty page, as the caller expects
    return (
      `json_agg(json_build_array(${order}, length(b)) ORDER BY ${order})::text, ` +
      `string_agg(b, ''::bytea ORDER BY ${order})`
    );
  }

  inTextList(column: string): string {
    return `${column} = ANY(?::text[])`;
  }

  textList(values: readonly string[]): unknown {
    return values;
  }
}

export interface PgStoreOptions {
  /** connections for reads and leases (default 8) */
  poolSize?: number;
}

export class PgStore extends SqlStore {
  /** the batch before the next one: batches are written one after another, in order */
  private last: Promise<void> = Promise.resolve();
  private failed: Error | undefined;
  private writer: pg.Client | undefined;
  /** batch statement text → its prepared statement's name */
  private readonly batchShapes = new Map<string, string>();
  private listener: pg.Client | undefined;
  private readonly listeners = new Set<(topic: ClusterTopic) => void>();
  private closed = false;

  private constructor(
    private readonly url: string,
    private readonly pool: pg.Pool,
  ) {
    super();
    this.useReader(new PgReader(pool));
  }

  static async open(url: string, opts: PgStoreOptions = {}): Promise<PgStore> {
    const pool = new pg.Pool({ connectionString: url, max: opts.poolSize ?? 8, types });
    // an idle connection that breaks (the database restarted) is dropped; the next query opens another
    pool.on("error", () => undefined);
    const store = new PgStore(url, pool);
    try {
      await store.migrate();
      store.writer = await store.connect();
    } catch (e) {
      await pool.end().catch(() => undefined);
      throw e;
    }
    return store;
  }

  /** The batch writer's connection. */
  private async connect(): Promise<pg.Client> {
    const c = new pg.Client({ connectionString: this.url, types });
    c.on("error", () => undefined);
    await c.connect();
    // Batches find rows by key only. Their statements are prepared (batchStatementName), and a generic plan
    // made while a table was nearly empty (a new cluster) would scan it whole until the next ANALYZE; this
    // keeps every plan on the keys' indexes. A database without the setting plans as it would anyway.
    await c.query("SET enable_seqscan = off").catch(() => undefined);
    // A batch's statement finds its rows in unnest()ed arrays by key, so one generic plan serves every batch
    // of its shape. Left to choose, PostgreSQL planned each execution again with its values (those plans
    // looked cheaper): 13% of its CPU with three servers (a perf profile), for the same plans.
    await c.query("SET plan_cache_mode = force_generic_plan").catch(() => undefined);
    return c;
  }

  /**
   * Applies the migrations not applied yet. Servers starting together race for each migration: the one
   * that inserts its version row first applies it; the others wait on that row, then find it taken.
   */
  private async migrate(): Promise<void> {
    const c = await this.pool.connect();
    try {
      try {
        await c.query(`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)`);
      } catch (e) {
        // another server created it at the same moment
        if ((e as { code?: string }).code !== "23505") throw e;
      }
      for (const m of PG_MIGRATIONS) {
        const done = await c.query(`SELECT 1 FROM schema_migrations WHERE version = $1`, [m.version]);
        if (done.rowCount) continue;
        try {
          await c.query("BEGIN");
          await c.query(`INSERT INTO schema_migrations (version) VALUES ($1)`, [m.version]);
          await c.query(m.sql);
          await c.query("COMMIT");
        } catch (e) {
          await c.query("ROLLBACK").catch(() => undefined);
          if ((e as { code?: string }).code !== "23505") {
            throw new Error(`PostgreSQL migration ${m.version} failed: ${(e as Error).message}`);
          }
        }
      }
    } finally {
      c.release();
    }
  }

  commit(ops: WriteOp[], fence?: Fence): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    let statements: PgStatement[];
    let independent: boolean;
    let metadata: boolean;
    let created: WfRunRef[];
    try {
      const writes: RowWrite[] = [];
      for (const op of ops) rowWrites(op, writes);
      ({ statements, independent } = pgStatements(writes, fence?.owner ?? ""));
      metadata = changesMetadata(ops);
      if (metadata) statements.push({ text: BUMP_METADATA_VERSION, values: [] });
      created = createdWfRuns(ops);
    } catch (e) {
      return this.refuse(e);
    }
    // nothing to write: nothing to fence either
    if (statements.length === 0) return this.flushed();
    const batch = this.last.then(() => this.write(statements, independent, metadata, fence, created));
    this.last = batch.catch(() => undefined);
    return batch;
  }

  /**
   * A batch's one statement is prepared once per shape (the tables it writes, fenced or not: a few dozen
   * shapes at most) and run by name after that: PostgreSQL then parses and plans it once, not at each
   * commit. Planning it each time was a large part of the database's CPU on a cluster, where each server
   * commits smaller batches: three servers' PostgreSQL used 0.43 ms of CPU per WfRun instead of 0.60.
   */
  private batchStatementName(text: string): string | undefined {
    let name = this.batchShapes.get(text);
    if (name === undefined && this.batchShapes.size < MAX_BATCH_SHAPES) {
      name = `pony_batch_${this.batchShapes.size}`;
      this.batchShapes.set(text, name);
    }
    return name;
  }

  private refuse(e: unknown): Promise<never> {
    this.failed ??= commitFailure(e);
    return Promise.reject(this.failed);
  }

  /**
   * One batch, one transaction. Usually one statement (oneStatement in pg-writes.ts: one round trip);
   * a batch that writes a row twice (a WfRun deleted, a row deleted and put again) runs its statements one
   * by one in BEGIN … COMMIT, the fence first. A transaction the database aborted to resolve a deadlock or
   * a serialization conflict committed nothing: it is tried again.
   */
  private async write(
    statements: PgStatement[],
    independent: boolean,
    metadata: boolean,
    fence: Fence | undefined,
    created: WfRunRef[],
  ): Promise<void> {
    const parts = fence ? [...fence.epochs.keys()] : [];
    const fenceQuery: PgStatement | undefined =
      fence && parts.length > 0
        ? { text: FENCE, values: [fence.owner, parts, parts.map((p) => fence.epochs.get(p))] }
        : undefined;
    const storedQuery: PgStatement | undefined =
      created.length > 0
        ? { text: STORED_WF_RUNS, values: [created.map((r) => r.tenant), created.map((r) => r.key)] }
        : undefined;
    const notify = `pg_notify('${CHANNEL}', 'metadata')`;
    for (let attempt = 1; ; attempt++) {
      if (this.failed) throw this.failed;
      const c = this.writer;
      if (!c) return this.refuse(new Error("the store is closed"));
      try {
        if (independent) {
          const one = oneStatement(
            statements,
            fenceQuery,
            parts.length,
            metadata ? [notify] : [],
            storedQuery,
          );
          await c.query({ ...one, name: this.batchStatementName(one.text) });
          return;
        }
        await c.query("BEGIN");
        if (fenceQuery) {
          const held = await c.query({ ...fenceQuery, rowMode: "array" });
          if (held.rows.length !== parts.length) {
            await c.query("ROLLBACK");
            return this.refuse(await this.fenced(fence!, parts));
          }
        }
        if (storedQuery) {
          const stored = await c.query({ ...storedQuery, rowMode: "array" });
          if (stored.rows.length > 0) {
            await c.query("ROLLBACK");
            return this.refuse(storedWfRuns(stored.rows as unknown[][]));
          }
        }
        for (const s of statements) await c.query({ text: s.text, values: s.values });
        if (metadata) await c.query(`SELECT ${notify}`);
        await c.query("COMMIT");
        return;
      } catch (e) {
        if (!independent) await c.query("ROLLBACK").catch(() => undefined);
        const code = (e as { code?: string }).code;
        if (code === "22012" && independent)
          return this.refuse(await this.refusal(fence, parts, storedQuery));
        if ((code === "40P01" || code === "40001") && attempt < MAX_ATTEMPTS) continue;
        return this.refuse(e);
      }
    }
  }

  /** Why the one statement of a batch was refused: partitions lost, else WfRuns created that were stored. */
  private async refusal(
    fence: Fence | undefined,
    parts: number[],
    storedQuery: PgStatement | undefined,
  ): Promise<Error> {
    if (fence && parts.length > 0) {
      const fenced = await this.fenced(fence, parts);
      if (fenced.parts.length > 0) return fenced;
    }
    if (storedQuery) {
      const stored = await this.pool.query({ ...storedQuery, rowMode: "array" });
      if (stored.rows.length > 0) return storedWfRuns(stored.rows as unknown[][]);
    }
    return new Error("the batch's checks failed, and then held: it was not written");
  }

  /** The partitions of a refused fence that the committer no longer holds. */
  private async fenced(fence: Fence, parts: number[]): Promise<FencedError> {
    const held = await this.pool.query({
      text: FENCE.replace(" FOR KEY SHARE", ""),
      values: [fence.owner, parts, parts.map((p) => fence.epochs.get(p))],
      rowMode: "array",
    });
    const still = new Set(held.rows.map((r) => Number((r as unknown[])[0])));
    return new FencedError(parts.filter((p) => !still.has(p)));
  }

  flushed(): Promise<void> {
    return this.last;
  }

  async resetAfterFailure(): Promise<void> {
    await this.last;
    // the connection may be broken (the failure may have been the database going away): open a new one
    const old = this.writer;
    this.writer = undefined;
    await old?.end().catch(() => undefined);
    if (!this.closed) this.writer = await this.connect();
    this.failed = undefined;
  }

  async announce(topic: ClusterTopic): Promise<void> {
    await this.pool.query(`SELECT pg_notify('${CHANNEL}', $1)`, [topic]);
  }

  onAnnouncement(listener: (topic: ClusterTopic) => void): () => void {
    this.listeners.add(listener);
    if (!this.listener && !this.closed) void this.listen();
    return () => this.listeners.delete(listener);
  }

  /** LISTEN on a connection of its own; a lost connection is opened again (notices meanwhile are missed). */
  private async listen(): Promise<void> {
    try {
      const c = await this.connect();
      this.listener = c;
      c.on("notification", (n) => {
        const topic = n.payload as ClusterTopic;
        for (const l of this.listeners) l(topic);
      });
      c.on("end", () => {
        if (this.listener === c) this.listener = undefined;
        if (!this.closed && this.listeners.size > 0) setTimeout(() => void this.listen(), 1000).unref();
      });
      await c.query(`LISTEN ${CHANNEL}`);
    } catch {
      if (!this.closed) setTimeout(() => void this.listen(), 1000).unref();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.last;
    await this.writer?.end().catch(() => undefined);
    await this.listener?.end().catch(() => undefined);
    await this.pool.end();
  }
}
