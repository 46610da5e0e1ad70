import { commitFailure } from "./write-errors";
import type Database from "better-sqlite3";
import { SLOW_COMMIT_MS, SLOW_DISK_BACKOFF_MS, SqliteWriter } from "./sqlite-writer";
import type { WriteResult, WriteStatement } from "./sql-reader";
import { FencedError, WfRunExistsError, type WfRunRef } from "./store";

/**
 * One statement of a batch: SQL and parameters, and for a check what it checks. A fence check names its
 * partition: the statement must change exactly one row, else the batch fails with FencedError. A check that
 * a created WfRun is new names the WfRun: the statement must change no row, else the batch fails with
 * WfRunExistsError. Checks come first.
 */
export type Statement = [string, unknown[]] | [string, unknown[], number | WfRunRef];

/** Sync commits on the main connection between two checkpoints the writer thread runs. */
const CHECKPOINT_EVERY = 50;
/** The main thread's busy share (event loop utilization) up to which it commits batches itself. */
const COMMIT_HERE_UP_TO = 0.5;
/** Larger batches always go to the writer thread: writing them would hold the main thread too long. */
const MAX_STATEMENTS_HERE = 200;
/** How often the busy share is measured (ms). */
const BUSY_WINDOW_MS = 10;

/**
 * Where a batch of statements is committed (one transaction, one fsync).
 *
 * A lightly loaded server commits a small batch right here on the main connection, when nothing is being
 * written and the main thread was busy less than half of the last few milliseconds: it answers (and hands a
 * task to a waiting worker) without two hops through the writer thread, and the time it blocks on the disk
 * is time it had to spare. Otherwise the batch goes to the writer thread (sqlite-writer.ts), queued behind
 * the ones being written, and the main thread goes on serving calls and preparing the next batch while the
 * disk works: that is what carries a loaded server. Either way batches commit in the order they are given.
 *
 * A transaction (here or on the writer thread) that took longer than SLOW_COMMIT_MS — a slow disk — sends
 * every batch to the writer thread for a while, so a slow fsync never holds the calls that need no disk.
 *
 * After a failed batch every later one is refused, wherever it would be written, until reset(): later
 * batches were computed on top of the failed one.
 *
 * Only this server writes the file. Should another process hold the write lock anyway, the main thread does
 * not wait for it (busy timeout 0 while it takes the lock) and the batch goes to the writer thread instead.
 * The main connection does not checkpoint the WAL itself: every CHECKPOINT_EVERY commits it has the writer
 * thread run a passive checkpoint, and the next batch is written by the thread after it.
 */
export class SqliteCommitter {
  private readonly writer: SqliteWriter;
  private failed: Error | undefined;
  private sinceCheckpoint = 0;
  private readonly prepared = new Map<string, Database.Statement>();
  private readonly applyHere: Database.Transaction<(statements: Statement[]) => void>;
  private readonly busyTimeoutMs: number;
  private busyMark = performance.eventLoopUtilization();
  private busyMarkAt = performance.now();
  private busyShare = 0;
  constructor(
    private readonly db: Database.Database,
    file: string,
  ) {
    this.writer = new SqliteWriter(file);
    db.pragma("wal_autocheckpoint = 0");
    this.busyTimeoutMs = Number(db.pragma("busy_timeout", { simple: true }));
    // as applyBatch in sqlite-writer-thread.mjs (the same rules on the writer thread)
    this.applyHere = db.transaction((statements: Statement[]) => {
      const fenced: number[] = [];
      const existing: WfRunRef[] = [];
      for (const [sql, params, check] of statements) {
        // the checks come first: once past them, refuse the batch naming every lost partition or existing WfRun
        if (check === undefined && (fenced.length > 0 || existing.length > 0)) break;
        const { changes } = this.statement(sql).run(...params);
        if (typeof check === "number") {
          if (changes !== 1) fenced.push(check);
        } else if (check !== undefined && changes !== 0) existing.push(check);
      }
      if (fenced.length > 0) throw new FencedError(fenced);
      if (existing.length > 0) throw new WfRunExistsError(existing);
    });
  }

  private statement(sql: string): Database.Statement {
    let s = this.prepared.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.prepared.set(sql, s);
    }
    return s;
  }

  commit(statements: Statement[]): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    if (statements.length === 0) return this.writer.flushed();
    if (
      statements.length <= MAX_STATEMENTS_HERE &&
      this.writer.idle() &&
      performance.now() >= this.writer.slowUntil &&
      this.mainThreadHasTime()
    ) {
      try {
        if (this.commitHere(statements)) return Promise.resolve();
      } catch (e) {
        return this.refuse(e);
      }
    }
    return this.writer.commit(statements);
  }

  /** A batch that could not be written (or encoded): it fails, and so does every later one until reset. */
  refuse(e: unknown): Promise<never> {
    this.failed ??= commitFailure(e);
    return Promise.reject(this.failed);
  }

  /**
   * Whether the main thread was busy at most COMMIT_HERE_UP_TO of the time since the share was last
   * measured (at most every BUSY_WINDOW_MS). After an idle spell a burst is committed here for its first
   * window, until the share is measured again.
   */
  private mainThreadHasTime(): boolean {
    const at = performance.now();
    if (at - this.busyMarkAt >= BUSY_WINDOW_MS) {
      const now = performance.eventLoopUtilization();
      this.busyShare = performance.eventLoopUtilization(now, this.busyMark).utilization;
      this.busyMark = now;
      this.busyMarkAt = at;
    }
    return this.busyShare <= COMMIT_HERE_UP_TO;
  }

  /** Commits on the main connection; false (nothing written) when another connection holds the write lock. */
  private commitHere(statements: Statement[]): boolean {
    this.db.pragma("busy_timeout = 0");
    const started = performance.now();
    try {
      this.applyHere.immediate(statements);
      const took = performance.now() - started;
      // one clock for the disk's slowness, wherever the slow transaction ran
      if (took > SLOW_COMMIT_MS) this.writer.slowUntil = performance.now() + SLOW_DISK_BACKOFF_MS;
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (typeof code === "string" && code.startsWith("SQLITE_BUSY") && !this.db.inTransaction) return false;
      throw e;
    } finally {
      this.db.pragma(`busy_timeout = ${this.busyTimeoutMs}`);
    }
    if (++this.sinceCheckpoint >= CHECKPOINT_EVERY) {
      this.sinceCheckpoint = 0;
      this.writer.checkpoint();
    }
    return true;
  }

  /** Writes outside the batches (SqlReader.write): on the writer thread, in one transaction. */
  writeOutsideBatches(statements: readonly WriteStatement[]): Promise<WriteResult[]> {
    return this.writer.write(statements);
  }

  /** Resolves once every batch handed in so far is committed or failed. */
  flushed(): Promise<void> {
    return this.writer.flushed();
  }

  /** After a failed batch (and the caches dropped), accept batches again. */
  async reset(): Promise<void> {
    // a failed ROLLBACK (disk full, I/O error) could have left the main connection's transaction open
    if (this.db.inTransaction) this.db.exec("ROLLBACK");
    await this.writer.reset();
    this.failed = undefined;
  }

  close(): Promise<void> {
    return this.writer.close();
  }
}
