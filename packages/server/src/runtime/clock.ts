/**
 * The server's clock: epoch milliseconds to the microsecond, following the wall clock.
 *
 * `performance.timeOrigin + performance.now()` is the wall clock at process start plus a monotonic
 * high-resolution count, so it reads sub-millisecond time that other processes of the machine read the same
 * way (within a few µs). Should the wall clock be stepped (NTP, a resumed VM), the origin follows it, so
 * timestamps never stray from `Date.now()` by more than a couple of milliseconds.
 */
let origin = performance.timeOrigin;

export function preciseNowMs(): number {
  const mono = performance.now();
  const wall = Date.now();
  let t = origin + mono;
  if (t < wall - 2 || t > wall + 2) {
    origin = wall - mono;
    t = wall;
  }
  return Math.round(t * 1000) / 1000;
}

/**
 * A clock moved by hand: the wall clock plus an offset that only grows. Tests and the SDK's time-skipping
 * test environment give it to a server (PonyServer.start's `clock`); advancing it fires at once every timer
 * and scheduled tick that came due.
 */
export class ManualClock {
  private offsetMs = 0;
  private readonly listeners = new Set<() => void>();

  /** epoch ms to the microsecond, as preciseNowMs, plus the time skipped so far */
  readonly now = (): number => preciseNowMs() + this.offsetMs;

  /** how far this clock is ahead of the wall clock */
  get skippedMs(): number {
    return this.offsetMs;
  }

  /** Moves the clock forward; timers due by the new time fire. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`a clock only moves forward, not by ${ms} ms`);
    this.offsetMs += ms;
    for (const fn of this.listeners) fn();
  }

  /** Calls `fn` after each advance; returns a function that stops it. */
  onAdvance(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}
