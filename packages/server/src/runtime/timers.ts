/**
 * Durable timers, armed in memory. Each timer is a row in the store (written in the same transaction as the
 * command that armed it); this class keeps them in a min-heap by due time with a single Node timeout for
 * the earliest (a due time beyond Node's 24.8-day timer range is reached in steps), and hands each one due to
 * `fire`. Re-arming an id replaces it; cancelling drops it (the heap entry is left behind as stale and skipped;
 * the heap is rebuilt when stale entries outnumber live ones). An id's group is the part before its last
 * NUL (the runtime's ids are `tenant NUL wfRun NUL key`), so a deleted WfRun's timers go in one step.
 */
/** The longest delay a Node timer takes (2^31 - 1 ms, about 24.8 days); longer ones would fire at once. */
export const MAX_DELAY_MS = 2 ** 31 - 1;

export interface TimerEntry<T> {
  id: string;
  dueMs: number;
  payload: T;
}

export class TimerWheel<T> {
  private heap: TimerEntry<T>[] = [];
  /** id → the live entry for that id (heap entries not in here are stale) */
  private live = new Map<string, TimerEntry<T>>();
  /** group → ids of its live timers */
  private groups = new Map<string, Set<string>>();
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

  /** whether a timer with this id is armed */
  has(id: string): boolean {
    return this.live.has(id);
  }

  arm(id: string, dueMs: number, payload: T): void {
    const entry = { id, dueMs, payload };
    const rearmed = this.live.has(id);
    if (!rearmed) {
      const group = groupOf(id);
      let ids = this.groups.get(group);
      if (!ids) this.groups.set(group, (ids = new Set()));
      ids.add(id);
    }
    this.live.set(id, entry);
    this.push(entry);
    if (rearmed) this.compact();
    this.schedule();
  }

  cancel(id: string): void {
    if (this.drop(id)) this.compact();
  }

  /**
   * Cancels every timer whose id starts with the prefix (a deleted WfRun's timers). A prefix that ends with
   * NUL names a group and costs only that group's timers; any other prefix scans every timer.
   */
  cancelPrefix(prefix: string): void {
    const ids = prefix.endsWith("\u0000")
      ? [...(this.groups.get(prefix.slice(0, -1)) ?? [])]
      : [...this.live.keys()].filter((id) => id.startsWith(prefix));
    for (const id of ids) this.drop(id);
    this.compact();
  }

  /** Cancels every timer whose payload matches (a partition handed over): scans every timer. */
  cancelWhere(match: (payload: T) => boolean): void {
    const ids = [...this.live.values()].filter((e) => match(e.payload)).map((e) => e.id);
    for (const id of ids) this.drop(id);
    this.compact();
  }

  /** When the earliest timer is due (epoch ms), if any. */
  nextDueMs(): number | undefined {
    return this.peekLive()?.dueMs;
  }

  /** The clock jumped forward (a ManualClock): what came due fires now, the rest waits anew. */
  clockMoved(): void {
    if (this.stopped) return;
    if (this.handle) clearTimeout(this.handle);
    this.handle = undefined;
    this.handleDue = Infinity;
    this.schedule();
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
    // a timer further away than Node can wait wakes up once at the limit and re-arms for the rest
    const delay = Math.min(MAX_DELAY_MS, Math.max(0, top.dueMs - this.now()));
    this.handle = setTimeout(() => this.run(), delay);
  }

  private drop(id: string): boolean {
    if (!this.live.delete(id)) return false;
    const group = groupOf(id);
    const ids = this.groups.get(group);
    ids?.delete(id);
    if (ids?.size === 0) this.groups.delete(group);
    return true;
  }

  /** Rebuilds the heap from the live timers once stale entries outnumber them (cancelled long timeouts). */
  private compact(): void {
    if (this.heap.length < 1024 || this.heap.length < 2 * this.live.size) return;
    this.heap = [];
    for (const entry of this.live.values()) this.push(entry);
  }

  private run(): void {
    this.handle = undefined;
    this.handleDue = Infinity;
    const now = this.now();
    for (;;) {
      const top = this.peekLive();
      if (!top || top.dueMs > now) break;
      this.pop();
      this.drop(top.id);
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

function groupOf(id: string): string {
  const i = id.lastIndexOf("\u0000");
  return i < 0 ? "" : id.slice(0, i);
}
