/**
 * `pony get wfRun` as a person reads it: the WfRun's WfSpec, status and times, then its ThreadRuns as a tree
 * (children under their parent) with each thread's status, current node and error message.
 */
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { LHStatus, type ThreadRun, type WfRun } from "@pony/proto";
import { wfRunIdText, type RenderContext } from "./render";
import { duration, localTime } from "./style";

/** node names of the threads' current NodeRuns, by `thread/position` */
export type CurrentNodes = Map<string, string>;

export const currentNodeKey = (thread: number, position: number) => `${thread}/${position}`;

export function wfRunView(w: WfRun, nodes: CurrentNodes, rc: RenderContext): string {
  const s = rc.style;
  const spec = w.wfSpecId ? `${w.wfSpecId.name} ${w.wfSpecId.majorVersion}.${w.wfSpecId.revision}` : "-";
  const start = w.startTime ? timestampMs(w.startTime) : undefined;
  const end = w.endTime ? timestampMs(w.endTime) : undefined;
  const time = (t: number | undefined) => (t === undefined ? "-" : localTime(new Date(t).toISOString()));
  const lines = [
    `${s.bold("WfRun")} ${wfRunIdText(w.id)}  ${spec}  ${s.status(LHStatus[w.status])}`,
    `  started ${time(start)}` +
      (end !== undefined ? `   ended ${time(end)}` : "") +
      `   took ${start === undefined ? "-" : duration((end ?? rc.nowMs) - start)}`,
  ];
  if (w.oldWfSpecVersions.length > 0) {
    lines.push(
      `  migrated from ${w.oldWfSpecVersions.map((o) => `${o.majorVersion}.${o.revision}`).join(", ")}`,
    );
  }
  const numbers = new Set(w.threadRuns.map((t) => t.number));
  const byParent = new Map<number | undefined, ThreadRun[]>();
  for (const t of w.threadRuns) {
    // a thread whose parent was removed by retention hangs from the root
    const parent =
      t.parentThreadId !== undefined && numbers.has(t.parentThreadId) ? t.parentThreadId : undefined;
    byParent.set(parent, [...(byParent.get(parent) ?? []), t]);
  }
  lines.push("", s.bold("Threads"));
  const walk = (parent: number | undefined, prefix: string) => {
    const children = byParent.get(parent) ?? [];
    children.forEach((t, i) => {
      const last = i === children.length - 1;
      const branch = parent === undefined ? "" : last ? "└─ " : "├─ ";
      const node =
        nodes.get(currentNodeKey(t.number, t.currentNodePosition)) ?? `position ${t.currentNodePosition}`;
      const error = t.errorMessage ? `  ${s.dim(t.errorMessage)}` : "";
      lines.push(
        `  ${prefix}${branch}#${t.number} ${t.threadSpecName}  ${s.status(LHStatus[t.status])}  at ${node}${error}`,
      );
      walk(t.number, parent === undefined ? prefix : prefix + (last ? "   " : "│  "));
    });
  };
  walk(undefined, "");
  return `${lines.join("\n")}\n`;
}
