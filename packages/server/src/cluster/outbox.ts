/**
 * the payload bytes one stream message gathers at most before it is sent: a request may be 16 MB and a
 * stream message 64 MB, so a few large commands of one turn must not make one message too large to send
 */
export const OUTBOX_BYTES = 4 * 1024 * 1024;

/**
 * The messages of a forwarding stream (forwarding.ts), sent together at the end of the event-loop turn
 * (setImmediate: after the I/O callbacks of the turn and the promise jobs they started), in the order they
 * were added, as one message of at most OUTBOX_BYTES of payload (an item larger than that goes alone, as
 * it would unbatched).
 */
export class Outbox<T> {
  private items: T[] = [];
  private bytes = 0;
  private scheduled = false;

  constructor(
    private readonly send: (items: T[]) => void,
    private readonly payloadBytes: (item: T) => number,
  ) {}

  add(item: T): void {
    const size = this.payloadBytes(item);
    if (this.items.length > 0 && this.bytes + size > OUTBOX_BYTES) this.flush();
    this.items.push(item);
    this.bytes += size;
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.flush);
  }

  /** Removes the first item waiting that `test` matches; whether there was one. */
  remove(test: (item: T) => boolean): boolean {
    const i = this.items.findIndex(test);
    if (i < 0) return false;
    this.bytes -= this.payloadBytes(this.items[i]!);
    this.items.splice(i, 1);
    return true;
  }

  /** Sends what waits now (also when the stream is about to end). */
  readonly flush = (): void => {
    this.scheduled = false;
    const items = this.drop();
    if (items.length > 0) this.send(items);
  };

  /** Takes what waits, unsent (the stream broke). */
  drop(): T[] {
    const items = this.items;
    this.items = [];
    this.bytes = 0;
    return items;
  }
}
