/**
 * Which partitions this server owns, and at which epochs (the fence its batches carry). The lease keeper
 * (cluster/lease-keeper.ts) takes and gives up partitions; the runtime asks here before it applies a command.
 *
 * Every WfRun lives in one partition (store/placement.ts). Jobs that touch no WfRun (metadata, tenants,
 * principals) belong to METADATA_PARTITION, so one server at a time applies them: version numbers and
 * "already exists" checks stay exact across a cluster.
 */
import { PonyError } from "@pony/engine";
import { partitionOf } from "../store/placement";
import type { Fence } from "../store/store";

export const METADATA_PARTITION = 0;

/** A command reached a server that does not own its partition (it moved, or is moving). */
export class NotOwnerError extends PonyError {
  constructor(readonly part: number) {
    super(`partition ${part} is not owned by this server`);
    this.name = "NotOwnerError";
  }
}

export class Partitions {
  private readonly epochs = new Map<number, number>();
  /** partitions being handed over: no new commands, the ones applied are still committing */
  private readonly leaving = new Set<number>();

  constructor(
    /** this server's id in the cluster (its lease rows name it); set once its port is known */
    public serverId: string,
    /** the cluster's partition count, fixed when the cluster was created */
    readonly count: number,
  ) {}

  of(tenant: string, wfRunKey: string): number {
    return partitionOf(tenant, wfRunKey, this.count);
  }

  /** whether commands of the partition are applied here now */
  owns(part: number): boolean {
    return this.epochs.has(part) && !this.leaving.has(part);
  }

  held(): ReadonlyMap<number, number> {
    return this.epochs;
  }

  epochOf(part: number): number | undefined {
    return this.epochs.get(part);
  }

  /** the fence of a batch whose jobs touched these partitions */
  fence(parts: Iterable<number>): Fence {
    const epochs = new Map<number, number>();
    for (const p of parts) {
      const e = this.epochs.get(p);
      if (e !== undefined) epochs.set(p, e);
    }
    return { owner: this.serverId, epochs };
  }

  taken(part: number, epoch: number): void {
    this.epochs.set(part, epoch);
    this.leaving.delete(part);
  }

  /** stops applying the partition's commands (before it is handed over) */
  leave(part: number): void {
    if (this.epochs.has(part)) this.leaving.add(part);
  }

  dropped(part: number): void {
    this.epochs.delete(part);
    this.leaving.delete(part);
  }
}
