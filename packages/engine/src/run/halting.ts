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
 * Reasons: manual halt (StopWfRun), a pending or running interrupt, a pending or running failure handler,
 * and "parent halted", which `syncHalts` keeps in step: a CHILD thread halts whenever its parent has any halt
 * reason or has failed; an INTERRUPT or FAILURE_HANDLER thread halts only when its parent is halted from
 * outside (manual or parent halt), since it must run while its parent waits for it.
 * Pending interrupts and pending failure handlers start their handler thread once the thread is HALTED.
 * RUNNING / HALTING / HALTED change only in `syncHalts`; until it runs, `haltedFromAbove` tells the settle
 * loop which RUNNING threads must not move because an ancestor just halted or failed.
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
export function haltsWithParent(child: ThreadRun, parent: ThreadRun): boolean {
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
  const index = threadIndex(state);
  for (const childNumber of thread.childThreadIds) {
    const child = index.get(childNumber);
    if (!child || isTerminal(child.status) || !haltsWithParent(child, thread)) continue;
    if (child.status !== LHStatus.HALTED) return false;
  }
  return true;
}

/**
 * Brings halt reasons and statuses in step (see the comment at the top). Returns true if anything changed,
 * so that the caller runs the threads that may move again. `threads` must hold every thread that is not
 * terminated, in start order (a parent before its children), as `thread_runs` does.
 */
export function syncHalts(
  state: WfRunState,
  threads: readonly ThreadRun[] = state.wfRun.threadRuns,
): boolean {
  let changed = false;
  const index = threadIndex(state);
  // reasons, parents before children
  for (const t of threads) {
    if (isTerminal(t.status) || t.parentThreadId === undefined) continue;
    const parent = index.get(t.parentThreadId);
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
  for (let i = threads.length - 1; i >= 0; i--) {
    const t = threads[i]!;
    if (isTerminal(t.status)) continue;
    let next: LHStatus;
    if (t.haltReasons.length === 0) next = LHStatus.RUNNING;
    else next = isInterruptible(state, t) ? LHStatus.HALTED : LHStatus.HALTING;
    if (next !== t.status) {
      setThreadStatus(state, t, next);
      state.changes.wfRun = true;
      changed = true;
    }
  }
  const entry = index.get(0);
  if (entry && !isTerminal(entry.status) && state.wfRun.status !== entry.status) {
    state.wfRun.status = entry.status;
    state.changes.wfRun = true;
  }
  return changed;
}

const indexes = new WeakMap<ThreadRun[], Map<number, ThreadRun>>();

/** Every change of a ThreadRun's status goes through here, so the live-thread count stays right. */
export function setThreadStatus(state: WfRunState, thread: ThreadRun, status: LHStatus): void {
  if (state.liveThreads !== undefined) {
    state.liveThreads += (isTerminal(status) ? 0 : 1) - (isTerminal(thread.status) ? 0 : 1);
  }
  thread.status = status;
}

/**
 * The WfRun's threads by number. Threads are only ever appended to `thread_runs` (a removed thread gives a new
 * array), so the index of an array is kept and extended rather than rebuilt: a WfRun with thousands of
 * threads settles without scanning them for every lookup.
 */
export function threadIndex(state: WfRunState): Map<number, ThreadRun> {
  const threads = state.wfRun.threadRuns;
  let index = indexes.get(threads);
  const last = threads[threads.length - 1];
  if (
    !index ||
    index.size > threads.length ||
    (index.size === threads.length && last && index.get(last.number) !== last)
  ) {
    index = new Map();
    indexes.set(threads, index);
  }
  for (let i = index.size; i < threads.length; i++) index.set(threads[i]!.number, threads[i]!);
  return index;
}

/**
 * Whether a thread must stay where it is because an ancestor halted or failed since the last `syncHalts`
 * (which will then halt it). `memo` caches answers for one pass over the threads.
 */
export function haltedFromAbove(state: WfRunState, thread: ThreadRun, memo: Map<number, boolean>): boolean {
  if (thread.parentThreadId === undefined) return false;
  const known = memo.get(thread.number);
  if (known !== undefined) return known;
  memo.set(thread.number, false); // a cycle cannot halt anything
  const parent = threadIndex(state).get(thread.parentThreadId);
  const halted =
    parent !== undefined &&
    !isTerminal(thread.status) &&
    (haltsWithParent(thread, parent) || haltedFromAbove(state, parent, memo));
  memo.set(thread.number, halted);
  return halted;
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
