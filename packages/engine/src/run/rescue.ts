/**
 * RescueThreadRun (B-THR-10): a thread that failed at a node can be sent back to work. Allowed only when the
 * thread is ERROR or EXCEPTION, its latest NodeRun failed, no failure handler ran for that failure, and no
 * ancestor has handled it. The node runs again (a new NodeRun for the same node), or with
 * `skip_current_node` the thread goes on along the node's edges (without mutations, as after a handled
 * failure). Ancestors that failed only because this thread failed are revived the same way, so the WfRun
 * continues.
 */
import { LHStatus, ThreadType, type ThreadRun } from "@pony/proto";
import { FailedPreconditionError } from "../errors";
import { isTerminal } from "./halting";
import { arriveAtNode } from "./nodes";
import type { EngineContext, WfRunState } from "./state";
import { currentNodeRun, findThread, newNodeRun, threadSpecOf, touchNodeRun } from "./thread";

export function rescueThread(
  state: WfRunState,
  ctx: EngineContext,
  threadNumber: number,
  skipCurrentNode: boolean,
): void {
  const thread = findThread(state, threadNumber);
  if (!thread) throw new FailedPreconditionError(`WfRun has no thread ${threadNumber}`);
  if (thread.status !== LHStatus.ERROR && thread.status !== LHStatus.EXCEPTION) {
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
    throw new FailedPreconditionError(`the failure of thread ${threadNumber} was already handled`);
  }
  for (let p = parentOf(state, thread); p; p = parentOf(state, p)) {
    if (p.handledFailedChildren.includes(thread.number) && !isTerminal(p.status)) {
      throw new FailedPreconditionError(
        `thread ${p.number} has already handled the failure of thread ${threadNumber}`,
      );
    }
  }
  revive(state, ctx, thread, skipCurrentNode);
  // Ancestors that failed because of this thread go back to the node that reported it.
  let child: ThreadRun = thread;
  for (let p = parentOf(state, child); p; p = parentOf(state, p)) {
    if (p.status !== LHStatus.ERROR && p.status !== LHStatus.EXCEPTION) break;
    if (!p.handledFailedChildren.includes(child.number) || child.type === ThreadType.INTERRUPT) break;
    p.handledFailedChildren = p.handledFailedChildren.filter((n) => n !== child.number);
    revive(state, ctx, p, false);
    child = p;
  }
}

function parentOf(state: WfRunState, t: ThreadRun): ThreadRun | undefined {
  return t.parentThreadId === undefined ? undefined : findThread(state, t.parentThreadId);
}

function revive(state: WfRunState, ctx: EngineContext, thread: ThreadRun, skip: boolean): void {
  const failed = currentNodeRun(state, thread)!;
  thread.status = LHStatus.RUNNING;
  thread.endTime = undefined;
  thread.errorMessage = undefined;
  state.changes.wfRun = true;
  if (thread.type === ThreadType.ENTRYPOINT) {
    state.wfRun.status = LHStatus.RUNNING;
    state.wfRun.endTime = undefined;
  }
  if (skip) {
    const record = failed.failures[failed.failures.length - 1];
    if (record) record.wasProperlyHandled = true;
    touchNodeRun(state, failed);
    return;
  }
  const node = threadSpecOf(state, thread).nodes[failed.nodeName]!;
  const again = newNodeRun(state, ctx, thread, failed.nodeName, failed.id!.position + 1);
  arriveAtNode(state, ctx, thread, node, again);
}
