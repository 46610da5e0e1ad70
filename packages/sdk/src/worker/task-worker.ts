/**
 * LHTaskWorker: runs a function for every TaskRun of one TaskDef.
 *
 *   const worker = new LHTaskWorker(async (name: string, ctx: WorkerContext) => `hello ${name}`, "greet",
 *     new LHConfig(), { inputVars: [["name", VariableType.STR]] });
 *   await worker.registerTaskDef();   // PutTaskDef from inputVars (idempotent)
 *   await worker.start();
 *   …
 *   await worker.close();
 *
 * While started, the worker
 *   - sends RegisterTaskWorker every few seconds (heartbeat, B-TASK-9) and keeps one PollTask stream open
 *     to every host of the answer's `your_hosts`: new hosts get a stream, gone hosts are drained;
 *   - owns LHW_NUM_WORKER_THREADS slots: a slot is either one PollTaskRequest waiting on some host or one
 *     task being run and reported, so no more than that many tasks ever run at once, and the server is
 *     never asked for more than the worker can take;
 *   - reconnects a broken stream with backoff (a server restart), giving the broken stream's slots to the
 *     other hosts meanwhile;
 *   - reports each outcome with ReportTask to the host that gave the task, retrying while it is UNAVAILABLE.
 *
 * The function receives the inputs converted to JavaScript in TaskDef order (STR → string, INT → number or
 * bigint beyond 2^53, DOUBLE → number, BOOL → boolean, JSON_OBJ / JSON_ARR → parsed, BYTES → Uint8Array,
 * unset → null) and then a WorkerContext. See execute.ts for how outcomes become reports.
 */
import { VariableType, type ScheduledTask, type TaskDef, type VariableDef } from "@pony/proto";
import type { LHConfig } from "../config";
import { LHApiError } from "../errors";
import { WorkerContext } from "./context";
import { executeTask, type LHTaskFunction, type TaskInput } from "./execute";
import { HostConnection } from "./host-connection";
import { consoleLogger, type LHWorkerLogger } from "./logger";

export interface LHTaskWorkerOptions {
  /**
   * The function's inputs, in order: used by registerTaskDef() and to convert each input. Without it the
   * worker takes the types of the TaskDef on the server.
   */
  inputVars?: readonly (readonly [name: string, type: VariableType | keyof typeof VariableType])[];
  /** How often RegisterTaskWorker is sent (default 5000 ms). */
  heartbeatIntervalMs?: number;
  /**
   * How many times a ReportTask that meets UNAVAILABLE is retried (default 10: with the backoff, 250 ms
   * doubling up to 5 s, about 30 s, twice the default task timeout after which the server ignores it).
   */
  reportRetries?: number;
  logger?: LHWorkerLogger;
}

type WorkerState = "new" | "starting" | "running" | "closing" | "closed";

export class LHTaskWorker {
  private state: WorkerState = "new";
  private readonly inputVars: readonly TaskInput[] | undefined;
  private inputs: readonly TaskInput[] = [];
  private readonly hosts = new Map<string, HostConnection>();
  private readonly draining = new Set<Promise<void>>();
  private readonly running = new Set<Promise<void>>();
  /** slots neither waiting on a request nor running a task */
  private freeSlots: number;
  private roundRobin = 0;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private heartbeatInFlight = false;
  private heartbeatFailing = false;
  private readonly log: LHWorkerLogger;
  private readonly heartbeatIntervalMs: number;
  private readonly reportRetries: number;

  constructor(
    private readonly fn: LHTaskFunction,
    readonly taskDefName: string,
    readonly config: LHConfig,
    options: LHTaskWorkerOptions = {},
  ) {
    if (taskDefName === "") throw new Error("a task worker needs a TaskDef name");
    this.inputVars = options.inputVars?.map(([name, type]) => ({ name, type: variableType(type, name) }));
    this.log = options.logger ?? consoleLogger;
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 5_000;
    this.reportRetries = options.reportRetries ?? 10;
    this.freeSlots = config.numWorkerThreads;
  }

  /** the id this worker registers and polls with */
  get taskWorkerId(): string {
    return this.config.taskWorkerId;
  }

  /** `host:port` of every server this worker polls */
  get connectedHosts(): string[] {
    return [...this.hosts.keys()];
  }

  /** tasks being run or reported right now */
  get runningTasks(): number {
    return this.running.size;
  }

  /** Creates the TaskDef from `inputVars` (PutTaskDef; an identical existing TaskDef is kept). */
  async registerTaskDef(): Promise<TaskDef> {
    return this.config.getClient().putTaskDef({
      name: this.taskDefName,
      inputVars: (this.inputVars ?? []).map((v) => ({ name: v.name, type: v.type })),
    });
  }

  /**
   * Checks the TaskDef, registers with the server and starts polling. Rejects if the server cannot be
   * reached, the TaskDef does not exist, or its inputs differ from the declared `inputVars`.
   */
  async start(): Promise<void> {
    if (this.state !== "new") throw new Error(`start() on a ${this.state} worker`);
    this.state = "starting";
    try {
      let taskDef: TaskDef;
      try {
        taskDef = await this.config.getClient().getTaskDef({ name: this.taskDefName });
      } catch (e) {
        if (e instanceof LHApiError && e.code === "NOT_FOUND") {
          throw new Error(`TaskDef '${this.taskDefName}' does not exist: call registerTaskDef() first`, {
            cause: e,
          });
        }
        throw e;
      }
      this.inputs = this.checkInputs(taskDef);
      await this.heartbeat();
    } catch (e) {
      this.state = "new";
      throw e;
    }
    this.state = "running";
    this.scheduleHeartbeat();
    for (const conn of this.hosts.values()) conn.open();
    this.fill();
  }

  /**
   * Stops polling and waits for the tasks already taken to finish and be reported. Tasks the server had
   * already claimed for an outstanding request still arrive while the streams close, and are run too.
   */
  async close(): Promise<void> {
    if (this.state === "closed" || this.state === "closing") return;
    this.state = "closing";
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
    for (const conn of this.hosts.values()) this.drainHost(conn);
    this.hosts.clear();
    while (this.draining.size > 0 || this.running.size > 0) {
      await Promise.all([...this.draining, ...this.running]);
    }
    this.state = "closed";
  }

  private checkInputs(taskDef: TaskDef): readonly TaskInput[] {
    const onServer = taskDef.inputVars.map((d) => ({ name: d.name, type: primitiveType(d) }));
    if (!this.inputVars) return onServer;
    const describe = (inputs: readonly TaskInput[]) =>
      `(${inputs.map((i) => `${i.name}: ${VariableType[i.type]}`).join(", ")})`;
    const same =
      onServer.length === this.inputVars.length &&
      onServer.every((s, i) => s.type === this.inputVars![i]!.type);
    if (!same) {
      throw new Error(
        `TaskDef '${this.taskDefName}' takes ${describe(onServer)} but the worker declares ${describe(this.inputVars)}`,
      );
    }
    return this.inputVars;
  }

  private scheduleHeartbeat(): void {
    this.heartbeatTimer = setTimeout(() => {
      this.heartbeat().then(
        () => {
          if (this.heartbeatFailing) this.log.info("RegisterTaskWorker works again");
          this.heartbeatFailing = false;
        },
        (e: unknown) => {
          // one line per outage, not one per heartbeat
          if (!this.heartbeatFailing) {
            this.log.warn(
              `RegisterTaskWorker failed: ${e instanceof Error ? e.message : String(e)}; retrying`,
            );
          }
          this.heartbeatFailing = true;
        },
      );
      if (this.state === "running") this.scheduleHeartbeat();
    }, this.heartbeatIntervalMs);
  }

  /** RegisterTaskWorker, then one stream per host of `your_hosts`. */
  private async heartbeat(): Promise<void> {
    if (this.heartbeatInFlight) return;
    this.heartbeatInFlight = true;
    try {
      const res = await this.config
        .getClient()
        .registerTaskWorker(
          { taskWorkerId: this.config.taskWorkerId, taskDefId: { name: this.taskDefName }, listenerName: "" },
          { timeoutMs: Math.max(this.heartbeatIntervalMs, 5_000) },
        );
      if (this.state === "closing" || this.state === "closed") return;
      const wanted = new Map(res.yourHosts.map((h) => [this.config.getClientFor(h.host, h.port).address, h]));
      if (wanted.size === 0) {
        // keep polling the hosts we have rather than none at all
        this.log.warn("RegisterTaskWorker answered no hosts to poll");
        return;
      }
      for (const [address, h] of wanted) {
        if (this.hosts.has(address)) continue;
        const conn = new HostConnection(
          this.config.getClientFor(h.host, h.port),
          {
            taskDefId: { name: this.taskDefName },
            clientId: this.config.taskWorkerId,
            taskWorkerVersion: this.config.taskWorkerVersion,
          },
          {
            onTask: (c, task) => this.runTask(c, task),
            onSlotsFreed: (n) => {
              this.freeSlots += n;
              this.fill();
            },
            onReady: () => this.fill(),
          },
          this.log,
        );
        this.hosts.set(address, conn);
        this.log.debug(`polling ${address}`);
        // the first heartbeat (in start) runs before the worker is running: start() opens those
        if (this.state === "running") conn.open();
      }
      for (const [address, conn] of this.hosts) {
        if (wanted.has(address)) continue;
        this.log.info(`${address} left your_hosts: no longer polling it`);
        this.hosts.delete(address);
        this.drainHost(conn);
      }
    } finally {
      this.heartbeatInFlight = false;
    }
  }

  /** Hands free slots to open connections, one request per slot, round-robin over the hosts. */
  private fill(): void {
    if (this.state !== "running") return;
    const open = [...this.hosts.values()].filter((c) => c.isOpen);
    if (open.length === 0) return;
    while (this.freeSlots > 0) {
      const conn = open[this.roundRobin++ % open.length]!;
      this.freeSlots--;
      conn.ask();
    }
  }

  private drainHost(conn: HostConnection): void {
    const p = conn.drain().finally(() => this.draining.delete(p));
    this.draining.add(p);
  }

  private runTask(conn: HostConnection, task: ScheduledTask): void {
    const p = this.runAndReport(conn, task)
      .catch((e: unknown) => {
        this.log.error(
          `task ${describeTask(task)} was not reported: ${e instanceof Error ? e.message : String(e)}`,
        );
      })
      .finally(() => {
        this.running.delete(p);
        this.freeSlots++;
        this.fill();
      });
    this.running.add(p);
  }

  private async runAndReport(conn: HostConnection, task: ScheduledTask): Promise<void> {
    const ctx = new WorkerContext(task, this.config.taskWorkerId, conn.client);
    const report = await executeTask(this.fn, this.inputs, ctx);
    for (let attempt = 0; ; attempt++) {
      try {
        await conn.client.reportTask(report, { timeoutMs: 30_000 });
        return;
      } catch (e) {
        if (!(e instanceof LHApiError) || e.code !== "UNAVAILABLE" || attempt >= this.reportRetries) throw e;
        const delay = Math.min(250 * 2 ** attempt, 5_000);
        this.log.info(`ReportTask for ${describeTask(task)} met UNAVAILABLE; retrying in ${delay} ms`);
        await sleep(delay);
      }
    }
  }
}

function variableType(type: VariableType | keyof typeof VariableType, input: string): VariableType {
  const t = typeof type === "string" ? VariableType[type] : type;
  if (t === undefined || VariableType[t] === undefined) {
    throw new Error(`input '${input}' has unknown type ${String(type)}`);
  }
  return t;
}

/** A VariableDef's type: `type`, else `type_def.primitive_type`, else JSON_OBJ (proto3's zero value). */
function primitiveType(def: VariableDef): VariableType {
  if (def.type !== undefined) return def.type;
  const defined = def.typeDef?.definedType;
  return defined?.case === "primitiveType" ? defined.value : VariableType.JSON_OBJ;
}

function describeTask(task: ScheduledTask): string {
  return `${task.taskRunId?.wfRunId?.id ?? "?"}/${task.taskRunId?.taskGuid ?? "?"} attempt ${task.attemptNumber}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
