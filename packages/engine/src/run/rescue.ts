/**
 * RescueThreadRun (B-THR-10): a thread that failed at a node can be sent back to work. Allowed only when the
 * thread is ERROR or EXCEPTION, its latest NodeRun failed, no failure handler ran for that failure, and no
 * ancestor has handled it (`handled_failed_children` along the way up); a thread number the WfRun never had
 * is INVALID_ARGUMENT, every other refusal FAILED_PRECONDITION. The node runs again (a new NodeRun for the
 * same node), or with `skip_current_node` the thread goes on along the node's edges (without mutations, as
 * after a handled failure; a skipped WAIT_FOR_THREADS or EXIT counts the children it re-threw as handled).
 * Ancestors that failed only because this thread failed come back too, so the WfRun continues: a parent whose
 * WAIT_FOR_THREADS or EXIT re-threw the failure runs that node again; the thread a failed failure handler or
 * interrupt handler served is HALTED again, waiting for the rescued handler, and goes on when it ends.
 */
import { LHStatus, ThreadType, type ThreadHaltReason, type ThreadRun } from "@pony/proto";
import { FailedPreconditionError, InvalidArgumentError } from "../errors";
import { arriveAtNode, childrenReportedBy, markChildFailuresHandled } from "./nodes";
import type { EngineContext, WfRunState } from "./state";
import { addHaltReason, setThreadStatus } from "./halting";
import { currentNodeRun, findThread, newNodeRun, threadSpecOf, touchNodeRun } from "./thread";

const failed = (t: ThreadRun) => t.status === LHStatus.ERROR || t.status === LHStatus.EXCEPTION;

export function rescueThread(
  state: WfRunState,
  ctx: EngineContext,
  threadNumber: number,
  skipCurrentNode: boolean,
): void {
  if (threadNumber < 0 || threadNumber > state.wfRun.greatestThreadrunNumber) {
    throw new InvalidArgumentError(`WfRun '${state.wfRun.id?.id}' has no thread ${threadNumber}`);
  }
  const thread = findThread(state, threadNumber);
  if (!thread) {
    throw new FailedPreconditionError(`thread ${threadNumber} was removed by its ThreadRetentionPolicy`);
  }
  if (!failed(thread)) {
    throw new FailedPreconditionError(
      `thread ${threadNumber} is ${LHStatus[thread.status]}: only a failed thread can be rescued`,
    );
  }
  const nodeRun = currentNodeRun(state, thread);
  const failure = nodeRun?.failures[nodeRun.failures.length - 1];
  if (!nodeRun || (nodeRun.status !== LHStatus.ERROR && nodeRun.status !== LHStatus.EXCEPTION) || !failure) {
    throw new FailedPreconditionError(`the latest NodeRun of thread ${threadNumber} did not fail`);
  }
  if (failure.failureHandlerThreadrunId !== undefined || failure.wasProperlyHandled) {
    throw new FailedPreconditionError(
      `the failure of thread ${threadNumber} went to failure handler thread ${failure.failureHandlerThreadrunId}`,
    );
  }
  for (let child = thread, p = parentOf(state, child); p; child = p, p = parentOf(state, p)) {
    if (p.handledFailedChildren.includes(child.number)) {
      throw new FailedPreconditionError(
        `thread ${p.number} has already handled the failure of thread ${child.number}`,
      );
    }
  }
  // Ancestors that failed because of this thread, found before it runs again.
  const ancestors: Revival[] = [];
  for (let child = thread, p = parentOf(state, child); p; child = p, p = parentOf(state, p)) {
    const revival = failedBecauseOf(state, p, child);
    if (!revival) break;
    ancestors.push(revival);
  }
  revive(state, ctx, thread, skipCurrentNode);
  for (const a of ancestors) {
    if (a.awaits) awaitHandlerAgain(state, a.thread, a.awaits);
    else revive(state, ctx, a.thread, false);
  }
}

/** An ancestor to bring back: it runs its failed node again, or (`awaits`) it waits again for its handler. */
interface Revival {
  thread: ThreadRun;
  awaits?: ThreadHaltReason["reason"];
}

/**
 * Whether `p` failed only because `child` failed, and how it comes back: a parent whose WAIT_FOR_THREADS or
 * EXIT re-threw the child's failure runs that node again; a thread whose failure handler or interrupt
 * handler failed waits for that handler again, halted as it was while the handler ran.
 */
function failedBecauseOf(state: WfRunState, p: ThreadRun, child: ThreadRun): Revival | undefined {
  const at = currentNodeRun(state, p);
  if (!failed(p) || !at) return undefined;
  switch (child.type) {
    case ThreadType.CHILD:
      return childrenReportedBy(state, p, at).includes(child.number) ? { thread: p } : undefined;
    case ThreadType.FAILURE_HANDLER: {
      const handled = child.failureBeingHandled;
      const record = handled && at.failures[handled.failureNumber];
      if (handled?.threadRunNumber !== p.number || handled.nodeRunPosition !== at.id?.position)
        return undefined;
      if (record?.failureHandlerThreadrunId !== child.number || record.wasProperlyHandled) return undefined;
      return {
        thread: p,
        awaits: { case: "handlingFailure", value: { handlerThreadId: child.number } as never },
      };
    }
    case ThreadType.INTERRUPT:
      // the thread's own node did not fail: it failed because its interrupt handler did
      if (at.status === LHStatus.ERROR || at.status === LHStatus.EXCEPTION) return undefined;
      return {
        thread: p,
        awaits: { case: "interrupted", value: { interruptThreadId: child.number } as never },
      };
    default:
      return undefined;
  }
}

/** A thread that failed because its handler failed is halted again, waiting for the rescued handler. */
function awaitHandlerAgain(state: WfRunState, thread: ThreadRun, reason: ThreadHaltReason["reason"]): void {
  setThreadStatus(state, thread, LHStatus.HALTED);
  thread.endTime = undefined;
  thread.errorMessage = undefined;
  thread.haltReasons = [];
  addHaltReason(state, thread, reason);
  state.changes.wfRun = true;
  if (thread.type === ThreadType.ENTRYPOINT) {
    state.wfRun.status = LHStatus.HALTED;
    state.wfRun.endTime = undefined;
  }
}

function parentOf(state: WfRunState, t: ThreadRun): ThreadRun | undefined {
  return t.parentThreadId === undefined ? undefined : findThread(state, t.parentThreadId);
}

function revive(state: WfRunState, ctx: EngineContext, thread: ThreadRun, skip: boolean): void {
  const failedNode = currentNodeRun(state, thread)!;
  if (skip) markChildFailuresHandled(state, thread, childrenReportedBy(state, thread, failedNode));
  setThreadStatus(state, thread, LHStatus.RUNNING);
  thread.endTime = undefined;
  thread.errorMessage = undefined;
  state.changes.wfRun = true;
  if (thread.type === ThreadType.ENTRYPOINT) {
    state.wfRun.status = LHStatus.RUNNING;
    state.wfRun.endTime = undefined;
  }
  if (skip) {
    const record = failedNode.failures[failedNode.failures.length - 1];
    if (record) record.wasProperlyHandled = true;
    touchNodeRun(state, failedNode);
    return;
  }
  const node = threadSpecOf(state, thread).nodes[failedNode.nodeName]!;
  const again = newNodeRun(state, ctx, thread, failedNode.nodeName, failedNode.id!.position + 1);
  arriveAtNode(state, ctx, thread, node, again);
}
