/**
 * The ThreadRun state machine.
 *
 *   RUNNING ──(EXIT node completes)──────────────────────────────────────▶ COMPLETED
 *   RUNNING ──(a failure nobody handles)─────────────────────────────────▶ ERROR (built-in failure)
 *                                                                        └▶ EXCEPTION (business failure)
 *   RUNNING ⇄ HALTING ⇄ HALTED  (halt reasons: see halting.ts)
 *
 * A thread always has exactly one current NodeRun (position `current_node_position`). While RUNNING:
 *  - the NodeRun is RUNNING: the thread waits; nodes that wait on other threads or events are polled
 *    (`pollNode`) each time the WfRun settles;
 *  - the NodeRun is COMPLETED: the thread takes the first outgoing edge whose condition holds (B-RUN-6),
 *    applies that edge's mutations all-or-nothing (B-RUN-8) and arrives at the next node (position + 1);
 *  - the NodeRun failed: with a matching FailureHandlerDef the thread halts (a pending failure); once it is
 *    HALTED (its children halted too) a FAILURE_HANDLER thread starts and the thread stays halted until it
 *    ends (B-THR-4): handled → the thread goes on along the node's edges (without mutations); not handled,
 *    or no handler → the thread fails with the node's failure (B-THR-5).
 * When a thread ends it tells whoever waits on it: the WfRun (entrypoint), the thread whose failure or
 * interrupt it handled, or its parent's WAIT_FOR_THREADS / EXIT (picked up when the WfRun settles).
 * A thread may create at most `maxNodeRunsPerCommand` NodeRuns while the WfRun hears nothing from outside
 * (counted over the whole command and the later turns it continues in, turns.ts); beyond that the thread
 * fails, so a tight loop cannot run forever.
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  FailureHandlerDef_LHFailureType,
  LHErrorType,
  LHStatus,
  NodeRunSchema,
  PendingFailureHandlerSchema,
  ThreadRunSchema,
  ThreadVarDefSchema,
  ThreadType,
  VariableSchema,
  WfRunVariableAccessLevel,
  VariableIdSchema,
  type FailureHandlerDef,
  type Node,
  type NodeRun,
  type ThreadRun,
  type ThreadSpec,
  type VariableValue,
} from "@pony/proto";
import { VarSubError, evaluateConditionExpression, evaluateEdgeCondition, nullValue } from "../variables";
import { INPUT_VARIABLE } from "../metadata/wf-spec-threads";
import { errorFailure, nodeRunFailure, type ThreadFailure } from "./failures";
import { addHaltReason, isTerminal, removeHaltReasons, setThreadStatus, threadIndex } from "./halting";
import { arriveAtNode, childrenReportedBy, markChildFailuresHandled, nodeOutput, pollNode } from "./nodes";
import { applyMutations } from "./mutations";
import { turnSpent } from "./turns";
import { threadScope } from "./scope";
import { nodeRunKey, variableKey, type EngineContext, type WfRunState } from "./state";

export function findThread(state: WfRunState, number: number): ThreadRun | undefined {
  return threadIndex(state).get(number);
}

export function threadSpecOf(state: WfRunState, thread: ThreadRun): ThreadSpec {
  const spec = state.wfSpec.threadSpecs[thread.threadSpecName];
  if (!spec) throw new Error(`WfSpec has no ThreadSpec '${thread.threadSpecName}'`);
  return spec;
}

export function currentNodeRun(state: WfRunState, thread: ThreadRun): NodeRun | undefined {
  return state.nodeRuns.get(nodeRunKey(thread.number, thread.currentNodePosition));
}

export function touchNodeRun(state: WfRunState, nodeRun: NodeRun): void {
  state.changes.nodeRuns.add(nodeRunKey(nodeRun.id!.threadRunNumber, nodeRun.id!.position));
}

/** ThreadRuns of the WfRun that are not terminal (the guard counts these). */
export function liveThreadCount(state: WfRunState): number {
  state.liveThreads ??= state.wfRun.threadRuns.filter((t) => !isTerminal(t.status)).length;
  return state.liveThreads;
}

/**
 * Creates a ThreadRun with its Variables (input value, else default, else null) and its ENTRYPOINT NodeRun.
 * The caller lets the WfRun settle, which runs it. Inputs the ThreadSpec does not declare are ignored, except
 * the `INPUT` the engine gives handler threads and START_MULTIPLE_THREADS children (`receivesInput`): they
 * may read it without declaring it (as WfSpec validation allows), so it is created for them.
 */
export function startThread(
  state: WfRunState,
  ctx: EngineContext,
  args: {
    threadSpecName: string;
    type: ThreadType;
    parentThreadId?: number;
    inputs: Map<string, VariableValue>;
    failureBeingHandled?: ThreadRun["failureBeingHandled"];
    interruptTriggerId?: ThreadRun["interruptTriggerId"];
    receivesInput?: boolean;
  },
): ThreadRun {
  const spec = state.wfSpec.threadSpecs[args.threadSpecName];
  if (!spec) throw new Error(`WfSpec has no ThreadSpec '${args.threadSpecName}'`);
  const number = state.wfRun.threadRuns.length === 0 ? 0 : state.wfRun.greatestThreadrunNumber + 1;
  const thread = create(ThreadRunSchema, {
    wfSpecId: state.wfRun.wfSpecId,
    number,
    status: LHStatus.RUNNING,
    threadSpecName: args.threadSpecName,
    startTime: timestampFromMs(ctx.nowMs),
    parentThreadId: args.parentThreadId,
    currentNodePosition: 0,
    type: args.type,
    failureBeingHandled: args.failureBeingHandled,
    interruptTriggerId: args.interruptTriggerId,
  });
  state.wfRun.threadRuns.push(thread);
  if (state.liveThreads !== undefined && !isTerminal(thread.status)) state.liveThreads++;
  state.wfRun.greatestThreadrunNumber = number;
  if (args.parentThreadId !== undefined) {
    findThread(state, args.parentThreadId)?.childThreadIds.push(number);
  }
  state.changes.wfRun = true;

  const defs = [...spec.variableDefs];
  if (args.receivesInput && !defs.some((d) => d.varDef?.name === INPUT_VARIABLE)) {
    defs.push(create(ThreadVarDefSchema, { varDef: { name: INPUT_VARIABLE } }));
  }
  for (const def of defs) {
    const varDef = def.varDef;
    if (!varDef) continue;
    // an INHERITED_VAR lives in the parent WfRun (scope.ts)
    if (def.accessLevel === WfRunVariableAccessLevel.INHERITED_VAR) continue;
    const value = args.inputs.get(varDef.name) ?? varDef.defaultValue ?? nullValue();
    const key = variableKey(number, varDef.name);
    state.variables.set(
      key,
      create(VariableSchema, {
        id: create(VariableIdSchema, { wfRunId: state.wfRun.id, threadRunNumber: number, name: varDef.name }),
        value,
        createdAt: timestampFromMs(ctx.nowMs),
        wfSpecId: state.wfRun.wfSpecId,
      }),
    );
    state.changes.variables.add(key);
  }

  const entrypointName = Object.entries(spec.nodes).find(([, n]) => n.node.case === "entrypoint")?.[0];
  if (entrypointName === undefined) throw new Error(`ThreadSpec '${args.threadSpecName}' has no ENTRYPOINT`);
  const entry = newNodeRun(state, ctx, thread, entrypointName, 0);
  entry.nodeType = { case: "entrypoint", value: {} as never };
  completeNodeRun(entry, ctx.nowMs);
  return thread;
}

export function newNodeRun(
  state: WfRunState,
  ctx: EngineContext,
  thread: ThreadRun,
  nodeName: string,
  position: number,
): NodeRun {
  const nodeRun = create(NodeRunSchema, {
    id: { wfRunId: state.wfRun.id, threadRunNumber: thread.number, position },
    wfSpecId: state.wfRun.wfSpecId,
    status: LHStatus.RUNNING,
    arrivalTime: timestampFromMs(ctx.nowMs),
    threadSpecName: thread.threadSpecName,
    nodeName,
  });
  const key = nodeRunKey(thread.number, position);
  state.nodeRuns.set(key, nodeRun);
  state.changes.nodeRuns.add(key);
  thread.currentNodePosition = position;
  state.changes.wfRun = true;
  return nodeRun;
}

export function completeNodeRun(nodeRun: NodeRun, nowMs: number): void {
  nodeRun.status = LHStatus.COMPLETED;
  nodeRun.endTime = timestampFromMs(nowMs);
}

/**
 * Moves a RUNNING thread forward until it waits, ends or halts (see the comment at the top). Returns true if
 * it changed anything. `created` counts the NodeRuns each thread created in this command (the guard).
 */
export function advanceThread(
  state: WfRunState,
  ctx: EngineContext,
  threadNumber: number,
  created: Map<number, number> = new Map(),
): boolean {
  let changed = false;
  for (;;) {
    const thread = findThread(state, threadNumber);
    if (!thread || thread.status !== LHStatus.RUNNING) return changed;
    const nodeRun = currentNodeRun(state, thread);
    if (!nodeRun) throw new Error(`thread ${threadNumber} has no current NodeRun loaded`);
    const spec = threadSpecOf(state, thread);
    const node = spec.nodes[nodeRun.nodeName];
    if (!node) throw new Error(`ThreadSpec '${thread.threadSpecName}' has no node '${nodeRun.nodeName}'`);

    if (nodeRun.status === LHStatus.RUNNING) {
      if (!pollNode(state, ctx, thread, node, nodeRun)) return changed;
      touchNodeRun(state, nodeRun);
      changed = true;
      continue;
    }

    let handledFailure = false;
    if (nodeRun.status === LHStatus.ERROR || nodeRun.status === LHStatus.EXCEPTION) {
      const failure = nodeRun.failures[nodeRun.failures.length - 1];
      if (failure?.wasProperlyHandled) {
        handledFailure = true;
      } else if (failure?.failureHandlerThreadrunId !== undefined) {
        return changed; // its handler is running; the thread is halted until it ends
      } else {
        handleNodeFailure(state, ctx, thread, node, nodeRun);
        return true;
      }
    } else if (nodeRun.status !== LHStatus.COMPLETED) {
      return changed;
    }

    if (node.node.case === "exit") {
      // an EXIT completes the thread; so does a handled failure thrown by an EXIT's failure_def
      completeThread(state, ctx, thread);
      return true;
    }
    // this turn's budget is spent: the thread rests here and takes its edge in the next turn
    if (turnSpent(state, ctx)) return changed;
    const next = takeEdge(state, thread, node, nodeRun, handledFailure);
    if ("failure" in next) {
      // The failure belongs to the node whose edges failed, where a client (and failure handlers) see it.
      failNodeRunInPlace(state, nodeRun, next.failure, ctx.nowMs);
      changed = true;
      continue;
    }
    const count = (created.get(threadNumber) ?? 0) + 1;
    created.set(threadNumber, count);
    if (count > ctx.maxNodeRunsPerCommand) {
      failThread(
        state,
        ctx,
        thread,
        errorFailure(
          LHErrorType.INTERNAL_ERROR,
          `thread ${thread.number} ran more than ${ctx.maxNodeRunsPerCommand} nodes without waiting for ` +
            `anything outside the WfRun; the loop is stopped here`,
        ),
      );
      return true;
    }
    const arrived = newNodeRun(state, ctx, thread, next.sink, nodeRun.id!.position + 1);
    const sinkNode = spec.nodes[next.sink];
    if (!sinkNode) throw new Error(`ThreadSpec '${thread.threadSpecName}' has no node '${next.sink}'`);
    arriveAtNode(state, ctx, thread, sinkNode, arrived);
    changed = true;
  }
}

function failNodeRunInPlace(
  state: WfRunState,
  nodeRun: NodeRun,
  failure: ThreadFailure,
  nowMs: number,
): void {
  nodeRun.status = failure.isException ? LHStatus.EXCEPTION : LHStatus.ERROR;
  nodeRun.errorMessage = failure.message;
  nodeRun.endTime = timestampFromMs(nowMs);
  nodeRun.failures.push({
    $typeName: "littlehorse.Failure",
    failureName: failure.name,
    message: failure.message,
    content: failure.content,
    wasProperlyHandled: false,
  });
  touchNodeRun(state, nodeRun);
}

/** The first FailureHandlerDef of the node that catches this failure (B-THR-4). */
export function matchFailureHandler(
  handlers: readonly FailureHandlerDef[],
  failure: ThreadFailure,
): FailureHandlerDef | undefined {
  return handlers.find((h) => {
    const c = h.failureToCatch;
    switch (c.case) {
      case "specificFailure":
        return c.value === failure.name;
      case "anyFailureOfType":
        return c.value === FailureHandlerDef_LHFailureType.FAILURE_TYPE_EXCEPTION
          ? failure.isException
          : !failure.isException;
      default:
        return true;
    }
  });
}

/**
 * A failed node with a matching FailureHandlerDef: the thread halts (a pending failure, B-THR-4), and the
 * handler starts once it is HALTED (`startPendingFailureHandlers`). Without one, the thread fails.
 */
function handleNodeFailure(
  state: WfRunState,
  ctx: EngineContext,
  thread: ThreadRun,
  node: Node,
  nodeRun: NodeRun,
) {
  const failure = nodeRunFailure(nodeRun);
  const handler = matchFailureHandler(node.failureHandlers, failure);
  if (!handler || !state.wfSpec.threadSpecs[handler.handlerSpecName]) {
    failThread(state, ctx, thread, failure);
    return;
  }
  state.wfRun.pendingFailures.push(
    create(PendingFailureHandlerSchema, {
      failedThreadRun: thread.number,
      handlerSpecName: handler.handlerSpecName,
    }),
  );
  addHaltReason(state, thread, {
    case: "pendingFailure",
    value: { nodeRunPosition: nodeRun.id!.position } as never,
  });
}

/**
 * Starts the handler of every pending failure whose thread is now HALTED; the thread's halt reason becomes
 * "handling failure" until the handler ends. Returns true if any started.
 */
export function startPendingFailureHandlers(state: WfRunState, ctx: EngineContext): boolean {
  if (state.wfRun.pendingFailures.length === 0) return false;
  let started = false;
  const still = [];
  for (const pending of state.wfRun.pendingFailures) {
    const thread = findThread(state, pending.failedThreadRun);
    const nodeRun = thread && currentNodeRun(state, thread);
    if (!thread || !nodeRun || isTerminal(thread.status)) {
      started = true;
      continue;
    }
    if (thread.status !== LHStatus.HALTED) {
      still.push(pending);
      continue;
    }
    const handler = startFailureHandler(
      state,
      ctx,
      thread,
      nodeRun,
      pending.handlerSpecName,
      nodeRunFailure(nodeRun),
    );
    removeHaltReasons(state, thread, (r) => r.reason.case === "pendingFailure");
    addHaltReason(state, thread, {
      case: "handlingFailure",
      value: { handlerThreadId: handler.number } as never,
    });
    started = true;
  }
  if (started) {
    state.wfRun.pendingFailures = still;
    state.changes.wfRun = true;
  }
  return started;
}

/**
 * Starts a FAILURE_HANDLER thread as a child of `failed`, with the failure's content in INPUT, and records
 * it on the failure (`failure_handler_threadrun_id`) and the NodeRun (`failure_handler_ids`).
 */
export function startFailureHandler(
  state: WfRunState,
  ctx: EngineContext,
  failed: ThreadRun,
  nodeRun: NodeRun,
  handlerSpecName: string,
  failure: ThreadFailure,
): ThreadRun {
  const inputs = new Map<string, VariableValue>();
  if (failure.content) inputs.set("INPUT", failure.content);
  const handler = startThread(state, ctx, {
    threadSpecName: handlerSpecName,
    type: ThreadType.FAILURE_HANDLER,
    parentThreadId: failed.number,
    inputs,
    receivesInput: true,
    failureBeingHandled: {
      $typeName: "littlehorse.FailureBeingHandled",
      threadRunNumber: failed.number,
      nodeRunPosition: nodeRun.id!.position,
      failureNumber: nodeRun.failures.length - 1,
    },
  });
  const record = nodeRun.failures[nodeRun.failures.length - 1];
  if (record) record.failureHandlerThreadrunId = handler.number;
  nodeRun.failureHandlerIds.push(handler.number);
  touchNodeRun(state, nodeRun);
  return handler;
}

/**
 * Picks the first outgoing edge whose condition holds and applies its mutations. Mutations run in order
 * and see each other's results; if any fails, none of them sticks. After a handled failure the node has no
 * output and its edges' mutations do not run.
 */
function takeEdge(
  state: WfRunState,
  thread: ThreadRun,
  node: Node,
  nodeRun: NodeRun,
  afterHandledFailure: boolean,
): { sink: string } | { failure: ThreadFailure } {
  const output = afterHandledFailure ? undefined : nodeOutput(state, nodeRun);
  const outputs = new Map<string, VariableValue>();
  if (output !== undefined) outputs.set(nodeRun.nodeName, output);
  const scope = threadScope(state, thread.number, undefined, outputs);
  let chosen: Node["outgoingEdges"][number] | undefined;
  try {
    for (const edge of node.outgoingEdges) {
      const holds = edge.condition
        ? evaluateEdgeCondition(edge.condition, scope)
        : edge.expressionCondition
          ? evaluateConditionExpression(edge.expressionCondition, scope)
          : true;
      if (holds) {
        chosen = edge;
        break;
      }
    }
  } catch (e) {
    if (e instanceof VarSubError) {
      return {
        failure: errorFailure(LHErrorType.VAR_SUB_ERROR, `evaluating an edge condition: ${e.message}`),
      };
    }
    throw e;
  }
  if (!chosen) {
    return {
      failure: errorFailure(
        LHErrorType.VAR_SUB_ERROR,
        `no outgoing edge of node '${nodeRun.nodeName}' has a condition that holds`,
      ),
    };
  }
  if (chosen.variableMutations.length > 0 && !afterHandledFailure) {
    const failed = applyMutations(state, thread.number, chosen.variableMutations, outputs, output);
    if (failed !== undefined) {
      return {
        failure: errorFailure(
          LHErrorType.VAR_MUTATION_ERROR,
          `mutating variables after node '${nodeRun.nodeName}': ${failed}`,
        ),
      };
    }
  }
  return { sink: chosen.sinkNodeName };
}

function completeThread(state: WfRunState, ctx: EngineContext, thread: ThreadRun): void {
  setThreadStatus(state, thread, LHStatus.COMPLETED);
  thread.endTime = timestampFromMs(ctx.nowMs);
  thread.haltReasons = [];
  state.changes.wfRun = true;
  onThreadEnded(state, ctx, thread, undefined);
}

export function failThread(
  state: WfRunState,
  ctx: EngineContext,
  thread: ThreadRun,
  failure: ThreadFailure,
): void {
  if (isTerminal(thread.status)) return;
  setThreadStatus(state, thread, failure.isException ? LHStatus.EXCEPTION : LHStatus.ERROR);
  thread.errorMessage = failure.message;
  thread.endTime = timestampFromMs(ctx.nowMs);
  thread.haltReasons = [];
  state.changes.wfRun = true;
  onThreadEnded(state, ctx, thread, failure);
}

/** Tells whoever waits on a thread that it ended (see the comment at the top). */
function onThreadEnded(
  state: WfRunState,
  ctx: EngineContext,
  thread: ThreadRun,
  failure: ThreadFailure | undefined,
): void {
  const retention = threadSpecOf(state, thread).retentionPolicy?.threadGcPolicy;
  if (retention?.case === "secondsAfterThreadTermination" && thread.type !== ThreadType.ENTRYPOINT) {
    ctx.effects.push({
      kind: "armTimer",
      key: `thread-retention/${thread.number}`,
      dueMs: ctx.nowMs + Number(retention.value) * 1000,
      command: { kind: "threadExpired", threadRunNumber: thread.number },
    });
  }
  switch (thread.type) {
    case ThreadType.ENTRYPOINT:
      state.wfRun.status = thread.status;
      state.wfRun.endTime = timestampFromMs(ctx.nowMs);
      ctx.effects.push({ kind: "wfRunEnded", status: thread.status });
      return;
    case ThreadType.FAILURE_HANDLER: {
      const handled = thread.failureBeingHandled;
      const failed = handled && findThread(state, handled.threadRunNumber);
      if (!handled || !failed) return;
      const nodeRun = state.nodeRuns.get(nodeRunKey(handled.threadRunNumber, handled.nodeRunPosition));
      const record = nodeRun?.failures[handled.failureNumber];
      removeHaltReasons(
        state,
        failed,
        (r) => r.reason.case === "handlingFailure" && r.reason.value.handlerThreadId === thread.number,
      );
      if (thread.status === LHStatus.COMPLETED) {
        if (record && nodeRun) {
          // a handled WAIT_FOR_THREADS / EXIT failure handles the children it re-threw
          markChildFailuresHandled(state, failed, childrenReportedBy(state, failed, nodeRun));
          record.wasProperlyHandled = true;
          touchNodeRun(state, nodeRun);
        }
      } else if (!isTerminal(failed.status)) {
        failThread(
          state,
          ctx,
          failed,
          failure ??
            errorFailure(LHErrorType.CHILD_FAILURE, `failure handler thread ${thread.number} failed`),
        );
      }
      return;
    }
    case ThreadType.INTERRUPT: {
      const interrupted =
        thread.parentThreadId === undefined ? undefined : findThread(state, thread.parentThreadId);
      if (!interrupted) return;
      removeHaltReasons(
        state,
        interrupted,
        (r) => r.reason.case === "interrupted" && r.reason.value.interruptThreadId === thread.number,
      );
      if (thread.status !== LHStatus.COMPLETED) {
        failThread(
          state,
          ctx,
          interrupted,
          failure ??
            errorFailure(LHErrorType.CHILD_FAILURE, `interrupt handler thread ${thread.number} failed`),
        );
      }
      return;
    }
    default:
      return; // a CHILD: its parent's WAIT_FOR_THREADS or EXIT notices when the WfRun settles
  }
}
