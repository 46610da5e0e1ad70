/** Shared bits of the benchmark processes: the clock, percentiles and the parent ↔ child IPC protocol. */

/**
 * A high-resolution clock, in ms, that is comparable ACROSS processes of the same machine: process.hrtime
 * reads the system-wide monotonic clock (CLOCK_MONOTONIC on Linux, mach_absolute_time on macOS,
 * QueryPerformanceCounter on Windows), so a time taken in the client and one taken in the worker can be
 * subtracted with sub-µs precision. (`performance.timeOrigin + performance.now()` also works across
 * processes but carries the error of each process's wall-clock reading at start, which can be a good
 * fraction of a millisecond; the monotonic clock has no such offset.)
 */
export function monoMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/**
 * The wall clock to the microsecond, read the way the Pony server reads it for a task attempt's schedule
 * time (packages/server/src/runtime/clock.ts): `performance.timeOrigin + performance.now()`. Processes of one
 * machine agree on it within a few µs, so the worker can subtract the server's `created_at` from it.
 */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Nearest-rank percentile (p in 0..100) of unsorted samples; NaN when there are none. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export const round = (n: number, digits = 3): number =>
  Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : n;

// ---- IPC ------------------------------------------------------------------------------------------------

/** parent → child: a command; the child answers with a Reply of the same id */
export interface Request {
  id: number;
  cmd: string;
  args?: unknown;
}
export interface Reply {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}
/** unsolicited message (child → parent, or parent → child) */
export interface Event {
  ev: string;
  [k: string]: unknown;
}

/** The worker tells (through the parent) the client that these tasks were reported and acknowledged. */
export interface DoneEvent extends Event {
  ev: "done";
  /** WfRun ids, one entry per acknowledged TASK_SUCCESS report */
  ids: string[];
}

export interface CpuSample {
  /** µs of CPU time */
  user: number;
  system: number;
  /** ms the event loop was idle / active (active includes blocking calls, such as a synchronous fsync) */
  idle: number;
  active: number;
  atMs: number;
}

export function cpuSample(): CpuSample {
  const u = process.cpuUsage();
  const elu = performance.eventLoopUtilization();
  return { user: u.user, system: u.system, idle: elu.idle, active: elu.active, atMs: monoMs() };
}

type Handler = (args: never) => unknown;

/**
 * The child side: answers the parent's commands with `handlers` (plus `cpu`, this process's CPU time so
 * far) and passes events to `onEvent`. A child
 * whose parent goes away (IPC channel closed) exits at once, so no benchmark process outlives the run.
 */
export function serveParent(handlers: Record<string, Handler>, onEvent?: (e: Event) => void): void {
  if (!process.send) throw new Error("this file runs as a child process of bench/main.ts");
  process.on("disconnect", () => process.exit(3));
  process.on("message", (raw: unknown) => {
    const m = raw as Partial<Request> & Partial<Event>;
    if (typeof m.ev === "string") {
      onEvent?.(m as Event);
      return;
    }
    if (typeof m.id !== "number" || typeof m.cmd !== "string") return;
    const id = m.id;
    const handler = m.cmd === "cpu" ? cpuSample : handlers[m.cmd];
    const reply = (r: Omit<Reply, "id">) => process.send?.({ id, ...r });
    if (!handler) {
      reply({ ok: false, error: `unknown command ${m.cmd}` });
      return;
    }
    void Promise.resolve()
      .then(() => (handler as (a: unknown) => unknown)(m.args))
      .then(
        (result) => reply({ ok: true, result }),
        (e: unknown) => reply({ ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) }),
      );
  });
}

export function sendToParent(msg: Event): void {
  process.send?.(msg);
}

export function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** node flags for a child process: `--import tsx`, and `--cpu-prof` into `cpuProfDir` when given */
export function childExecArgv(cpuProfDir: string | undefined): string[] {
  return ["--import", "tsx", ...(cpuProfDir ? ["--cpu-prof", "--cpu-prof-dir", cpuProfDir] : [])];
}
