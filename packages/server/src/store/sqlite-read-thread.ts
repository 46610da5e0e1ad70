/**
 * The main thread's handle on the SQLite reader thread (sqlite-reader-thread.mjs): long reads (a List
 * RPC's page) run there, on a connection of their own, while the main thread serves other calls. If the
 * thread is gone, reads fall back to the main connection (slower for everyone, still correct).
 */
import { Worker } from "node:worker_threads";

interface Waiter {
  sql: string;
  params: readonly unknown[];
  resolve(rows: unknown[][]): void;
  reject(e: unknown): void;
}

export class SqliteReadThread {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly waiting = new Map<number, Waiter>();
  private dead: Error | undefined;

  constructor(
    file: string,
    /** the same query on the main connection, for when the thread is gone */
    private readonly fallback: (sql: string, params: readonly unknown[]) => unknown[][],
  ) {
    this.worker = new Worker(new URL("./sqlite-reader-thread.mjs", import.meta.url), {
      workerData: { file },
    });
    // an idle reader thread does not keep the process alive
    this.worker.unref();
    this.worker.on(
      "message",
      (msg: { id: number; ok: boolean; rows?: unknown[][]; error?: string; code?: string }) => {
        const w = this.waiting.get(msg.id);
        if (!w) return;
        this.waiting.delete(msg.id);
        if (msg.ok) w.resolve(msg.rows ?? []);
        else w.reject(Object.assign(new Error(msg.error ?? "unknown error"), { code: msg.code }));
      },
    );
    this.worker.on("error", (e) => this.fail(e));
    this.worker.on("exit", (code) => this.fail(new Error(`the SQLite reader thread exited (${code})`)));
  }

  /** Rows of a query, read on the thread; on the main connection once the thread is gone. */
  rows(sql: string, params: readonly unknown[]): Promise<unknown[][]> {
    if (this.dead) return Promise.resolve().then(() => this.fallback(sql, params));
    const id = this.nextId++;
    const p = new Promise<unknown[][]>((resolve, reject) =>
      this.waiting.set(id, { sql, params, resolve, reject }),
    );
    this.worker.postMessage({ id, sql, params });
    return p;
  }

  private fail(e: Error): void {
    if (this.dead) return;
    this.dead = e;
    // what was asked of the thread is read on the main connection instead
    for (const [id, w] of this.waiting) {
      this.waiting.delete(id);
      try {
        w.resolve(this.fallback(w.sql, w.params));
      } catch (err) {
        w.reject(err);
      }
    }
  }

  async close(): Promise<void> {
    if (!this.dead) {
      const id = this.nextId++;
      const closed = new Promise<unknown>((resolve) =>
        this.waiting.set(id, { sql: "", params: [], resolve, reject: resolve }),
      );
      this.worker.postMessage({ id, kind: "close" });
      await closed;
    }
    this.dead ??= new Error("the store is closed");
    await this.worker.terminate();
  }
}
