/** How values are shown: times, durations, statuses and VariableValues. */
import { timestampMs, type Timestamp } from "@bufbuild/protobuf/wkt";
import { LHStatus, TaskStatus, UserTaskRunStatus, VariableType, type VariableValue } from "@pony/proto";

export const ms = (t: Timestamp | undefined): number | undefined => (t ? timestampMs(t) : undefined);

/** a local date and time, to the second */
export function formatTime(t: Timestamp | number | undefined): string {
  const at = typeof t === "number" ? t : ms(t);
  if (at === undefined) return "–";
  const d = new Date(at);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** 850 ms, 12.3 s, 4 m 05 s, 2 h 03 m, 3 d 04 h */
export function formatDuration(millis: number | undefined): string {
  if (millis === undefined || !Number.isFinite(millis)) return "–";
  if (millis < 0) millis = 0;
  if (millis < 1000) return `${Math.round(millis)} ms`;
  const s = millis / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const pad = (n: number) => String(Math.floor(n)).padStart(2, "0");
  if (s < 3600) return `${Math.floor(s / 60)} m ${pad(s % 60)} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${pad((s % 3600) / 60)} m`;
  return `${Math.floor(s / 86400)} d ${pad((s % 86400) / 3600)} h`;
}

/** from start to end, or to now while it runs */
export function durationOf(start: Timestamp | undefined, end: Timestamp | undefined, now = Date.now()) {
  const a = ms(start);
  if (a === undefined) return undefined;
  return (ms(end) ?? now) - a;
}

export const lhStatusName = (s: LHStatus) => LHStatus[s] ?? String(s);
export const taskStatusName = (s: TaskStatus) => TaskStatus[s] ?? String(s);
export const userTaskStatusName = (s: UserTaskRunStatus) => UserTaskRunStatus[s] ?? String(s);
export const variableTypeName = (t: VariableType | undefined) =>
  t === undefined ? "–" : (VariableType[t] ?? String(t));

/** the colour family of a status, whatever its enum: see .status-* in styles.css */
export function statusTone(name: string): "ok" | "bad" | "run" | "wait" | "halt" {
  if (/COMPLETED|SUCCESS|DONE/.test(name)) return "ok";
  if (/ERROR|FAILED|EXCEPTION|TIMEOUT|CANCELLED/.test(name)) return "bad";
  if (/HALT/.test(name)) return "halt";
  if (/RUNNING|STARTING|ASSIGNED/.test(name)) return "run";
  return "wait";
}

/** A VariableValue as a plain JavaScript value (JSON parsed, int64 as a number when it fits). */
export function plainValue(v: VariableValue | undefined): unknown {
  const value = v?.value;
  if (!value || value.case === undefined) return null;
  switch (value.case) {
    case "jsonObj":
    case "jsonArr":
      try {
        return JSON.parse(value.value) as unknown;
      } catch {
        return value.value;
      }
    case "int":
      return Number.isSafeInteger(Number(value.value)) ? Number(value.value) : value.value.toString();
    case "bytes":
      return `<${value.value.length} bytes>`;
    default:
      return value.value;
  }
}

/** A VariableValue as text: JSON pretty-printed over several lines, strings as they are. */
export function formatValue(v: VariableValue | undefined): string {
  const plain = plainValue(v);
  if (plain === null) return "null";
  if (typeof plain === "string") return plain;
  return JSON.stringify(plain, null, 2);
}
