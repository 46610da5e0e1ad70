/**
 * The command processor: every change to the store goes through here, as a Job.
 *
 * Jobs queue up; the processor takes everything queued, applies the jobs one after another (each sees the
 * effects of those before it), writes all their changes in ONE transaction (group commit: one fsync for the
 * whole batch), and only then answers the jobs and carries out their after-commit actions (hand a task to a
 * worker, arm a timer). So an RPC is acknowledged only once its effects are durable, and commands for one
 * WfRun apply one at a time in arrival order.
 *
 * A job that throws has its own writes discarded; the WfRun it touched is dropped from the cache (reloaded
 * from the store) and later jobs for that WfRun in the same batch move to the next batch.
 */
import { PonyError } from "@pony/engine";
import type { Store, WriteOp } from "../store/store";

export interface BatchTx {
  readonly ops: WriteOp[];
  /** runs once the batch is committed, in order */
  afterCommit(fn: () => void): void;
}

export interface Job<T> {
  /** a job that touches one WfRun names it, so that the WfRun is loaded before `apply` runs */
  wfRun?: { tenant: string; key: string };
  apply(tx: BatchTx): T;
}

interface Pending {
  job: Job<unknown>;
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

export interface ProcessorHooks {
  /** load a WfRun into the cache before a job that names it (no-op if cached or absent) */
  preload(tenant: string, key: string): Promise<void>;
  /** forget the cached copy of a WfRun (after a failed job) */
  evict(tenant: string, key: string): void;
  /** the store's state and the caches may have diverged: drop every cache */
  resetCaches(): Promise<void>;
  /** after every committed batch */
  afterBatch(): void;
}

const MAX_BATCH = 2000;

export class Processor {
  private pending: Pending[] = [];
  private draining = false;
  private stopped = false;
  /** batches committed, and jobs in them (for the benchmark and the logs) */
  readonly stats = { batches: 0, jobs: 0 };

  constructor(
    private readonly store: Store,
    private readonly hooks: ProcessorHooks,
  ) {}

  submit<T>(job: Job<T>): Promise<T> {
    if (this.stopped) return Promise.reject(new PonyError("the server is shutting down"));
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ job, resolve: resolve, reject });
      if (!this.draining) {
        this.draining = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  /** Resolves once every job submitted so far is done. */
  async idle(): Promise<void> {
    while (this.draining) await new Promise((r) => setImmediate(r));
  }

  stop(): void {
    this.stopped = true;
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0, MAX_BATCH);
        await this.runBatch(batch);
      }
    } finally {
      this.draining = false;
    }
  }

  private async runBatch(batch: Pending[]): Promise<void> {
    for (const p of batch) {
      if (p.job.wfRun) {
        try {
          await this.hooks.preload(p.job.wfRun.tenant, p.job.wfRun.key);
        } catch (e) {
          p.reject(e);
          p.job = { apply: () => undefined };
          p.reject = () => undefined;
          p.resolve = () => undefined;
        }
      }
    }
    const ops: WriteOp[] = [];
    const after: (() => void)[] = [];
    const tx: BatchTx = { ops, afterCommit: (fn) => after.push(fn) };
    const poisoned = new Set<string>();
    const outcomes: { p: Pending; ok: boolean; value: unknown }[] = [];
    const deferred: Pending[] = [];
    for (const p of batch) {
      const runKey = p.job.wfRun ? `${p.job.wfRun.tenant}\u0000${p.job.wfRun.key}` : undefined;
      if (runKey && poisoned.has(runKey)) {
        deferred.push(p);
        continue;
      }
      const opsMark = ops.length;
      const afterMark = after.length;
      try {
        outcomes.push({ p, ok: true, value: p.job.apply(tx) });
      } catch (e) {
        ops.length = opsMark;
        after.length = afterMark;
        if (p.job.wfRun) {
          this.hooks.evict(p.job.wfRun.tenant, p.job.wfRun.key);
          poisoned.add(runKey!);
        }
        outcomes.push({ p, ok: false, value: e });
      }
    }
    if (deferred.length > 0) this.pending.unshift(...deferred);
    try {
      await this.store.commit(ops);
    } catch (e) {
      for (const o of outcomes) o.p.reject(e);
      await this.hooks.resetCaches();
      return;
    }
    this.stats.batches++;
    this.stats.jobs += outcomes.length;
    for (const fn of after) {
      try {
        fn();
      } catch (e) {
        // An after-commit action must not undo a committed batch; it is logged by the caller's hook.
        queueMicrotask(() => {
          throw e;
        });
      }
    }
    for (const o of outcomes) {
      if (o.ok) o.p.resolve(o.value);
      else o.p.reject(o.value);
    }
    this.hooks.afterBatch();
  }
}
