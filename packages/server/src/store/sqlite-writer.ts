import { commitFailure } from "./write-errors";
import { Worker } from "node:worker_threads";
import type { Statement } from "./sqlite-committer";
import type { WriteResult, WriteStatement } from "./sql-reader";

/**
 * A transaction that takes longer than this (ms) means the disk is slow (a long fsync): for
 * SLOW_DISK_BACKOFF_MS the main thread then commits nothing itself (sqlite-committer.ts), so a slow fsync
 * never holds the calls that need no disk.
 */
export const SLOW_COMMIT_MS = 20;
export const SLOW_DISK_BACKOFF_MS = 10_000;
import { FencedError, WfRunExistsError, type WfRunRef } from "./store";

interface Waiter {
  resolve(results?: WriteResult[]): void;
  reject(e: Error): void;
}

/**
 * The main thread's handle on the SQLite writer thread (sqlite-writer-thread.mjs). Commits are sent in
 * order and answered in order; while one batch is being written and fsynced, the main thread goes on
 * serving calls and preparing the next batch.
 */
export class SqliteWriter {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly waiting = new Map<number, Waiter>();
  private last: Promise<void> = Promise.resolve();
  private dead: Error | undefined;
  /** a commit failed: the thread refuses batches until reset */
  private refusing = false;
  /** until when (performance.now()) the disk counts as slow: a transaction took over SLOW_COMMIT_MS */
  slowUntil = 0;

  constructor(file: string) {
    this.worker = new Worker(new URL("./sqlite-writer-thread.mjs", import.meta.url), {
      workerData: { file },
    });
    this.worker.on(
      "message",
      (msg: {
        id: number;
        ok: boolean;
        error?: string;
        code?: string;
        fenced?: number[];
        existing?: WfRunRef[];
        results?: WriteResult[];
        outside?: boolean;
        took?: number;
      }) => {
        if (msg.took !== undefined && msg.took > SLOW_COMMIT_MS)
          this.slowUntil = performance.now() + SLOW_DISK_BACKOFF_MS;
        const w = this.waiting.get(msg.id);
        if (!w) return;
        this.waiting.delete(msg.id);
        if (msg.ok) w.resolve(msg.results);
        else if (msg.outside) {
          // a write outside the batches failed on its own: the batches go on
          w.reject(Object.assign(new Error(msg.error ?? "unknown error"), { code: msg.code }));
        } else {
          this.refusing = true;
          w.reject(
            msg.fenced !== undefined
              ? new FencedError(msg.fenced)
              : msg.existing !== undefined
                ? new WfRunExistsError(msg.existing)
                : commitFailure(Object.assign(new Error(msg.error ?? "unknown error"), { code: msg.code })),
          );
        }
      },
    );
    this.worker.on("error", (e) => this.fail(e));
    this.worker.on("exit", (code) => this.fail(new Error(`the SQLite writer thread exited (${code})`)));
  }

  private fail(e: Error): void {
    this.dead ??= e;
    for (const w of this.waiting.values()) w.reject(e);
    this.waiting.clear();
  }

  private send(message: object): Promise<void> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    const p = new Promise<void>((resolve, reject) =>
      this.waiting.set(id, { resolve: () => resolve(), reject }),
    );
    this.worker.postMessage({ ...message, id });
    this.last = p.catch(() => undefined);
    return p;
  }

  commit(ops: Statement[]): Promise<void> {
    return this.send({ kind: "commit", ops });
  }

  /** Statements outside the batches, in one transaction of their own; their changes and returned rows. */
  write(statements: readonly WriteStatement[]): Promise<WriteResult[]> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    const p = new Promise<WriteResult[]>((resolve, reject) =>
      this.waiting.set(id, { resolve: (r) => resolve(r ?? []), reject }),
    );
    this.worker.postMessage({ kind: "write", statements, id });
    return p;
  }

  /**
   * True when the thread has nothing to write and has not refused a batch: a batch committed elsewhere now
   * is in order after every batch sent here.
   */
  idle(): boolean {
    return this.waiting.size === 0 && !this.refusing && !this.dead;
  }

  /**
   * Asks the thread for a passive WAL checkpoint (commits made elsewhere do not checkpoint). Until it is
   * done the thread is not idle, so batches handed in meanwhile queue behind it; the first write after it
   * (wherever it is made) starts the WAL file over from its beginning, as SQLite does when a write finds
   * the WAL fully checkpointed. So the WAL stays within about CHECKPOINT_EVERY commits.
   */
  checkpoint(): void {
    this.send({ kind: "checkpoint" }).catch(() => undefined);
  }

  /** Resolves once every commit sent so far has been answered. */
  flushed(): Promise<void> {
    return this.last;
  }

  /** After a failed commit (and the caches dropped), accept batches again. */
  async reset(): Promise<void> {
    await this.send({ kind: "reset" });
    this.refusing = false;
  }

  async close(): Promise<void> {
    if (!this.dead) await this.send({ kind: "close" }).catch(() => undefined);
    this.dead ??= new Error("the store is closed");
    await this.worker.terminate();
  }
}
