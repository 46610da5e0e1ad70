import type {
  ExternalEvent,
  NodeRun,
  Principal,
  ScheduledWfRun,
  Tenant,
  TaskRun,
  UserTaskRun,
  Variable,
  WfRun,
  WorkflowEvent,
} from "@pony/proto";
import type { TimerCommand } from "@pony/engine";
import type { MetricsDelta, MetricsStore } from "./metrics-types";
import type { SearchStore, VariableIndexInfo } from "./search-types";

/** The kinds of metadata objects, as stored. */
export type MetadataKind =
  "task_def" | "external_event_def" | "workflow_event_def" | "user_task_def" | "wf_spec";

export interface MetadataRow {
  tenant: string;
  kind: MetadataKind;
  name: string;
  /** WfSpec major version, UserTaskDef version; 0 otherwise */
  major: number;
  /** WfSpec revision; 0 otherwise */
  minor: number;
  bytes: Uint8Array;
  /** a deleted WfSpec stays readable for the WfRuns that use it, but is not found by Get/Search */
  deleted: boolean;
}

export interface QueuedTask {
  /** the WfRun's partition (runtime/partitions.ts) */
  part: number;
  tenant: string;
  taskDefName: string;
  wfRunKey: string;
  taskGuid: string;
  attemptNumber: number;
}

export interface StoredTimer {
  /** the WfRun's partition (runtime/partitions.ts) */
  part: number;
  tenant: string;
  wfRunKey: string;
  key: string;
  dueMs: number;
  command: TimerCommand;
}

/** One change to the store. A batch of them commits atomically (group commit). */
export type WriteOp =
  | { op: "putMetadata"; row: MetadataRow }
  | { op: "deleteMetadata"; tenant: string; kind: MetadataKind; name: string; major: number; minor: number }
  | {
      op: "putWfRun";
      tenant: string;
      wfRunKey: string;
      wfRun: WfRun;
      /**
       * the WfRun is new (RunWf): the batch commits only if no WfRun of this key was stored before it, else it
       * fails with WfRunExistsError and stores nothing (its creator did not read the store to know)
       */
      created?: boolean;
    }
  | { op: "putNodeRun"; tenant: string; wfRunKey: string; nodeRun: NodeRun }
  | { op: "putTaskRun"; tenant: string; wfRunKey: string; taskRun: TaskRun }
  | {
      op: "putVariable";
      tenant: string;
      wfRunKey: string;
      variable: Variable;
      /** set for a searchable variable (or one with json_indexes): its index entries, same transaction */
      index?: VariableIndexInfo;
    }
  | { op: "putExternalEvent"; tenant: string; wfRunKey: string; event: ExternalEvent }
  | { op: "deleteExternalEvent"; tenant: string; wfRunKey: string; defName: string; guid: string }
  | { op: "putWorkflowEvent"; tenant: string; wfRunKey: string; event: WorkflowEvent }
  | { op: "putUserTaskRun"; tenant: string; wfRunKey: string; userTaskRun: UserTaskRun }
  | { op: "deleteWfRun"; tenant: string; wfRunKey: string }
  | { op: "enqueueTask"; task: QueuedTask }
  | { op: "dequeueTask"; tenant: string; wfRunKey: string; taskGuid: string; attemptNumber: number }
  | { op: "putTimer"; timer: StoredTimer }
  | { op: "deleteTimer"; tenant: string; wfRunKey: string; key: string }
  | { op: "putTenant"; tenant: Tenant }
  | { op: "putPrincipal"; principal: Principal }
  | { op: "deletePrincipal"; id: string }
  /** a task worker's heartbeat; the first one of a TaskDef's group also creates the group */
  | { op: "putTaskWorker"; tenant: string; taskDefName: string; workerId: string; heartbeatMs: number }
  | { op: "deleteTaskWorker"; tenant: string; taskDefName: string; workerId: string }
  /** a scheduled WfRun, with the time of its next tick (ScheduleWf writes it, each tick moves `nextMs` on) */
  | { op: "putScheduledWfRun"; tenant: string; schedule: ScheduledWfRun; nextMs: number }
  | { op: "deleteScheduledWfRun"; tenant: string; id: string }
  /** metrics windows to add to (the store sums those of one batch) */
  | { op: "addMetrics"; deltas: MetricsDelta[] };

/** Where a UserTaskRun sits in SearchUserTaskRun's order: scheduled time, then WfRun key, then guid. */
export interface UserTaskRunPosition {
  scheduledMs: number;
  wfRunKey: string;
  guid: string;
}

/** SearchUserTaskRun criteria; every one that is set must match. */
export interface UserTaskRunSearch {
  status?: number;
  defName?: string;
  userId?: string;
  userGroup?: string;
  /** scheduled at or after (epoch ms) */
  earliestMs?: number;
  /** scheduled at or before (epoch ms) */
  latestMs?: number;
  /** resume strictly after this position (a bookmark) */
  after?: UserTaskRunPosition;
  limit: number;
}

/**
 * Paged reads of one WfRun's objects (the List RPCs): each list has a fixed order, a page resumes strictly
 * after the position of the last object of the previous page (a keyset condition on an index), and holds at
 * most `limit` objects, as the protobuf bytes stored (WorkflowEvents: decoded). Objects added meanwhile after
 * that position show up on later pages.
 */
export interface ListPage<P> {
  after?: P;
  limit: number;
}
/** NodeRuns: by thread, then position */
export interface NodeRunPosition {
  thread: number;
  position: number;
}
/** Variables: by thread, then name */
export interface VariablePosition {
  thread: number;
  name: string;
}
/** TaskRuns and UserTaskRuns: by scheduled time (ms; 0 when unknown), then guid */
export interface ScheduledPosition {
  ms: number;
  guid: string;
}
/** ExternalEvents: by creation time (ms, then its sub-millisecond sequence), ExternalEventDef name, guid */
export interface EventPosition {
  ms: number;
  sub: number;
  defName: string;
  guid: string;
}
/** WorkflowEvents: by creation time (ms), then WorkflowEventDef name, then number */
export interface WorkflowEventPosition {
  ms: number;
  defName: string;
  number: number;
}
export interface Positioned<T, P> {
  item: T;
  position: P;
}

/** What the runtime needs to continue a WfRun: see WfRunState in the engine. */
export interface ActiveWfRunRows {
  wfRun: WfRun;
  variables: Variable[];
  nodeRuns: NodeRun[];
  taskRuns: TaskRun[];
  /** the WfRun's ExternalEvents not claimed yet */
  unclaimedEvents: ExternalEvent[];
  userTaskRuns: UserTaskRun[];
  /** per WorkflowEventDef name, how many WorkflowEvents the WfRun has thrown */
  workflowEventCounts: Map<string, number>;
}

/**
 * What a commit of a partition owner proves: the epoch at which it holds each partition the batch touches.
 * The check runs in the batch's own transaction, so once another server has taken a partition (a higher
 * epoch) its former owner can never commit for it again.
 */
/** A TaskDef's task worker group as stored: when it was created, and its workers' latest heartbeats. */
export interface StoredTaskWorkerGroup {
  createdMs: number;
  workers: { workerId: string; heartbeatMs: number }[];
}

/** A scheduled WfRun as stored: the schedule, its tenant and the time of its next tick. */
export interface StoredSchedule {
  tenant: string;
  schedule: ScheduledWfRun;
  nextMs: number;
}

export interface Fence {
  owner: string;
  /** partition → epoch */
  epochs: ReadonlyMap<number, number>;
}

/** a WfRun by tenant and key */
export interface WfRunRef {
  tenant: string;
  key: string;
}

/** A batch refused because WfRuns it creates (putWfRun `created`) were stored already. */
export class WfRunExistsError extends Error {
  constructor(readonly wfRuns: WfRunRef[]) {
    super(`commit refused: WfRun ${wfRuns.map((r) => `'${r.key}'`).join(", ")} exists already`);
    this.name = "WfRunExistsError";
  }
}

/** A batch refused because its committer no longer holds these partitions at the epochs it named. */
export class FencedError extends Error {
  constructor(readonly parts: number[]) {
    super(
      `commit refused: partition${parts.length === 1 ? "" : "s"} ${parts.join(", ")} ` +
        `now belong${parts.length === 1 ? "s" : ""} to another server (lease lost)`,
    );
    this.name = "FencedError";
  }
}

/** What a cluster announcement is about. */
export type ClusterTopic = "metadata" | "partitions";

/** A partition's lease row. */
export interface PartitionLease {
  part: number;
  /** the owning server's id, "" when released */
  owner: string;
  epoch: number;
  /** time left on the lease by the store's clock (ms); 0 or less when it has run out */
  leaseLeftMs: number;
}

/** A server of the cluster, as it announced itself. */
export interface ServerRow {
  id: string;
  /** host:port workers and clients use */
  address: string;
  /** host:port of its server-to-server port */
  internalAddress: string;
  /** time since its last heartbeat by the store's clock (ms) */
  heartbeatAgeMs: number;
  /** it is handing its partitions over before it stops */
  stopping: boolean;
}

/**
 * Partition ownership and cluster membership. Lease times are measured by the store's clock (the database
 * server's for PostgreSQL), one clock for every server, so servers' clocks need not agree.
 */
export interface ClusterStore {
  /**
   * The cluster's number of partitions: `count` when the cluster is created by this call, the stored number
   * after that (it cannot change, as WfRuns are placed by it).
   */
  initPartitions(count: number): Promise<number>;
  /**
   * Takes a partition that is free, whose lease ran out, or that a former run of this same server held: its
   * epoch goes up by one (fencing any earlier holder) and the lease runs for `leaseMs`. Resolves to the new
   * epoch, or undefined when another server holds a live lease.
   */
  acquirePartition(part: number, owner: string, leaseMs: number): Promise<number | undefined>;
  /** Extends the leases still held at these epochs; resolves to the partitions still held. */
  renewPartitions(owner: string, epochs: ReadonlyMap<number, number>, leaseMs: number): Promise<number[]>;
  /** Gives up partitions at once (a graceful hand-over): the next owner need not wait for the lease. */
  releasePartitions(owner: string, epochs: ReadonlyMap<number, number>): Promise<void>;
  listPartitions(): Promise<PartitionLease[]>;
  /** Announces a server, or renews its heartbeat. */
  putServer(server: {
    id: string;
    address: string;
    internalAddress: string;
    stopping: boolean;
  }): Promise<void>;
  deleteServer(id: string): Promise<void>;
  listServers(): Promise<ServerRow[]>;
  /** A number that goes up with every commit that changes metadata, tenants or principals. */
  metadataVersion(): Promise<number>;
  /** Wakes the other servers: a partition was released, or a server came or is going. */
  announce(topic: ClusterTopic): Promise<void>;
  /**
   * Calls `listener` soon after a server commits a change to metadata (topic "metadata") or announces one.
   * A wake-up only: it can be missed, so servers also poll (metadataVersion, the lease rows) now and then.
   * Returns a function that stops listening.
   */
  onAnnouncement(listener: (topic: ClusterTopic) => void): () => void;
}

/**
 * Everything Pony persists goes through this interface, so the embedded store (SQLite) and the clustered one
 * share the runtime and one conformance suite.
 */
export interface Store extends SearchStore, MetricsStore, ClusterStore {
  /**
   * Commits a batch atomically. Batches commit in the order they are given, and a batch may be handed in
   * before the previous one is committed (pipelining); after a failed batch every later one fails too,
   * until resetAfterFailure. With a fence, the batch commits only if the committer still holds every
   * partition it names at that epoch (else it fails with FencedError naming every partition lost, and
   * nothing of it is stored); the fence is checked first. A batch that creates WfRuns (putWfRun `created`)
   * commits only if none of them was stored before it (else WfRunExistsError naming those, nothing stored).
   * A batch with nothing to write is not checked: it resolves.
   */
  commit(ops: WriteOp[], fence?: Fence): Promise<void>;
  /** Resolves once every batch handed in so far is committed or failed. */
  flushed(): Promise<void>;
  resetAfterFailure(): Promise<void>;

  listMetadata(): Promise<MetadataRow[]>;
  /** every Tenant, by id */
  listTenants(): Promise<Tenant[]>;
  /** every Principal, by id */
  listPrincipals(): Promise<Principal[]>;
  /** the group of a TaskDef's task workers, with at most `limit` workers (most recent heartbeats first) */
  getTaskWorkerGroup(
    tenant: string,
    taskDefName: string,
    limit: number,
  ): Promise<StoredTaskWorkerGroup | undefined>;

  getWfRun(tenant: string, wfRunKey: string): Promise<WfRun | undefined>;
  /** the WfRuns of these keys that are stored, by key: one read for many (a batch's jobs) */
  getWfRuns(tenant: string, wfRunKeys: readonly string[]): Promise<Map<string, WfRun>>;
  /**
   * The name of the definition an object belongs to, read from its row's columns without decoding it (the
   * request pipeline authorizes by it): a WfRun's WfSpec, a TaskRun's TaskDef, a UserTaskRun's UserTaskDef.
   */
  wfSpecNameOf(tenant: string, wfRunKey: string): Promise<string | undefined>;
  taskDefNameOf(tenant: string, wfRunKey: string, taskGuid: string): Promise<string | undefined>;
  userTaskDefNameOf(tenant: string, wfRunKey: string, guid: string): Promise<string | undefined>;
  /** what a WfRun's commands need loaded; `wfRun`: its row, when it was just read (getWfRuns) */
  loadActiveWfRun(tenant: string, wfRunKey: string, wfRun?: WfRun): Promise<ActiveWfRunRows | undefined>;
  getNodeRun(
    tenant: string,
    wfRunKey: string,
    thread: number,
    position: number,
  ): Promise<NodeRun | undefined>;
  /** one page of the WfRun's NodeRuns (of one thread, if given), as stored protobuf bytes */
  listNodeRuns(
    tenant: string,
    wfRunKey: string,
    page: ListPage<NodeRunPosition> & { thread?: number },
  ): Promise<Positioned<Uint8Array, NodeRunPosition>[]>;
  getTaskRun(tenant: string, wfRunKey: string, taskGuid: string): Promise<TaskRun | undefined>;
  listTaskRuns(
    tenant: string,
    wfRunKey: string,
    page: ListPage<ScheduledPosition>,
  ): Promise<Positioned<Uint8Array, ScheduledPosition>[]>;
  getVariable(tenant: string, wfRunKey: string, thread: number, name: string): Promise<Variable | undefined>;
  listVariables(
    tenant: string,
    wfRunKey: string,
    page: ListPage<VariablePosition>,
  ): Promise<Positioned<Uint8Array, VariablePosition>[]>;
  getExternalEvent(
    tenant: string,
    wfRunKey: string,
    defName: string,
    guid: string,
  ): Promise<ExternalEvent | undefined>;
  listExternalEvents(
    tenant: string,
    wfRunKey: string,
    page: ListPage<EventPosition>,
  ): Promise<Positioned<Uint8Array, EventPosition>[]>;
  getWorkflowEvent(
    tenant: string,
    wfRunKey: string,
    defName: string,
    number: number,
  ): Promise<WorkflowEvent | undefined>;
  /** one page of the WfRun's WorkflowEvents of every def by creation time, as stored protobuf bytes */
  listEncodedWorkflowEvents(
    tenant: string,
    wfRunKey: string,
    page: ListPage<WorkflowEventPosition>,
  ): Promise<Positioned<Uint8Array, WorkflowEventPosition>[]>;
  /**
   * one page of the WfRun's WorkflowEvents by creation time, decoded; with `defName`, of that
   * WorkflowEventDef only, in the order they were thrown (then `after` counts only its `number`)
   */
  listWorkflowEvents(
    tenant: string,
    wfRunKey: string,
    page: ListPage<WorkflowEventPosition> & { defName?: string },
  ): Promise<Positioned<WorkflowEvent, WorkflowEventPosition>[]>;
  getUserTaskRun(tenant: string, wfRunKey: string, guid: string): Promise<UserTaskRun | undefined>;
  listUserTaskRuns(
    tenant: string,
    wfRunKey: string,
    page: ListPage<ScheduledPosition>,
  ): Promise<Positioned<Uint8Array, ScheduledPosition>[]>;
  /**
   * One page of UserTaskRuns of a tenant matching the criteria, in (scheduled time, WfRun key, guid) order,
   * read from an index (no table scan), at most `limit` of them.
   */
  searchUserTaskRuns(
    tenant: string,
    search: UserTaskRunSearch,
  ): Promise<{ run: UserTaskRun; position: UserTaskRunPosition }[]>;

  /** a scheduled WfRun and the time of its next tick */
  getScheduledWfRun(tenant: string, id: string): Promise<StoredSchedule | undefined>;
  /**
   * One page of the ids of a tenant's scheduled WfRuns of a WfSpec (of one major version and revision, when
   * given), in id order, strictly after `afterId`, read through an index
   */
  searchScheduledWfRuns(
    tenant: string,
    search: { wfSpecName: string; major?: number; revision?: number; afterId?: string; limit: number },
  ): Promise<string[]>;
  /** every scheduled WfRun of every tenant (the owner of the metadata partition arms their ticks) */
  listScheduledWfRuns(): Promise<StoredSchedule[]>;

  /** the queued tasks of these partitions, oldest first */
  loadTaskQueue(parts: readonly number[]): Promise<QueuedTask[]>;
  /** the timers of these partitions */
  loadTimers(parts: readonly number[]): Promise<StoredTimer[]>;

  close(): Promise<void>;
}
