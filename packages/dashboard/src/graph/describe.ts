/** WfSpec parts as short text: a node's kind and what it does, an edge's condition, an assignment. */
import { Comparator, VariableMutationType, type Edge, type Node, type VariableAssignment } from "@pony/proto";
import { formatValue } from "../api/format";

export type NodeKind = NonNullable<Node["node"]["case"]>;

export const KIND_LABELS: Record<NodeKind, string> = {
  entrypoint: "Entrypoint",
  exit: "Exit",
  task: "Task",
  externalEvent: "External event",
  startThread: "Start thread",
  waitForThreads: "Wait for threads",
  nop: "Nop",
  sleep: "Sleep",
  userTask: "User task",
  startMultipleThreads: "Start threads (for each)",
  throwEvent: "Throw event",
};

const COMPARATORS: Record<Comparator, string> = {
  [Comparator.LESS_THAN]: "<",
  [Comparator.GREATER_THAN]: ">",
  [Comparator.LESS_THAN_EQ]: "≤",
  [Comparator.GREATER_THAN_EQ]: "≥",
  [Comparator.EQUALS]: "=",
  [Comparator.NOT_EQUALS]: "≠",
  [Comparator.IN]: "in",
  [Comparator.NOT_IN]: "not in",
};

const OPERATIONS: Record<VariableMutationType, string> = {
  [VariableMutationType.ASSIGN]: "=",
  [VariableMutationType.ADD]: "+",
  [VariableMutationType.EXTEND]: "extend",
  [VariableMutationType.SUBTRACT]: "−",
  [VariableMutationType.MULTIPLY]: "×",
  [VariableMutationType.DIVIDE]: "÷",
  [VariableMutationType.REMOVE_IF_PRESENT]: "remove",
  [VariableMutationType.REMOVE_INDEX]: "remove index",
  [VariableMutationType.REMOVE_KEY]: "remove key",
};

export function assignmentText(a: VariableAssignment | undefined): string {
  if (!a) return "–";
  const path = a.jsonPath ? a.jsonPath.replace(/^\$/, "") : "";
  const s = a.source;
  switch (s.case) {
    case "variableName":
      return `${s.value}${path}`;
    case "literalValue":
      return formatValue(s.value).replace(/\s+/g, " ");
    case "nodeOutput":
      return `output of ${s.value.nodeName}${path}`;
    case "formatString":
      return `format(${assignmentText(s.value.format)}, ${s.value.args.map(assignmentText).join(", ")})`;
    case "expression": {
      const op = s.value.operation;
      const sym =
        op.case === "comparator"
          ? COMPARATORS[op.value]
          : op.case === "mutationType"
            ? OPERATIONS[op.value]
            : "?";
      return `(${assignmentText(s.value.lhs)} ${sym} ${assignmentText(s.value.rhs)})`;
    }
    default:
      return "–";
  }
}

/** an edge's condition ("" when it is always taken) */
export function edgeCondition(e: Edge): string {
  if (e.condition) {
    const c = e.condition;
    return `${assignmentText(c.left)} ${COMPARATORS[c.comparator]} ${assignmentText(c.right)}`;
  }
  if (e.expressionCondition?.source.case) return assignmentText(e.expressionCondition);
  return "";
}

/** what the node does, in one line */
export function nodeDetail(n: Node): string {
  const v = n.node;
  switch (v.case) {
    case "task":
      return v.value.taskToExecute.case === "taskDefId"
        ? v.value.taskToExecute.value.name
        : `dynamic: ${assignmentText(v.value.taskToExecute.value)}`;
    case "externalEvent":
      return v.value.externalEventDefId?.name ?? "";
    case "userTask":
      return v.value.userTaskDefName;
    case "sleep":
      return v.value.sleepLength.case === "rawSeconds"
        ? `${assignmentText(v.value.sleepLength.value)} s`
        : `until ${assignmentText(v.value.sleepLength.value)}`;
    case "startThread":
      return v.value.threadSpecName;
    case "startMultipleThreads":
      return `${v.value.threadSpecName} × ${assignmentText(v.value.iterable)}`;
    case "throwEvent":
      return v.value.eventDefId?.name ?? "";
    case "exit":
      return v.value.failureDef ? `fails: ${v.value.failureDef.failureName}` : "";
    case "waitForThreads":
      return v.value.threadsToWaitFor.case === "threadList"
        ? `threads in ${assignmentText(v.value.threadsToWaitFor.value)}`
        : `${v.value.threadsToWaitFor.value?.threads.length ?? 0} thread(s)`;
    default:
      return "";
  }
}

/** The TaskDefs a WfSpec's nodes name (dynamic tasks aside). */
export function taskDefsOf(threads: Iterable<{ nodes: { [name: string]: Node } }>): string[] {
  const names = new Set<string>();
  for (const t of threads)
    for (const n of Object.values(t.nodes))
      if (n.node.case === "task" && n.node.value.taskToExecute.case === "taskDefId")
        names.add(n.node.value.taskToExecute.value.name);
  return [...names].sort();
}

/** node names sort by their position prefix ("3-task-TASK" after "2-…") */
export function nodeOrder(a: string, b: string): number {
  const pa = parseInt(a, 10);
  const pb = parseInt(b, 10);
  return Number.isNaN(pa) || Number.isNaN(pb) || pa === pb ? a.localeCompare(b) : pa - pb;
}
