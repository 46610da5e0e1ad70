/**
 * ExternalEvents arriving at a WfRun, and interrupts (B-EVT-1, B-EVT-2, B-THR-7).
 *
 * A posted event is kept with the WfRun. If its def is an InterruptDef of a live thread (the targeted thread
 * only, when the event names one), it interrupts that thread: the thread gets a pending-interrupt halt reason
 * and the WfRun a PendingInterrupt; once the thread is HALTED an INTERRUPT thread starts (a child of the
 * interrupted thread, the content in its INPUT), the event is marked claimed, and the reason becomes
 * "interrupted" until the handler ends. Several interrupts stack. An event that interrupts nothing waits for
 * an EXTERNAL_EVENT node to claim it (event-nodes.ts).
 */
import { create } from "@bufbuild/protobuf";
import {
  LHStatus,
  PendingInterruptSchema,
  ThreadType,
  type ExternalEvent,
  type VariableValue,
} from "@pony/proto";
import { nullValue } from "../variables";
import { addHaltReason, isTerminal, removeHaltReasons } from "./halting";
import { eventKey, type EngineContext, type WfRunState } from "./state";
import { findThread, startThread, threadSpecOf } from "./thread";

export function postExternalEvent(
  state: WfRunState,
  ctx: EngineContext,
  event: ExternalEvent,
  retentionSeconds?: number,
): void {
  const defName = event.id?.externalEventDefId?.name ?? "";
  const key = eventKey(defName, event.id?.guid ?? "");
  state.externalEvents.set(key, event);
  state.changes.externalEvents.add(key);
  const targets = state.wfRun.threadRuns.filter(
    (t) =>
      !isTerminal(t.status) &&
      (event.threadRunNumber === undefined || event.threadRunNumber === t.number) &&
      threadSpecOf(state, t).interruptDefs.some((d) => d.externalEventDefId?.name === defName),
  );
  for (const thread of targets) {
    const def = threadSpecOf(state, thread).interruptDefs.find(
      (d) => d.externalEventDefId?.name === defName,
    )!;
    state.wfRun.pendingInterrupts.push(
      create(PendingInterruptSchema, {
        externalEventId: event.id,
        handlerSpecName: def.handlerSpecName,
        interruptedThreadId: thread.number,
      }),
    );
    addHaltReason(state, thread, { case: "pendingInterrupt", value: { externalEventId: event.id } as never });
  }
  if (targets.length > 0) state.changes.wfRun = true;
  if (retentionSeconds !== undefined && targets.length === 0) {
    // ExternalEventRetentionPolicy (B-EVT-4): dropped then if still unclaimed
    ctx.effects.push({
      kind: "armTimer",
      key: `event-retention/${key}`,
      dueMs: ctx.nowMs + retentionSeconds * 1000,
      command: { kind: "externalEventExpired", defName, guid: event.id?.guid ?? "" },
    });
  }
}

/** Starts the handler of every pending interrupt whose thread is now HALTED. Returns true if any started. */
export function startPendingInterrupts(state: WfRunState, ctx: EngineContext): boolean {
  let started = false;
  const still = [];
  for (const pending of state.wfRun.pendingInterrupts) {
    const thread = findThread(state, pending.interruptedThreadId);
    const id = pending.externalEventId;
    const key = eventKey(id?.externalEventDefId?.name ?? "", id?.guid ?? "");
    const sameEvent = (r: { reason: { case?: string; value?: unknown } }) =>
      r.reason.case === "pendingInterrupt" &&
      (r.reason.value as { externalEventId?: { guid?: string } }).externalEventId?.guid === id?.guid;
    if (!thread || isTerminal(thread.status)) {
      started = true;
      continue;
    }
    if (thread.status !== LHStatus.HALTED) {
      still.push(pending);
      continue;
    }
    const event = state.externalEvents.get(key);
    const inputs = new Map<string, VariableValue>([["INPUT", event?.content ?? nullValue()]]);
    const handler = startThread(state, ctx, {
      threadSpecName: pending.handlerSpecName,
      type: ThreadType.INTERRUPT,
      parentThreadId: thread.number,
      inputs,
      receivesInput: true,
      interruptTriggerId: id,
    });
    removeHaltReasons(state, thread, sameEvent);
    addHaltReason(state, thread, {
      case: "interrupted",
      value: { interruptThreadId: handler.number } as never,
    });
    if (event) {
      event.claimed = true;
      event.threadRunNumber = handler.number;
      state.changes.externalEvents.add(key);
    }
    started = true;
  }
  if (started) {
    state.wfRun.pendingInterrupts = still;
    state.changes.wfRun = true;
  }
  return started;
}
