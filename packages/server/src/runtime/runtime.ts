/**
 * The runtime around the pure engine: it loads WfRuns, feeds commands to the engine inside processor jobs,
 * turns the engine's changes and effects into store writes and after-commit actions, and keeps the task
 * queues and timers that a restart rebuilds from the store.
 */
import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  LHStatus,
  MetricsWindowLength,
  ScheduledTaskSchema,
  TaskStatus,
  type ReportTaskRun,
  type RunWfRequest,
  type ScheduledTask,
  type TaskRun,
  type WfRun,
  type WfRunId,
  type Variable,
  type WfSpec,
  type WfSpecId,
  type WfSpecVersionMigration,
  type WorkflowEvent,
  WfRunVariableAccessLevel,
} from "@pony/proto";
import {
  AlreadyExistsError,
  FailedPreconditionError,
  NotFoundError,
  applyCommand,
  createWfRun,
  emptyChanges,
  nodeRunKey,
  variableKey,
  type EngineContext,
  type TimerCommand,
  type WfRunCommand,
  type WfRunState,
  INHERITED_PREFIX,
  eventKey,
  inheritedVariableKey,
  CONTINUE_TIMER_KEY,
  applyMigration,
} from "@pony/engine";
import { Admission, DEFAULT_LIMITS, type AdmissionLimits } from "./admission";
import type { Logger } from "pino";
import type { QueuedTask, Store, WfRunRef, WriteOp } from "../store/store";
import { changesMetadata } from "../store/row-writes";
import { MetadataCache } from "./metadata-cache";
import { SecurityDirectory } from "../security/directory";
import { Processor, type BatchTx, type Job } from "./processor";
import { METADATA_PARTITION, NotOwnerError, Partitions } from "./partitions";
import { TaskQueues, type Poller } from "./task-queues";
import { TimerWheel } from "./timers";
import { Scheduler } from "./scheduler";
import { migrationPlanOf, resumeMigrations, sameVersion } from "./migrations";
import { UnavailableError } from "../grpc/status";
import { wfRunKey } from "./ids";
import { KEY_SEPARATOR, tenantKey } from "./tenant-keys";
import { preciseNowMs } from "./clock";
import { recordMetrics } from "./metrics";
import { variableIndexInfo } from "./search-index";

export interface RuntimeOptions {
  /** NodeRuns one command may create before the thread fails (tight-loop guard) */
  maxNodeRunsPerCommand?: number;
  /** live ThreadRuns one WfRun may have (guard against endless thread spawning) */
  maxThreadsPerWfRun?: number;
  /** NodeRuns one command may change before the WfRun goes on in a later turn (engine turns.ts) */
  maxNodeRunsPerTurn?: number;
  /** what the server refuses under load (admission.ts) */
  admission?: Partial<AdmissionLimits>;
  /** WfRuns kept in memory between commands */
  maxCachedWfRuns?: number;
  /** the clock, in epoch ms (fractions of a ms are kept to the µs for task attempt times) */
  now?: () => number;
  /** the partitions this server may own (default: one partition, as a test store has) */
  partitions?: Partitions;
  /** missed ticks of each scheduled WfRun run after a downtime (scheduler.ts; default 1) */
  scheduleCatchUp?: number;
}

/** A user task reminder TaskRun still to be run or reported: it belongs to no NodeRun but must stay loaded. */
function isPendingReminder(taskRun: TaskRun): boolean {
  return (
    taskRun.source?.taskRunSource.case === "userTaskTrigger" &&
    (taskRun.status === TaskStatus.TASK_SCHEDULED ||
      taskRun.status === TaskStatus.TASK_RUNNING ||
      taskRun.status === TaskStatus.TASK_PENDING)
  );
}

interface TimerPayload {
  part: number;
  tenant: string;
  wfRunKey: string;
  key: string;
  command: TimerCommand;
  /** how many times its command failed and it was armed again (runtime.fireTimer) */
  retries?: number;
}

const cacheKey = (tenant: string, key: string) => tenantKey(tenant, key);
/** a timer whose command failed (not for a lost partition) fires again after this long, doubling each time */
const TIMER_RETRY_MS = 1000;
const MAX_TIMER_RETRY_MS = 60_000;

/** a WfRun's timer: grouped under the WfRun (TimerWheel.cancelPrefix drops the group) */
const timerId = (tenant: string, wfRunKey: string, key: string) => tenantKey(tenant, wfRunKey, key);

export class Runtime {
  readonly metadata = new MetadataCache();
  /** every Tenant and Principal */
  readonly security = new SecurityDirectory();
  readonly queues = new TaskQueues();
  readonly processor: Processor;
  /** scheduled WfRuns, fired by the owner of the metadata partition */
  readonly scheduler: Scheduler;
  /**
   * How a schedule's tick starts its WfRun: the server sets it to run RunWf through the request pipeline
   * (so it runs at the owner of the WfRun's partition).
   */
  startScheduledRun: (tenant: string, req: RunWfRequest) => Promise<unknown> = () =>
    Promise.reject(new UnavailableError("the server is starting"));
  private readonly timers: TimerWheel<TimerPayload>;
  private readonly cache = new Map<string, WfRunState>();
  /** per batch, the WfRun states already written in it (see firstWfRunWrite) */
  private readonly wfRunsWritten = new WeakMap<BatchTx, WeakSet<WfRunState>>();
  private readonly maxNodeRunsPerCommand: number;
  private readonly maxThreadsPerWfRun: number;
  private readonly maxNodeRunsPerTurn: number;
  readonly admission: Admission;
  /** AwaitWorkflowEvent callers waiting for an event of a WfRun */
  readonly workflowEventWaiters = new Map<string, Set<(event: WorkflowEvent) => boolean>>();
  private readonly maxCachedWfRuns: number;
  /** whole epoch milliseconds */
  readonly now: () => number;
  /** the same clock to the microsecond */
  private readonly preciseNow: () => number;
  /** which partitions this server owns: it applies commands, dispatches tasks and fires timers of those */
  readonly partitions: Partitions;
  /** the metadata version the caches were last loaded at (store.metadataVersion) */
  private metadataVersion = -1;
  /** batches changing metadata handed to the store and not answered yet; and those answered so far */
  private metadataBatches = 0;
  private metadataCommits = 0;
  private readonly metadataSettled: (() => void)[] = [];

  constructor(
    readonly store: Store,
    private readonly log: Logger,
    opts: RuntimeOptions = {},
  ) {
    this.preciseNow = opts.now ?? preciseNowMs;
    this.now = () => Math.floor(this.preciseNow());
    this.maxNodeRunsPerCommand = opts.maxNodeRunsPerCommand ?? 10_000;
    this.maxThreadsPerWfRun = opts.maxThreadsPerWfRun ?? 5_000;
    this.maxNodeRunsPerTurn = opts.maxNodeRunsPerTurn ?? DEFAULT_LIMITS.maxNodeRunsPerTurn;
    this.admission = new Admission({ ...DEFAULT_LIMITS, ...opts.admission });
    this.maxCachedWfRuns = opts.maxCachedWfRuns ?? 20_000;
    this.partitions = opts.partitions ?? new Partitions("embedded", 1);
    this.timers = new TimerWheel((e) => this.fireTimer(e.payload), this.now);
    this.scheduler = new Scheduler(
      {
        now: () => this.now(),
        submit: (job) => this.submit(job),
        loadSchedules: () => this.store.listScheduledWfRuns(),
        startRun: (tenant, req) => this.startScheduledRun(tenant, req),
      },
      log,
      opts.scheduleCatchUp,
    );
    this.processor = new Processor(store, {
      partitionOf: (job) =>
        job.wfRun ? this.partitions.of(job.wfRun.tenant, job.wfRun.key) : METADATA_PARTITION,
      owns: (part) => this.partitions.owns(part),
      fence: (parts) => this.partitions.fence(parts),
      fenced: (parts) => this.lostPartitions(parts),
      preload: (runs) => this.preload(runs),
      evict: (tenant, key) => this.cache.delete(cacheKey(tenant, key)),
      resetCaches: () => this.resetCaches(),
      committing: (ops) => {
        if (changesMetadata(ops)) this.metadataBatches++;
      },
      committed: (ops, ok) => {
        if (changesMetadata(ops)) {
          this.metadataBatches--;
          this.metadataCommits++;
          if (this.metadataBatches === 0) for (const wake of this.metadataSettled.splice(0)) wake();
        }
        if (ok) {
          this.trimCache();
          this.countTaskAttempts(ops);
        }
      },
    });
  }

  /**
   * Loads metadata, tenants and principals from the store. A partition's task queue and timers are loaded
   * when this server takes the partition (takePartition).
   */
  async start(): Promise<void> {
    await this.refreshMetadata();
  }

  /** the store's metadata version the caches hold */
  knownMetadataVersion(): number {
    return this.metadataVersion;
  }

  /** Reloads metadata, tenants and principals when another server changed them (the store's version moved). */
  async refreshMetadata(): Promise<boolean> {
    // This server changes its caches as it applies a metadata command, before the commit: a reload must not
    // read the store while such a batch is on its way, nor put back what it read if one landed meanwhile.
    for (;;) {
      while (this.metadataBatches > 0) await new Promise<void>((r) => this.metadataSettled.push(r));
      const mark = this.metadataCommits;
      const version = await this.store.metadataVersion();
      if (version === this.metadataVersion) return false;
      const [rows, tenants, principals] = await Promise.all([
        this.store.listMetadata(),
        this.store.listTenants(),
        this.store.listPrincipals(),
      ]);
      if (this.metadataBatches > 0 || mark !== this.metadataCommits) continue;
      this.metadata.clear();
      this.metadata.load(rows);
      this.security.load(tenants, principals);
      this.metadataVersion = version;
      // another server may have stored a migration: this one moves the WfRuns of its own partitions
      if (this.partitions.held().size > 0) {
        resumeMigrations(this, this.log).catch((e: unknown) => {
          if (!(e instanceof NotOwnerError)) this.log.error({ err: e }, "a WfSpec migration failed");
        });
      }
      return true;
    }
  }

  /**
   * Becomes the owner of a partition at an epoch: rebuilds its task queue and timers from the store (the
   * restart path), then applies its commands. Until then its commands are refused (NotOwnerError).
   */
  async takePartition(part: number, epoch: number): Promise<void> {
    // Everything is read first: a timer armed or a task queued before the partition counts as owned could
    // fire or be claimed during an await, be refused (NotOwnerError) and be dropped here for good.
    const queued = await this.store.loadTaskQueue([part]);
    const timers = await this.store.loadTimers([part]);
    // before its commands run: a schedule made meanwhile must be among those loaded or those added
    if (part === METADATA_PARTITION) await this.scheduler.load();
    this.partitions.taken(part, epoch);
    for (const t of queued) this.offer(t);
    for (const t of timers) {
      this.timers.arm(timerId(t.tenant, t.wfRunKey, t.key), t.dueMs, {
        part,
        tenant: t.tenant,
        wfRunKey: t.wfRunKey,
        key: t.key,
        command: t.command,
      });
    }
    // WfSpec migrations stored but not finished (a crash midway) go on in the partition's WfRuns
    resumeMigrations(this, this.log, new Set([part])).catch((e: unknown) => {
      if (!(e instanceof NotOwnerError))
        this.log.error({ err: e, partition: part }, "resuming a WfSpec migration failed");
    });
    this.log.info(
      { partition: part, epoch, queuedTasks: queued.length, timers: timers.length },
      "partition taken: its state rebuilt from the store",
    );
  }

  /**
   * Hands a partition over: its new commands are refused at once, the ones applied are committed, then its
   * state here is dropped. Resolves once the store may be told the partition is free.
   */
  async leavePartition(part: number): Promise<void> {
    this.partitions.leave(part);
    await this.processor.barrier();
    this.dropPartition(part);
  }

  /** Called when a commit found partitions taken by another server (the lease keeper checks the others). */
  onPartitionsLost: (() => void) | undefined;

  /** Batches were refused for these partitions: another server owns them now. */
  private lostPartitions(parts: number[]): void {
    for (const part of parts) {
      if (this.partitions.epochOf(part) === undefined) continue;
      this.log.warn({ partition: part }, "partition lost to another server: its state here is dropped");
      this.dropPartition(part);
    }
    this.onPartitionsLost?.();
  }

  /** Forgets a partition: its timers, queued tasks and cached WfRuns (the store holds them all). */
  dropPartition(part: number): void {
    this.partitions.dropped(part);
    if (part === METADATA_PARTITION) this.scheduler.clear();
    this.admission.forgetMoving((tenant, key) => this.partitions.of(tenant, key) === part);
    this.timers.cancelWhere((p) => p.part === part);
    this.queues.dropPartition(part);
    for (const [k, state] of this.cache) {
      if (this.partitions.of(state.tenant, wfRunKey(state.wfRun.id!)) === part) this.cache.delete(k);
    }
  }

  /**
   * Task attempts scheduled and not ended yet (queued, or with a worker), counted from the committed metrics
   * deltas since this runtime started: what the time-skipping test environment waits on (with `applying`).
   */
  pendingTaskAttempts = 0;

  /** When the earliest timer or scheduled tick is due (epoch ms), if any. */
  nextTimerDueMs(): number | undefined {
    const a = this.timers.nextDueMs();
    const b = this.scheduler.nextDueMs();
    return a === undefined ? b : b === undefined ? a : Math.min(a, b);
  }

  /** Whether a command is being applied or committed. */
  get applying(): boolean {
    return this.processor.busy;
  }

  /** The clock jumped forward (a ManualClock): timers and scheduled ticks that came due fire now. */
  clockMoved(): void {
    this.timers.clockMoved();
    this.scheduler.clockMoved();
  }

  async stop(): Promise<void> {
    this.timers.stop();
    this.scheduler.stop();
    await this.processor.idle();
    this.processor.stop();
  }

  /** The partition of a WfRun. */
  partitionOf(tenant: string, key: string): number {
    return this.partitions.of(tenant, key);
  }

  submit<T>(job: Job<T>): Promise<T> {
    return this.processor.submit(job);
  }

  engineContext(tenant: string): EngineContext {
    const lookup = this.metadata.lookup(tenant);
    const preciseNowMs = this.preciseNow();
    return {
      nowMs: Math.floor(preciseNowMs),
      preciseNowMs,
      newGuid: () => randomUUID().replaceAll("-", ""),
      taskDef: (name) => lookup.taskDef(name),
      userTaskDef: (name, version) => lookup.userTaskDef(name, version),
      effects: [],
      maxNodeRunsPerCommand: this.maxNodeRunsPerCommand,
      maxThreadsPerWfRun: this.maxThreadsPerWfRun,
      maxNodeRunsPerTurn: this.maxNodeRunsPerTurn,
    };
  }

  cached(tenant: string, key: string): WfRunState | undefined {
    const k = cacheKey(tenant, key);
    const s = this.cache.get(k);
    if (s) {
      // keep recently used runs at the end of the map (eviction takes from the front)
      this.cache.delete(k);
      this.cache.set(k, s);
      const parent = s.wfRun.id?.parentWfRunId;
      if (parent) for (const [name, v] of this.inheritedVariables(tenant, parent)) s.variables.set(name, v);
    }
    return s;
  }

  /**
   * A child WfRun's view of its parent's variables (B-THR-11): the parent's entrypoint PUBLIC_VAR variables and
   * what the parent inherits itself, as the parent's own Variable objects (engine scope.ts, INHERITED_PREFIX).
   */
  inheritedVariables(tenant: string, parentId: WfRunId): Map<string, Variable> {
    const out = new Map<string, Variable>();
    const parent = this.cached(tenant, wfRunKey(parentId));
    if (!parent) return out;
    const entry = parent.wfSpec.threadSpecs[parent.wfSpec.entrypointThreadName];
    for (const def of entry?.variableDefs ?? []) {
      const name = def.varDef?.name;
      if (name === undefined) continue;
      if (def.accessLevel === WfRunVariableAccessLevel.PUBLIC_VAR) {
        const v = parent.variables.get(variableKey(0, name));
        if (v) out.set(inheritedVariableKey(name), v);
      } else if (def.accessLevel === WfRunVariableAccessLevel.INHERITED_VAR) {
        const v = parent.variables.get(inheritedVariableKey(name));
        if (v) out.set(inheritedVariableKey(name), v);
      }
    }
    return out;
  }

  // ---- commands ---------------------------------------------------------------------------------------

  /**
   * RunWf: creates the WfRun and advances it as far as it goes before answering (B-RUN-4). The store is not
   * read to learn whether the id is taken: the WfRun is written as created, and a batch that creates a
   * stored WfRun is refused (WfRunExistsError) and run again, loading it (processor.ts), so the job then
   * finds it and fails with ALREADY_EXISTS.
   */
  runWf(tenant: string, id: WfRunId, wfSpec: WfSpec, request: RunWfRequest): Promise<WfRun> {
    const key = wfRunKey(id);
    const admitted = this.admission.admitRunWf(tenant);
    const job: Job<WfRun> = {
      wfRun: { tenant, key },
      newWfRun: true,
      alsoLoad: id.parentWfRunId ? [{ tenant, key: wfRunKey(id.parentWfRunId) }] : undefined,
      apply: (tx) => {
        if (this.cached(tenant, key)) throw new AlreadyExistsError(`WfRun '${key}' already exists`);
        const ctx = this.engineContext(tenant);
        const inheritedVariables = id.parentWfRunId
          ? this.inheritedVariables(tenant, id.parentWfRunId)
          : undefined;
        const state = createWfRun(ctx, { tenant, id, wfSpec, request, inheritedVariables });
        this.cache.set(cacheKey(tenant, key), state);
        // run again after a refusal, the job loaded the store: what it did not find there is not stored
        this.flush(tx, state, ctx, job.newWfRun === true);
        return state.wfRun;
      },
    };
    return this.submit(job).finally(admitted);
  }

  /**
   * Moves one WfRun from WfSpec version `from` to `to` (MigrateWfSpec): "migrated", "skipped" (gone, or not
   * on `from` any more: migrated before), or why it cannot move (it is then left unchanged).
   */
  migrateWfRun(
    tenant: string,
    key: string,
    from: WfSpecId,
    to: WfSpec,
    migration: WfSpecVersionMigration,
  ): Promise<string> {
    return this.submit({
      wfRun: { tenant, key },
      apply: (tx) => {
        const cached = this.cached(tenant, key);
        const plan = migrationPlanOf(cached, from, to, migration);
        if (typeof plan === "string") return plan;
        // a plan is only made for a WfRun that is there
        const state = cached!;
        const ctx = this.engineContext(tenant);
        applyMigration(state, ctx, to, plan);
        // its variables are written again, so that their search index entries name the new version
        for (const k of state.variables.keys())
          if (!k.startsWith(INHERITED_PREFIX)) state.changes.variables.add(k);
        this.flush(tx, state, ctx);
        return "migrated";
      },
    });
  }

  /**
   * Whether a WfRun of a partition another server owns can move from `from` to `to`, planned on its stored
   * state without changing it (its owner moves it): "movable", "skipped" (gone, or not on `from`), or why not.
   */
  async checkMigration(
    tenant: string,
    key: string,
    from: WfSpecId,
    to: WfSpec,
    migration: WfSpecVersionMigration,
  ): Promise<string> {
    const plan = migrationPlanOf(await this.storedState(tenant, key), from, to, migration);
    if (plan === "skipped") return plan;
    // Its rows are read one after another while its owner may move it: one committed meanwhile shows in the
    // rows read later (its NodeRuns on the new nodes) but not in the WfRun read first. Read again after
    // them, the WfRun shows it.
    if (!sameVersion((await this.store.getWfRun(tenant, key))?.wfSpecId, from)) return "skipped";
    return typeof plan === "string" ? plan : "movable";
  }

  /** Applies a command to an existing WfRun. Resolves to false when the WfRun is gone or nothing changed. */
  command(
    tenant: string,
    key: string,
    command: WfRunCommand,
    extraOps?: (tx: BatchTx) => void,
  ): Promise<boolean> {
    return this.submit({
      wfRun: { tenant, key },
      apply: (tx) => {
        extraOps?.(tx);
        const state = this.cached(tenant, key);
        if (!state) return false;
        const ctx = this.engineContext(tenant);
        const changed = applyCommand(state, ctx, command);
        this.flush(tx, state, ctx);
        return changed;
      },
    });
  }

  reportTask(tenant: string, report: ReportTaskRun): Promise<boolean> {
    const id = report.taskRunId?.wfRunId;
    if (!id) return Promise.resolve(false);
    return this.command(tenant, wfRunKey(id), { kind: "taskReported", report });
  }

  /** A PollTask request: claim the oldest queued task for this worker, or wait for one. */
  poll(poller: Poller): void {
    const task = this.queues.take(poller.tenant, poller.taskDefName);
    if (!task) {
      this.queues.addPoller(poller);
      return;
    }
    void this.claimFor(task, poller);
  }

  private async claimFor(task: QueuedTask, poller: Poller): Promise<void> {
    let scheduled: ScheduledTask | undefined;
    try {
      scheduled = await this.submit({
        wfRun: { tenant: task.tenant, key: task.wfRunKey },
        apply: (tx) => {
          tx.ops.push({
            op: "dequeueTask",
            tenant: task.tenant,
            wfRunKey: task.wfRunKey,
            taskGuid: task.taskGuid,
            attemptNumber: task.attemptNumber,
          });
          const state = this.cached(task.tenant, task.wfRunKey);
          if (!state) return undefined;
          const ctx = this.engineContext(task.tenant);
          const ok = applyCommand(state, ctx, {
            kind: "taskClaimed",
            taskGuid: task.taskGuid,
            attemptNumber: task.attemptNumber,
            taskWorkerId: poller.clientId,
            taskWorkerVersion: poller.taskWorkerVersion,
          });
          const st = ok ? this.scheduledTask(state, task.taskGuid, task.attemptNumber) : undefined;
          this.flush(tx, state, ctx);
          return st;
        },
      });
    } catch (e) {
      if (e instanceof NotOwnerError || !this.partitions.owns(task.part)) {
        // the partition was handed over: its new owner loaded the task from the store
        this.poll(poller);
        return;
      }
      this.log.error({ err: e, task }, "claiming a task failed; it goes back on the queue");
      this.queues.unshift(task);
      this.queues.addPoller(poller);
      return;
    }
    if (!scheduled) {
      // stale queue entry (the run moved on or was deleted): try the next task for the same poller
      this.poll(poller);
      return;
    }
    poller.deliver(scheduled, () => this.undelivered(task.tenant, task.wfRunKey, scheduled, poller));
  }

  /**
   * A claimed task did not reach its worker (the stream closed first): undo the claim, so that the attempt
   * goes to another worker rather than wait for its timeout.
   */
  private undelivered(tenant: string, key: string, task: ScheduledTask, poller: Poller): void {
    const taskGuid = task.taskRunId?.taskGuid ?? "";
    this.log.info(
      { taskGuid, worker: poller.clientId },
      "a worker left before its task reached it: queued again",
    );
    this.command(tenant, key, {
      kind: "taskUndelivered",
      taskGuid,
      attemptNumber: task.attemptNumber,
      taskWorkerId: poller.clientId,
    }).catch((e: unknown) => {
      // the partition moved (its new owner rebuilds the claim from the store) or the server is stopping:
      // the attempt then times out as a lost one would
      this.log.warn({ err: e, taskGuid }, "could not queue an undelivered task again");
    });
  }

  private scheduledTask(state: WfRunState, guid: string, attemptNumber: number): ScheduledTask {
    const taskRun = state.taskRuns.get(guid)!;
    const attempt = taskRun.attempts[attemptNumber];
    return create(ScheduledTaskSchema, {
      taskRunId: taskRun.id,
      taskDefId: taskRun.taskDefId,
      attemptNumber,
      variables: taskRun.inputVariables,
      createdAt: attempt?.scheduleTime ?? taskRun.scheduledAt,
      source: taskRun.source,
    });
  }

  /** Deletes a WfRun and everything under it (B-RUN-12). A WfRun still running cannot be deleted. */
  deleteWfRun(tenant: string, key: string, _byRetention = false): Promise<void> {
    return this.submit({
      wfRun: { tenant, key },
      apply: (tx) => {
        const state = this.cached(tenant, key);
        if (!state) {
          if (_byRetention) return;
          throw new NotFoundError(`WfRun '${key}' not found`);
        }
        tx.afterCommit(() => this.admission.setMoving(tenant, key, false));
        const status = state.wfRun.status;
        // retention deletes ended runs only: a rescued run re-arms its timer when it ends again
        const ended =
          status === LHStatus.COMPLETED || status === LHStatus.ERROR || status === LHStatus.EXCEPTION;
        if (_byRetention && !ended) return;
        if (status === LHStatus.RUNNING || status === LHStatus.HALTING || status === LHStatus.STARTING) {
          throw new FailedPreconditionError(
            `WfRun '${key}' is ${LHStatus[status]}: stop it before deleting it`,
          );
        }
        tx.ops.push({ op: "deleteWfRun", tenant, wfRunKey: key });
        this.cache.delete(cacheKey(tenant, key));
        tx.afterCommit(() => {
          this.queues.dropWfRun(tenant, key);
          this.cache.delete(cacheKey(tenant, key));
          this.timers.cancelPrefix(cacheKey(tenant, key) + KEY_SEPARATOR);
        });
      },
    });
  }

  // ---- engine output → store writes and after-commit actions ---------------------------------------------

  /** Writes the rows a command changed and turns its effects into writes and after-commit actions. */
  flush(tx: BatchTx, state: WfRunState, ctx: EngineContext, created = false): void {
    const tenant = state.tenant;
    const key = wfRunKey(state.wfRun.id!);
    this.admission.setMoving(
      tenant,
      key,
      ctx.effects.some((e) => e.kind === "armTimer" && e.key === CONTINUE_TIMER_KEY),
    );
    // Effects first: an inline claim changes the state again before the rows are written.
    for (let i = 0; i < ctx.effects.length; i++) {
      const effect = ctx.effects[i]!;
      switch (effect.kind) {
        case "dispatchTask": {
          const poller = this.queues.takePoller(tenant, effect.taskDefName);
          if (poller) {
            // An idle worker is waiting: claim the attempt in this same transaction and hand it over once
            // committed, so dispatch costs no extra round trip through the store.
            applyCommand(state, ctx, {
              kind: "taskClaimed",
              taskGuid: effect.taskGuid,
              attemptNumber: effect.attemptNumber,
              taskWorkerId: poller.clientId,
              taskWorkerVersion: poller.taskWorkerVersion,
            });
            const scheduled = this.scheduledTask(state, effect.taskGuid, effect.attemptNumber);
            tx.afterCommit(() => {
              poller.deliver(scheduled, () => this.undelivered(tenant, key, scheduled, poller));
            });
            // nothing was claimed after all: the worker's request waits for another task
            tx.onAbort(() => this.poll(poller));
          } else {
            const task: QueuedTask = {
              part: this.partitions.of(tenant, key),
              tenant,
              taskDefName: effect.taskDefName,
              wfRunKey: key,
              taskGuid: effect.taskGuid,
              attemptNumber: effect.attemptNumber,
            };
            tx.ops.push({ op: "enqueueTask", task });
            tx.afterCommit(() => this.offer(task));
          }
          break;
        }
        case "armTimer": {
          const part = this.partitions.of(tenant, key);
          tx.ops.push({
            op: "putTimer",
            timer: {
              part,
              tenant,
              wfRunKey: key,
              key: effect.key,
              dueMs: effect.dueMs,
              command: effect.command,
            },
          });
          tx.afterCommit(() =>
            this.timers.arm(timerId(tenant, key, effect.key), effect.dueMs, {
              part,
              tenant,
              wfRunKey: key,
              key: effect.key,
              command: effect.command,
            }),
          );
          break;
        }
        case "cancelTimer":
          tx.ops.push({ op: "deleteTimer", tenant, wfRunKey: key, key: effect.key });
          tx.afterCommit(() => this.timers.cancel(timerId(tenant, key, effect.key)));
          break;
        case "wfRunEnded": {
          const retention = state.wfSpec.retentionPolicy?.wfGcPolicy;
          if (retention?.case === "secondsAfterWfTermination") {
            // WorkflowRetentionPolicy (B-EVT-7): the WfRun is deleted when this timer fires
            const dueMs = ctx.nowMs + Number(retention.value) * 1000;
            const command = { kind: "wfRunExpired" } as const;
            const part = this.partitions.of(tenant, key);
            tx.ops.push({
              op: "putTimer",
              timer: { part, tenant, wfRunKey: key, key: "wf-retention", dueMs, command },
            });
            tx.afterCommit(() =>
              this.timers.arm(timerId(tenant, key, "wf-retention"), dueMs, {
                part,
                tenant,
                wfRunKey: key,
                key: "wf-retention",
                command,
              }),
            );
          }
          tx.afterCommit(() => this.cache.delete(cacheKey(tenant, key)));
          break;
        }
        case "workflowEventThrown": {
          const event = effect.event;
          tx.afterCommit(() => this.notifyWorkflowEvent(tenant, key, event));
          break;
        }
      }
    }
    recordMetrics(tx.ops, state, ctx);
    ctx.effects.length = 0;

    const ch = state.changes;
    if (ch.wfRun && this.firstWfRunWrite(tx, state)) {
      tx.ops.push({ op: "putWfRun", tenant, wfRunKey: key, wfRun: state.wfRun, ...(created && { created }) });
    }
    for (const k of ch.nodeRuns) {
      const nodeRun = state.nodeRuns.get(k);
      if (nodeRun) tx.ops.push({ op: "putNodeRun", tenant, wfRunKey: key, nodeRun });
    }
    for (const guid of ch.taskRuns) {
      const taskRun = state.taskRuns.get(guid);
      if (taskRun) tx.ops.push({ op: "putTaskRun", tenant, wfRunKey: key, taskRun });
    }
    for (const k of ch.variables) {
      const variable = state.variables.get(k);
      // a parent's variable changed by a child WfRun is written to the parent's row
      const owner =
        k.startsWith(INHERITED_PREFIX) && variable?.id?.wfRunId ? wfRunKey(variable.id.wfRunId) : key;
      if (variable) {
        // an inherited variable is the parent's: indexed as the parent's WfSpec says
        const ownerState = owner === key ? state : this.cache.get(cacheKey(tenant, owner));
        const index = ownerState ? variableIndexInfo(ownerState, owner, variable) : undefined;
        tx.ops.push({ op: "putVariable", tenant, wfRunKey: owner, variable, index });
      }
    }
    for (const k of state.variables.keys()) if (k.startsWith(INHERITED_PREFIX)) state.variables.delete(k);
    for (const k of ch.externalEvents) {
      const event = state.externalEvents.get(k);
      if (event) tx.ops.push({ op: "putExternalEvent", tenant, wfRunKey: key, event });
    }
    for (const k of ch.deletedExternalEvents) {
      const slash = k.indexOf("/");
      tx.ops.push({
        op: "deleteExternalEvent",
        tenant,
        wfRunKey: key,
        defName: k.slice(0, slash),
        guid: k.slice(slash + 1),
      });
    }
    for (const guid of ch.userTaskRuns) {
      const userTaskRun = state.userTaskRuns.get(guid);
      if (userTaskRun) tx.ops.push({ op: "putUserTaskRun", tenant, wfRunKey: key, userTaskRun });
    }
    for (const event of ch.workflowEvents)
      tx.ops.push({ op: "putWorkflowEvent", tenant, wfRunKey: key, event });
    state.changes = emptyChanges();
    this.prune(state);
  }

  /**
   * The store encodes a batch's ops once every job of the batch is applied, so one putWfRun of a run's state
   * carries all its commands of the batch: later commands to the same WfRun in the batch (a fan-out's task
   * reports) skip re-encoding its every ThreadRun.
   */
  private firstWfRunWrite(tx: BatchTx, state: WfRunState): boolean {
    let written = this.wfRunsWritten.get(tx);
    if (!written) this.wfRunsWritten.set(tx, (written = new WeakSet()));
    if (written.has(state)) return false;
    written.add(state);
    return true;
  }

  /**
   * Drops NodeRuns and TaskRuns the engine will not look at again: only current ones stay in memory, and user
   * task reminders until they end.
   */
  private prune(state: WfRunState): void {
    const current = new Set(state.wfRun.threadRuns.map((t) => nodeRunKey(t.number, t.currentNodePosition)));
    const liveTasks = new Set<string>();
    for (const [k, nodeRun] of state.nodeRuns) {
      if (!current.has(k)) {
        state.nodeRuns.delete(k);
        continue;
      }
      if (nodeRun.nodeType.case === "task" && nodeRun.nodeType.value.taskRunId) {
        liveTasks.add(nodeRun.nodeType.value.taskRunId.taskGuid);
      }
    }
    for (const [guid, taskRun] of state.taskRuns) {
      if (!liveTasks.has(guid) && !isPendingReminder(taskRun)) state.taskRuns.delete(guid);
    }
    const liveEvents = new Set<string>();
    const liveUserTasks = new Set<string>();
    for (const nodeRun of state.nodeRuns.values()) {
      if (nodeRun.nodeType.case === "externalEvent" && nodeRun.nodeType.value.externalEventId) {
        const id = nodeRun.nodeType.value.externalEventId;
        liveEvents.add(eventKey(id.externalEventDefId?.name ?? "", id.guid));
      }
      if (nodeRun.nodeType.case === "userTask" && nodeRun.nodeType.value.userTaskRunId) {
        liveUserTasks.add(nodeRun.nodeType.value.userTaskRunId.userTaskGuid);
      }
    }
    for (const [k, event] of state.externalEvents)
      if (event.claimed && !liveEvents.has(k)) state.externalEvents.delete(k);
    for (const guid of state.userTaskRuns.keys())
      if (!liveUserTasks.has(guid)) state.userTaskRuns.delete(guid);
  }

  /** A task just became available: give it to a waiting poller, or queue it. */
  private offer(task: QueuedTask): void {
    const poller = this.queues.takePoller(task.tenant, task.taskDefName);
    if (poller) void this.claimFor(task, poller);
    else this.queues.push(task);
  }

  private fireTimer(t: TimerPayload): void {
    const fired =
      t.command.kind === "wfRunExpired"
        ? this.deleteWfRun(t.tenant, t.wfRunKey, true)
        : this.command(t.tenant, t.wfRunKey, t.command, (tx) =>
            tx.ops.push({ op: "deleteTimer", tenant: t.tenant, wfRunKey: t.wfRunKey, key: t.key }),
          );
    fired.catch((e: unknown) => {
      // a timer of a partition handed over meanwhile fires at its new owner, which loaded it from the store
      if (e instanceof NotOwnerError) return;
      // Its batch was refused (a fence of another partition in the same batch, a store failure): its row is
      // still stored, so while this server owns the partition it is tried again. Timer commands name what
      // they act on (a NodeRun's position, an attempt), so one that did land after all does nothing twice.
      const id = timerId(t.tenant, t.wfRunKey, t.key);
      const retry = this.partitions.owns(t.part) && !this.timers.has(id);
      this.log.error(
        { err: e, timer: t.key, wfRun: t.wfRunKey, retry, retries: t.retries ?? 0 },
        "a timer command failed",
      );
      if (!retry) return;
      // a failure that repeats backs off, up to a minute between tries
      const retries = (t.retries ?? 0) + 1;
      const delay = Math.min(TIMER_RETRY_MS * 2 ** (retries - 1), MAX_TIMER_RETRY_MS);
      this.timers.arm(id, this.now() + delay, { ...t, retries });
    });
  }

  /** Wakes AwaitWorkflowEvent callers of this WfRun; each waiter returns true when it took the event. */
  private notifyWorkflowEvent(tenant: string, key: string, event: WorkflowEvent): void {
    const waiters = this.workflowEventWaiters.get(cacheKey(tenant, key));
    if (!waiters) return;
    for (const w of [...waiters]) if (w(event)) waiters.delete(w);
    if (waiters.size === 0) this.workflowEventWaiters.delete(cacheKey(tenant, key));
  }

  /** Registers an AwaitWorkflowEvent caller; returns a function that removes it. */
  awaitWorkflowEvents(tenant: string, key: string, waiter: (event: WorkflowEvent) => boolean): () => void {
    const k = cacheKey(tenant, key);
    let set = this.workflowEventWaiters.get(k);
    if (!set) this.workflowEventWaiters.set(k, (set = new Set()));
    set.add(waiter);
    return () => {
      set.delete(waiter);
      if (set.size === 0) this.workflowEventWaiters.delete(k);
    };
  }

  // ---- cache ------------------------------------------------------------------------------------------

  /**
   * Loads into the cache the WfRuns a batch's jobs name that are not cached, with one read of their rows
   * per tenant (getWfRuns), and the parents of those that are child WfRuns (a child works with its parent's
   * variables).
   */
  private async preload(runs: readonly WfRunRef[]): Promise<void> {
    const missing = (list: readonly WfRunRef[]) => {
      const byTenant = new Map<string, Set<string>>();
      for (const { tenant, key } of list) {
        if (this.cache.has(cacheKey(tenant, key))) continue;
        let keys = byTenant.get(tenant);
        if (!keys) byTenant.set(tenant, (keys = new Set()));
        keys.add(key);
      }
      return byTenant;
    };
    const parents: WfRunRef[] = [];
    const parentOf = (tenant: string, state: WfRunState) => {
      const parent = state.wfRun.id?.parentWfRunId;
      if (parent) parents.push({ tenant, key: wfRunKey(parent) });
    };
    for (const { tenant, key } of runs) {
      const cached = this.cache.get(cacheKey(tenant, key));
      if (cached) parentOf(tenant, cached);
    }
    if (missing(runs).size > 0) {
      // A batch still being written may hold these WfRuns' latest rows: read only after it is committed.
      await this.store.flushed();
      for (const [tenant, keys] of missing(runs)) {
        const rows = await this.store.getWfRuns(tenant, [...keys]);
        for (const [key, wfRun] of rows) {
          if (this.cache.has(cacheKey(tenant, key))) continue;
          const state = await this.storedState(tenant, key, wfRun);
          if (!state) continue;
          this.cache.set(cacheKey(tenant, key), state);
          parentOf(tenant, state);
        }
      }
    }
    if (missing(parents).size > 0) await this.preload(parents);
  }

  /** A WfRun's state as stored; undefined when it is not there or its WfSpec is missing. */
  private async storedState(tenant: string, key: string, wfRun?: WfRun): Promise<WfRunState | undefined> {
    const rows = await this.store.loadActiveWfRun(tenant, key, wfRun);
    if (!rows) return undefined;
    const id = rows.wfRun.wfSpecId;
    const wfSpec = id
      ? this.metadata.get(tenant, "wf_spec", id.name, { major: id.majorVersion, minor: id.revision }, true)
      : undefined;
    if (!wfSpec) {
      this.log.error({ wfRun: key }, "the WfSpec of this WfRun is missing; commands to it are ignored");
      return undefined;
    }
    return {
      tenant,
      wfRun: rows.wfRun,
      wfSpec,
      nodeRuns: new Map(rows.nodeRuns.map((n) => [nodeRunKey(n.id!.threadRunNumber, n.id!.position), n])),
      taskRuns: new Map(rows.taskRuns.map((t) => [t.id!.taskGuid, t])),
      variables: new Map(rows.variables.map((v) => [variableKey(v.id!.threadRunNumber, v.id!.name), v])),
      externalEvents: new Map(
        rows.unclaimedEvents.map((e) => [
          eventKey(e.id?.externalEventDefId?.name ?? "", e.id?.guid ?? ""),
          e,
        ]),
      ),
      userTaskRuns: new Map(rows.userTaskRuns.map((u) => [u.id!.userTaskGuid, u])),
      workflowEventCounts: rows.workflowEventCounts,
      changes: emptyChanges(),
    };
  }

  private trimCache(): void {
    let excess = this.cache.size - this.maxCachedWfRuns;
    if (excess <= 0) return;
    for (const k of this.cache.keys()) {
      if (excess-- <= 0) break;
      this.cache.delete(k);
    }
  }

  private async resetCaches(): Promise<void> {
    this.cache.clear();
    this.admission.forgetMoving(() => true);
    this.metadataVersion = -1;
    await this.refreshMetadata();
  }

  private countTaskAttempts(ops: readonly WriteOp[]): void {
    for (const op of ops) {
      if (op.op !== "addMetrics") continue;
      // each event counts in three windows: one of them is enough
      for (const d of op.deltas)
        if (d.kind === "task" && d.windowType === (MetricsWindowLength.MINUTES_5 as number))
          this.pendingTaskAttempts += d.scheduled - d.completed - d.errored;
    }
  }

  timestampNow() {
    return timestampFromMs(this.now());
  }
}
