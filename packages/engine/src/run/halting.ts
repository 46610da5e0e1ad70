/**
 * Halting and resuming ThreadRuns (B-THR-7…9).
 *
 *   RUNNING ──(a halt reason is added)──▶ HALTING ──(interruptible)──▶ HALTED
 *   HALTING / HALTED ──(the last halt reason is removed)──▶ RUNNING
 *
 * A thread's halt reasons are the truth; its status follows from them:
 *  - no reason: RUNNING;
 *  - some reason and interruptible: HALTED; otherwise HALTING. A thread is interruptible when no TaskAttempt of
 *    its current node is in flight (SCHEDULED, PENDING or RUNNING) and every child that halts with it is
 *    terminal or HALTED. A thread waiting at EXTERNAL_EVENT, USER_TASK or SLEEP halts at once.
 * Reasons: manual halt (StopWfRun), a pending or running interrupt, a failure being handled, and "parent
 * halted", which `syncHalts` keeps in step: a CHILD thread halts whenever its parent has any halt reason or has
 * failed; an INTERRUPT or FAILURE_HANDLER thread halts only when its parent is halted from outside (manual or
 * parent halt), since it must run while its parent waits for it.
 * Pending interrupts start their handler thread once the interrupted thread is HALTED.
 */
import { create } from "@bufbuild/protobuf";
import {
  LHStatus,
  TaskStatus,
  ThreadHaltReasonSchema,
  ThreadType,
  type ThreadHaltReason,
  type ThreadRun,
} from "@pony/proto";
import { nodeRunKey, type EngineContext, type WfRunState } from "./state";

export type HaltReasonCase = NonNullable<ThreadHaltReason["reason"]["case"]>;

export const isTerminal = (status: LHStatus): boolean =>
  status === LHStatus.COMPLETED || status === LHStatus.ERROR || status === LHStatus.EXCEPTION;

export function hasHaltReason(thread: ThreadRun, kind: HaltReasonCase): boolean {
  return thread.haltReasons.some((r) => r.reason.case === kind);
}

export function addHaltReason(
  state: WfRunState,
  thread: ThreadRun,
  reason: ThreadHaltReason["reason"],
): void {
  thread.haltReasons.push(create(ThreadHaltReasonSchema, { reason }));
  state.changes.wfRun = true;
}

export function removeHaltReasons(
  state: WfRunState,
  thread: ThreadRun,
  match: (r: ThreadHaltReason) => boolean,
): boolean {
  const before = thread.haltReasons.length;
  thread.haltReasons = thread.haltReasons.filter((r) => !match(r));
  if (thread.haltReasons.length !== before) state.changes.wfRun = true;
  return thread.haltReasons.length !== before;
}

/** Does this child halt when its parent is halted (or has failed)? */
function haltsWithParent(child: ThreadRun, parent: ThreadRun): boolean {
  if (child.type === ThreadType.CHILD) {
    return (
      parent.haltReasons.length > 0 ||
      parent.status === LHStatus.ERROR ||
      parent.status === LHStatus.EXCEPTION
    );
  }
  // handler threads run while their parent waits for them; only an outside halt stops them
  return hasHaltReason(parent, "manualHalt") || hasHaltReason(parent, "parentHalted");
}

function taskInFlight(state: WfRunState, thread: ThreadRun): boolean {
  const nodeRun = state.nodeRuns.get(nodeRunKey(thread.number, thread.currentNodePosition));
  if (nodeRun?.status !== LHStatus.RUNNING || nodeRun.nodeType.case !== "task") return false;
  const guid = nodeRun.nodeType.value.taskRunId?.taskGuid;
  const taskRun = guid === undefined ? undefined : state.taskRuns.get(guid);
  return (
    taskRun !== undefined &&
    (taskRun.status === TaskStatus.TASK_SCHEDULED ||
      taskRun.status === TaskStatus.TASK_RUNNING ||
      taskRun.status === TaskStatus.TASK_PENDING)
  );
}

export function isInterruptible(state: WfRunState, thread: ThreadRun): boolean {
  if (taskInFlight(state, thread)) return false;
  for (const childNumber of thread.childThreadIds) {
    const child = state.wfRun.threadRuns.find((t) => t.number === childNumber);
    if (!child || isTerminal(child.status) || !haltsWithParent(child, thread)) continue;
    if (child.status !== LHStatus.HALTED) return false;
  }
  return true;
}

/**
 * Brings halt reasons and statuses in step (see the comment at the top). Returns true if anything changed,
 * so that the caller runs the threads that may move again.
 */
export function syncHalts(state: WfRunState): boolean {
  let changed = false;
  const threads = [...state.wfRun.threadRuns].sort((a, b) => a.number - b.number);
  const byNumber = new Map(threads.map((t) => [t.number, t]));
  // reasons, parents before children
  for (const t of threads) {
    if (isTerminal(t.status) || t.parentThreadId === undefined) continue;
    const parent = byNumber.get(t.parentThreadId);
    const should = parent !== undefined && haltsWithParent(t, parent);
    const has = t.haltReasons.some(
      (r) => r.reason.case === "parentHalted" && r.reason.value.parentThreadId === t.parentThreadId,
    );
    if (should && !has) {
      addHaltReason(state, t, { case: "parentHalted", value: { parentThreadId: t.parentThreadId } as never });
      changed = true;
    } else if (!should && has) {
      removeHaltReasons(state, t, (r) => r.reason.case === "parentHalted");
      changed = true;
    }
  }
  // statuses, children before parents (a parent is HALTED only once its children are)
  for (const t of [...threads].reverse()) {
    if (isTerminal(t.status)) continue;
    let next: LHStatus;
    if (t.haltReasons.length === 0) next = LHStatus.RUNNING;
    else next = isInterruptible(state, t) ? LHStatus.HALTED : LHStatus.HALTING;
    if (next !== t.status) {
      t.status = next;
      state.changes.wfRun = true;
      changed = true;
    }
  }
  const entry = threads.find((t) => t.type === ThreadType.ENTRYPOINT);
  if (entry && !isTerminal(entry.status) && state.wfRun.status !== entry.status) {
    state.wfRun.status = entry.status;
    state.changes.wfRun = true;
  }
  return changed;
}

/** StopWfRun: a manual halt on the thread (B-THR-9). */
export function stopThread(state: WfRunState, _ctx: EngineContext, thread: ThreadRun): boolean {
  if (isTerminal(thread.status) || hasHaltReason(thread, "manualHalt")) return false;
  addHaltReason(state, thread, { case: "manualHalt", value: { meaningOfLife: true } as never });
  return true;
}

/** ResumeWfRun: removes the manual halt; the thread runs again once no reason remains. */
export function resumeThread(state: WfRunState, _ctx: EngineContext, thread: ThreadRun): boolean {
  return removeHaltReasons(state, thread, (r) => r.reason.case === "manualHalt");
}
