/**
 * Nodes that start and wait for child threads (B-THR-1…3).
 *  - START_THREAD starts one CHILD thread with the node's input variables; output = the child's number.
 *  - START_MULTIPLE_THREADS starts one CHILD per element of a JSON_ARR, the element in the child's INPUT;
 *    output = the JSON_ARR of child numbers.
 *  Starting threads that would take the WfRun past `maxThreadsPerWfRun` live threads fails the node instead.
 *  - WAIT_FOR_THREADS waits until every listed child is COMPLETED or its failure was handled. A child that
 *    fails is first offered to the node's per-thread failure handlers (run as a child of the failed child);
 *    if none matches, or the handler fails, the node fails: an ERROR child as CHILD_FAILURE, an EXCEPTION
 *    child with the same exception. A child whose per-thread handler completed joins the thread's
 *    `handled_failed_children`.
 */
import { create } from "@bufbuild/protobuf";
import {
  LHErrorType,
  LHStatus,
  ThreadType,
  WaitForThreadsRun_WaitForThreadSchema,
  WaitForThreadsRun_WaitingThreadStatus as Waiting,
  type NodeRun,
  type StartMultipleThreadsNode,
  type StartThreadNode,
  type ThreadRun,
  type VariableAssignment,
  type VariableValue,
  type WaitForThreadsNode,
} from "@pony/proto";
import { VarSubError, evaluateAssignment, fromJs, intValue, jsonArrValue, toJs } from "../variables";
import { errorFailure, failNodeRun, nodeRunFailure } from "./failures";
import { isTerminal } from "./halting";
import { childFailure, markChildFailuresHandled } from "./nodes";
import { threadScope } from "./scope";
import { nodeRunKey, type EngineContext, type WfRunState } from "./state";
import {
  completeNodeRun,
  findThread,
  liveThreadCount,
  matchFailureHandler,
  startFailureHandler,
  startThread,
} from "./thread";

function evaluateInputs(
  state: WfRunState,
  thread: ThreadRun,
  variables: Record<string, VariableAssignment>,
): Map<string, VariableValue> {
  const scope = threadScope(state, thread.number);
  const inputs = new Map<string, VariableValue>();
  for (const [name, assignment] of Object.entries(variables))
    inputs.set(name, evaluateAssignment(assignment, scope));
  return inputs;
}

function tooManyThreads(state: WfRunState, ctx: EngineContext, more: number): string | undefined {
  const live = liveThreadCount(state);
  return live + more > ctx.maxThreadsPerWfRun
    ? `starting ${more} thread(s) would exceed the limit of ${ctx.maxThreadsPerWfRun} live threads in one WfRun`
    : undefined;
}

export function arriveAtStartThreadNode(
  state: WfRunState,
  ctx: EngineContext,
  thread: ThreadRun,
  node: StartThreadNode,
  nodeRun: NodeRun,
): void {
  nodeRun.nodeType = {
    case: "startThread",
    value: { $typeName: "littlehorse.StartThreadRun", threadSpecName: node.threadSpecName },
  };
  let inputs: Map<string, VariableValue>;
  try {
    inputs = evaluateInputs(state, thread, node.variables);
  } catch (e) {
    if (!(e instanceof VarSubError)) throw e;
    failNodeRun(nodeRun, errorFailure(LHErrorType.VAR_SUB_ERROR, e.message), ctx.nowMs);
    return;
  }
  const limit = tooManyThreads(state, ctx, 1);
  if (limit) {
    failNodeRun(nodeRun, errorFailure(LHErrorType.INTERNAL_ERROR, limit), ctx.nowMs);
    return;
  }
  const child = startThread(state, ctx, {
    threadSpecName: node.threadSpecName,
    type: ThreadType.CHILD,
    parentThreadId: thread.number,
    inputs,
  });
  nodeRun.nodeType.value.childThreadId = child.number;
  completeNodeRun(nodeRun, ctx.nowMs);
}

export function arriveAtStartMultipleThreadsNode(
  state: WfRunState,
  ctx: EngineContext,
  thread: ThreadRun,
  node: StartMultipleThreadsNode,
  nodeRun: NodeRun,
): void {
  nodeRun.nodeType = {
    case: "startMultipleThreads",
    value: {
      $typeName: "littlehorse.StartMultipleThreadsRun",
      threadSpecName: node.threadSpecName,
      childThreadIds: [],
    },
  };
  let items: unknown[];
  let inputs: Map<string, VariableValue>;
  try {
    const iterable = node.iterable
      ? evaluateAssignment(node.iterable, threadScope(state, thread.number))
      : undefined;
    if (iterable?.value.case !== "jsonArr") {
      throw new VarSubError(`the iterable must be a JSON_ARR, got ${String(iterable?.value.case ?? "null")}`);
    }
    items = toJs(iterable) as unknown[];
    inputs = evaluateInputs(state, thread, node.variables);
  } catch (e) {
    if (!(e instanceof VarSubError)) throw e;
    failNodeRun(nodeRun, errorFailure(LHErrorType.VAR_SUB_ERROR, e.message), ctx.nowMs);
    return;
  }
  const limit = tooManyThreads(state, ctx, items.length);
  if (limit) {
    failNodeRun(nodeRun, errorFailure(LHErrorType.INTERNAL_ERROR, limit), ctx.nowMs);
    return;
  }
  const value = nodeRun.nodeType.value;
  for (const item of items) {
    const childInputs = new Map(inputs);
    childInputs.set("INPUT", fromJs(item));
    const child = startThread(state, ctx, {
      threadSpecName: node.threadSpecName,
      type: ThreadType.CHILD,
      parentThreadId: thread.number,
      inputs: childInputs,
      receivesInput: true,
    });
    value.childThreadIds.push(child.number);
  }
  completeNodeRun(nodeRun, ctx.nowMs);
}

/** START_THREAD's output is the child's number; START_MULTIPLE_THREADS' the JSON_ARR of numbers. */
export function threadNodeOutput(nodeRun: NodeRun): VariableValue | undefined {
  if (nodeRun.nodeType.case === "startThread" && nodeRun.nodeType.value.childThreadId !== undefined) {
    return intValue(nodeRun.nodeType.value.childThreadId);
  }
  if (nodeRun.nodeType.case === "startMultipleThreads") {
    return jsonArrValue([...nodeRun.nodeType.value.childThreadIds]);
  }
  return undefined;
}

export function arriveAtWaitForThreadsNode(
  state: WfRunState,
  ctx: EngineContext,
  thread: ThreadRun,
  node: WaitForThreadsNode,
  nodeRun: NodeRun,
): void {
  nodeRun.nodeType = {
    case: "waitThreads",
    value: { $typeName: "littlehorse.WaitForThreadsRun", threads: [] },
  };
  let numbers: number[];
  try {
    const scope = threadScope(state, thread.number);
    const which = node.threadsToWaitFor;
    if (which.case === "threads") {
      numbers = which.value.threads.map((t) => {
        const v = t.threadRunNumber ? evaluateAssignment(t.threadRunNumber, scope) : undefined;
        if (v?.value.case !== "int")
          throw new VarSubError("a thread to wait for must be an INT thread number");
        return Number(v.value.value);
      });
    } else if (which.case === "threadList") {
      const v = evaluateAssignment(which.value, scope);
      const list = v.value.case === "jsonArr" ? (toJs(v) as unknown[]) : undefined;
      if (!list || !list.every((n) => typeof n === "number" && Number.isInteger(n))) {
        throw new VarSubError("the thread list must be a JSON_ARR of thread numbers");
      }
      numbers = list as number[];
    } else {
      throw new VarSubError("WAIT_FOR_THREADS names no threads");
    }
    for (const n of numbers) {
      const child = findThread(state, n);
      if (!child) throw new VarSubError(`there is no thread ${n} to wait for`);
    }
  } catch (e) {
    if (!(e instanceof VarSubError)) throw e;
    failNodeRun(nodeRun, errorFailure(LHErrorType.VAR_SUB_ERROR, e.message), ctx.nowMs);
    return;
  }
  nodeRun.nodeType.value.threads = numbers.map((n) =>
    create(WaitForThreadsRun_WaitForThreadSchema, {
      threadRunNumber: n,
      threadStatus: findThread(state, n)!.status,
      waitingStatus: Waiting.THREAD_IN_PROGRESS,
    }),
  );
  pollWaitForThreadsNode(state, ctx, thread, node, nodeRun);
}

/** Re-checks the waited threads; returns true if the NodeRun completed or failed. */
export function pollWaitForThreadsNode(
  state: WfRunState,
  ctx: EngineContext,
  thread: ThreadRun,
  node: WaitForThreadsNode,
  nodeRun: NodeRun,
): boolean {
  if (nodeRun.nodeType.case !== "waitThreads" || nodeRun.status !== LHStatus.RUNNING) return false;
  let allDone = true;
  let touched = false;
  for (const entry of nodeRun.nodeType.value.threads) {
    const child = findThread(state, entry.threadRunNumber);
    if (!child) continue;
    if (entry.threadStatus !== child.status) {
      entry.threadStatus = child.status;
      touched = true;
    }
    if (entry.waitingStatus === Waiting.THREAD_COMPLETED_OR_FAILURE_HANDLED) continue;
    if (!isTerminal(child.status)) {
      allDone = false;
      continue;
    }
    if (child.status === LHStatus.COMPLETED) {
      entry.waitingStatus = Waiting.THREAD_COMPLETED_OR_FAILURE_HANDLED;
      entry.threadEndTime = child.endTime;
      touched = true;
      continue;
    }
    // the child failed
    if (entry.failureHandlerThreadRunId !== undefined) {
      const handler = findThread(state, entry.failureHandlerThreadRunId);
      if (!handler || !isTerminal(handler.status)) {
        allDone = false;
        continue;
      }
      if (handler.status === LHStatus.COMPLETED) {
        entry.waitingStatus = Waiting.THREAD_COMPLETED_OR_FAILURE_HANDLED;
        entry.threadEndTime = child.endTime;
        markChildFailuresHandled(state, thread, [child.number]);
        touched = true;
        continue;
      }
      entry.waitingStatus = Waiting.THREAD_UNSUCCESSFUL;
      return failWaitFor(state, ctx, nodeRun, child);
    }
    const failedNode = state.nodeRuns.get(nodeRunKey(child.number, child.currentNodePosition));
    const failure = failedNode ? nodeRunFailure(failedNode) : childFailure(state, child);
    const handlerDef = matchFailureHandler(node.perThreadFailureHandlers, failure);
    if (handlerDef && failedNode && state.wfSpec.threadSpecs[handlerDef.handlerSpecName]) {
      const handler = startFailureHandler(state, ctx, child, failedNode, handlerDef.handlerSpecName, failure);
      entry.failureHandlerThreadRunId = handler.number;
      entry.waitingStatus = Waiting.THREAD_HANDLING_FAILURE;
      allDone = false;
      touched = true;
      continue;
    }
    entry.waitingStatus = Waiting.THREAD_UNSUCCESSFUL;
    return failWaitFor(state, ctx, nodeRun, child);
  }
  if (touched) state.changes.nodeRuns.add(nodeRunKey(nodeRun.id!.threadRunNumber, nodeRun.id!.position));
  if (!allDone) return false;
  completeNodeRun(nodeRun, ctx.nowMs);
  return true;
}

/** Re-throws the child's failure from the WAIT_FOR_THREADS node (its entry says THREAD_UNSUCCESSFUL). */
function failWaitFor(state: WfRunState, ctx: EngineContext, nodeRun: NodeRun, child: ThreadRun) {
  failNodeRun(nodeRun, childFailure(state, child), ctx.nowMs);
  return true;
}
