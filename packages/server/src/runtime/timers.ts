/**
 * Durable timers, armed in memory. Each timer is a row in the store (written in the same transaction as the
 * command that armed it); this class keeps them in a min-heap by due time with a single Node timeout for
 * the earliest, and hands each one due to `fire`. Re-arming a key replaces it; cancelling drops it.
 */
export interface TimerEntry<T> {
  id: string;
  dueMs: number;
  payload: T;
}

export class TimerWheel<T> {
  private heap: TimerEntry<T>[] = [];
  /** id → the live entry for that id (heap entries not in here are stale) */
  private live = new Map<string, TimerEntry<T>>();
  private handle: NodeJS.Timeout | undefined;
  private handleDue = Infinity;
  private stopped = false;

  constructor(
    private readonly fire: (entry: TimerEntry<T>) => void,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.live.size;
  }

  arm(id: string, dueMs: number, payload: T): void {
    const entry = { id, dueMs, payload };
    this.live.set(id, entry);
    this.push(entry);
    this.schedule();
  }

  cancel(id: string): void {
    this.live.delete(id);
  }

  /** Cancels every timer whose id starts with the prefix (a deleted WfRun's timers). */
  cancelPrefix(prefix: string): void {
    for (const id of this.live.keys()) if (id.startsWith(prefix)) this.live.delete(id);
  }

  stop(): void {
    this.stopped = true;
    if (this.handle) clearTimeout(this.handle);
    this.handle = undefined;
  }

  private schedule(): void {
    if (this.stopped) return;
    const top = this.peekLive();
    if (!top) return;
    if (this.handle && this.handleDue <= top.dueMs) return;
    if (this.handle) clearTimeout(this.handle);
    this.handleDue = top.dueMs;
    const delay = Math.max(0, top.dueMs - this.now());
    this.handle = setTimeout(() => this.run(), delay);
  }

  private run(): void {
    this.handle = undefined;
    this.handleDue = Infinity;
    const now = this.now();
    for (;;) {
      const top = this.peekLive();
      if (!top || top.dueMs > now) break;
      this.pop();
      this.live.delete(top.id);
      this.fire(top);
    }
    this.schedule();
  }

  private peekLive(): TimerEntry<T> | undefined {
    while (this.heap.length > 0) {
      const top = this.heap[0]!;
      if (this.live.get(top.id) === top) return top;
      this.pop();
    }
    return undefined;
  }

  private push(e: TimerEntry<T>): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p]!.dueMs <= h[i]!.dueMs) break;
      [h[p], h[i]] = [h[i]!, h[p]!];
      i = p;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && h[l]!.dueMs < h[m]!.dueMs) m = l;
      if (r < h.length && h[r]!.dueMs < h[m]!.dueMs) m = r;
      if (m === i) break;
      [h[m], h[i]] = [h[i]!, h[m]!];
      i = m;
    }
  }
}
