/**
 * Builders of the protobuf objects and WriteOps the store conformance suite (conformance.test.ts) writes.
 * Each object carries its own ids; the WriteOp builders read the WfRun key from them (a child WfRun's key
 * is `parent_child`), so a test states an object once.
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromMs, type Timestamp } from "@bufbuild/protobuf/wkt";
import {
  EntrypointRunSchema,
  ExternalEventRunSchema,
  ExternalEventSchema,
  LHStatus,
  NodeRunSchema,
  PrincipalSchema,
  SleepNodeRunSchema,
  TaskNodeRunSchema,
  TaskRunSchema,
  TaskStatus,
  TenantSchema,
  UserTaskNodeRunSchema,
  UserTaskRunSchema,
  UserTaskRunStatus,
  VariableSchema,
  WfRunIdSchema,
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
  type WfRunId,
  type WorkflowEvent,
} from "@pony/proto";
import type { TimerCommand } from "@pony/engine";
import { emptyCounters, type MetricsDelta } from "../../src/store/metrics-types";
import type { IndexEntry, VariableIndexInfo } from "../../src/store/search-types";
import type { MetadataKind, MetadataRow, QueuedTask, StoredTimer, WriteOp } from "../../src/store/store";

export const TENANT = "default";
export const OTHER_TENANT = "other";

/** A timestamp at `ms`, plus `subNanos` (< 1,000,000) below the millisecond. */
export function ts(ms: number, subNanos = 0): Timestamp {
  const t = timestampFromMs(ms);
  t.nanos += subNanos;
  return t;
}

/** The WfRunId of a stored key: `parent_child` is the child `child` of `parent`. */
export function wfRunIdOf(key: string): WfRunId {
  const i = key.lastIndexOf("_");
  if (i < 0) return create(WfRunIdSchema, { id: key });
  return create(WfRunIdSchema, { id: key.slice(i + 1), parentWfRunId: wfRunIdOf(key.slice(0, i)) });
}

/** The stored key of a WfRunId. */
export function keyOf(id: WfRunId | undefined): string {
  if (!id) throw new Error("no WfRunId");
  return id.parentWfRunId ? `${keyOf(id.parentWfRunId)}_${id.id}` : id.id;
}

export interface WfRunOpts {
  spec?: string;
  major?: number;
  revision?: number;
  status?: LHStatus;
  startMs?: number;
  endMs?: number;
  /** ThreadRuns: number and current NodeRun position */
  threads?: { number: number; position: number }[];
}

export function wfRun(key: string, o: WfRunOpts = {}): WfRun {
  const wfSpecId = { name: o.spec ?? "spec", majorVersion: o.major ?? 0, revision: o.revision ?? 0 };
  return create(WfRunSchema, {
    id: wfRunIdOf(key),
    wfSpecId,
    status: o.status ?? LHStatus.RUNNING,
    startTime: o.startMs === undefined ? undefined : ts(o.startMs),
    endTime: o.endMs === undefined ? undefined : ts(o.endMs),
    greatestThreadrunNumber: Math.max(0, ...(o.threads ?? []).map((t) => t.number)),
    threadRuns: (o.threads ?? [{ number: 0, position: 0 }]).map((t) => ({
      wfSpecId,
      number: t.number,
      status: LHStatus.RUNNING,
      threadSpecName: t.number === 0 ? "entrypoint" : `thread-${t.number}`,
      startTime: o.startMs === undefined ? undefined : ts(o.startMs),
      currentNodePosition: t.position,
    })),
  });
}

export type NodeType = "task" | "externalEvent" | "entrypoint" | "userTask" | "sleep" | undefined;

export interface NodeRunOpts {
  status?: LHStatus;
  arrivalMs?: number;
  /** the node_type case; undefined for a NOP */
  type?: NodeType;
  /** the TaskRun of a "task" node, the UserTaskRun of a "userTask" node */
  guid?: string;
}

export function nodeRun(key: string, thread: number, position: number, o: NodeRunOpts = {}): NodeRun {
  const wfRunId = wfRunIdOf(key);
  const type = "type" in o ? o.type : "task";
  let nodeType: NodeRun["nodeType"] = { case: undefined };
  switch (type) {
    case "task":
      nodeType = {
        case: "task",
        value: create(TaskNodeRunSchema, {
          taskRunId: o.guid === undefined ? undefined : { wfRunId, taskGuid: o.guid },
        }),
      };
      break;
    case "userTask":
      nodeType = {
        case: "userTask",
        value: create(UserTaskNodeRunSchema, {
          userTaskRunId: o.guid === undefined ? undefined : { wfRunId, userTaskGuid: o.guid },
        }),
      };
      break;
    case "externalEvent":
      nodeType = { case: "externalEvent", value: create(ExternalEventRunSchema, {}) };
      break;
    case "entrypoint":
      nodeType = { case: "entrypoint", value: create(EntrypointRunSchema, {}) };
      break;
    case "sleep":
      nodeType = { case: "sleep", value: create(SleepNodeRunSchema, {}) };
      break;
    case undefined:
      break;
  }
  return create(NodeRunSchema, {
    id: { wfRunId, threadRunNumber: thread, position },
    wfSpecId: { name: "spec" },
    threadSpecName: thread === 0 ? "entrypoint" : `thread-${thread}`,
    nodeName: `${position}-node`,
    status: o.status ?? LHStatus.RUNNING,
    arrivalTime: o.arrivalMs === undefined ? undefined : ts(o.arrivalMs),
    nodeType,
  });
}

export interface TaskRunOpts {
  def?: string;
  status?: TaskStatus;
  /** undefined: no scheduled time (stored and sorted as 0) */
  scheduledMs?: number;
  /** a user task reminder (its source is a user task trigger) */
  userTaskTrigger?: boolean;
}

export function taskRun(key: string, guid: string, o: TaskRunOpts = {}): TaskRun {
  return create(TaskRunSchema, {
    id: { wfRunId: wfRunIdOf(key), taskGuid: guid },
    taskDefId: { name: o.def ?? "work" },
    status: o.status ?? TaskStatus.TASK_SCHEDULED,
    scheduledAt: o.scheduledMs === undefined ? undefined : ts(o.scheduledMs),
    totalAttempts: 1,
    source: o.userTaskTrigger ? { taskRunSource: { case: "userTaskTrigger", value: {} } } : undefined,
  });
}

export function variable(key: string, thread: number, name: string, value: string | number): Variable {
  return create(VariableSchema, {
    id: { wfRunId: wfRunIdOf(key), threadRunNumber: thread, name },
    value: {
      value: typeof value === "number" ? { case: "int", value: BigInt(value) } : { case: "str", value },
    },
    createdAt: ts(1_000),
    wfSpecId: { name: "spec" },
  });
}

export interface ExternalEventOpts {
  createdMs?: number;
  /** the sub-millisecond sequence, as nanos below the millisecond */
  sub?: number;
  claimed?: boolean;
}

export function externalEvent(
  key: string,
  def: string,
  guid: string,
  o: ExternalEventOpts = {},
): ExternalEvent {
  return create(ExternalEventSchema, {
    id: { wfRunId: wfRunIdOf(key), externalEventDefId: { name: def }, guid },
    createdAt: ts(o.createdMs ?? 1_000, o.sub ?? 0),
    content: { value: { case: "str", value: `${def}/${guid}` } },
    claimed: o.claimed ?? false,
  });
}

export function workflowEvent(key: string, def: string, number: number, createdMs = 1_000): WorkflowEvent {
  return create(WorkflowEventSchema, {
    id: { wfRunId: wfRunIdOf(key), workflowEventDefId: { name: def }, number },
    content: { value: { case: "int", value: BigInt(number) } },
    createdAt: ts(createdMs),
  });
}

export interface UserTaskRunOpts {
  def?: string;
  status?: UserTaskRunStatus;
  userId?: string;
  userGroup?: string;
  /** undefined: no scheduled time (stored and sorted as 0) */
  scheduledMs?: number;
}

export function userTaskRun(key: string, guid: string, o: UserTaskRunOpts = {}): UserTaskRun {
  return create(UserTaskRunSchema, {
    id: { wfRunId: wfRunIdOf(key), userTaskGuid: guid },
    userTaskDefId: { name: o.def ?? "approve", version: 0 },
    status: o.status ?? UserTaskRunStatus.UNASSIGNED,
    userId: o.userId,
    userGroup: o.userGroup,
    scheduledTime: o.scheduledMs === undefined ? undefined : ts(o.scheduledMs),
    notes: `notes of ${guid}`,
  });
}

export function tenant(id: string, createdMs = 1_000): Tenant {
  return create(TenantSchema, { id: { id }, createdAt: ts(createdMs) });
}

export function principal(id: string, createdMs = 1_000, tenants: string[] = [TENANT]): Principal {
  return create(PrincipalSchema, {
    id: { id },
    createdAt: ts(createdMs),
    perTenantAcls: Object.fromEntries(
      tenants.map((t) => [t, { acls: [{ resources: [], allowedActions: [] }] }]),
    ),
  });
}

export function metadataRow(
  kind: MetadataKind,
  name: string,
  o: { tenant?: string; major?: number; minor?: number; bytes?: number[]; deleted?: boolean } = {},
): MetadataRow {
  return {
    tenant: o.tenant ?? TENANT,
    kind,
    name,
    major: o.major ?? 0,
    minor: o.minor ?? 0,
    bytes: new Uint8Array(o.bytes ?? [1, 2, 3]),
    deleted: o.deleted ?? false,
  };
}

// ---- WriteOps ---------------------------------------------------------------------------------------------

export const putWfRun = (w: WfRun, t = TENANT): WriteOp => ({
  op: "putWfRun",
  tenant: t,
  wfRunKey: keyOf(w.id),
  wfRun: w,
});

export const putNodeRun = (n: NodeRun, t = TENANT): WriteOp => ({
  op: "putNodeRun",
  tenant: t,
  wfRunKey: keyOf(n.id?.wfRunId),
  nodeRun: n,
});

export const putTaskRun = (r: TaskRun, t = TENANT): WriteOp => ({
  op: "putTaskRun",
  tenant: t,
  wfRunKey: keyOf(r.id?.wfRunId),
  taskRun: r,
});

export const putVariable = (v: Variable, index?: VariableIndexInfo, t = TENANT): WriteOp => ({
  op: "putVariable",
  tenant: t,
  wfRunKey: keyOf(v.id?.wfRunId),
  variable: v,
  ...(index ? { index } : {}),
});

/** The index info of a searchable variable of a WfRun of `spec` started at `startMs`. */
export function indexInfo(
  entries: IndexEntry[],
  o: { spec?: string; major?: number; revision?: number; startMs?: number } = {},
): VariableIndexInfo {
  return {
    wfSpecName: o.spec ?? "spec",
    wfSpecMajor: o.major ?? 0,
    wfSpecRevision: o.revision ?? 0,
    wfRunStartMs: o.startMs ?? 0,
    entries,
  };
}

export const putExternalEvent = (e: ExternalEvent, t = TENANT): WriteOp => ({
  op: "putExternalEvent",
  tenant: t,
  wfRunKey: keyOf(e.id?.wfRunId),
  event: e,
});

export const deleteExternalEvent = (e: ExternalEvent, t = TENANT): WriteOp => ({
  op: "deleteExternalEvent",
  tenant: t,
  wfRunKey: keyOf(e.id?.wfRunId),
  defName: e.id!.externalEventDefId!.name,
  guid: e.id!.guid,
});

export const putWorkflowEvent = (e: WorkflowEvent, t = TENANT): WriteOp => ({
  op: "putWorkflowEvent",
  tenant: t,
  wfRunKey: keyOf(e.id?.wfRunId),
  event: e,
});

export const putUserTaskRun = (u: UserTaskRun, t = TENANT): WriteOp => ({
  op: "putUserTaskRun",
  tenant: t,
  wfRunKey: keyOf(u.id?.wfRunId),
  userTaskRun: u,
});

export const deleteWfRun = (key: string, t = TENANT): WriteOp => ({
  op: "deleteWfRun",
  tenant: t,
  wfRunKey: key,
});

export function queuedTask(
  part: number,
  key: string,
  guid: string,
  attempt = 0,
  o: { tenant?: string; def?: string } = {},
): QueuedTask {
  return {
    part,
    tenant: o.tenant ?? TENANT,
    taskDefName: o.def ?? "work",
    wfRunKey: key,
    taskGuid: guid,
    attemptNumber: attempt,
  };
}

export const enqueue = (task: QueuedTask): WriteOp => ({ op: "enqueueTask", task });

export const dequeue = (task: QueuedTask): WriteOp => ({
  op: "dequeueTask",
  tenant: task.tenant,
  wfRunKey: task.wfRunKey,
  taskGuid: task.taskGuid,
  attemptNumber: task.attemptNumber,
});

export function timer(
  key: string,
  dueMs: number,
  o: { part?: number; wfRunKey?: string; tenant?: string; command?: TimerCommand } = {},
): StoredTimer {
  return {
    part: o.part ?? 0,
    tenant: o.tenant ?? TENANT,
    wfRunKey: o.wfRunKey ?? "run-1",
    key,
    dueMs,
    command: o.command ?? { kind: "sleepMatured", threadRunNumber: 0, nodeRunPosition: 1 },
  };
}

export const putTimer = (t: StoredTimer): WriteOp => ({ op: "putTimer", timer: t });

export const deleteTimer = (t: StoredTimer): WriteOp => ({
  op: "deleteTimer",
  tenant: t.tenant,
  wfRunKey: t.wfRunKey,
  key: t.key,
});

export const putTenant = (t: Tenant): WriteOp => ({ op: "putTenant", tenant: t });
export const putPrincipal = (p: Principal): WriteOp => ({ op: "putPrincipal", principal: p });
export const deletePrincipal = (id: string): WriteOp => ({ op: "deletePrincipal", id });
export const putMetadata = (row: MetadataRow): WriteOp => ({ op: "putMetadata", row });
export const deleteMetadata = (row: MetadataRow): WriteOp => ({
  op: "deleteMetadata",
  tenant: row.tenant,
  kind: row.kind,
  name: row.name,
  major: row.major,
  minor: row.minor,
});

export function metricsDelta(windowStartMs: number, counters: Partial<MetricsDelta> = {}): MetricsDelta {
  return {
    tenant: TENANT,
    kind: "task",
    name: "work",
    major: 0,
    revision: 0,
    windowType: 0,
    windowStartMs,
    ...emptyCounters(),
    ...counters,
  };
}

export const addMetrics = (...deltas: MetricsDelta[]): WriteOp => ({ op: "addMetrics", deltas });
