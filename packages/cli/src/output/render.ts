/**
 * The table view of each answer (`-o table`, the default on a terminal): lists as one row per object
 * (NodeRuns, TaskRuns with their attempts, Variables, events, metrics windows), id lists (the Search RPCs) as columns
 * of their fields, anything else as field / value rows of its protobuf JSON. The WfRun's own view is
 * wf-run-view.ts.
 */
import { toJson, type DescMessage, type JsonObject, type JsonValue } from "@bufbuild/protobuf";
import { timestampMs, type Timestamp } from "@bufbuild/protobuf/wkt";
import {
  LHStatus,
  MetricsWindowLength,
  TaskStatus,
  UserTaskRunStatus,
  type ExternalEvent,
  type NodeRun,
  type UserTaskRun,
  type TaskRun,
  type TaskDefMetrics,
  type Variable,
  type VariableValue,
  type WfRunId,
  type WfSpecMetrics,
  type WorkflowEvent,
} from "@pony/proto";
import { duration, localTime, table, type Styler } from "./style";

export interface RenderContext {
  style: Styler;
  nowMs: number;
}

/** A WfRunId as LittleHorse prints it: `parent_child`. */
export function wfRunIdText(id: WfRunId | undefined): string {
  if (!id) return "-";
  return id.parentWfRunId ? `${wfRunIdText(id.parentWfRunId)}_${id.id}` : id.id;
}

/** A VariableValue's value, short: a string as is, JSON as its text, bytes as their size; "-" when empty. */
export function valueText(v: VariableValue | undefined): string {
  const value = v?.value;
  if (!value?.case) return "-";
  if (value.case === "bytes") return `<${value.value.length} bytes>`;
  return String(value.value);
}

const ms = (t: Timestamp | undefined) => (t ? timestampMs(t) : undefined);
const at = (t: Timestamp | undefined) => (t ? localTime(new Date(timestampMs(t)).toISOString()) : "-");
/** the time from `start` to `end`, or to now while it has not ended */
const took = (start: Timestamp | undefined, end: Timestamp | undefined, rc: RenderContext) =>
  start ? duration((ms(end) ?? rc.nowMs) - timestampMs(start)) : "-";

function nodeRuns(list: NodeRun[], rc: RenderContext): string {
  return table(
    ["THREAD", "POS", "NODE", "STATUS", "ARRIVED", "ENDED", "TOOK"],
    list.map((n) => [
      String(n.id?.threadRunNumber ?? 0),
      String(n.id?.position ?? 0),
      n.nodeName,
      rc.style.status(LHStatus[n.status]),
      at(n.arrivalTime),
      at(n.endTime),
      took(n.arrivalTime, n.endTime, rc),
    ]),
  );
}

function taskRuns(list: TaskRun[], rc: RenderContext): string {
  return table(
    ["TASKRUN", "TASKDEF", "STATUS", "ATTEMPTS", "SCHEDULED", "TOOK"],
    list.map((t) => {
      const last = t.attempts.at(-1);
      return [
        t.id?.taskGuid ?? "-",
        t.taskDefId?.name ?? "-",
        rc.style.status(TaskStatus[t.status]),
        String(t.attempts.length),
        at(t.scheduledAt),
        took(last?.startTime, last?.endTime, rc),
      ];
    }),
  );
}

function taskRun(t: TaskRun, rc: RenderContext): string {
  const head =
    `TaskRun ${t.id?.taskGuid}  of ${wfRunIdText(t.id?.wfRunId)}  ${t.taskDefId?.name}  ` +
    `${rc.style.status(TaskStatus[t.status])}\n`;
  const attempts = table(
    ["ATTEMPT", "STATUS", "WORKER", "SCHEDULED", "STARTED", "ENDED", "TOOK", "OUTPUT / ERROR"],
    t.attempts.map((a, i) => {
      const r = a.result;
      const outcome =
        r.case === "output"
          ? valueText(r.value)
          : r.case === "error"
            ? `${r.value.message}`
            : r.case === "exception"
              ? `${r.value.name}: ${r.value.message}`
              : "-";
      return [
        String(i),
        rc.style.status(TaskStatus[a.status]),
        a.taskWorkerId || "-",
        at(a.scheduleTime),
        at(a.startTime),
        at(a.endTime),
        took(a.startTime, a.endTime, rc),
        outcome,
      ];
    }),
  );
  return head + attempts;
}

function userTaskRuns(list: UserTaskRun[], rc: RenderContext): string {
  return table(
    ["USERTASKRUN", "OF WFRUN", "USERTASKDEF", "STATUS", "USER", "GROUP", "SCHEDULED"],
    list.map((u) => [
      u.id?.userTaskGuid ?? "-",
      wfRunIdText(u.id?.wfRunId),
      u.userTaskDefId ? `${u.userTaskDefId.name} ${u.userTaskDefId.version}` : "-",
      rc.style.status(UserTaskRunStatus[u.status]),
      u.userId ?? "-",
      u.userGroup ?? "-",
      at(u.scheduledTime),
    ]),
  );
}

function externalEvents(list: ExternalEvent[]): string {
  return table(
    ["EXTERNALEVENTDEF", "GUID", "CLAIMED", "CREATED", "CONTENT"],
    list.map((e) => [
      e.id?.externalEventDefId?.name ?? "-",
      e.id?.guid ?? "-",
      e.claimed ? "yes" : "no",
      at(e.createdAt),
      valueText(e.content),
    ]),
  );
}

function workflowEvents(list: WorkflowEvent[]): string {
  return table(
    ["WORKFLOWEVENTDEF", "NUMBER", "CREATED", "CONTENT"],
    list.map((e) => [
      e.id?.workflowEventDefId?.name ?? "-",
      String(e.id?.number ?? 0),
      at(e.createdAt),
      valueText(e.content),
    ]),
  );
}

function variables(list: Variable[]): string {
  return table(
    ["THREAD", "NAME", "VALUE"],
    list.map((v) => [String(v.id?.threadRunNumber ?? 0), v.id?.name ?? "-", valueText(v.value)]),
  );
}

function metrics(list: (TaskDefMetrics | WfSpecMetrics)[]): string {
  const d = (n: bigint) => duration(Number(n));
  return table(
    [
      "WINDOW",
      "START",
      "SCHEDULED",
      "STARTED",
      "COMPLETED",
      "ERRORED",
      "TO START (AVG/MAX)",
      "TO COMPLETE (AVG/MAX)",
    ],
    list.map((m) => {
      const task = m.$typeName === "littlehorse.TaskDefMetrics" ? m : undefined;
      return [
        MetricsWindowLength[m.type],
        at(m.windowStart),
        task ? String(task.totalScheduled) : "-",
        String(m.totalStarted),
        String(m.totalCompleted),
        String(m.totalErrored),
        task ? `${d(task.scheduleToStartAvg)} / ${d(task.scheduleToStartMax)}` : "-",
        `${d(m.startToCompleteAvg)} / ${d(m.startToCompleteMax)}`,
      ];
    }),
  );
}

const isObject = (v: JsonValue | undefined): v is JsonObject =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** A field of protobuf JSON, for a table cell: ids and names short, times local, statuses coloured. */
function cell(key: string, v: JsonValue | undefined, rc: RenderContext): string {
  if (v === undefined || v === null) return "-";
  if (typeof v === "string") {
    if (/status$/i.test(key)) return rc.style.status(v);
    if (/^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(v)) return localTime(v);
    return v;
  }
  if (!isObject(v)) return typeof v === "object" ? JSON.stringify(v) : String(v);
  if (/wfRunId$/i.test(key) || (key === "id" && typeof v.id === "string")) return wfRunIdJsonText(v);
  if (typeof v.name === "string" && Object.keys(v).length <= 3) {
    const version =
      "majorVersion" in v || "revision" in v
        ? ` ${cell("", v.majorVersion ?? 0, rc)}.${cell("", v.revision ?? 0, rc)}`
        : "";
    return v.name + version;
  }
  return JSON.stringify(v);
}

function wfRunIdJsonText(v: JsonObject): string {
  const parent = v.parentWfRunId;
  const own = typeof v.id === "string" ? v.id : "";
  return isObject(parent) ? `${wfRunIdJsonText(parent)}_${own}` : own;
}

const header = (key: string) => key.replace(/([a-z])([A-Z])/g, "$1 $2").toUpperCase();

function idColumns(results: JsonObject[], rc: RenderContext): string {
  const keys = [...new Set(results.flatMap((r) => Object.keys(r)))];
  return table(
    keys.map(header),
    results.map((r) => keys.map((k) => cell(k, r[k], rc))),
  );
}

/** The table view of a message. */
export function renderTable(schema: DescMessage, message: unknown, rc: RenderContext): string {
  switch (schema.typeName) {
    case "littlehorse.NodeRunList":
      return nodeRuns((message as { results: NodeRun[] }).results, rc) + more(message);
    case "littlehorse.NodeRun":
      return nodeRuns([message as NodeRun], rc);
    case "littlehorse.TaskRunList":
      return taskRuns((message as { results: TaskRun[] }).results, rc) + more(message);
    case "littlehorse.TaskRun":
      return taskRun(message as TaskRun, rc);
    case "littlehorse.VariableList":
      return variables((message as { results: Variable[] }).results) + more(message);
    case "littlehorse.Variable":
      return variables([message as Variable]);
    case "littlehorse.UserTaskRunList":
      return userTaskRuns((message as { results: UserTaskRun[] }).results, rc) + more(message);
    case "littlehorse.UserTaskRun":
      return userTaskRuns([message as UserTaskRun], rc);
    case "littlehorse.ExternalEventList":
      return externalEvents((message as { results: ExternalEvent[] }).results) + more(message);
    case "littlehorse.ExternalEvent":
      return externalEvents([message as ExternalEvent]);
    case "littlehorse.WorkflowEventList":
      return workflowEvents((message as { results: WorkflowEvent[] }).results) + more(message);
    case "littlehorse.WorkflowEvent":
      return workflowEvents([message as WorkflowEvent]);
    case "littlehorse.ListTaskMetricsResponse":
    case "littlehorse.ListWfMetricsResponse":
      return metrics((message as { results: (TaskDefMetrics | WfSpecMetrics)[] }).results);
    case "littlehorse.TaskDefMetrics":
    case "littlehorse.WfSpecMetrics":
      return metrics([message as TaskDefMetrics | WfSpecMetrics]);
  }
  const json = toJson(schema, message as never);
  if (!isObject(json)) return `${JSON.stringify(json)}\n`;
  if (schema.typeName.endsWith("List") && (Array.isArray(json.results) || json.results === undefined)) {
    // an id's fields at their default (thread 0, number 0) are columns like any other
    const ids = toJson(schema, message as never, { alwaysEmitImplicit: true }) as JsonObject;
    const rows = ((ids.results as JsonValue[] | undefined) ?? []).filter(isObject);
    return (rows.length === 0 ? "(none)\n" : idColumns(rows, rc)) + more(message);
  }
  const rows = Object.entries(json).map(([k, v]) => [k, cell(k, v, rc)]);
  return rows.length === 0 ? "(empty)\n" : table(["FIELD", "VALUE"], rows);
}

/** the next page's bookmark, when the answer has one */
function more(message: unknown): string {
  const b = (message as { bookmark?: Uint8Array }).bookmark;
  return b && b.length > 0 ? `\nmore: --bookmark ${Buffer.from(b).toString("base64")}\n` : "";
}
