/**
 * Keeps this server's share of the partitions, under leases in the store (store.ts, ClusterStore).
 *
 * Every tick (a third of the lease time, and at once when another server announces a change) it:
 *  1. renews its heartbeat row, and the leases of the partitions it holds; a lease it finds taken means the
 *     partition was lost (this server was paused or cut off past the lease): its state here is dropped;
 *  2. works out the even share: the live servers sorted by id, partition p to server p mod n;
 *  3. hands over what is no longer its share (drain, commit, release) and takes what is, once free.
 * A server that dies stops renewing; its partitions are taken when their leases run out. The embedded store
 * is the same loop with a single server, which takes every partition at its first tick.
 */
import type { Logger } from "pino";
import type { Runtime } from "../runtime/runtime";
import type { Store } from "../store/store";

export interface LeaseSettings {
  serverId: string;
  /** host:port clients and workers use */
  address: string;
  /** host:port of the server-to-server port */
  internalAddress: string;
  leaseMs: number;
}

export class LeaseKeeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopping = false;
  private unlisten: (() => void) | undefined;
  /** partition → owner id, as last read from the store (ownerOf), and when */
  private owners = new Map<number, string>();
  private ownersReadAt = 0;
  /** the live servers at the last tick, by id */
  private live = new Map<string, { address: string; internalAddress: string }>();

  constructor(
    private readonly store: Store,
    private readonly runtime: Runtime,
    private readonly settings: LeaseSettings,
    private readonly log: Logger,
  ) {}

  /** Announces this server and runs the first tick (which takes every free partition of its share). */
  async start(): Promise<void> {
    this.unlisten = this.store.onAnnouncement((topic) => {
      if (topic === "metadata") {
        this.runtime
          .refreshMetadata()
          .catch((e: unknown) => this.log.warn({ err: e }, "metadata reload failed"));
      } else this.tickSoon();
    });
    await this.tick();
    await this.store.announce("partitions");
    this.schedule();
  }

  /** The live servers (this one included, unless it is stopping), as of the last tick. */
  servers(): ReadonlyMap<string, { address: string; internalAddress: string }> {
    return this.live;
  }

  /**
   * The server that owns a partition: as last read from the store (kept for a tick), or read again with
   * `fresh` (the owner it had did not take the call: the partition moved).
   */
  async ownerOf(part: number, fresh = false): Promise<{ id: string; internalAddress: string } | undefined> {
    if (fresh || this.ownersReadAt < Date.now() - this.settings.leaseMs / 3) {
      const leases = await this.store.listPartitions();
      this.owners = new Map(
        leases.filter((l) => l.owner !== "" && l.leaseLeftMs > 0).map((l) => [l.part, l.owner]),
      );
      this.ownersReadAt = Date.now();
    }
    const owner = this.owners.get(part);
    if (owner === undefined) return undefined;
    const server = this.live.get(owner);
    if (server) return { id: owner, internalAddress: server.internalAddress };
    const row = (await this.store.listServers()).find((s) => s.id === owner);
    return row ? { id: row.id, internalAddress: row.internalAddress } : undefined;
  }

  private schedule(): void {
    if (this.stopping) return;
    this.timer = setTimeout(() => this.tickSoon(), Math.max(50, Math.floor(this.settings.leaseMs / 3)));
    this.timer.unref();
  }

  /** Runs a tick now, or right after the running one. */
  tickSoon(): void {
    if (this.stopping) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.tick()
      .catch((e: unknown) => this.log.warn({ err: e }, "partition lease tick failed; retrying"))
      .finally(() => this.schedule());
  }

  private async tick(): Promise<void> {
    if (this.running) return this.running;
    this.running = (async () => {
      do {
        this.again = false;
        await this.round();
      } while (this.again && !this.stopping);
    })().finally(() => (this.running = undefined));
    return this.running;
  }

  private async round(): Promise<void> {
    const { serverId: me, leaseMs } = this.settings;
    const parts = this.runtime.partitions;
    await this.store.putServer({
      id: me,
      address: this.settings.address,
      internalAddress: this.settings.internalAddress,
      stopping: this.stopping,
    });
    // 1. renew what is held; what is not renewed was taken by another server
    const held = new Map(parts.held());
    if (held.size > 0) {
      const still = new Set(await this.store.renewPartitions(me, held, leaseMs));
      for (const part of held.keys()) {
        if (still.has(part)) continue;
        this.log.warn({ partition: part }, "partition lease lost: another server owns it now");
        this.runtime.dropPartition(part);
      }
    }
    // 2. the even share among live servers
    const servers = (await this.store.listServers()).filter(
      (s) => (s.id === me && !this.stopping) || (s.heartbeatAgeMs < leaseMs && !s.stopping && s.id !== me),
    );
    this.live = new Map(
      servers.map((s) => [s.id, { address: s.address, internalAddress: s.internalAddress }]),
    );
    const ids = [...this.live.keys()].sort();
    const shareOf = (part: number) => (ids.length === 0 ? undefined : ids[part % ids.length]);
    // 3. hand over what is another server's share, take what is ours
    let released = false;
    for (const [part, epoch] of parts.held()) {
      if (shareOf(part) === me) continue;
      await this.runtime.leavePartition(part);
      await this.store.releasePartitions(me, new Map([[part, epoch]]));
      this.log.info({ partition: part, to: shareOf(part) }, "partition handed over");
      released = true;
    }
    if (released) await this.store.announce("partitions");
    if (this.stopping) return;
    for (let part = 0; part < parts.count; part++) {
      if (shareOf(part) !== me || parts.epochOf(part) !== undefined) continue;
      const epoch = await this.store.acquirePartition(part, me, leaseMs);
      if (epoch !== undefined) await this.runtime.takePartition(part, epoch);
    }
    // metadata changed by another server: a missed notice is caught here
    await this.runtime.refreshMetadata();
  }

  /** A graceful stop: hands every partition over and leaves the cluster. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.unlisten?.();
    await this.running?.catch(() => undefined);
    try {
      await this.round();
      await this.store.deleteServer(this.settings.serverId);
      await this.store.announce("partitions");
    } catch (e) {
      this.log.warn({ err: e }, "handing partitions over at stop failed; their leases will run out");
    }
  }
}
