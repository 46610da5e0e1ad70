import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  PrincipalSchema,
  TenantSchema,
  type Principal,
  type Tenant,
  ExternalEventSchema,
  UserTaskRunSchema,
  WorkflowEventSchema,
  type ExternalEvent,
  type UserTaskRun,
  NodeRunSchema,
  TaskRunSchema,
  TaskStatus,
  VariableSchema,
  WfRunSchema,
  type NodeRun,
  type TaskRun,
  type Variable,
  type WfRun,
} from "@pony/proto";
import type { TimerCommand } from "@pony/engine";
import { SQLITE_MIGRATIONS } from "./sqlite-migrations";
import { SqliteCommitter, type Statement } from "./sqlite-committer";
import { DELETE_VARIABLE_INDEX_OF_RUN, SqliteSearchReads, encodeVariableIndex } from "./sqlite-search";
import { SqliteMetricsReads, encodeMetrics } from "./sqlite-metrics";
import { SqliteListReads } from "./sqlite-lists";
import type { MetricsQuery, MetricsWindowRow } from "./metrics-types";
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
} from "./search-types";
import type {
  EventPosition,
  ListPage,
  NodeRunPosition,
  ScheduledPosition,
  VariablePosition,
  WorkflowEventPosition,
  ActiveWfRunRows,
  MetadataKind,
  MetadataRow,
  QueuedTask,
  Store,
  StoredTimer,
  UserTaskRunPosition,
  UserTaskRunSearch,
  WriteOp,
} from "./store";

const SQL = {
  putExternalEvent: `INSERT INTO external_events (tenant, wf_run_key, def_name, guid, created_ms, claimed, bytes, created_sub) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (tenant, wf_run_key, def_name, guid) DO UPDATE SET claimed = excluded.claimed, bytes = excluded.bytes`,
  deleteExternalEvent: `DELETE FROM external_events WHERE tenant = ? AND wf_run_key = ? AND def_name = ? AND guid = ?`,
  getExternalEvent: `SELECT bytes FROM external_events WHERE tenant = ? AND wf_run_key = ? AND def_name = ? AND guid = ?`,
  listUnclaimedEvents: `SELECT bytes FROM external_events WHERE tenant = ? AND wf_run_key = ? AND claimed = 0 ORDER BY created_ms, guid`,
  putWorkflowEvent: `INSERT OR REPLACE INTO workflow_events (tenant, wf_run_key, def_name, number, created_ms, bytes) VALUES (?, ?, ?, ?, ?, ?)`,
  countWorkflowEvents: `SELECT def_name, COUNT(*) AS n FROM workflow_events WHERE tenant = ? AND wf_run_key = ? GROUP BY def_name`,
  putUserTaskRun: `INSERT INTO user_task_runs (tenant, wf_run_key, guid, def_name, status, user_id, user_group, scheduled_ms, bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (tenant, wf_run_key, guid) DO UPDATE SET status = excluded.status, user_id = excluded.user_id, user_group = excluded.user_group, bytes = excluded.bytes`,
  getUserTaskRun: `SELECT bytes FROM user_task_runs WHERE tenant = ? AND wf_run_key = ? AND guid = ?`,
  // TASK_SCHEDULED, TASK_RUNNING, TASK_PENDING: every status a TaskRun has before it ends
  unfinishedTaskRuns: `SELECT bytes FROM task_runs INDEXED BY task_runs_by_run_status
         WHERE tenant = ? AND wf_run_key = ? AND status IN (${TaskStatus.TASK_SCHEDULED}, ${TaskStatus.TASK_RUNNING}, ${TaskStatus.TASK_PENDING})`,
  deleteExternalEventsOfRun: `DELETE FROM external_events WHERE tenant = ? AND wf_run_key = ?`,
  deleteWorkflowEventsOfRun: `DELETE FROM workflow_events WHERE tenant = ? AND wf_run_key = ?`,
  deleteUserTaskRunsOfRun: `DELETE FROM user_task_runs WHERE tenant = ? AND wf_run_key = ?`,
  putMetadata: `INSERT INTO metadata (tenant, kind, name, major, minor, bytes, deleted) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (tenant, kind, name, major, minor) DO UPDATE SET bytes = excluded.bytes, deleted = excluded.deleted`,
  deleteMetadata: `DELETE FROM metadata WHERE tenant = ? AND kind = ? AND name = ? AND major = ? AND minor = ?`,
  listMetadata: `SELECT tenant, kind, name, major, minor, bytes, deleted FROM metadata`,
  putWfRun: `INSERT INTO wf_runs (tenant, wf_run_key, wf_spec_name, wf_spec_major, wf_spec_revision, status, start_ms, end_ms, bytes)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (tenant, wf_run_key) DO UPDATE SET status = excluded.status, end_ms = excluded.end_ms, bytes = excluded.bytes`,
  getWfRun: `SELECT bytes FROM wf_runs WHERE tenant = ? AND wf_run_key = ?`,
  wfSpecNameOf: `SELECT wf_spec_name FROM wf_runs WHERE tenant = ? AND wf_run_key = ?`,
  taskDefNameOf: `SELECT task_def_name FROM task_runs WHERE tenant = ? AND wf_run_key = ? AND task_guid = ?`,
  userTaskDefNameOf: `SELECT def_name FROM user_task_runs WHERE tenant = ? AND wf_run_key = ? AND guid = ?`,
  putNodeRun: `INSERT INTO node_runs (tenant, wf_run_key, thread, position, status, arrival_ms, bytes, node_type) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (tenant, wf_run_key, thread, position) DO UPDATE SET status = excluded.status, bytes = excluded.bytes`,
  getNodeRun: `SELECT bytes FROM node_runs WHERE tenant = ? AND wf_run_key = ? AND thread = ? AND position = ?`,
  putTaskRun: `INSERT INTO task_runs (tenant, wf_run_key, task_guid, task_def_name, status, scheduled_ms, bytes) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (tenant, wf_run_key, task_guid) DO UPDATE SET status = excluded.status, bytes = excluded.bytes`,
  getTaskRun: `SELECT bytes FROM task_runs WHERE tenant = ? AND wf_run_key = ? AND task_guid = ?`,
  putVariable: `INSERT INTO variables (tenant, wf_run_key, thread, name, bytes) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (tenant, wf_run_key, thread, name) DO UPDATE SET bytes = excluded.bytes`,
  getVariable: `SELECT bytes FROM variables WHERE tenant = ? AND wf_run_key = ? AND thread = ? AND name = ?`,
  allVariables: `SELECT bytes FROM variables WHERE tenant = ? AND wf_run_key = ? ORDER BY thread, name`,
  deleteWfRun: `DELETE FROM wf_runs WHERE tenant = ? AND wf_run_key = ?`,
  deleteNodeRuns: `DELETE FROM node_runs WHERE tenant = ? AND wf_run_key = ?`,
  deleteTaskRuns: `DELETE FROM task_runs WHERE tenant = ? AND wf_run_key = ?`,
  deleteVariables: `DELETE FROM variables WHERE tenant = ? AND wf_run_key = ?`,
  deleteQueueOfRun: `DELETE FROM task_queue WHERE tenant = ? AND wf_run_key = ?`,
  deleteTimersOfRun: `DELETE FROM timers WHERE tenant = ? AND wf_run_key = ?`,
  enqueue: `INSERT OR IGNORE INTO task_queue (tenant, task_def_name, wf_run_key, task_guid, attempt) VALUES (?, ?, ?, ?, ?)`,
  dequeue: `DELETE FROM task_queue WHERE tenant = ? AND wf_run_key = ? AND task_guid = ? AND attempt = ?`,
  loadQueue: `SELECT tenant, task_def_name, wf_run_key, task_guid, attempt FROM task_queue ORDER BY seq`,
  putTimer: `INSERT INTO timers (tenant, wf_run_key, key, due_ms, command) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (tenant, wf_run_key, key) DO UPDATE SET due_ms = excluded.due_ms, command = excluded.command`,
  deleteTimer: `DELETE FROM timers WHERE tenant = ? AND wf_run_key = ? AND key = ?`,
  loadTimers: `SELECT tenant, wf_run_key, key, due_ms, command FROM timers`,
  putTenant: `INSERT INTO tenants (id, created_ms) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET created_ms = excluded.created_ms`,
  listTenants: `SELECT id, created_ms FROM tenants ORDER BY id`,
  putPrincipal: `INSERT INTO principals (id, created_ms, bytes) VALUES (?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET bytes = excluded.bytes`,
  deletePrincipal: `DELETE FROM principals WHERE id = ?`,
  listPrincipals: `SELECT bytes FROM principals ORDER BY id`,
} as const;

const ms = (t: { seconds: bigint; nanos: number } | undefined): number | null =>
  t ? Number(t.seconds) * 1000 + Math.floor(t.nanos / 1e6) : null;

/**
 * The embedded store: one SQLite file in WAL mode with synchronous=FULL, so a committed batch survives a
 * crash of the process or the machine. better-sqlite3 is synchronous; a whole batch is one transaction and
 * one fsync.
 */
export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly reads;
  private readonly writer: SqliteCommitter;
  private readonly search: SqliteSearchReads;
  private readonly lists: SqliteListReads;
  private readonly metrics: SqliteMetricsReads;
  /** prepared SearchUserTaskRun statements, one per combination of criteria */
  private readonly searches = new Map<string, Database.Statement>();

  constructor(dataDir: string) {
    fs.mkdirSync(dataDir, { recursive: true });
    const file = path.join(dataDir, "pony.db");
    this.db = new Database(file);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = FULL");
    this.db.pragma("foreign_keys = OFF");
    this.migrate();
    const db = this.db;
    this.reads = {
      listMetadata: db.prepare(SQL.listMetadata),
      listTenants: db.prepare(SQL.listTenants),
      listPrincipals: db.prepare(SQL.listPrincipals),
      getWfRun: db.prepare(SQL.getWfRun),
      wfSpecNameOf: db.prepare(SQL.wfSpecNameOf).pluck(),
      taskDefNameOf: db.prepare(SQL.taskDefNameOf).pluck(),
      userTaskDefNameOf: db.prepare(SQL.userTaskDefNameOf).pluck(),
      getNodeRun: db.prepare(SQL.getNodeRun),
      getTaskRun: db.prepare(SQL.getTaskRun),
      getVariable: db.prepare(SQL.getVariable),
      allVariables: db.prepare(SQL.allVariables),
      loadQueue: db.prepare(SQL.loadQueue),
      loadTimers: db.prepare(SQL.loadTimers),
      getExternalEvent: db.prepare(SQL.getExternalEvent),
      listUnclaimedEvents: db.prepare(SQL.listUnclaimedEvents),
      countWorkflowEvents: db.prepare(SQL.countWorkflowEvents),
      getUserTaskRun: db.prepare(SQL.getUserTaskRun),
      unfinishedTaskRuns: db.prepare(SQL.unfinishedTaskRuns).pluck(),
    };
    this.search = new SqliteSearchReads(db);
    this.lists = new SqliteListReads(db);
    this.metrics = new SqliteMetricsReads(db);
    this.writer = new SqliteCommitter(db, file);
  }

  private migrate(): void {
    this.db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)`);
    const done = new Set(
      (this.db.prepare(`SELECT version FROM schema_migrations`).all() as { version: number }[]).map(
        (r) => r.version,
      ),
    );
    for (const m of SQLITE_MIGRATIONS) {
      if (done.has(m.version)) continue;
      this.db.transaction(() => {
        this.db.exec(m.sql);
        this.db.prepare(`INSERT INTO schema_migrations (version) VALUES (?)`).run(m.version);
      })();
    }
  }

  /** The statements that carry out one write, for the writer thread. */
  private encode(op: WriteOp, out: Statement[]): void {
    switch (op.op) {
      case "putMetadata": {
        const r = op.row;
        out.push([SQL.putMetadata, [r.tenant, r.kind, r.name, r.major, r.minor, r.bytes, r.deleted ? 1 : 0]]);
        return;
      }
      case "deleteMetadata":
        out.push([SQL.deleteMetadata, [op.tenant, op.kind, op.name, op.major, op.minor]]);
        return;
      case "putWfRun": {
        const w = op.wfRun;
        out.push([
          SQL.putWfRun,
          [
            op.tenant,
            op.wfRunKey,
            w.wfSpecId?.name ?? "",
            w.wfSpecId?.majorVersion ?? 0,
            w.wfSpecId?.revision ?? 0,
            w.status,
            ms(w.startTime),
            ms(w.endTime),
            toBinary(WfRunSchema, w),
          ],
        ]);
        return;
      }
      case "putNodeRun": {
        const n = op.nodeRun;
        out.push([
          SQL.putNodeRun,
          [
            op.tenant,
            op.wfRunKey,
            n.id!.threadRunNumber,
            n.id!.position,
            n.status,
            ms(n.arrivalTime),
            toBinary(NodeRunSchema, n),
            n.nodeType.case ?? null,
          ],
        ]);
        return;
      }
      case "putTaskRun": {
        const t = op.taskRun;
        out.push([
          SQL.putTaskRun,
          [
            op.tenant,
            op.wfRunKey,
            t.id!.taskGuid,
            t.taskDefId?.name ?? "",
            t.status,
            ms(t.scheduledAt) ?? 0,
            toBinary(TaskRunSchema, t),
          ],
        ]);
        return;
      }
      case "putVariable": {
        const v = op.variable;
        out.push([
          SQL.putVariable,
          [op.tenant, op.wfRunKey, v.id!.threadRunNumber, v.id!.name, toBinary(VariableSchema, v)],
        ]);
        if (op.index)
          encodeVariableIndex(op.tenant, op.wfRunKey, v.id!.threadRunNumber, v.id!.name, op.index, out);
        return;
      }
      case "putExternalEvent": {
        const e = op.event;
        out.push([
          SQL.putExternalEvent,
          [
            op.tenant,
            op.wfRunKey,
            e.id!.externalEventDefId!.name,
            e.id!.guid,
            ms(e.createdAt) ?? 0,
            e.claimed ? 1 : 0,
            toBinary(ExternalEventSchema, e),
            // events posted in one millisecond are numbered in its sub-millisecond nanos (api/events.ts)
            (e.createdAt?.nanos ?? 0) % 1_000_000,
          ],
        ]);
        return;
      }
      case "deleteExternalEvent":
        out.push([SQL.deleteExternalEvent, [op.tenant, op.wfRunKey, op.defName, op.guid]]);
        return;
      case "putWorkflowEvent": {
        const e = op.event;
        out.push([
          SQL.putWorkflowEvent,
          [
            op.tenant,
            op.wfRunKey,
            e.id!.workflowEventDefId!.name,
            e.id!.number,
            ms(e.createdAt) ?? 0,
            toBinary(WorkflowEventSchema, e),
          ],
        ]);
        return;
      }
      case "putUserTaskRun": {
        const u = op.userTaskRun;
        out.push([
          SQL.putUserTaskRun,
          [
            op.tenant,
            op.wfRunKey,
            u.id!.userTaskGuid,
            u.userTaskDefId?.name ?? "",
            u.status,
            u.userId ?? null,
            u.userGroup ?? null,
            ms(u.scheduledTime) ?? 0,
            toBinary(UserTaskRunSchema, u),
          ],
        ]);
        return;
      }
      case "deleteWfRun":
        for (const sql of [
          SQL.deleteWfRun,
          SQL.deleteNodeRuns,
          SQL.deleteTaskRuns,
          SQL.deleteVariables,
          SQL.deleteQueueOfRun,
          SQL.deleteTimersOfRun,
          SQL.deleteExternalEventsOfRun,
          SQL.deleteWorkflowEventsOfRun,
          SQL.deleteUserTaskRunsOfRun,
          DELETE_VARIABLE_INDEX_OF_RUN,
        ]) {
          out.push([sql, [op.tenant, op.wfRunKey]]);
        }
        return;
      case "enqueueTask": {
        const t = op.task;
        out.push([SQL.enqueue, [t.tenant, t.taskDefName, t.wfRunKey, t.taskGuid, t.attemptNumber]]);
        return;
      }
      case "dequeueTask":
        out.push([SQL.dequeue, [op.tenant, op.wfRunKey, op.taskGuid, op.attemptNumber]]);
        return;
      case "putTimer": {
        const t = op.timer;
        out.push([SQL.putTimer, [t.tenant, t.wfRunKey, t.key, t.dueMs, JSON.stringify(t.command)]]);
        return;
      }
      case "deleteTimer":
        out.push([SQL.deleteTimer, [op.tenant, op.wfRunKey, op.key]]);
        return;
      case "putTenant":
        out.push([SQL.putTenant, [op.tenant.id!.id, ms(op.tenant.createdAt) ?? 0]]);
        return;
      case "putPrincipal":
        out.push([
          SQL.putPrincipal,
          [op.principal.id!.id, ms(op.principal.createdAt) ?? 0, toBinary(PrincipalSchema, op.principal)],
        ]);
        return;
      case "deletePrincipal":
        out.push([SQL.deletePrincipal, [op.id]]);
        return;
      case "addMetrics":
        return; // summed over the whole batch in commit
    }
  }

  commit(ops: WriteOp[]): Promise<void> {
    if (ops.length === 0) return this.writer.flushed();
    const statements: Statement[] = [];
    try {
      for (const op of ops) this.encode(op, statements);
      encodeMetrics(
        ops.flatMap((op) => (op.op === "addMetrics" ? op.deltas : [])),
        statements,
      );
    } catch (e) {
      return this.writer.refuse(e);
    }
    return this.writer.commit(statements);
  }

  flushed(): Promise<void> {
    return this.writer.flushed();
  }

  resetAfterFailure(): Promise<void> {
    return this.writer.reset();
  }

  async listMetadata(): Promise<MetadataRow[]> {
    const rows = this.reads.listMetadata.all() as {
      tenant: string;
      kind: MetadataKind;
      name: string;
      major: number;
      minor: number;
      bytes: Buffer;
      deleted: number;
    }[];
    return rows.map((r) => ({ ...r, bytes: new Uint8Array(r.bytes), deleted: r.deleted !== 0 }));
  }

  async listTenants(): Promise<Tenant[]> {
    const rows = this.reads.listTenants.all() as { id: string; created_ms: number }[];
    return rows.map((r) =>
      create(TenantSchema, { id: { id: r.id }, createdAt: timestampFromMs(r.created_ms) }),
    );
  }

  async listPrincipals(): Promise<Principal[]> {
    const rows = this.reads.listPrincipals.all() as { bytes: Buffer }[];
    return rows.map((r) => fromBinary(PrincipalSchema, r.bytes));
  }

  async wfSpecNameOf(tenant: string, wfRunKey: string): Promise<string | undefined> {
    return this.reads.wfSpecNameOf.get(tenant, wfRunKey) as string | undefined;
  }

  async taskDefNameOf(tenant: string, wfRunKey: string, taskGuid: string): Promise<string | undefined> {
    return this.reads.taskDefNameOf.get(tenant, wfRunKey, taskGuid) as string | undefined;
  }

  async userTaskDefNameOf(tenant: string, wfRunKey: string, guid: string): Promise<string | undefined> {
    return this.reads.userTaskDefNameOf.get(tenant, wfRunKey, guid) as string | undefined;
  }

  async getWfRun(tenant: string, wfRunKey: string): Promise<WfRun | undefined> {
    const row = this.reads.getWfRun.get(tenant, wfRunKey) as { bytes: Buffer } | undefined;
    return row ? fromBinary(WfRunSchema, row.bytes) : undefined;
  }

  async loadActiveWfRun(tenant: string, wfRunKey: string): Promise<ActiveWfRunRows | undefined> {
    const wfRun = await this.getWfRun(tenant, wfRunKey);
    if (!wfRun) return undefined;
    // every variable of the WfRun: the engine needs them all (their number is bounded by the WfSpec's
    // declarations times the WfRun's threads)
    const variables = (this.reads.allVariables.all(tenant, wfRunKey) as { bytes: Buffer }[]).map((r) =>
      fromBinary(VariableSchema, r.bytes),
    );
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
    const unclaimedEvents = (this.reads.listUnclaimedEvents.all(tenant, wfRunKey) as { bytes: Buffer }[]).map(
      (r) => fromBinary(ExternalEventSchema, r.bytes),
    );
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
    for (const bytes of this.reads.unfinishedTaskRuns.all(tenant, wfRunKey) as Buffer[]) {
      const t = fromBinary(TaskRunSchema, bytes);
      if (!loaded.has(t.id?.taskGuid) && t.source?.taskRunSource.case === "userTaskTrigger") taskRuns.push(t);
    }
    const workflowEventCounts = new Map(
      (this.reads.countWorkflowEvents.all(tenant, wfRunKey) as { def_name: string; n: number }[]).map((r) => [
        r.def_name,
        r.n,
      ]),
    );
    return { wfRun, variables, nodeRuns, taskRuns, unclaimedEvents, userTaskRuns, workflowEventCounts };
  }

  async getNodeRun(
    tenant: string,
    wfRunKey: string,
    thread: number,
    position: number,
  ): Promise<NodeRun | undefined> {
    const row = this.reads.getNodeRun.get(tenant, wfRunKey, thread, position) as
      { bytes: Buffer } | undefined;
    return row ? fromBinary(NodeRunSchema, row.bytes) : undefined;
  }

  async getTaskRun(tenant: string, wfRunKey: string, taskGuid: string): Promise<TaskRun | undefined> {
    const row = this.reads.getTaskRun.get(tenant, wfRunKey, taskGuid) as { bytes: Buffer } | undefined;
    return row ? fromBinary(TaskRunSchema, row.bytes) : undefined;
  }

  async getVariable(
    tenant: string,
    wfRunKey: string,
    thread: number,
    name: string,
  ): Promise<Variable | undefined> {
    const row = this.reads.getVariable.get(tenant, wfRunKey, thread, name) as { bytes: Buffer } | undefined;
    return row ? fromBinary(VariableSchema, row.bytes) : undefined;
  }

  async getExternalEvent(
    tenant: string,
    wfRunKey: string,
    defName: string,
    guid: string,
  ): Promise<ExternalEvent | undefined> {
    const row = this.reads.getExternalEvent.get(tenant, wfRunKey, defName, guid) as
      { bytes: Buffer } | undefined;
    return row ? fromBinary(ExternalEventSchema, row.bytes) : undefined;
  }

  async getUserTaskRun(tenant: string, wfRunKey: string, guid: string): Promise<UserTaskRun | undefined> {
    const row = this.reads.getUserTaskRun.get(tenant, wfRunKey, guid) as { bytes: Buffer } | undefined;
    return row ? fromBinary(UserTaskRunSchema, row.bytes) : undefined;
  }

  // ---- the List RPCs: one page each (sqlite-lists.ts) -----------------------------------------------------

  async listNodeRuns(
    tenant: string,
    wfRunKey: string,
    page: ListPage<NodeRunPosition> & { thread?: number },
  ) {
    return this.lists.nodeRuns(tenant, wfRunKey, page);
  }

  async listTaskRuns(tenant: string, wfRunKey: string, page: ListPage<ScheduledPosition>) {
    return this.lists.taskRuns(tenant, wfRunKey, page);
  }

  async listVariables(tenant: string, wfRunKey: string, page: ListPage<VariablePosition>) {
    return this.lists.variables(tenant, wfRunKey, page);
  }

  async listExternalEvents(tenant: string, wfRunKey: string, page: ListPage<EventPosition>) {
    return this.lists.externalEvents(tenant, wfRunKey, page);
  }

  async listWorkflowEvents(
    tenant: string,
    wfRunKey: string,
    page: ListPage<WorkflowEventPosition> & { defName?: string },
  ) {
    return this.lists.workflowEvents(tenant, wfRunKey, page);
  }

  async listUserTaskRuns(tenant: string, wfRunKey: string, page: ListPage<ScheduledPosition>) {
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
      `SELECT wf_run_key, guid, scheduled_ms, bytes FROM user_task_runs INDEXED BY ${index} ` +
      `WHERE ${where.join(" AND ")} ORDER BY scheduled_ms, wf_run_key, guid LIMIT ?`;
    let stmt = this.searches.get(sql);
    if (!stmt) this.searches.set(sql, (stmt = this.db.prepare(sql)));
    const rows = stmt.all(...args, search.limit) as {
      wf_run_key: string;
      guid: string;
      scheduled_ms: number;
      bytes: Buffer;
    }[];
    return rows.map((r) => ({
      run: fromBinary(UserTaskRunSchema, r.bytes),
      position: { scheduledMs: r.scheduled_ms, wfRunKey: r.wf_run_key, guid: r.guid },
    }));
  }

  async loadTaskQueue(): Promise<QueuedTask[]> {
    const rows = this.reads.loadQueue.all() as {
      tenant: string;
      task_def_name: string;
      wf_run_key: string;
      task_guid: string;
      attempt: number;
    }[];
    return rows.map((r) => ({
      tenant: r.tenant,
      taskDefName: r.task_def_name,
      wfRunKey: r.wf_run_key,
      taskGuid: r.task_guid,
      attemptNumber: r.attempt,
    }));
  }

  async loadTimers(): Promise<StoredTimer[]> {
    const rows = this.reads.loadTimers.all() as {
      tenant: string;
      wf_run_key: string;
      key: string;
      due_ms: number;
      command: string;
    }[];
    return rows.map((r) => ({
      tenant: r.tenant,
      wfRunKey: r.wf_run_key,
      key: r.key,
      dueMs: r.due_ms,
      command: JSON.parse(r.command) as TimerCommand,
    }));
  }

  // ---- search and metrics (B-SRCH-1…5): sqlite-search.ts, sqlite-metrics.ts ----------------------------------

  async searchWfRuns(q: WfRunQuery): Promise<WfRunHit[]> {
    return this.search.wfRuns(q);
  }

  async searchVariables(q: VariableQuery): Promise<VariableHit[]> {
    return this.search.variables(q);
  }

  async searchNodeRuns(q: NodeRunQuery): Promise<NodeRunHit[]> {
    return this.search.nodeRuns(q);
  }

  async searchTaskRuns(q: TaskRunQuery): Promise<TaskRunHit[]> {
    return this.search.taskRuns(q);
  }

  async searchExternalEvents(q: ExternalEventQuery): Promise<ExternalEventHit[]> {
    return this.search.externalEvents(q);
  }

  async metricsWindows(q: MetricsQuery): Promise<MetricsWindowRow[]> {
    return this.metrics.windows(q);
  }

  async close(): Promise<void> {
    await this.writer.close();
    this.db.close();
  }
}
