/**
 * What both SQL stores share: every read of the Store interface and the partition leases, written once
 * against a SqlReader. Each store adds how it commits a batch (sqlite.ts, pg.ts) and how it is opened and
 * closed.
 */
import { create, fromBinary } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  ExternalEventSchema,
  NodeRunSchema,
  PrincipalSchema,
  ScheduledWfRunSchema,
  TaskRunSchema,
  TaskStatus,
  TenantSchema,
  UserTaskRunSchema,
  VariableSchema,
  WfRunSchema,
  WorkflowEventSchema,
  type ExternalEvent,
  type NodeRun,
  type Principal,
  type TaskRun,
  type Tenant,
  type UserTaskRun,
  type Variable,
  type WfRun,
  type WorkflowEvent,
} from "@pony/proto";
import type { TimerCommand } from "@pony/engine";
import { ListReads } from "./list-reads";
import { MetricsReads } from "./metrics-reads";
import type { MetricsQuery, MetricsWindowRow } from "./metrics-types";
import { partitionOf } from "./placement";
import { SearchReads } from "./search-reads";
import type {
  ExternalEventHit,
  ExternalEventQuery,
  NodeRunHit,
  NodeRunQuery,
  TaskRunHit,
  TaskRunQuery,
  VariableHit,
  VariableQuery,
  WfRunHit,
  WfRunQuery,
  WorkflowEventHit,
  WorkflowEventQuery,
} from "./search-types";
import type { SqlReader, WriteResult, WriteStatement } from "./sql-reader";
import type {
  ActiveWfRunRows,
  ClusterTopic,
  EventPosition,
  Fence,
  ListPage,
  MetadataKind,
  MetadataRow,
  NodeRunPosition,
  PartitionLease,
  QueuedTask,
  ScheduledPosition,
  ServerRow,
  Store,
  StoredSchedule,
  StoredTaskWorkerGroup,
  StoredTimer,
  UserTaskRunPosition,
  UserTaskRunSearch,
  VariablePosition,
  WorkflowEventPosition,
  WriteOp,
} from "./store";

const SQL = {
  listMetadata: `SELECT tenant, kind, name, major, minor, bytes, deleted FROM metadata`,
  listTenants: `SELECT id, created_ms FROM tenants ORDER BY id`,
  listPrincipals: `SELECT bytes FROM principals ORDER BY id`,
  getTaskWorkerGroup: `SELECT created_ms FROM task_worker_groups WHERE tenant = ? AND task_def = ?`,
  listTaskWorkers: `SELECT worker_id, heartbeat_ms FROM task_workers WHERE tenant = ? AND task_def = ?
         ORDER BY heartbeat_ms DESC, worker_id LIMIT ?`,
  getScheduledWfRun: `SELECT tenant, next_ms, bytes FROM scheduled_wf_runs WHERE tenant = ? AND id = ?`,
  listScheduledWfRuns: `SELECT tenant, next_ms, bytes FROM scheduled_wf_runs ORDER BY tenant, id`,
  searchScheduledWfRuns: `SELECT id, major, revision FROM {{scheduled_wf_runs:scheduled_wf_runs_by_wf_spec}}
         WHERE tenant = ? AND wf_spec_name = ? AND id > ? ORDER BY id LIMIT ?`,
  getWfRun: `SELECT bytes FROM wf_runs WHERE tenant = ? AND wf_run_key = ?`,
  getWfRuns: `SELECT wf_run_key, bytes FROM wf_runs WHERE tenant = ? AND {{in:wf_run_key}}`,
  wfSpecNameOf: `SELECT wf_spec_name FROM wf_runs WHERE tenant = ? AND wf_run_key = ?`,
  taskDefNameOf: `SELECT task_def_name FROM task_runs WHERE tenant = ? AND wf_run_key = ? AND task_guid = ?`,
  userTaskDefNameOf: `SELECT def_name FROM user_task_runs WHERE tenant = ? AND wf_run_key = ? AND guid = ?`,
  getNodeRun: `SELECT bytes FROM node_runs WHERE tenant = ? AND wf_run_key = ? AND thread = ? AND position = ?`,
  getTaskRun: `SELECT bytes FROM task_runs WHERE tenant = ? AND wf_run_key = ? AND task_guid = ?`,
  getVariable: `SELECT bytes FROM variables WHERE tenant = ? AND wf_run_key = ? AND thread = ? AND name = ?`,
  allVariables: `SELECT bytes FROM variables WHERE tenant = ? AND wf_run_key = ? ORDER BY thread, name`,
  getExternalEvent: `SELECT bytes FROM external_events WHERE tenant = ? AND wf_run_key = ? AND def_name = ? AND guid = ?`,
  listUnclaimedEvents: `SELECT bytes FROM external_events WHERE tenant = ? AND wf_run_key = ? AND claimed = 0 ORDER BY created_ms, guid`,
  getWorkflowEvent: `SELECT bytes FROM workflow_events WHERE tenant = ? AND wf_run_key = ? AND def_name = ? AND number = ?`,
  countWorkflowEvents: `SELECT def_name, COUNT(*) AS n FROM workflow_events WHERE tenant = ? AND wf_run_key = ? GROUP BY def_name`,
  getUserTaskRun: `SELECT bytes FROM user_task_runs WHERE tenant = ? AND wf_run_key = ? AND guid = ?`,
  // TASK_SCHEDULED, TASK_RUNNING, TASK_PENDING: every status a TaskRun has before it ends
  unfinishedTaskRuns: `SELECT bytes FROM {{task_runs:task_runs_by_run_status}}
         WHERE tenant = ? AND wf_run_key = ? AND status IN (${TaskStatus.TASK_SCHEDULED}, ${TaskStatus.TASK_RUNNING}, ${TaskStatus.TASK_PENDING})`,
  partitionsSetting: `SELECT value FROM cluster_settings WHERE name = 'partitions'`,
  metadataVersion: `SELECT value FROM cluster_settings WHERE name = 'metadata_version'`,
  listPartitions: `SELECT part, owner, epoch, lease_until_ms - {{now}} FROM partitions ORDER BY part`,
  acquirePartition: `UPDATE partitions SET owner = ?, epoch = epoch + 1, lease_until_ms = {{now}} + ?
         WHERE part = ? AND (owner = '' OR owner = ? OR lease_until_ms < {{now}}) RETURNING epoch`,
  renewPartition: `UPDATE partitions SET lease_until_ms = {{now}} + ? WHERE part = ? AND owner = ? AND epoch = ?`,
  releasePartition: `UPDATE partitions SET owner = '', lease_until_ms = 0 WHERE part = ? AND owner = ? AND epoch = ?`,
  putServer: `INSERT INTO servers (id, address, internal_address, started_ms, heartbeat_ms, stopping)
         VALUES (?, ?, ?, {{now}}, {{now}}, ?)
         ON CONFLICT (id) DO UPDATE SET address = excluded.address, internal_address = excluded.internal_address,
           heartbeat_ms = excluded.heartbeat_ms, stopping = excluded.stopping`,
  deleteServer: `DELETE FROM servers WHERE id = ?`,
  listServers: `SELECT id, address, internal_address, {{now}} - heartbeat_ms, stopping FROM servers ORDER BY id`,
} as const;

/** Queued tasks and timers of these partitions: one query per partition, through its index. */
const QUEUE_OF_PART = `SELECT tenant, task_def_name, wf_run_key, task_guid, attempt FROM {{task_queue:task_queue_by_part}}
  WHERE part = ? ORDER BY seq`;
const TIMERS_OF_PART = `SELECT tenant, wf_run_key, key, due_ms, command FROM {{timers:timers_by_part}} WHERE part = ?`;

type ScheduleRow = [string, number | string, Uint8Array];
const storedSchedule = ([tenant, nextMs, bytes]: ScheduleRow): StoredSchedule => ({
  tenant,
  nextMs: Number(nextMs),
  schedule: fromBinary(ScheduledWfRunSchema, bytes),
});

export abstract class SqlStore implements Store {
  private readonly sql = {} as Record<keyof typeof SQL, string>;
  private queueOfPart = "";
  private timersOfPart = "";
  private search!: SearchReads;
  private lists!: ListReads;
  private metrics!: MetricsReads;
  private reader!: SqlReader;

  /** Called by the store once its connection is open: the reads run through `db`. */
  protected useReader(db: SqlReader): void {
    this.reader = db;
    const expand = (sql: string) =>
      sql
        .replace(/\{\{now\}\}/g, db.nowMs)
        .replace(/\{\{in:(\w+)\}\}/g, (_m, column: string) => db.inTextList(column))
        .replace(/\{\{(\w+):(\w+)\}\}/g, (_m, table: string, index: string) => db.from(table, index));
    for (const [k, v] of Object.entries(SQL)) this.sql[k as keyof typeof SQL] = expand(v);
    this.queueOfPart = expand(QUEUE_OF_PART);
    this.timersOfPart = expand(TIMERS_OF_PART);
    this.search = new SearchReads(db);
    this.lists = new ListReads(db);
    this.metrics = new MetricsReads(db);
  }

  abstract commit(ops: WriteOp[], fence?: Fence): Promise<void>;
  abstract flushed(): Promise<void>;
  abstract resetAfterFailure(): Promise<void>;
  abstract announce(topic: ClusterTopic): Promise<void>;
  abstract onAnnouncement(listener: (topic: ClusterTopic) => void): () => void;
  abstract close(): Promise<void>;

  private async bytes(sql: string, params: unknown[]): Promise<Uint8Array | undefined> {
    const [row] = await this.reader.rows(sql, params);
    return row ? (row[0] as Uint8Array) : undefined;
  }

  private async text(sql: string, params: unknown[]): Promise<string | undefined> {
    const [row] = await this.reader.rows(sql, params);
    return row ? (row[0] as string) : undefined;
  }

  async listMetadata(): Promise<MetadataRow[]> {
    const rows = await this.reader.objects<{
      tenant: string;
      kind: MetadataKind;
      name: string;
      major: number;
      minor: number;
      bytes: Uint8Array;
      deleted: number;
    }>(this.sql.listMetadata, []);
    return rows.map((r) => ({ ...r, bytes: new Uint8Array(r.bytes), deleted: r.deleted !== 0 }));
  }

  async listTenants(): Promise<Tenant[]> {
    const rows = (await this.reader.rows(this.sql.listTenants, [])) as [string, number][];
    return rows.map(([id, createdMs]) =>
      create(TenantSchema, { id: { id }, createdAt: timestampFromMs(createdMs) }),
    );
  }

  async getTaskWorkerGroup(
    tenant: string,
    taskDefName: string,
    limit: number,
  ): Promise<StoredTaskWorkerGroup | undefined> {
    const group = (await this.reader.rows(this.sql.getTaskWorkerGroup, [tenant, taskDefName])) as [number][];
    if (group.length === 0) return undefined;
    const rows = (await this.reader.rows(this.sql.listTaskWorkers, [tenant, taskDefName, limit])) as [
      string,
      number,
    ][];
    return {
      createdMs: Number(group[0]![0]),
      workers: rows.map(([workerId, heartbeatMs]) => ({ workerId, heartbeatMs: Number(heartbeatMs) })),
    };
  }

  async getScheduledWfRun(tenant: string, id: string): Promise<StoredSchedule | undefined> {
    const [row] = (await this.reader.rows(this.sql.getScheduledWfRun, [tenant, id])) as ScheduleRow[];
    return row ? storedSchedule(row) : undefined;
  }

  async listScheduledWfRuns(): Promise<StoredSchedule[]> {
    const rows = (await this.reader.rows(this.sql.listScheduledWfRuns, [])) as ScheduleRow[];
    return rows.map(storedSchedule);
  }

  async searchScheduledWfRuns(
    tenant: string,
    search: { wfSpecName: string; major?: number; revision?: number; afterId?: string; limit: number },
  ): Promise<string[]> {
    // a WfSpec's schedules are read in id order through the index; other versions' are skipped as they come
    const out: string[] = [];
    let after = search.afterId ?? "";
    for (;;) {
      const batch = Math.max(search.limit - out.length, 100);
      const rows = (await this.reader.rows(this.sql.searchScheduledWfRuns, [
        tenant,
        search.wfSpecName,
        after,
        batch,
      ])) as [string, number, number][];
      for (const [id, major, revision] of rows) {
        if (search.major !== undefined && Number(major) !== search.major) continue;
        if (search.revision !== undefined && Number(revision) !== search.revision) continue;
        out.push(id);
        if (out.length === search.limit) return out;
      }
      if (rows.length < batch) return out;
      after = rows[rows.length - 1]![0];
    }
  }

  async listPrincipals(): Promise<Principal[]> {
    const rows = (await this.reader.rows(this.sql.listPrincipals, [])) as [Uint8Array][];
    return rows.map(([b]) => fromBinary(PrincipalSchema, b));
  }

  wfSpecNameOf(tenant: string, wfRunKey: string): Promise<string | undefined> {
    return this.text(this.sql.wfSpecNameOf, [tenant, wfRunKey]);
  }

  taskDefNameOf(tenant: string, wfRunKey: string, taskGuid: string): Promise<string | undefined> {
    return this.text(this.sql.taskDefNameOf, [tenant, wfRunKey, taskGuid]);
  }

  userTaskDefNameOf(tenant: string, wfRunKey: string, guid: string): Promise<string | undefined> {
    return this.text(this.sql.userTaskDefNameOf, [tenant, wfRunKey, guid]);
  }

  async getWfRun(tenant: string, wfRunKey: string): Promise<WfRun | undefined> {
    const b = await this.bytes(this.sql.getWfRun, [tenant, wfRunKey]);
    return b ? fromBinary(WfRunSchema, b) : undefined;
  }

  async getWfRuns(tenant: string, wfRunKeys: readonly string[]): Promise<Map<string, WfRun>> {
    const rows = (await this.reader.rows(
      this.sql.getWfRuns,
      [tenant, this.reader.textList(wfRunKeys)],
      true,
    )) as [string, Uint8Array][];
    return new Map(rows.map(([key, b]) => [key, fromBinary(WfRunSchema, b)]));
  }

  async loadActiveWfRun(
    tenant: string,
    wfRunKey: string,
    read?: WfRun,
  ): Promise<ActiveWfRunRows | undefined> {
    const wfRun = read ?? (await this.getWfRun(tenant, wfRunKey));
    if (!wfRun) return undefined;
    // every variable of the WfRun: the engine needs them all (their number is bounded by the WfSpec's
    // declarations times the WfRun's threads)
    const variables = (
      (await this.reader.rows(this.sql.allVariables, [tenant, wfRunKey])) as [Uint8Array][]
    ).map(([b]) => fromBinary(VariableSchema, b));
    const nodeRuns: NodeRun[] = [];
    const taskRuns: TaskRun[] = [];
    for (const thread of wfRun.threadRuns) {
      const nodeRun = await this.getNodeRun(tenant, wfRunKey, thread.number, thread.currentNodePosition);
      if (!nodeRun) continue;
      nodeRuns.push(nodeRun);
      if (nodeRun.nodeType.case === "task" && nodeRun.nodeType.value.taskRunId) {
        const taskRun = await this.getTaskRun(tenant, wfRunKey, nodeRun.nodeType.value.taskRunId.taskGuid);
        if (taskRun) taskRuns.push(taskRun);
      }
    }
    const unclaimedEvents = (
      (await this.reader.rows(this.sql.listUnclaimedEvents, [tenant, wfRunKey])) as [Uint8Array][]
    ).map(([b]) => fromBinary(ExternalEventSchema, b));
    const userTaskRuns: UserTaskRun[] = [];
    for (const n of nodeRuns) {
      if (n.nodeType.case === "userTask" && n.nodeType.value.userTaskRunId) {
        const u = await this.getUserTaskRun(tenant, wfRunKey, n.nodeType.value.userTaskRunId.userTaskGuid);
        if (u) userTaskRuns.push(u);
      }
    }
    // user task reminders still to be run or reported belong to no current NodeRun: load them too (from the
    // WfRun's unfinished TaskRuns, read through an index: a long history of finished ones is never read)
    const loaded = new Set(taskRuns.map((t) => t.id?.taskGuid));
    for (const [b] of (await this.reader.rows(this.sql.unfinishedTaskRuns, [tenant, wfRunKey])) as [
      Uint8Array,
    ][]) {
      const t = fromBinary(TaskRunSchema, b);
      if (!loaded.has(t.id?.taskGuid) && t.source?.taskRunSource.case === "userTaskTrigger") taskRuns.push(t);
    }
    const counts = (await this.reader.rows(this.sql.countWorkflowEvents, [tenant, wfRunKey])) as [
      string,
      number | string,
    ][];
    const workflowEventCounts = new Map(counts.map(([name, n]) => [name, Number(n)]));
    return { wfRun, variables, nodeRuns, taskRuns, unclaimedEvents, userTaskRuns, workflowEventCounts };
  }

  async getNodeRun(
    tenant: string,
    wfRunKey: string,
    thread: number,
    position: number,
  ): Promise<NodeRun | undefined> {
    const b = await this.bytes(this.sql.getNodeRun, [tenant, wfRunKey, thread, position]);
    return b ? fromBinary(NodeRunSchema, b) : undefined;
  }

  async getTaskRun(tenant: string, wfRunKey: string, taskGuid: string): Promise<TaskRun | undefined> {
    const b = await this.bytes(this.sql.getTaskRun, [tenant, wfRunKey, taskGuid]);
    return b ? fromBinary(TaskRunSchema, b) : undefined;
  }

  async getVariable(
    tenant: string,
    wfRunKey: string,
    thread: number,
    name: string,
  ): Promise<Variable | undefined> {
    const b = await this.bytes(this.sql.getVariable, [tenant, wfRunKey, thread, name]);
    return b ? fromBinary(VariableSchema, b) : undefined;
  }

  async getExternalEvent(
    tenant: string,
    wfRunKey: string,
    defName: string,
    guid: string,
  ): Promise<ExternalEvent | undefined> {
    const b = await this.bytes(this.sql.getExternalEvent, [tenant, wfRunKey, defName, guid]);
    return b ? fromBinary(ExternalEventSchema, b) : undefined;
  }

  async getWorkflowEvent(
    tenant: string,
    wfRunKey: string,
    defName: string,
    number: number,
  ): Promise<WorkflowEvent | undefined> {
    const b = await this.bytes(this.sql.getWorkflowEvent, [tenant, wfRunKey, defName, number]);
    return b ? fromBinary(WorkflowEventSchema, b) : undefined;
  }

  async getUserTaskRun(tenant: string, wfRunKey: string, guid: string): Promise<UserTaskRun | undefined> {
    const b = await this.bytes(this.sql.getUserTaskRun, [tenant, wfRunKey, guid]);
    return b ? fromBinary(UserTaskRunSchema, b) : undefined;
  }

  // ---- the List RPCs: one page each (list-reads.ts) -------------------------------------------------------

  listNodeRuns(tenant: string, wfRunKey: string, page: ListPage<NodeRunPosition> & { thread?: number }) {
    return this.lists.nodeRuns(tenant, wfRunKey, page);
  }

  listTaskRuns(tenant: string, wfRunKey: string, page: ListPage<ScheduledPosition>) {
    return this.lists.taskRuns(tenant, wfRunKey, page);
  }

  listVariables(tenant: string, wfRunKey: string, page: ListPage<VariablePosition>) {
    return this.lists.variables(tenant, wfRunKey, page);
  }

  listExternalEvents(tenant: string, wfRunKey: string, page: ListPage<EventPosition>) {
    return this.lists.externalEvents(tenant, wfRunKey, page);
  }

  listEncodedWorkflowEvents(tenant: string, wfRunKey: string, page: ListPage<WorkflowEventPosition>) {
    return this.lists.encodedWorkflowEvents(tenant, wfRunKey, page);
  }

  listWorkflowEvents(
    tenant: string,
    wfRunKey: string,
    page: ListPage<WorkflowEventPosition> & { defName?: string },
  ) {
    return this.lists.workflowEvents(tenant, wfRunKey, page);
  }

  listUserTaskRuns(tenant: string, wfRunKey: string, page: ListPage<ScheduledPosition>) {
    return this.lists.userTaskRuns(tenant, wfRunKey, page);
  }

  async searchUserTaskRuns(
    tenant: string,
    search: UserTaskRunSearch,
  ): Promise<{ run: UserTaskRun; position: UserTaskRunPosition }[]> {
    const where = ["tenant = ?"];
    const args: unknown[] = [tenant];
    const eq = (column: string, value: unknown) => {
      if (value === undefined) return;
      where.push(`${column} = ?`);
      args.push(value);
    };
    eq("user_id", search.userId);
    eq("user_group", search.userGroup);
    eq("def_name", search.defName);
    eq("status", search.status);
    // A bookmark and a lower time bound are both lower bounds: keep the higher one only, so the index seek
    // uses it (SQLite would seek by the time bound and skip the earlier pages row by row).
    let after = search.after;
    let earliestMs = search.earliestMs;
    if (after && earliestMs !== undefined) {
      if (earliestMs > after.scheduledMs) after = undefined;
      else earliestMs = undefined;
    }
    if (earliestMs !== undefined) {
      where.push("scheduled_ms >= ?");
      args.push(earliestMs);
    }
    if (search.latestMs !== undefined) {
      where.push("scheduled_ms <= ?");
      args.push(search.latestMs);
    }
    if (after) {
      where.push("(scheduled_ms, wf_run_key, guid) > (?, ?, ?)");
      args.push(after.scheduledMs, after.wfRunKey, after.guid);
    }
    // The index of the most selective criterion (user, group, def, status; with the status when given): the
    // planner alone would rather take a time range over an equality and scan every run in that range.
    const lead =
      search.userId !== undefined
        ? "user"
        : search.userGroup !== undefined
          ? "group"
          : search.defName !== undefined
            ? "def"
            : undefined;
    const index =
      lead === undefined
        ? search.status === undefined
          ? "user_task_runs_by_time"
          : "user_task_runs_by_status"
        : `user_task_runs_by_${lead}${search.status === undefined ? "" : "_status"}`;
    const sql =
      `SELECT wf_run_key, guid, scheduled_ms, bytes FROM ${this.reader.from("user_task_runs", index)} ` +
      `WHERE ${where.join(" AND ")} ORDER BY scheduled_ms, wf_run_key, guid LIMIT ?`;
    const rows = (await this.reader.rows(sql, [...args, search.limit])) as [
      string,
      string,
      number,
      Uint8Array,
    ][];
    return rows.map(([wfRunKey, guid, scheduledMs, bytes]) => ({
      run: fromBinary(UserTaskRunSchema, bytes),
      position: { scheduledMs, wfRunKey, guid },
    }));
  }

  async loadTaskQueue(parts: readonly number[]): Promise<QueuedTask[]> {
    const out: QueuedTask[] = [];
    for (const part of parts) {
      const rows = (await this.reader.rows(this.queueOfPart, [part])) as [
        string,
        string,
        string,
        string,
        number,
      ][];
      for (const [tenant, taskDefName, wfRunKey, taskGuid, attemptNumber] of rows)
        out.push({ part, tenant, taskDefName, wfRunKey, taskGuid, attemptNumber });
    }
    return out;
  }

  async loadTimers(parts: readonly number[]): Promise<StoredTimer[]> {
    const out: StoredTimer[] = [];
    for (const part of parts) {
      const rows = (await this.reader.rows(this.timersOfPart, [part])) as [
        string,
        string,
        string,
        number,
        string,
      ][];
      for (const [tenant, wfRunKey, key, dueMs, command] of rows)
        out.push({ part, tenant, wfRunKey, key, dueMs, command: JSON.parse(command) as TimerCommand });
    }
    return out;
  }

  // ---- partitions and servers (ClusterStore) --------------------------------------------------------------

  async initPartitions(count: number): Promise<number> {
    if (!Number.isInteger(count) || count < 1)
      throw new Error(`the partition count must be ≥ 1, not ${count}`);
    await this.reader.write([
      [
        `INSERT INTO cluster_settings (name, value) VALUES ('partitions', ?) ON CONFLICT (name) DO NOTHING`,
        [count],
      ],
    ]);
    const [row] = await this.reader.rows(this.sql.partitionsSetting, []);
    const n = Number(row![0]);
    const have = new Set((await this.listPartitions()).map((p) => p.part));
    const missing: WriteStatement[] = [];
    for (let part = 0; part < n; part++) {
      if (!have.has(part))
        missing.push([`INSERT INTO partitions (part) VALUES (?) ON CONFLICT (part) DO NOTHING`, [part]]);
    }
    if (missing.length > 0) await this.reader.write(missing);
    // queued tasks and timers stored before partitions existed (SQLite migration 9) get their partition
    for (const table of ["task_queue", "timers"]) {
      const keyColumn = table === "task_queue" ? "seq" : "key";
      const rows = (await this.reader.rows(
        `SELECT tenant, wf_run_key, ${keyColumn} FROM ${table} WHERE part < 0`,
        [],
      )) as [string, string, unknown][];
      const updates = rows.map(([tenant, wfRunKey, k]): WriteStatement => [
        `UPDATE ${table} SET part = ? WHERE tenant = ? AND wf_run_key = ? AND ${keyColumn} = ?`,
        [partitionOf(tenant, wfRunKey, n), tenant, wfRunKey, k],
      ]);
      if (updates.length > 0) await this.reader.write(updates);
    }
    return n;
  }

  async acquirePartition(part: number, owner: string, leaseMs: number): Promise<number | undefined> {
    const [{ rows }] = (await this.reader.write([
      [this.sql.acquirePartition, [owner, leaseMs, part, owner]],
    ])) as [WriteResult];
    return rows.length === 0 ? undefined : Number(rows[0]![0]);
  }

  async renewPartitions(
    owner: string,
    epochs: ReadonlyMap<number, number>,
    leaseMs: number,
  ): Promise<number[]> {
    // every lease in one transaction (one fsync)
    const parts = [...epochs.keys()];
    if (parts.length === 0) return [];
    const results = await this.reader.write(
      [...epochs].map(([part, epoch]): WriteStatement => [
        this.sql.renewPartition,
        [leaseMs, part, owner, epoch],
      ]),
    );
    return parts.filter((_, i) => results[i]!.changes === 1);
  }

  async releasePartitions(owner: string, epochs: ReadonlyMap<number, number>): Promise<void> {
    if (epochs.size === 0) return;
    await this.reader.write(
      [...epochs].map(([part, epoch]): WriteStatement => [this.sql.releasePartition, [part, owner, epoch]]),
    );
  }

  async listPartitions(): Promise<PartitionLease[]> {
    const rows = (await this.reader.rows(this.sql.listPartitions, [])) as [number, string, number, number][];
    return rows.map(([part, owner, epoch, left]) => ({
      part,
      owner,
      epoch: Number(epoch),
      leaseLeftMs: Number(left),
    }));
  }

  async putServer(s: { id: string; address: string; internalAddress: string; stopping: boolean }) {
    await this.reader.write([[this.sql.putServer, [s.id, s.address, s.internalAddress, s.stopping ? 1 : 0]]]);
  }

  async deleteServer(id: string): Promise<void> {
    await this.reader.write([[this.sql.deleteServer, [id]]]);
  }

  async listServers(): Promise<ServerRow[]> {
    const rows = (await this.reader.rows(this.sql.listServers, [])) as [
      string,
      string,
      string,
      number,
      number,
    ][];
    return rows.map(([id, address, internalAddress, age, stopping]) => ({
      id,
      address,
      internalAddress,
      heartbeatAgeMs: Number(age),
      stopping: stopping !== 0,
    }));
  }

  async metadataVersion(): Promise<number> {
    const [row] = await this.reader.rows(this.sql.metadataVersion, []);
    return Number(row?.[0] ?? 0);
  }

  // ---- search and metrics (B-SRCH-1…5): search-reads.ts, metrics-reads.ts ----------------------------------

  searchWfRuns(q: WfRunQuery): Promise<WfRunHit[]> {
    return this.search.wfRuns(q);
  }

  searchVariables(q: VariableQuery): Promise<VariableHit[]> {
    return this.search.variables(q);
  }

  searchNodeRuns(q: NodeRunQuery): Promise<NodeRunHit[]> {
    return this.search.nodeRuns(q);
  }

  searchTaskRuns(q: TaskRunQuery): Promise<TaskRunHit[]> {
    return this.search.taskRuns(q);
  }

  searchExternalEvents(q: ExternalEventQuery): Promise<ExternalEventHit[]> {
    return this.search.externalEvents(q);
  }

  searchWorkflowEvents(q: WorkflowEventQuery): Promise<WorkflowEventHit[]> {
    return this.search.workflowEvents(q);
  }

  metricsWindows(q: MetricsQuery): Promise<MetricsWindowRow[]> {
    return this.metrics.windows(q);
  }
}
