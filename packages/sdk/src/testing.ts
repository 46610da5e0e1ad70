/**
 * `@pony/sdk/testing`: a test environment for your workflows. It starts a Pony server in your test's process
 * on a throwaway store, gives you a client and task workers pointed at it, and **skips time**: while your
 * test waits for a WfRun (`waitForWfRun`) and no task attempt is queued or running, the server's clock jumps
 * to its next timer, so timers fire at once and in order — a SLEEP of 30 days, an external event's timeout, a
 * retry's backoff, a user task's reminder, a cron schedule's next tick. A task attempt that has been queued
 * or running for `stuckTaskMs` of real time with nothing else happening is stuck (a worker that hangs, a
 * TaskDef no worker polls): the clock moves on too, so its timeout fires at once as well.
 *
 *   const env = await PonyTestEnv.start();
 *   await env.startWorker(greet, "greet", { inputVars: [["name", "STR"]] });
 *   await env.client.putWfSpec(myWorkflow.compile());
 *   const run = await env.client.runWf({ wfSpecName: "my-workflow" });
 *   const done = await env.waitForWfRun(run.id!);          // 30 days of sleep later, in milliseconds
 *   await env.close();
 *
 * Time only moves forward, and only while the test waits: a call the test makes between waits (posting an
 * event) happens at the clock's current time.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { LHStatus, type WfRun, type WfRunId } from "@pony/proto";
import { ManualClock, PonyServer, loadSettings } from "@pony/server";
import pino from "pino";
import type { LHClient } from "./client";
import { LHConfig } from "./config";
import type { LHTaskFunction } from "./worker/execute";
import { LHTaskWorker, type LHTaskWorkerOptions } from "./worker/task-worker";
import { silentLogger } from "./worker/logger";

export interface PonyTestEnvOptions {
  /** the server's log level (default "silent") */
  logLevel?: string;
  /** extra server flags, as `pony server` takes them (e.g. ["--schedule-catch-up", "0"]) */
  serverArgs?: string[];
  /**
   * Real time (ms) after which task attempts that are queued or running, with nothing else happening on the
   * server, count as stuck, and the clock moves on to the next timer (default 250). A worker that answers
   * sooner sees no time pass while it works.
   */
  stuckTaskMs?: number;
}

export interface WaitForWfRunOptions {
  /** statuses that end the wait (default: COMPLETED, ERROR, EXCEPTION) */
  until?: LHStatus[];
  /** give up after this much real time (default 10 s) */
  timeoutMs?: number;
}

const FINISHED = [LHStatus.COMPLETED, LHStatus.ERROR, LHStatus.EXCEPTION];
/** how long the server must stay quiet before the clock jumps (lets workers poll and report) */
const QUIET_MS = 5;
const STUCK_TASK_MS = 250;

/**
 * Whether the clock may move on, from what the server does, checked between polls: once no command has been
 * applied for QUIET_MS, and either no task attempt is pending (for QUIET_MS too) or the pending ones have
 * been left alone for `stuckTaskMs` — then only their timeouts can move them.
 */
class QuietWatch {
  private lastApplying = Date.now();
  private lastPending = Date.now();

  constructor(
    private readonly server: PonyServer,
    private readonly stuckTaskMs: number,
  ) {}

  settled(): boolean {
    const now = Date.now();
    if (this.server.runtime.applying) this.lastApplying = now;
    if (this.server.runtime.pendingTaskAttempts > 0) this.lastPending = now;
    const idle = now - this.lastApplying;
    return idle >= QUIET_MS && (now - this.lastPending >= QUIET_MS || idle >= this.stuckTaskMs);
  }

  /** The clock moved: what it set off must be seen applied before it moves again. */
  moved(): void {
    this.lastApplying = Date.now();
  }
}

export class PonyTestEnv {
  private readonly workers: LHTaskWorker[] = [];
  private closed = false;

  private constructor(
    private readonly server: PonyServer,
    private readonly clock: ManualClock,
    private readonly dataDir: string,
    private readonly stuckTaskMs: number,
    /** LittleHorse client settings pointing at the environment's server */
    readonly config: LHConfig,
    /** a client of the environment's server */
    readonly client: LHClient,
  ) {}

  /** Starts a server on a fresh SQLite store in a temporary directory, on free loopback ports. */
  static async start(opts: PonyTestEnvOptions = {}): Promise<PonyTestEnv> {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "pony-test-env-"));
    const settings = loadSettings(
      [
        "--grpc-host",
        "127.0.0.1",
        "--grpc-port",
        "0",
        "--http-host",
        "127.0.0.1",
        "--http-port",
        "0",
        "--advertised-host",
        "127.0.0.1",
        "--data-dir",
        dataDir,
        ...(opts.serverArgs ?? []),
      ],
      {},
    );
    const clock = new ManualClock();
    const server = await PonyServer.start(settings, pino({ level: opts.logLevel ?? "silent" }), { clock });
    const config = new LHConfig({
      apiHost: "127.0.0.1",
      apiPort: server.grpcPort,
      configFile: null,
      env: {},
    });
    const stuckTaskMs = opts.stuckTaskMs ?? STUCK_TASK_MS;
    return new PonyTestEnv(server, clock, dataDir, stuckTaskMs, config, config.getClient());
  }

  /** The server's time (epoch ms): the wall clock plus the time skipped so far. */
  now(): number {
    return this.clock.now();
  }

  /** How much time has been skipped so far (ms). */
  get skippedMs(): number {
    return this.clock.skippedMs;
  }

  /**
   * A task worker for the environment's server, started (its TaskDef registered first when `inputVars` are
   * given) and closed with the environment.
   */
  async startWorker(
    fn: LHTaskFunction,
    taskDefName: string,
    opts: LHTaskWorkerOptions = {},
  ): Promise<LHTaskWorker> {
    const worker = new LHTaskWorker(fn, taskDefName, this.config, { logger: silentLogger, ...opts });
    if (opts.inputVars) await worker.registerTaskDef();
    await worker.start();
    this.workers.push(worker);
    return worker;
  }

  /**
   * Waits until the WfRun reaches one of `until` (default: it has finished), skipping time meanwhile: each
   * time the server is quiet (no command being applied, no task attempt queued or running, or only stuck
   * ones: see `stuckTaskMs`), the clock jumps to the next timer. Rejects when the real-time `timeoutMs` passes first (the WfRun waits for something
   * no timer brings: an event, a user task, a worker).
   */
  async waitForWfRun(id: WfRunId | string, opts: WaitForWfRunOptions = {}): Promise<WfRun> {
    const wfRunId = typeof id === "string" ? { id } : id;
    const until = opts.until ?? FINISHED;
    const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
    const watch = new QuietWatch(this.server, this.stuckTaskMs);
    for (;;) {
      const wfRun = await this.client.getWfRun(wfRunId).catch((e: unknown) => {
        // not created yet (a schedule's tick, a child): keep waiting
        if ((e as { code?: string }).code === "NOT_FOUND") return undefined;
        throw e;
      });
      if (wfRun && until.includes(wfRun.status)) return wfRun;
      if (Date.now() > deadline) {
        throw new Error(
          `WfRun '${wfRunId.id}' is ${wfRun ? LHStatus[wfRun.status] : "not there"} after ${opts.timeoutMs ?? 10_000} ms ` +
            `(waiting for ${until.map((s) => LHStatus[s]).join(" or ")}): it waits for something no timer brings`,
        );
      }
      if (watch.settled() && this.jumpToNextTimer()) watch.moved();
      await new Promise((r) => setTimeout(r, 1));
    }
  }

  /**
   * Moves the clock forward by `ms`, firing the timers due on the way one at a time, in order, each once the
   * server is quiet again.
   */
  async skip(ms: number): Promise<void> {
    const target = this.clock.now() + ms;
    for (;;) {
      await this.quiet();
      const next = this.server.runtime.nextTimerDueMs();
      if (next === undefined || next > target) break;
      this.clock.advance(Math.max(0, next - this.clock.now()));
    }
    this.clock.advance(Math.max(0, target - this.clock.now()));
    await this.quiet();
  }

  /** Stops the workers and the server, and removes the store. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.close()));
    this.client.close();
    await this.server.stop();
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** Moves the clock to the earliest timer; false when there is none. */
  private jumpToNextTimer(): boolean {
    const next = this.server.runtime.nextTimerDueMs();
    if (next === undefined) return false;
    this.clock.advance(Math.max(0, next - this.clock.now()));
    return true;
  }

  /** Resolves once the server has been quiet for a moment (or only stuck task attempts are pending). */
  private async quiet(): Promise<void> {
    const watch = new QuietWatch(this.server, this.stuckTaskMs);
    do await new Promise((r) => setTimeout(r, 1));
    while (!watch.settled());
  }
}
