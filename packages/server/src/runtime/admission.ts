/**
 * Admission control: what the server refuses, with RESOURCE_EXHAUSTED, rather than take on more than it can
 * answer promptly (the limits are settings, see settings.ts):
 *  - RunWf of a tenant with too many WfRuns still moving in later turns (engine turns.ts): one tenant
 *    flooding the server with WfRuns that start thousands of threads is refused, while other tenants' RunWf
 *    and every other call go on;
 *  - RunWf beyond a number in flight on the whole server (each holds memory until it is answered);
 *  - RunWf when the JavaScript heap is fuller than a share of its limit (hot WfRuns live in memory);
 *  - PollTask streams beyond a number open at once;
 *  - PutExternalEvent of an event no node claims at once into a WfRun that already holds a number of
 *    unclaimed ones (they live in memory with the WfRun, and are read whenever it is loaded).
 * A refused call changed nothing: the caller may retry later.
 */
import v8 from "node:v8";
import { ResourceExhaustedError } from "@pony/engine";

export interface AdmissionLimits {
  /** WfRuns still moving in later turns, per tenant */
  maxMovingWfRunsPerTenant: number;
  /** RunWf calls in flight on the server */
  maxRunWfInFlight: number;
  /** share of the heap limit (0..1) above which new WfRuns are refused */
  maxHeapShare: number;
  /** PollTask streams open at once */
  maxPollStreams: number;
  /** ExternalEvents no node has claimed yet, per WfRun */
  maxUnclaimedEventsPerWfRun: number;
}

/** The defaults of the load limits (settings.ts takes them as its defaults too). */
export const DEFAULT_LIMITS = {
  maxNodeRunsPerTurn: 100,
  maxMovingWfRunsPerTenant: 32,
  maxRunWfInFlight: 10_000,
  maxHeapShare: 0.85,
  maxPollStreams: 10_000,
  maxUnclaimedEventsPerWfRun: 10_000,
};

/** how often the heap is measured (ms): reading it costs a few microseconds, not nothing */
const HEAP_CHECK_MS = 100;

export class Admission {
  private runWfInFlight = 0;
  /** per tenant, the WfRuns (storage keys) whose last turn left work for a later one */
  private readonly moving = new Map<string, Set<string>>();
  private pollStreams = 0;
  private heapCheckedMs = 0;
  private heapFull = false;
  private readonly heapLimit = v8.getHeapStatistics().heap_size_limit;

  constructor(private readonly limits: AdmissionLimits) {}

  /** Admits a RunWf of the tenant, or throws RESOURCE_EXHAUSTED; call the returned function when it is answered. */
  admitRunWf(tenant: string): () => void {
    const moving = this.moving.get(tenant)?.size ?? 0;
    if (moving >= this.limits.maxMovingWfRunsPerTenant) {
      throw new ResourceExhaustedError(
        `tenant '${tenant}' has ${moving} WfRuns still moving in later turns (the limit is ` +
          `${this.limits.maxMovingWfRunsPerTenant}, --max-moving-wf-runs-per-tenant): retry once some have settled`,
      );
    }
    if (this.runWfInFlight >= this.limits.maxRunWfInFlight) {
      throw new ResourceExhaustedError(
        `${this.runWfInFlight} RunWf calls are in flight, the most this server takes (--max-run-wf-in-flight): ` +
          `retry later`,
      );
    }
    if (this.heapIsFull()) {
      const usedMb = Math.round(process.memoryUsage().heapUsed / 2 ** 20);
      throw new ResourceExhaustedError(
        `the server's memory is nearly full (${usedMb} MB of a ${Math.round(this.heapLimit / 2 ** 20)} MB heap, ` +
          `--max-heap-share ${this.limits.maxHeapShare}): retry later`,
      );
    }
    this.runWfInFlight++;
    return once(() => this.runWfInFlight--);
  }

  /** A WfRun's last command left it moving (another turn is queued), or brought it to rest. */
  setMoving(tenant: string, key: string, moving: boolean): void {
    let set = this.moving.get(tenant);
    if (moving) {
      if (!set) this.moving.set(tenant, (set = new Set()));
      set.add(key);
    } else if (set?.delete(key) && set.size === 0) {
      this.moving.delete(tenant);
    }
  }

  /** Forgets the moving WfRuns that match (their partition moved away, or the caches were reset). */
  forgetMoving(matches: (tenant: string, key: string) => boolean): void {
    for (const [tenant, set] of this.moving) {
      for (const key of set) if (matches(tenant, key)) set.delete(key);
      if (set.size === 0) this.moving.delete(tenant);
    }
  }

  /** Admits a PollTask stream, or throws RESOURCE_EXHAUSTED; call the returned function when it closes. */
  admitPollStream(): () => void {
    if (this.pollStreams >= this.limits.maxPollStreams) {
      throw new ResourceExhaustedError(
        `${this.pollStreams} PollTask streams are open, the most this server takes (--max-poll-streams): ` +
          `poll another server or retry later`,
      );
    }
    this.pollStreams++;
    return once(() => this.pollStreams--);
  }

  /** Throws RESOURCE_EXHAUSTED when a WfRun would hold more unclaimed ExternalEvents than the limit. */
  checkUnclaimedEvents(wfRunKey: string, unclaimed: number): void {
    if (unclaimed <= this.limits.maxUnclaimedEventsPerWfRun) return;
    throw new ResourceExhaustedError(
      `WfRun '${wfRunKey}' already holds ${this.limits.maxUnclaimedEventsPerWfRun} ExternalEvents that no node ` +
        `has claimed (--max-unclaimed-events-per-wf-run): post more once it has claimed some`,
    );
  }

  private heapIsFull(): boolean {
    const now = Date.now();
    if (now - this.heapCheckedMs >= HEAP_CHECK_MS) {
      this.heapCheckedMs = now;
      this.heapFull = process.memoryUsage().heapUsed > this.limits.maxHeapShare * this.heapLimit;
    }
    return this.heapFull;
  }
}

/** `fn`, run the first time the returned function is called only (a release may be called twice). */
function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}
