/**
 * The command processor: every change to the store goes through here, as a Job.
 *
 * Jobs queue up; the processor takes everything queued, applies the jobs one after another (each sees the
 * effects of those before it), writes all their changes in ONE transaction (group commit: one fsync for the
 * whole batch), and only then answers the jobs and carries out their after-commit actions (hand a task to a
 * worker, arm a timer). So an RPC is acknowledged only once its effects are durable, and commands for one
 * WfRun apply one at a time in arrival order. While a batch is being written (on the store's own thread),
 * the next one is already applied in memory and handed over behind it; batches commit and are answered in
 * order.
 *
 * Jobs wait in one queue per tenant, and a batch takes them round-robin over the tenants (one job of each in
 * turn, each queue in arrival order), so a tenant with a long queue delays another tenant's job by at most a
 * few jobs, not by its whole queue. Jobs of one WfRun stay in order: they are in the same tenant's queue.
 *
 * A batch's time on this thread is bounded: applying its jobs, then turning its writes into rows (protobuf
 * encoding, in the store's commit) together take about BATCH_BUDGET_MS. Applying stops early enough to leave
 * encoding its share (measured on recent batches), or once MAX_BATCH_OPS writes are gathered; the remaining
 * jobs (but the first of each tenant) wait for the next batch, and the event loop reads and answers other
 * requests in between, so they keep being answered while a long queue drains (each job is bounded too:
 * engine turns.ts).
 *
 * A job that throws has its own writes discarded; the WfRun it touched is dropped from the cache (reloaded
 * from the store) and later jobs for that WfRun in the same batch move to the next batch.
 *
 * A RunWf's job does not load its WfRun (newWfRun): the store refuses a batch that creates a WfRun stored
 * already (WfRunExistsError). That fails no job: once the caches are rebuilt, the jobs of that batch and of
 * the later ones run again in their order, loading their WfRuns, and the RunWf then finds its id taken.
 *
 * Each job belongs to a partition (runtime/partitions.ts). A job of a partition this server does not own is
 * refused with NotOwnerError before it is applied, and each batch carries the fence of the partitions its
 * jobs touched: a server that lost a partition cannot commit for it (FencedError), whatever it had applied.
 */
import { PonyError } from "@pony/engine";
import {
  FencedError,
  WfRunExistsError,
  type Fence,
  type Store,
  type WfRunRef,
  type WriteOp,
} from "../store/store";
import { NotOwnerError } from "./partitions";
import { tenantKey } from "./tenant-keys";

export interface BatchTx {
  readonly ops: WriteOp[];
  /** runs once the batch is committed, in order */
  afterCommit(fn: () => void): void;
  /** runs instead when the job's writes are discarded (it threw) or the batch fails to commit */
  onAbort(fn: () => void): void;
}

export interface Job<T> {
  /** a job that touches one WfRun names it, so that the WfRun is loaded before `apply` runs */
  wfRun?: WfRunRef;
  /**
   * the job creates the WfRun, so it is not loaded first: its batch need not wait for the batches being
   * written, nor read the store (runtime preload). The WfRun is written as created: should one of its key be
   * stored already, the store refuses the batch (WfRunExistsError) and the job runs again with this false.
   */
  newWfRun?: boolean;
  /** other WfRuns the job reads (a new child WfRun's parent) */
  alsoLoad?: WfRunRef[];
  apply(tx: BatchTx): T;
}

interface Pending {
  job: Job<unknown>;
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

export interface ProcessorHooks {
  /** the partition a job belongs to (its WfRun's; metadata jobs: METADATA_PARTITION) */
  partitionOf(job: Job<unknown>): number;
  /** whether this server applies the partition's jobs now */
  owns(part: number): boolean;
  /** the fence proving this server holds these partitions */
  fence(parts: Iterable<number>): Fence;
  /** a batch was refused: this server no longer holds these partitions */
  fenced(parts: number[]): void;
  /** load WfRuns into the cache before the jobs that name them (those cached or absent are skipped) */
  preload(runs: readonly WfRunRef[]): Promise<void>;
  /** forget the cached copy of a WfRun (after a failed job) */
  evict(tenant: string, key: string): void;
  /** the store's state and the caches may have diverged: drop every cache */
  resetCaches(): Promise<void>;
  /** a batch is handed to the store */
  committing(ops: readonly WriteOp[]): void;
  /** a batch handed to the store is committed (ok) or failed */
  committed(ops: readonly WriteOp[], ok: boolean): void;
}

const MAX_BATCH = 2000;
const MAX_INFLIGHT_BATCHES = 4;
/** how long one batch may hold this thread, applying its jobs and encoding its writes (ms) */
const BATCH_BUDGET_MS = 10;
/** the least time a batch's jobs may be applied, however long encoding has been taking (ms) */
const MIN_APPLY_MS = 3;
/** writes one batch may gather before the rest wait for the next */
const MAX_BATCH_OPS = 500;

export class Processor {
  /** queued jobs by tenant ("" for jobs of no WfRun: metadata, tenants, principals), least recently served first */
  private readonly queues = new Map<string, Pending[]>();
  private queued = 0;
  private draining = false;
  private stopped = false;
  private inflight: Promise<void>[] = [];
  /** the batch being applied, until it is handed to the store */
  private applying: Promise<unknown> | undefined;
  /** batches handed to the store and not answered yet */
  private readonly unanswered = new Set<Promise<void>>();
  private recovering: Promise<void> | undefined;
  /** batches committed, and jobs in them (for the benchmark and the logs) */
  readonly stats = { batches: 0, jobs: 0 };
  /** jobs of batches refused with WfRunExistsError, to run again once the failure is recovered from */
  private readonly replay: Pending[] = [];
  /** the share of a batch's time spent encoding its writes, smoothed over recent batches */
  private encodeShare = 0.5;

  constructor(
    private readonly store: Store,
    private readonly hooks: ProcessorHooks,
  ) {}

  submit<T>(job: Job<T>): Promise<T> {
    if (this.stopped) return Promise.reject(new PonyError("the server is shutting down"));
    return new Promise<T>((resolve, reject) => {
      this.enqueue({ job, resolve: resolve, reject });
      if (!this.draining) {
        this.draining = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  /** Whether jobs are queued, being applied, or being committed. */
  get busy(): boolean {
    return (
      this.draining ||
      this.applying !== undefined ||
      this.unanswered.size > 0 ||
      this.recovering !== undefined
    );
  }

  /** Resolves once every job submitted so far is done. */
  async idle(): Promise<void> {
    while (this.draining || this.recovering) await new Promise((r) => setImmediate(r));
  }

  /**
   * Resolves once every job applied so far (and the batch being applied now) is committed and answered.
   * Unlike idle(), it does not wait for jobs submitted later: a partition being handed over refuses new
   * jobs, so this is the moment its last ones are done.
   */
  async barrier(): Promise<void> {
    if (this.applying) await this.applying.catch(() => undefined);
    await Promise.all([...this.unanswered]);
  }

  stop(): void {
    this.stopped = true;
  }

  private enqueue(p: Pending, atHead = false): void {
    const tenant = p.job.wfRun?.tenant ?? "";
    let q = this.queues.get(tenant);
    if (!q) this.queues.set(tenant, (q = []));
    if (atHead) q.unshift(p);
    else q.push(p);
    this.queued++;
  }

  /** Up to `max` jobs, one of each tenant's queue in turn; a queue served goes to the back of the rotation. */
  private takeBatch(max: number): Pending[] {
    const batch: Pending[] = [];
    while (batch.length < max && this.queued > 0) {
      for (const [tenant, q] of [...this.queues]) {
        if (batch.length >= max) break;
        batch.push(q.shift()!);
        this.queued--;
        this.queues.delete(tenant);
        if (q.length > 0) this.queues.set(tenant, q);
      }
    }
    return batch;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queued > 0) {
        if (this.recovering) await this.recovering;
        const batch = this.takeBatch(MAX_BATCH);
        const applying = this.applyBatch(batch);
        this.applying = applying;
        const applied = await applying;
        // Hand the batch to the store and go on with the next one while it is written (pipelining);
        // keep a bounded number in flight so answers are not delayed behind a long queue.
        const finished = this.finish(applied).finally(() => this.unanswered.delete(finished));
        this.unanswered.add(finished);
        this.applying = undefined;
        this.inflight.push(finished);
        if (this.inflight.length >= MAX_INFLIGHT_BATCHES) await this.inflight.shift();
        // let I/O in (new requests, answers) after every batch: a queue that never empties (a WfRun that goes
        // on turn after turn) must not keep the event loop from reading other callers' requests. Twice: a batch
        // that went on after a store read ends in the poll phase, and one setImmediate would start the next
        // batch in the same loop iteration, before any socket is read again.
        await new Promise((r) => setImmediate(r));
        await new Promise((r) => setImmediate(r));
      }
      while (this.inflight.length > 0) await this.inflight.shift();
    } finally {
      this.draining = false;
      if (this.queued > 0) {
        this.draining = true;
        setImmediate(() => void this.drain());
      }
    }
  }

  private async applyBatch(batch: Pending[]): Promise<AppliedBatch> {
    const parts = new Set<number>();
    const loading: { p: Pending; runs: WfRunRef[] }[] = [];
    for (const p of batch) {
      const part = this.hooks.partitionOf(p.job);
      if (!this.hooks.owns(part)) {
        refuse(p, new NotOwnerError(part));
        continue;
      }
      parts.add(part);
      const runs = [...(p.job.wfRun && !p.job.newWfRun ? [p.job.wfRun] : []), ...(p.job.alsoLoad ?? [])];
      if (runs.length > 0) loading.push({ p, runs });
    }
    if (loading.length > 0) {
      try {
        // one read for the whole batch's WfRuns
        await this.hooks.preload(loading.flatMap((l) => l.runs));
      } catch {
        // then each job's own, to fail only the jobs whose WfRuns cannot be loaded
        for (const { p, runs } of loading) await this.hooks.preload(runs).catch((e: unknown) => refuse(p, e));
      }
    }
    const ops: WriteOp[] = [];
    const after: (() => void)[] = [];
    const aborts: (() => void)[] = [];
    const tx: BatchTx = { ops, afterCommit: (fn) => after.push(fn), onAbort: (fn) => aborts.push(fn) };
    const poisoned = new Set<string>();
    const outcomes: Outcome[] = [];
    const deferred: Pending[] = [];
    const started = performance.now();
    const applyBudget = Math.max(MIN_APPLY_MS, BATCH_BUDGET_MS * (1 - this.encodeShare));
    // past the time budget, a tenant's further jobs wait for the next batch; its first one always runs, so
    // a tenant's job is never put off behind another tenant's long one twice
    const served = new Set<string>();
    for (const p of batch) {
      const tenant = p.job.wfRun?.tenant ?? "";
      if (served.has(tenant) && (ops.length >= MAX_BATCH_OPS || performance.now() - started > applyBudget)) {
        deferred.push(p);
        continue;
      }
      served.add(tenant);
      const runKey = p.job.wfRun ? tenantKey(p.job.wfRun.tenant, p.job.wfRun.key) : undefined;
      if (runKey && poisoned.has(runKey)) {
        deferred.push(p);
        continue;
      }
      const opsMark = ops.length;
      const afterMark = after.length;
      const abortMark = aborts.length;
      try {
        outcomes.push({ p, ok: true, value: p.job.apply(tx) });
      } catch (e) {
        ops.length = opsMark;
        after.length = afterMark;
        runAll(aborts.splice(abortMark));
        if (p.job.wfRun) {
          this.hooks.evict(p.job.wfRun.tenant, p.job.wfRun.key);
          poisoned.add(runKey!);
        }
        if (p.job.newWfRun) {
          // it did not load its WfRun: it runs again loaded, so that an id already taken is what it answers
          p.job.newWfRun = false;
          deferred.push(p);
          continue;
        }
        outcomes.push({ p, ok: false, value: e });
      }
    }
    // back at the head of their queues, in their order
    for (let i = deferred.length - 1; i >= 0; i--) this.enqueue(deferred[i]!, true);
    this.hooks.committing(ops);
    const encoding = performance.now();
    const committed = this.store.commit(ops, this.hooks.fence(parts));
    const done = performance.now();
    this.encodeShare = 0.8 * this.encodeShare + (0.2 * (done - encoding)) / Math.max(0.1, done - started);
    return { ops, outcomes, after, aborts, committed, cut: deferred.length > 0 };
  }

  private async finish(applied: AppliedBatch): Promise<void> {
    try {
      await applied.committed;
    } catch (e) {
      this.hooks.committed(applied.ops, false);
      runAll(applied.aborts);
      if (e instanceof WfRunExistsError) {
        // A RunWf's id was taken (its job did not read the store to know): nothing of this batch or the later
        // ones was stored, so their jobs run again once the caches are rebuilt, this time loading their WfRuns.
        for (const o of applied.outcomes) {
          o.p.job.newWfRun = false;
          this.replay.push(o.p);
        }
      } else for (const o of applied.outcomes) o.p.reject(e);
      if (e instanceof FencedError) this.hooks.fenced(e.parts);
      // Later batches were computed on top of this one: the store refuses them, and the caches are
      // rebuilt from what is committed once they have all been answered.
      this.recovering ??= this.recover();
      return;
    }
    this.stats.batches++;
    this.stats.jobs += applied.outcomes.length;
    // an after-commit action must not undo a committed batch
    runAll(applied.after);
    for (const o of applied.outcomes) {
      if (o.ok) o.p.resolve(o.value);
      else o.p.reject(o.value);
    }
    this.hooks.committed(applied.ops, true);
  }

  private async recover(): Promise<void> {
    await this.store.flushed();
    // every batch handed to the store has failed: let their answers (or replays) be settled first
    await Promise.all([...this.unanswered]);
    await this.hooks.resetCaches();
    await this.store.resetAfterFailure();
    this.recovering = undefined;
    // jobs to run again go first, in their order, before those that came meanwhile
    const replay = this.replay.splice(0);
    for (let i = replay.length - 1; i >= 0; i--) this.enqueue(replay[i]!, true);
    if (this.queued > 0 && !this.draining) {
      this.draining = true;
      setImmediate(() => void this.drain());
    }
  }
}

/** Rejects a job before it is applied; it stays in its batch as a job that does nothing. */
function refuse(p: Pending, e: unknown): void {
  p.reject(e);
  p.job = { apply: () => undefined };
  p.reject = () => undefined;
  p.resolve = () => undefined;
}

interface Outcome {
  p: Pending;
  ok: boolean;
  value: unknown;
}

/** Runs each action; one that throws is reported without stopping the others. */
function runAll(fns: (() => void)[]): void {
  for (const fn of fns) {
    try {
      fn();
    } catch (e) {
      queueMicrotask(() => {
        throw e;
      });
    }
  }
}

interface AppliedBatch {
  ops: WriteOp[];
  outcomes: Outcome[];
  after: (() => void)[];
  aborts: (() => void)[];
  committed: Promise<void>;
  /** some of its jobs were put off to the next batch (the budget was spent) */
  cut: boolean;
}
