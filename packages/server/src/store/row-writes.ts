/**
 * What each WriteOp does to the tables, independent of the SQL dialect: the rows it puts or deletes. The
 * SQLite store turns each row write into one statement (sqlite.ts); the PostgreSQL store keeps the last
 * write of each row in a batch and writes each table with one bulk statement (pg-writes.ts).
 */
import {
  ExternalEventSchema,
  NodeRunSchema,
  PrincipalSchema,
  ScheduledWfRunSchema,
  TaskRunSchema,
  UserTaskRunSchema,
  VariableSchema,
  WfRunSchema,
  WorkflowEventSchema,
} from "@pony/proto";
import type { MetricsDelta } from "./metrics-types";
import type { WfRunRef, WriteOp } from "./store";
import { tenantKey } from "../runtime/tenant-keys";
import { encodeMessage } from "../protobuf/to-binary";

export type ColumnType = "text" | "int" | "bigint" | "bytea";

/** A table as the writes see it: its columns (with types), its key, and what an upsert of an existing row does. */
export interface TableSpec {
  name: string;
  columns: readonly (readonly [string, ColumnType])[];
  /** the columns of the primary key (or unique key the upsert conflicts on), a prefix of `columns` order-free */
  key: readonly string[];
  /** columns an existing row takes from the new one; empty: an existing row is kept as it is */
  update: readonly string[];
  /** it holds rows of WfRuns (tenant, wf_run_key columns), deleted with the WfRun */
  ofWfRun: boolean;
}

const T = (
  name: string,
  columns: [string, ColumnType][],
  key: string[],
  update: string[],
  ofWfRun = true,
): TableSpec => ({ name, columns, key, update, ofWfRun });

export const TABLES = {
  metadata: T(
    "metadata",
    [
      ["tenant", "text"],
      ["kind", "text"],
      ["name", "text"],
      ["major", "int"],
      ["minor", "int"],
      ["bytes", "bytea"],
      ["deleted", "int"],
    ],
    ["tenant", "kind", "name", "major", "minor"],
    ["bytes", "deleted"],
    false,
  ),
  wfRuns: T(
    "wf_runs",
    [
      ["tenant", "text"],
      ["wf_run_key", "text"],
      ["wf_spec_name", "text"],
      ["wf_spec_major", "int"],
      ["wf_spec_revision", "int"],
      ["status", "int"],
      ["start_ms", "bigint"],
      ["end_ms", "bigint"],
      ["bytes", "bytea"],
    ],
    ["tenant", "wf_run_key"],
    // a migrated WfRun (MigrateWfSpec) is searched under its new version
    ["wf_spec_major", "wf_spec_revision", "status", "end_ms", "bytes"],
  ),
  nodeRuns: T(
    "node_runs",
    [
      ["tenant", "text"],
      ["wf_run_key", "text"],
      ["thread", "int"],
      ["position", "int"],
      ["status", "int"],
      ["arrival_ms", "bigint"],
      ["bytes", "bytea"],
      ["node_type", "text"],
    ],
    ["tenant", "wf_run_key", "thread", "position"],
    ["status", "bytes"],
  ),
  taskRuns: T(
    "task_runs",
    [
      ["tenant", "text"],
      ["wf_run_key", "text"],
      ["task_guid", "text"],
      ["task_def_name", "text"],
      ["status", "int"],
      ["scheduled_ms", "bigint"],
      ["bytes", "bytea"],
    ],
    ["tenant", "wf_run_key", "task_guid"],
    ["status", "bytes"],
  ),
  variables: T(
    "variables",
    [
      ["tenant", "text"],
      ["wf_run_key", "text"],
      ["thread", "int"],
      ["name", "text"],
      ["bytes", "bytea"],
    ],
    ["tenant", "wf_run_key", "thread", "name"],
    ["bytes"],
  ),
  variableIndex: T(
    "variable_index",
    [
      ["tenant", "text"],
      ["wf_run_key", "text"],
      ["thread", "int"],
      ["field", "text"],
      ["var_name", "text"],
      ["value_key", "text"],
      ["wf_spec_name", "text"],
      ["wf_spec_major", "int"],
      ["wf_spec_revision", "int"],
      ["start_ms", "bigint"],
    ],
    ["tenant", "wf_run_key", "thread", "field"],
    // a migrated WfRun's variables are written again: searched under its new version
    ["value_key", "wf_spec_major", "wf_spec_revision"],
  ),
  externalEvents: T(
    "external_events",
    [
      ["tenant", "text"],
      ["wf_run_key", "text"],
      ["def_name", "text"],
      ["guid", "text"],
      ["created_ms", "bigint"],
      ["claimed", "int"],
      ["bytes", "bytea"],
      ["created_sub", "int"],
    ],
    ["tenant", "wf_run_key", "def_name", "guid"],
    ["claimed", "bytes"],
  ),
  workflowEvents: T(
    "workflow_events",
    [
      ["tenant", "text"],
      ["wf_run_key", "text"],
      ["def_name", "text"],
      ["number", "int"],
      ["created_ms", "bigint"],
      ["bytes", "bytea"],
    ],
    ["tenant", "wf_run_key", "def_name", "number"],
    ["created_ms", "bytes"],
  ),
  userTaskRuns: T(
    "user_task_runs",
    [
      ["tenant", "text"],
      ["wf_run_key", "text"],
      ["guid", "text"],
      ["def_name", "text"],
      ["status", "int"],
      ["user_id", "text"],
      ["user_group", "text"],
      ["scheduled_ms", "bigint"],
      ["bytes", "bytea"],
    ],
    ["tenant", "wf_run_key", "guid"],
    ["status", "user_id", "user_group", "bytes"],
  ),
  taskQueue: T(
    "task_queue",
    [
      ["tenant", "text"],
      ["task_def_name", "text"],
      ["wf_run_key", "text"],
      ["task_guid", "text"],
      ["attempt", "int"],
      ["part", "int"],
    ],
    ["tenant", "wf_run_key", "task_guid", "attempt"],
    [],
  ),
  timers: T(
    "timers",
    [
      ["tenant", "text"],
      ["wf_run_key", "text"],
      ["key", "text"],
      ["due_ms", "bigint"],
      ["command", "text"],
      ["part", "int"],
    ],
    ["tenant", "wf_run_key", "key"],
    ["due_ms", "command", "part"],
  ),
  tenants: T(
    "tenants",
    [
      ["id", "text"],
      ["created_ms", "bigint"],
    ],
    ["id"],
    ["created_ms"],
    false,
  ),
  principals: T(
    "principals",
    [
      ["id", "text"],
      ["created_ms", "bigint"],
      ["bytes", "bytea"],
    ],
    ["id"],
    ["bytes"],
    false,
  ),
  taskWorkerGroups: T(
    "task_worker_groups",
    [
      ["tenant", "text"],
      ["task_def", "text"],
      ["created_ms", "bigint"],
    ],
    ["tenant", "task_def"],
    [],
    false,
  ),
  taskWorkers: T(
    "task_workers",
    [
      ["tenant", "text"],
      ["task_def", "text"],
      ["worker_id", "text"],
      ["heartbeat_ms", "bigint"],
    ],
    ["tenant", "task_def", "worker_id"],
    ["heartbeat_ms"],
    false,
  ),
  scheduledWfRuns: T(
    "scheduled_wf_runs",
    [
      ["tenant", "text"],
      ["id", "text"],
      ["wf_spec_name", "text"],
      ["major", "int"],
      ["revision", "int"],
      ["next_ms", "bigint"],
      ["bytes", "bytea"],
    ],
    ["tenant", "id"],
    ["next_ms", "bytes"],
    false,
  ),
} as const satisfies Record<string, TableSpec>;

/** The tables a WfRun's rows live in: DeleteWfRun (and retention) empties them of the WfRun. */
export const WF_RUN_TABLES: readonly TableSpec[] = Object.values(TABLES).filter((t) => t.ofWfRun);

/** One row-level change. `values` follow the table's columns; `key` its key columns. */
export type RowWrite =
  | { kind: "put"; table: TableSpec; values: unknown[] }
  | { kind: "delete"; table: TableSpec; key: unknown[] }
  /** every row of one WfRun, in every WF_RUN_TABLES table */
  | { kind: "deleteWfRun"; tenant: string; wfRunKey: string }
  | { kind: "metrics"; deltas: MetricsDelta[] };

const ms = (t: { seconds: bigint; nanos: number } | undefined): number | null =>
  t ? Number(t.seconds) * 1000 + Math.floor(t.nanos / 1e6) : null;

/** The row writes of one WriteOp, in order. */
export function rowWrites(op: WriteOp, out: RowWrite[]): void {
  const put = (table: TableSpec, values: unknown[]) => out.push({ kind: "put", table, values });
  const del = (table: TableSpec, key: unknown[]) => out.push({ kind: "delete", table, key });
  switch (op.op) {
    case "putMetadata": {
      const r = op.row;
      put(TABLES.metadata, [r.tenant, r.kind, r.name, r.major, r.minor, r.bytes, r.deleted ? 1 : 0]);
      return;
    }
    case "deleteMetadata":
      del(TABLES.metadata, [op.tenant, op.kind, op.name, op.major, op.minor]);
      return;
    case "putWfRun": {
      const w = op.wfRun;
      put(TABLES.wfRuns, [
        op.tenant,
        op.wfRunKey,
        w.wfSpecId?.name ?? "",
        w.wfSpecId?.majorVersion ?? 0,
        w.wfSpecId?.revision ?? 0,
        w.status,
        ms(w.startTime),
        ms(w.endTime),
        encodeMessage(WfRunSchema, w),
      ]);
      return;
    }
    case "putNodeRun": {
      const n = op.nodeRun;
      put(TABLES.nodeRuns, [
        op.tenant,
        op.wfRunKey,
        n.id!.threadRunNumber,
        n.id!.position,
        n.status,
        ms(n.arrivalTime),
        encodeMessage(NodeRunSchema, n),
        n.nodeType.case ?? null,
      ]);
      return;
    }
    case "putTaskRun": {
      const t = op.taskRun;
      put(TABLES.taskRuns, [
        op.tenant,
        op.wfRunKey,
        t.id!.taskGuid,
        t.taskDefId?.name ?? "",
        t.status,
        ms(t.scheduledAt) ?? 0,
        encodeMessage(TaskRunSchema, t),
      ]);
      return;
    }
    case "putVariable": {
      const v = op.variable;
      const thread = v.id!.threadRunNumber;
      const name = v.id!.name;
      put(TABLES.variables, [op.tenant, op.wfRunKey, thread, name, encodeMessage(VariableSchema, v)]);
      // a searchable variable's index entries, in the same batch (search-types.ts)
      for (const e of op.index?.entries ?? []) {
        if (e.key === undefined) {
          del(TABLES.variableIndex, [op.tenant, op.wfRunKey, thread, e.field]);
        } else {
          const i = op.index!;
          put(TABLES.variableIndex, [
            op.tenant,
            op.wfRunKey,
            thread,
            e.field,
            name,
            e.key,
            i.wfSpecName,
            i.wfSpecMajor,
            i.wfSpecRevision,
            i.wfRunStartMs,
          ]);
        }
      }
      return;
    }
    case "putExternalEvent": {
      const e = op.event;
      put(TABLES.externalEvents, [
        op.tenant,
        op.wfRunKey,
        e.id!.externalEventDefId!.name,
        e.id!.guid,
        ms(e.createdAt) ?? 0,
        e.claimed ? 1 : 0,
        encodeMessage(ExternalEventSchema, e),
        // events posted in one millisecond are numbered in its sub-millisecond nanos (api/events.ts)
        (e.createdAt?.nanos ?? 0) % 1_000_000,
      ]);
      return;
    }
    case "deleteExternalEvent":
      del(TABLES.externalEvents, [op.tenant, op.wfRunKey, op.defName, op.guid]);
      return;
    case "putWorkflowEvent": {
      const e = op.event;
      put(TABLES.workflowEvents, [
        op.tenant,
        op.wfRunKey,
        e.id!.workflowEventDefId!.name,
        e.id!.number,
        ms(e.createdAt) ?? 0,
        encodeMessage(WorkflowEventSchema, e),
      ]);
      return;
    }
    case "putUserTaskRun": {
      const u = op.userTaskRun;
      put(TABLES.userTaskRuns, [
        op.tenant,
        op.wfRunKey,
        u.id!.userTaskGuid,
        u.userTaskDefId?.name ?? "",
        u.status,
        u.userId ?? null,
        u.userGroup ?? null,
        ms(u.scheduledTime) ?? 0,
        encodeMessage(UserTaskRunSchema, u),
      ]);
      return;
    }
    case "deleteWfRun":
      out.push({ kind: "deleteWfRun", tenant: op.tenant, wfRunKey: op.wfRunKey });
      return;
    case "enqueueTask": {
      const t = op.task;
      put(TABLES.taskQueue, [t.tenant, t.taskDefName, t.wfRunKey, t.taskGuid, t.attemptNumber, t.part]);
      return;
    }
    case "dequeueTask":
      del(TABLES.taskQueue, [op.tenant, op.wfRunKey, op.taskGuid, op.attemptNumber]);
      return;
    case "putTimer": {
      const t = op.timer;
      put(TABLES.timers, [t.tenant, t.wfRunKey, t.key, t.dueMs, JSON.stringify(t.command), t.part]);
      return;
    }
    case "deleteTimer":
      del(TABLES.timers, [op.tenant, op.wfRunKey, op.key]);
      return;
    case "putTenant":
      put(TABLES.tenants, [op.tenant.id!.id, ms(op.tenant.createdAt) ?? 0]);
      return;
    case "putPrincipal":
      put(TABLES.principals, [
        op.principal.id!.id,
        ms(op.principal.createdAt) ?? 0,
        encodeMessage(PrincipalSchema, op.principal),
      ]);
      return;
    case "deletePrincipal":
      del(TABLES.principals, [op.id]);
      return;
    case "putTaskWorker":
      put(TABLES.taskWorkerGroups, [op.tenant, op.taskDefName, op.heartbeatMs]);
      put(TABLES.taskWorkers, [op.tenant, op.taskDefName, op.workerId, op.heartbeatMs]);
      return;
    case "deleteTaskWorker":
      del(TABLES.taskWorkers, [op.tenant, op.taskDefName, op.workerId]);
      return;
    case "putScheduledWfRun": {
      const w = op.schedule;
      put(TABLES.scheduledWfRuns, [
        op.tenant,
        w.id!.id,
        w.wfSpecId?.name ?? "",
        w.wfSpecId?.majorVersion ?? 0,
        w.wfSpecId?.revision ?? 0,
        op.nextMs,
        encodeMessage(ScheduledWfRunSchema, w),
      ]);
      return;
    }
    case "deleteScheduledWfRun":
      del(TABLES.scheduledWfRuns, [op.tenant, op.id]);
      return;
    case "addMetrics":
      out.push({ kind: "metrics", deltas: op.deltas });
      return;
  }
}

/** The WfRuns a batch creates (putWfRun `created`), each once. */
export function createdWfRuns(ops: readonly WriteOp[]): WfRunRef[] {
  const out = new Map<string, WfRunRef>();
  for (const op of ops)
    if (op.op === "putWfRun" && op.created)
      out.set(tenantKey(op.tenant, op.wfRunKey), { tenant: op.tenant, key: op.wfRunKey });
  return [...out.values()];
}

/** Whether a batch changes what every server caches (metadata, tenants, principals). */
export function changesMetadata(ops: readonly WriteOp[]): boolean {
  return ops.some(
    (op) =>
      op.op === "putMetadata" ||
      op.op === "deleteMetadata" ||
      op.op === "putTenant" ||
      op.op === "putPrincipal" ||
      op.op === "deletePrincipal",
  );
}

/** The key columns' values of a put, in key order. */
export function keyOf(table: TableSpec, values: readonly unknown[]): unknown[] {
  return table.key.map((k) => values[table.columns.findIndex(([c]) => c === k)]);
}

/** Sums the metrics deltas of a batch per window row, so each row is written once. */
export function mergeMetrics(deltas: Iterable<MetricsDelta>): MetricsDelta[] {
  const merged = new Map<string, MetricsDelta>();
  for (const d of deltas) {
    const k = [d.tenant, d.kind, d.name, d.major, d.revision, d.windowType, d.windowStartMs].join("\u0000");
    const m = merged.get(k);
    if (!m) {
      merged.set(k, { ...d });
      continue;
    }
    m.scheduled += d.scheduled;
    m.started += d.started;
    m.completed += d.completed;
    m.errored += d.errored;
    m.scheduleToStartTotal += d.scheduleToStartTotal;
    m.scheduleToStartMax = Math.max(m.scheduleToStartMax, d.scheduleToStartMax);
    m.startToCompleteTotal += d.startToCompleteTotal;
    m.startToCompleteMax = Math.max(m.startToCompleteMax, d.startToCompleteMax);
  }
  return [...merged.values()];
}

/**
 * A metrics window's values, in metrics_windows column order. Each server adds to its own row of a window
 * (`shard`: the committing server's id), so servers of a cluster never wait on each other's counters (nor
 * deadlock over them); a read sums a window's rows (metrics-reads.ts).
 */
export const METRICS_COLUMNS: readonly (readonly [string, ColumnType])[] = [
  ["tenant", "text"],
  ["kind", "text"],
  ["name", "text"],
  ["major", "int"],
  ["revision", "int"],
  ["window_type", "int"],
  ["window_start", "bigint"],
  ["shard", "text"],
  ["scheduled", "bigint"],
  ["started", "bigint"],
  ["completed", "bigint"],
  ["errored", "bigint"],
  ["schedule_to_start_total", "bigint"],
  ["schedule_to_start_max", "bigint"],
  ["start_to_complete_total", "bigint"],
  ["start_to_complete_max", "bigint"],
];
export const METRICS_KEY = METRICS_COLUMNS.slice(0, 8).map(([c]) => c);

export function metricsValues(d: MetricsDelta, shard: string): unknown[] {
  return [
    d.tenant,
    d.kind,
    d.name,
    d.major,
    d.revision,
    d.windowType,
    d.windowStartMs,
    shard,
    d.scheduled,
    d.started,
    d.completed,
    d.errored,
    d.scheduleToStartTotal,
    d.scheduleToStartMax,
    d.startToCompleteTotal,
    d.startToCompleteMax,
  ];
}

/** `ON CONFLICT … DO UPDATE` of a metrics window: counters and totals add up, maxima keep the larger. */
export function metricsUpsertSet(greatest: "max" | "greatest"): string {
  return METRICS_COLUMNS.slice(8)
    .map(([c]) =>
      c.endsWith("_max")
        ? `${c} = ${greatest}(metrics_windows.${c}, excluded.${c})`
        : `${c} = metrics_windows.${c} + excluded.${c}`,
    )
    .join(", ");
}
