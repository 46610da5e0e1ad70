/**
 * What happens when a thread arrives at a node, and how a waiting node is re-checked, by node type.
 * Nodes that finish on arrival (ENTRYPOINT, NOP, START_THREAD, START_MULTIPLE_THREADS, THROW_EVENT, a SLEEP in
 * the past) complete their NodeRun at once; the others wait with their NodeRun RUNNING: TASK (task-node.ts),
 * EXTERNAL_EVENT and SLEEP (event-nodes.ts), WAIT_FOR_THREADS (thread-nodes.ts), and EXIT while children of
 * the thread still run.
 */
import {
  LHErrorType,
  LHStatus,
  ThreadType,
  WaitForThreadsRun_WaitingThreadStatus,
  type Node,
  type NodeRun,
  type ThreadRun,
  type VariableValue,
} from "@pony/proto";
import { VarSubError, evaluateAssignment } from "../variables";
import {
  arriveAtExternalEventNode,
  arriveAtSleepNode,
  arriveAtThrowEventNode,
  externalEventNodeOutput,
  pollExternalEventNode,
} from "./event-nodes";
import { errorFailure, exceptionFailure, failNodeRun, nodeRunFailure, type ThreadFailure } from "./failures";
import { isTerminal, threadIndex } from "./halting";
import { threadScope } from "./scope";
import { nodeRunKey, type EngineContext, type WfRunState } from "./state";
import { arriveAtTaskNode, taskNodeOutput } from "./task-node";
import { completeNodeRun } from "./thread";
import {
  arriveAtStartMultipleThreadsNode,
  arriveAtStartThreadNode,
  arriveAtWaitForThreadsNode,
  pollWaitForThreadsNode,
  threadNodeOutput,
} from "./thread-nodes";
import { arriveAtUserTaskNode, userTaskNodeOutput } from "./user-task-node";

export function arriveAtNode(
  state: WfRunState,
  ctx: EngineContext,
  thread: ThreadRun,
  node: Node,
  nodeRun: NodeRun,
): void {
  switch (node.node.case) {
    case "entrypoint":
      nodeRun.nodeType = { case: "entrypoint", value: {} as never };
      completeNodeRun(nodeRun, ctx.nowMs);
      return;
    case "nop":
      completeNodeRun(nodeRun, ctx.nowMs);
      return;
    case "exit":
      nodeRun.nodeType = { case: "exit", value: {} as never };
      pollExit(state, ctx, thread, node, nodeRun);
      return;
    case "task":
      arriveAtTaskNode(state, ctx, thread, node.node.value, nodeRun);
      return;
    case "startThread":
      arriveAtStartThreadNode(state, ctx, thread, node.node.value, nodeRun);
      return;
    case "startMultipleThreads":
      arriveAtStartMultipleThreadsNode(state, ctx, thread, node.node.value, nodeRun);
      return;
    case "waitForThreads":
      arriveAtWaitForThreadsNode(state, ctx, thread, node.node.value, nodeRun);
      return;
    case "externalEvent":
      arriveAtExternalEventNode(state, ctx, thread, node.node.value, nodeRun);
      return;
    case "sleep":
      arriveAtSleepNode(state, ctx, thread, node.node.value, nodeRun);
      return;
    case "throwEvent":
      arriveAtThrowEventNode(state, ctx, thread, node.node.value, nodeRun);
      return;
    case "userTask":
      arriveAtUserTaskNode(state, ctx, thread, node.node.value, nodeRun);
      return;
    default:
      failNodeRun(
        nodeRun,
        errorFailure(LHErrorType.INTERNAL_ERROR, `node '${nodeRun.nodeName}' has no node type`),
        ctx.nowMs,
      );
  }
}

/** Re-checks a waiting node; returns true if its NodeRun moved (completed or failed). */
export function pollNode(
  state: WfRunState,
  ctx: EngineContext,
  thread: ThreadRun,
  node: Node,
  nodeRun: NodeRun,
): boolean {
  switch (node.node.case) {
    case "exit":
      return pollExit(state, ctx, thread, node, nodeRun);
    case "waitForThreads":
      return pollWaitForThreadsNode(state, ctx, thread, node.node.value, nodeRun);
    case "externalEvent":
      return pollExternalEventNode(state, ctx, thread, nodeRun);
    default:
      return false;
  }
}

/**
 * EXIT: waits until every CHILD thread has ended; a child that failed and whose failure was never handled
 * fails the node (CHILD_FAILURE, or the child's exception) (B-THR-5); an EXIT with a `failure_def` throws
 * that failure (B-THR-6).
 */
function pollExit(
  state: WfRunState,
  ctx: EngineContext,
  thread: ThreadRun,
  node: Node,
  nodeRun: NodeRun,
): boolean {
  const children = childThreads(state, thread);
  if (children.some((c) => !isTerminal(c.status))) return false;
  const unhandled = unhandledFailedChild(state, thread);
  if (unhandled) {
    failNodeRun(nodeRun, childFailure(state, unhandled), ctx.nowMs);
    return true;
  }
  const failureDef = node.node.case === "exit" ? node.node.value.failureDef : undefined;
  if (!failureDef) {
    completeNodeRun(nodeRun, ctx.nowMs);
    return true;
  }
  let content: VariableValue | undefined;
  try {
    content = failureDef.content
      ? evaluateAssignment(failureDef.content, threadScope(state, thread.number))
      : undefined;
  } catch (e) {
    if (!(e instanceof VarSubError)) throw e;
    failNodeRun(nodeRun, errorFailure(LHErrorType.VAR_SUB_ERROR, e.message), ctx.nowMs);
    return true;
  }
  const builtIn = /^[A-Z_]+$/.test(failureDef.failureName);
  failNodeRun(
    nodeRun,
    builtIn
      ? { name: failureDef.failureName, message: failureDef.message, content, isException: false }
      : exceptionFailure(failureDef.failureName, failureDef.message, content),
    ctx.nowMs,
  );
  return true;
}

function childThreads(state: WfRunState, thread: ThreadRun): ThreadRun[] {
  const index = threadIndex(state);
  return thread.childThreadIds.flatMap((n) => {
    const child = index.get(n);
    return child?.type === ThreadType.CHILD ? [child] : [];
  });
}

/** The first CHILD of the thread that failed and whose failure nobody handled (EXIT reports it). */
function unhandledFailedChild(state: WfRunState, thread: ThreadRun): ThreadRun | undefined {
  return childThreads(state, thread).find(
    (c) =>
      (c.status === LHStatus.ERROR || c.status === LHStatus.EXCEPTION) &&
      !thread.handledFailedChildren.includes(c.number),
  );
}

/**
 * The children whose failure a failed WAIT_FOR_THREADS or EXIT NodeRun re-threw. When that failure is handled
 * (a failure handler completes, or a rescue skips the node) they join the thread's `handled_failed_children`.
 */
export function childrenReportedBy(state: WfRunState, thread: ThreadRun, nodeRun: NodeRun): number[] {
  if (nodeRun.status !== LHStatus.ERROR && nodeRun.status !== LHStatus.EXCEPTION) return [];
  if (nodeRun.nodeType.case === "waitThreads") {
    return nodeRun.nodeType.value.threads
      .filter((t) => t.waitingStatus === WaitForThreadsRun_WaitingThreadStatus.THREAD_UNSUCCESSFUL)
      .map((t) => t.threadRunNumber);
  }
  if (nodeRun.nodeType.case === "exit") {
    const child = unhandledFailedChild(state, thread);
    return child ? [child.number] : [];
  }
  return [];
}

/** The failure that was re-thrown for these children is handled: EXIT does not report them again. */
export function markChildFailuresHandled(state: WfRunState, thread: ThreadRun, children: number[]): void {
  for (const n of children)
    if (!thread.handledFailedChildren.includes(n)) thread.handledFailedChildren.push(n);
  if (children.length > 0) state.changes.wfRun = true;
}

/** How a failed child is re-thrown in its parent: an EXCEPTION keeps its name, an ERROR is CHILD_FAILURE. */
export function childFailure(state: WfRunState, child: ThreadRun): ThreadFailure {
  const message = `child thread ${child.number} failed: ${child.errorMessage ?? ""}`;
  if (child.status === LHStatus.EXCEPTION) {
    const last = state.nodeRuns.get(nodeRunKey(child.number, child.currentNodePosition));
    const cause = last ? nodeRunFailure(last) : undefined;
    return exceptionFailure(cause?.isException ? cause.name : "child-exception", message, cause?.content);
  }
  return errorFailure(LHErrorType.CHILD_FAILURE, message);
}

/** The output of a finished NodeRun, used by `node_output` mutations (B-RUN-9). */
export function nodeOutput(state: WfRunState, nodeRun: NodeRun): VariableValue | undefined {
  if (nodeRun.status !== LHStatus.COMPLETED) return undefined;
  switch (nodeRun.nodeType.case) {
    case "task":
      return taskNodeOutput(state, nodeRun);
    case "externalEvent":
      return externalEventNodeOutput(state, nodeRun);
    case "startThread":
    case "startMultipleThreads":
      return threadNodeOutput(nodeRun);
    case "userTask":
      return userTaskNodeOutput(state, nodeRun);
    default:
      return undefined;
  }
}
