/**
 * Nodes that wait for the world: EXTERNAL_EVENT, SLEEP and THROW_EVENT (B-EVT-1…6).
 *  - EXTERNAL_EVENT waits (RUNNING) for an ExternalEvent of its def. Whenever its thread runs, the oldest
 *    unclaimed event it may take (the event's thread_run_number / node_run_position, if set, must match) is
 *    claimed: the event records who claimed it and the NodeRun completes with the content as output. With
 *    `timeout_seconds`, a timer fails the node with TIMEOUT (`timed_out`) if nothing came in time.
 *  - SLEEP completes when its timer fires; a maturation time in the past completes it at once.
 *  - THROW_EVENT creates a WorkflowEvent, numbered from 0 per WorkflowEventDef per WfRun, and completes. Its
 *    `created_at` carries the WfRun's count of thrown events in the sub-millisecond nanos, so that events
 *    thrown in the same millisecond (often by one command) still sort in the order they were thrown.
 * The timers (timeout, maturity) act even while the thread is HALTED (it sees the outcome once resumed) and
 * do nothing once the thread has ended.
 */
import { InvalidArgumentError } from "../errors";
import { MAX_TIME_MS, dueAfterSeconds, isTimeMs } from "../times";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  LHErrorType,
  LHStatus,
  WorkflowEventSchema,
  type ExternalEvent,
  type ExternalEventNode,
  type NodeRun,
  type SleepNode,
  type ThreadRun,
  type ThrowEventNode,
  type VariableValue,
} from "@pony/proto";
import { VarSubError, evaluateAssignment, nullValue } from "../variables";
import { errorFailure, failNodeRun } from "./failures";
import { threadScope } from "./scope";
import { eventKey, nodeRunKey, type EngineContext, type WfRunState } from "./state";
import { isTerminal } from "./halting";
import { completeNodeRun, findThread } from "./thread";

export const externalEventTimerKey = (thread: number, position: number) =>
  `event-timeout/${thread}/${position}`;
export const sleepTimerKey = (thread: number, position: number) => `sleep/${thread}/${position}`;

/** A time computed from a variable's value: out of range, it fails the node (VAR_SUB_ERROR) saying why. */
function checkedTime(compute: () => number): number {
  try {
    return compute();
  } catch (e) {
    if (e instanceof InvalidArgumentError) throw new VarSubError(e.message);
    throw e;
  }
}

function intFrom(v: VariableValue, what: string): number {
  if (v.value.case === "int") return Number(v.value.value);
  if (v.value.case === "double" && Number.isInteger(v.value.value)) return v.value.value;
  throw new VarSubError(`${what} must be an INT, got ${String(v.value.case ?? "null")}`);
}

export function arriveAtExternalEventNode(
  state: WfRunState,
  ctx: EngineContext,
  thread: ThreadRun,
  node: ExternalEventNode,
  nodeRun: NodeRun,
): void {
  const defName = node.externalEventDefId?.name ?? "";
  nodeRun.nodeType = {
    case: "externalEvent",
    value: {
      $typeName: "littlehorse.ExternalEventRun",
      externalEventDefId: { $typeName: "littlehorse.ExternalEventDefId", name: defName },
      timedOut: false,
    },
  };
  if (node.timeoutSeconds?.source.case !== undefined) {
    let seconds: number;
    try {
      seconds = intFrom(
        evaluateAssignment(node.timeoutSeconds, threadScope(state, thread.number)),
        "timeout_seconds",
      );
    } catch (e) {
      if (!(e instanceof VarSubError)) throw e;
      failNodeRun(nodeRun, errorFailure(LHErrorType.VAR_SUB_ERROR, e.message), ctx.nowMs);
      return;
    }
    let dueMs: number;
    try {
      dueMs = checkedTime(() => dueAfterSeconds(ctx.nowMs, seconds, "timeout_seconds"));
    } catch (e) {
      if (!(e instanceof VarSubError)) throw e;
      failNodeRun(nodeRun, errorFailure(LHErrorType.VAR_SUB_ERROR, e.message), ctx.nowMs);
      return;
    }
    if (seconds > 0) {
      ctx.effects.push({
        kind: "armTimer",
        key: externalEventTimerKey(thread.number, nodeRun.id!.position),
        dueMs,
        command: {
          kind: "externalEventTimedOut",
          threadRunNumber: thread.number,
          nodeRunPosition: nodeRun.id!.position,
        },
      });
    }
  }
  pollExternalEventNode(state, ctx, thread, nodeRun);
}

/** Events that interrupts are waiting to start their handlers with cannot be claimed by a node. */
function reservedForInterrupts(state: WfRunState): Set<string> {
  return new Set(
    state.wfRun.pendingInterrupts.map((p) =>
      eventKey(p.externalEventId?.externalEventDefId?.name ?? "", p.externalEventId?.guid ?? ""),
    ),
  );
}

/** Claims the oldest event this node may take; returns true if the NodeRun completed. */
export function pollExternalEventNode(
  state: WfRunState,
  ctx: EngineContext,
  thread: ThreadRun,
  nodeRun: NodeRun,
): boolean {
  if (nodeRun.nodeType.case !== "externalEvent" || nodeRun.status !== LHStatus.RUNNING) return false;
  const defName = nodeRun.nodeType.value.externalEventDefId?.name ?? "";
  const position = nodeRun.id!.position;
  const reserved = reservedForInterrupts(state);
  let best: { key: string; event: ExternalEvent } | undefined;
  for (const [key, event] of state.externalEvents) {
    if (event.claimed || reserved.has(key)) continue;
    if (event.id?.externalEventDefId?.name !== defName) continue;
    if (event.threadRunNumber !== undefined && event.threadRunNumber !== thread.number) continue;
    if (event.nodeRunPosition !== undefined && event.nodeRunPosition !== position) continue;
    if (!best || postedBefore(event, best.event)) best = { key, event };
  }
  if (!best) return false;
  const { key, event } = best;
  event.claimed = true;
  event.threadRunNumber = thread.number;
  event.nodeRunPosition = position;
  state.changes.externalEvents.add(key);
  const run = nodeRun.nodeType.value;
  run.externalEventId = event.id;
  run.eventTime = event.createdAt;
  completeNodeRun(nodeRun, ctx.nowMs);
  ctx.effects.push({ kind: "cancelTimer", key: externalEventTimerKey(thread.number, position) });
  return true;
}

/** A timer of a thread that has ended since (it failed elsewhere) leaves that thread's last NodeRun alone. */
function threadEnded(state: WfRunState, number: number): boolean {
  const thread = findThread(state, number);
  return !thread || isTerminal(thread.status);
}

/** Oldest first, to the nanosecond: the server orders events posted in one millisecond by their nanos. */
function postedBefore(a: ExternalEvent, b: ExternalEvent): boolean {
  const x = a.createdAt;
  const y = b.createdAt;
  if (!x || !y) return false;
  return x.seconds === y.seconds ? x.nanos < y.nanos : x.seconds < y.seconds;
}

export function timeOutExternalEventNode(
  state: WfRunState,
  ctx: EngineContext,
  thread: number,
  position: number,
): boolean {
  const nodeRun = state.nodeRuns.get(nodeRunKey(thread, position));
  if (!nodeRun || nodeRun.status !== LHStatus.RUNNING || nodeRun.nodeType.case !== "externalEvent")
    return false;
  if (threadEnded(state, thread)) return false;
  nodeRun.nodeType.value.timedOut = true;
  failNodeRun(
    nodeRun,
    errorFailure(LHErrorType.TIMEOUT, "no ExternalEvent arrived before the timeout"),
    ctx.nowMs,
  );
  state.changes.nodeRuns.add(nodeRunKey(thread, position));
  return true;
}

/** The content of the event an EXTERNAL_EVENT NodeRun claimed. */
export function externalEventNodeOutput(state: WfRunState, nodeRun: NodeRun): VariableValue | undefined {
  if (nodeRun.nodeType.case !== "externalEvent") return undefined;
  const id = nodeRun.nodeType.value.externalEventId;
  if (!id) return undefined;
  return (
    state.externalEvents.get(eventKey(id.externalEventDefId?.name ?? "", id.guid))?.content ?? nullValue()
  );
}

export function arriveAtSleepNode(
  state: WfRunState,
  ctx: EngineContext,
  thread: ThreadRun,
  node: SleepNode,
  nodeRun: NodeRun,
): void {
  let dueMs: number;
  try {
    const scope = threadScope(state, thread.number);
    const length = node.sleepLength;
    switch (length.case) {
      case "rawSeconds":
        dueMs = checkedTime(() =>
          dueAfterSeconds(
            ctx.nowMs,
            intFrom(evaluateAssignment(length.value, scope), "raw_seconds"),
            "raw_seconds",
          ),
        );
        break;
      case "timestamp":
        dueMs = intFrom(evaluateAssignment(length.value, scope), "timestamp");
        if (!isTimeMs(dueMs))
          throw new VarSubError(
            `timestamp ${dueMs} is out of range (at most ${MAX_TIME_MS} ms from the epoch)`,
          );
        break;
      case "isoDate": {
        const v = evaluateAssignment(length.value, scope);
        if (v.value.case !== "str") throw new VarSubError("iso_date must be a STR");
        dueMs = Date.parse(v.value.value);
        if (Number.isNaN(dueMs)) throw new VarSubError(`'${v.value.value}' is not an ISO-8601 date`);
        break;
      }
      default:
        throw new VarSubError("the SLEEP node says neither raw_seconds, timestamp nor iso_date");
    }
  } catch (e) {
    if (!(e instanceof VarSubError)) throw e;
    failNodeRun(nodeRun, errorFailure(LHErrorType.VAR_SUB_ERROR, e.message), ctx.nowMs);
    return;
  }
  nodeRun.nodeType = {
    case: "sleep",
    value: { $typeName: "littlehorse.SleepNodeRun", maturationTime: timestampFromMs(dueMs), matured: false },
  };
  if (dueMs <= ctx.nowMs) {
    nodeRun.nodeType.value.matured = true;
    completeNodeRun(nodeRun, ctx.nowMs);
    return;
  }
  ctx.effects.push({
    kind: "armTimer",
    key: sleepTimerKey(thread.number, nodeRun.id!.position),
    dueMs,
    command: { kind: "sleepMatured", threadRunNumber: thread.number, nodeRunPosition: nodeRun.id!.position },
  });
}

export function matureSleepNode(
  state: WfRunState,
  ctx: EngineContext,
  thread: number,
  position: number,
): boolean {
  const nodeRun = state.nodeRuns.get(nodeRunKey(thread, position));
  if (!nodeRun || nodeRun.status !== LHStatus.RUNNING || nodeRun.nodeType.case !== "sleep") return false;
  if (threadEnded(state, thread)) return false;
  nodeRun.nodeType.value.matured = true;
  completeNodeRun(nodeRun, ctx.nowMs);
  state.changes.nodeRuns.add(nodeRunKey(thread, position));
  return true;
}

export function arriveAtThrowEventNode(
  state: WfRunState,
  ctx: EngineContext,
  thread: ThreadRun,
  node: ThrowEventNode,
  nodeRun: NodeRun,
): void {
  const defName = node.eventDefId?.name ?? "";
  let content: VariableValue;
  try {
    content = node.content
      ? evaluateAssignment(node.content, threadScope(state, thread.number))
      : nullValue();
  } catch (e) {
    if (!(e instanceof VarSubError)) throw e;
    failNodeRun(nodeRun, errorFailure(LHErrorType.VAR_SUB_ERROR, e.message), ctx.nowMs);
    return;
  }
  const number = state.workflowEventCounts.get(defName) ?? 0;
  let thrownBefore = 0;
  for (const n of state.workflowEventCounts.values()) thrownBefore += n;
  state.workflowEventCounts.set(defName, number + 1);
  const createdAt = timestampFromMs(ctx.nowMs);
  createdAt.nanos += thrownBefore % 1_000_000;
  const event = create(WorkflowEventSchema, {
    id: { wfRunId: state.wfRun.id, workflowEventDefId: { name: defName }, number },
    content,
    createdAt,
  });
  state.changes.workflowEvents.push(event);
  ctx.effects.push({ kind: "workflowEventThrown", event });
  nodeRun.nodeType = {
    case: "throwEvent",
    value: { $typeName: "littlehorse.ThrowEventNodeRun", workflowEventId: event.id },
  };
  completeNodeRun(nodeRun, ctx.nowMs);
}
