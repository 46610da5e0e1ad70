/**
 * Scheduled WfRuns (ScheduleWf): the owner of the metadata partition keeps every schedule in memory with a
 * timer for its next tick, and starts one WfRun per tick.
 *
 * The store holds each schedule with the time of its next tick (`next_ms`), the durable cursor. A tick runs
 * as follows: the WfRun is started with an id made of the schedule's id and the tick's time
 * (`nightly-202601010900`), through the request pipeline so that it runs at the owner of its partition;
 * once it exists, the schedule's cursor moves past the tick (a metadata-partition commit, fenced). A crash
 * between the two re-runs the tick after the restart, and RunWf of an id that exists answers ALREADY_EXISTS:
 * no tick is run twice, and none is lost.
 *
 * Ticks that came due while no server owned the schedule (the server was down) are *missed*. On taking the
 * metadata partition, the newest `catchUp` missed ticks of each schedule are run (default 1: one run for
 * the downtime; 0 skips them; at most MAX_CATCH_UP); ticks that come due while this server owns the
 * schedule are always run, even if it is late to fire them.
 */
import { create } from "@bufbuild/protobuf";
import { RunWfRequestSchema, type RunWfRequest } from "@pony/proto";
import { status } from "@grpc/grpc-js";
import type { Logger } from "pino";
import { grpcStatusOf } from "../grpc/status";
import type { StoredSchedule, WriteOp } from "../store/store";
import { Cron } from "./cron";
import type { Job } from "./processor";
import { TimerWheel } from "./timers";
import { tenantKey } from "./tenant-keys";

/** the most missed ticks of one schedule run after a downtime */
export const MAX_CATCH_UP = 1000;
/** a tick that could not start (no owner for its partition, overload) is tried again after this long */
const RETRY_MS = 1000;
const MAX_RETRY_MS = 30_000;

export interface SchedulerHost {
  now(): number;
  submit<T>(job: Job<T>): Promise<T>;
  loadSchedules(): Promise<StoredSchedule[]>;
  /** starts a WfRun as the server (no caller's ACLs), where its partition is owned */
  startRun(tenant: string, req: RunWfRequest): Promise<unknown>;
}

interface Entry {
  stored: StoredSchedule;
  cron: Cron;
  /** how many ticks due now may run: MAX_CATCH_UP normally, `catchUp` for ticks missed during a downtime */
  limit: number;
  retries: number;
}

/** The WfRun id of a schedule's tick: the schedule's id, then the tick's UTC time to the minute. */
export function tickWfRunId(scheduleId: string, tickMs: number): string {
  const iso = new Date(tickMs).toISOString(); // 2026-01-01T09:00:00.000Z
  return `${scheduleId}-${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}`;
}

export class Scheduler {
  private readonly entries = new Map<string, Entry>();
  private readonly wheel: TimerWheel<{ tenant: string; id: string }>;
  private active = false;
  /** ticks being started now, per schedule: a schedule fires one tick batch at a time */
  private readonly firing = new Set<string>();

  constructor(
    private readonly host: SchedulerHost,
    private readonly log: Logger,
    /** missed ticks run per schedule after a downtime (see the top of this file) */
    private readonly catchUp = 1,
  ) {
    this.wheel = new TimerWheel(
      (e) => void this.fire(e.payload.tenant, e.payload.id),
      () => host.now(),
    );
  }

  get size(): number {
    return this.entries.size;
  }

  /** This server took the metadata partition: load every schedule and arm its next tick. */
  async load(): Promise<void> {
    const all = await this.host.loadSchedules();
    this.clear();
    this.active = true;
    const now = this.host.now();
    let overdue = 0;
    for (const stored of all) {
      const late = stored.nextMs <= now;
      if (late) overdue++;
      this.arm(stored, late ? Math.min(this.catchUp, MAX_CATCH_UP) : MAX_CATCH_UP);
    }
    this.log.info({ schedules: all.length, overdue, catchUp: this.catchUp }, "scheduled WfRuns loaded");
  }

  /** This server gave up the metadata partition: its new owner fires the schedules. */
  clear(): void {
    this.active = false;
    this.wheel.cancelWhere(() => true);
    this.entries.clear();
  }

  /** When the next tick is due (epoch ms), if any. */
  nextDueMs(): number | undefined {
    return this.wheel.nextDueMs();
  }

  /** The clock jumped forward: ticks that came due fire now. */
  clockMoved(): void {
    this.wheel.clockMoved();
  }

  stop(): void {
    this.clear();
    this.wheel.stop();
  }

  has(tenant: string, id: string): boolean {
    return this.entries.has(tenantKey(tenant, id));
  }

  /** the schedules of one WfSpec version (deleted with it) */
  ofWfSpec(tenant: string, name: string, major: number, revision: number): StoredSchedule[] {
    const out: StoredSchedule[] = [];
    for (const e of this.entries.values()) {
      const w = e.stored.schedule.wfSpecId;
      if (
        e.stored.tenant === tenant &&
        w?.name === name &&
        w.majorVersion === major &&
        w.revision === revision
      )
        out.push(e.stored);
    }
    return out;
  }

  /** A new schedule was committed. */
  added(stored: StoredSchedule): void {
    if (this.active) this.arm(stored, MAX_CATCH_UP);
  }

  /** A schedule was deleted (committed). */
  removed(tenant: string, id: string): void {
    const k = tenantKey(tenant, id);
    this.entries.delete(k);
    this.wheel.cancel(k);
  }

  private arm(stored: StoredSchedule, limit: number): void {
    let cron: Cron;
    try {
      cron = Cron.parse(stored.schedule.cronExpression);
    } catch (e) {
      this.log.error(
        { err: e, schedule: stored.schedule.id?.id },
        "a stored schedule has a bad cron expression",
      );
      return;
    }
    const k = tenantKey(stored.tenant, stored.schedule.id!.id);
    this.entries.set(k, { stored, cron, limit, retries: 0 });
    this.wheel.arm(k, stored.nextMs, { tenant: stored.tenant, id: stored.schedule.id!.id });
  }

  private async fire(tenant: string, id: string): Promise<void> {
    const k = tenantKey(tenant, id);
    const entry = this.entries.get(k);
    if (!entry || !this.active || this.firing.has(k)) return;
    this.firing.add(k);
    try {
      const now = this.host.now();
      const ticks = entry.cron.ticksBetween(entry.stored.nextMs, now, entry.limit);
      for (const tick of ticks) {
        const outcome = await this.runTick(entry, tick);
        if (outcome === "retry") return this.retry(k, entry);
        if (outcome === "stop") return await this.drop(entry, "its WfSpec no longer exists");
      }
      await this.advance(k, entry, entry.cron.nextAfter(now));
    } catch (e) {
      this.log.error({ err: e, schedule: id }, "a scheduled tick failed");
      this.retry(k, entry);
    } finally {
      this.firing.delete(k);
    }
  }

  private async runTick(entry: Entry, tick: number): Promise<"done" | "retry" | "stop"> {
    const s = entry.stored.schedule;
    const req = create(RunWfRequestSchema, {
      id: tickWfRunId(s.id!.id, tick),
      wfSpecName: s.wfSpecId?.name ?? "",
      majorVersion: s.wfSpecId?.majorVersion,
      revision: s.wfSpecId?.revision,
      variables: s.variables,
      parentWfRunId: s.parentWfRunId,
    });
    try {
      await this.host.startRun(entry.stored.tenant, req);
      return "done";
    } catch (e) {
      const code = grpcStatusOf(e);
      if (code === status.ALREADY_EXISTS) return "done"; // started before a restart: not again
      if (code === status.NOT_FOUND) return "stop";
      if (
        code === status.INVALID_ARGUMENT ||
        code === status.FAILED_PRECONDITION ||
        code === status.PERMISSION_DENIED
      ) {
        // the tick cannot run as the schedule says (its parent WfRun is gone): the next one may
        this.log.warn(
          { err: e, schedule: s.id?.id, tick: new Date(tick).toISOString() },
          "a scheduled WfRun could not start: this tick is skipped",
        );
        return "done";
      }
      this.log.warn({ err: e, schedule: s.id?.id }, "a scheduled WfRun could not start yet: retrying");
      return "retry";
    }
  }

  /** Moves the schedule's cursor past the ticks run, then arms the next tick. */
  private async advance(k: string, entry: Entry, nextMs: number): Promise<void> {
    const stored = { ...entry.stored, nextMs };
    const committed = await this.host.submit({
      apply: (tx) => {
        // deleted meanwhile: nothing to move on
        if (this.entries.get(k) !== entry) return false;
        const op: WriteOp = {
          op: "putScheduledWfRun",
          tenant: stored.tenant,
          schedule: stored.schedule,
          nextMs,
        };
        tx.ops.push(op);
        return true;
      },
    });
    if (!committed || this.entries.get(k) !== entry || !this.active) return;
    entry.stored = stored;
    entry.limit = MAX_CATCH_UP;
    entry.retries = 0;
    this.wheel.arm(k, nextMs, { tenant: stored.tenant, id: stored.schedule.id!.id });
  }

  private retry(k: string, entry: Entry): void {
    if (this.entries.get(k) !== entry || !this.active) return;
    const delay = Math.min(RETRY_MS * 2 ** entry.retries, MAX_RETRY_MS);
    entry.retries++;
    const s = entry.stored;
    this.wheel.arm(k, this.host.now() + delay, { tenant: s.tenant, id: s.schedule.id!.id });
  }

  private async drop(entry: Entry, why: string): Promise<void> {
    const { tenant, schedule } = entry.stored;
    const id = schedule.id!.id;
    const k = tenantKey(tenant, id);
    await this.host.submit({
      apply: (tx) => {
        if (this.entries.get(k) !== entry) return;
        tx.ops.push({ op: "deleteScheduledWfRun", tenant, id });
        tx.afterCommit(() => this.removed(tenant, id));
      },
    });
    this.log.warn({ schedule: id, tenant }, `scheduled WfRun deleted: ${why}`);
  }
}
