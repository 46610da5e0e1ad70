/**
 * The ThreadRun state machine.
 *
 *   RUNNING ──(EXIT node completes)──────────────────────────────▶ COMPLETED
 *   RUNNING ──(a NodeRun fails, no handler / edge or mutation fails)▶ ERROR (built-in failure)
 *                                                                  └▶ EXCEPTION (business failure)
 *
 * A RUNNING thread always has exactly one current NodeRun (position `current_node_position`):
 *  - the NodeRun is RUNNING: the thread waits (for a task worker, a timer, …) and does nothing;
 *  - the NodeRun is COMPLETED: the thread takes the first outgoing edge whose condition holds (B-RUN-6),
 *    applies that edge's mutations all-or-nothing (B-RUN-8) and arrives at the next node, creating the NodeRun
 *    at position + 1. Nodes that finish on arrival (ENTRYPOINT, NOP) let the thread move on at once;
 *  - the NodeRun failed: the failure becomes the thread's failure.
 * `advanceThread` repeats this until the thread waits or ends. One command may create at most
 * `maxNodeRunsPerCommand` NodeRuns; beyond that the thread fails, so a tight loop cannot hang the server.
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  LHErrorType,
  LHStatus,
  NodeRunSchema,
  ThreadRunSchema,
  ThreadType,
  VariableSchema,
  VariableIdSchema,
  type Node,
  type NodeRun,
  type ThreadRun,
  type ThreadSpec,
  type VariableValue,
} from "@pony/proto";
import {
  VarMutationError,
  VarSubError,
  applyMutation,
  evaluateConditionExpression,
  evaluateEdgeCondition,
  evaluateMutationRhs,
  nullValue,
} from "../variables";
import { arriveAtNode, nodeOutput } from "./nodes";
import { errorFailure, failNodeRun, nodeRunFailure, type ThreadFailure } from "./failures";
import { resolveVariableKey, threadScope } from "./scope";
import { nodeRunKey, variableKey, type EngineContext, type WfRunState } from "./state";

export function findThread(state: WfRunState, number: number): ThreadRun | undefined {
  return state.wfRun.threadRuns.find((t) => t.number === number);
}

export function threadSpecOf(state: WfRunState, thread: ThreadRun): ThreadSpec {
  const spec = state.wfSpec.threadSpecs[thread.threadSpecName];
  if (!spec) throw new Error(`WfSpec has no ThreadSpec '${thread.threadSpecName}'`);
  return spec;
}

export function currentNodeRun(state: WfRunState, thread: ThreadRun): NodeRun | undefined {
  return state.nodeRuns.get(nodeRunKey(thread.number, thread.currentNodePosition));
}

/**
 * Creates a ThreadRun with its Variables (input value, else default, else null) and its ENTRYPOINT NodeRun,
 * then advances it. `inputs` have already been validated against the ThreadSpec.
 */
export function startThread(
  state: WfRunState,
  ctx: EngineContext,
  args: {
    threadSpecName: string;
    type: ThreadType;
    parentThreadId?: number;
    inputs: Map<string, VariableValue>;
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
  });
  state.wfRun.threadRuns.push(thread);
  state.wfRun.greatestThreadrunNumber = number;
  if (args.parentThreadId !== undefined) {
    findThread(state, args.parentThreadId)?.childThreadIds.push(number);
  }
  state.changes.wfRun = true;

  for (const def of spec.variableDefs) {
    const varDef = def.varDef;
    if (!varDef) continue;
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
  advanceThread(state, ctx, number);
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

/** Moves a thread forward until it waits, completes or fails (see the comment at the top). */
export function advanceThread(state: WfRunState, ctx: EngineContext, threadNumber: number): void {
  let created = 0;
  for (;;) {
    const thread = findThread(state, threadNumber);
    if (!thread || thread.status !== LHStatus.RUNNING) return;
    const nodeRun = currentNodeRun(state, thread);
    if (!nodeRun) throw new Error(`thread ${threadNumber} has no current NodeRun loaded`);
    switch (nodeRun.status) {
      case LHStatus.COMPLETED: {
        const spec = threadSpecOf(state, thread);
        const node = spec.nodes[nodeRun.nodeName];
        if (!node) throw new Error(`ThreadSpec '${thread.threadSpecName}' has no node '${nodeRun.nodeName}'`);
        if (node.node.case === "exit") {
          completeThread(state, ctx, thread);
          return;
        }
        const next = takeEdge(state, thread, node, nodeRun);
        if ("failure" in next) {
          // The failure belongs to the NodeRun whose edges failed, so a client (and a handler) can see it.
          failNodeRun(nodeRun, next.failure, ctx.nowMs);
          state.changes.nodeRuns.add(nodeRunKey(thread.number, nodeRun.id!.position));
          failThread(state, ctx, thread, next.failure);
          return;
        }
        if (++created > ctx.maxNodeRunsPerCommand) {
          failThread(
            state,
            ctx,
            thread,
            errorFailure(
              LHErrorType.INTERNAL_ERROR,
              `thread ${thread.number} ran more than ${ctx.maxNodeRunsPerCommand} nodes without waiting; ` +
                `a loop without a blocking node is stopped here`,
            ),
          );
          return;
        }
        const arrived = newNodeRun(state, ctx, thread, next.sink, nodeRun.id!.position + 1);
        const sinkNode = spec.nodes[next.sink];
        if (!sinkNode) throw new Error(`ThreadSpec '${thread.threadSpecName}' has no node '${next.sink}'`);
        arriveAtNode(state, ctx, thread, sinkNode, arrived);
        continue;
      }
      case LHStatus.ERROR:
      case LHStatus.EXCEPTION:
        failThread(state, ctx, thread, nodeRunFailure(nodeRun));
        return;
      default:
        return; // waiting on the world
    }
  }
}

/**
 * Picks the first outgoing edge whose condition holds and applies its mutations. Mutations run in order
 * and see each other's results; if any fails, none of them sticks.
 */
function takeEdge(
  state: WfRunState,
  thread: ThreadRun,
  node: Node,
  nodeRun: NodeRun,
): { sink: string } | { failure: ThreadFailure } {
  const output = nodeOutput(state, nodeRun);
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
  if (chosen.variableMutations.length > 0) {
    const pending = new Map<string, VariableValue>();
    const pendingScope = threadScope(state, thread.number, pending, outputs);
    try {
      for (const m of chosen.variableMutations) {
        const key = resolveVariableKey(state, thread.number, m.lhsName);
        if (key === undefined) throw new VarMutationError(`variable '${m.lhsName}' is not declared`);
        const variable = state.variables.get(key)!;
        const declaredType = declaredTypeOf(state, key, m.lhsName);
        const rhs = evaluateMutationRhs(m, pendingScope, output);
        const next = applyMutation({
          current: pending.get(key) ?? variable.value,
          declaredType,
          operation: m.operation,
          rhs,
          lhsJsonPath: m.lhsJsonPath,
          lhsName: m.lhsName,
        });
        pending.set(key, next);
      }
    } catch (e) {
      if (e instanceof VarMutationError || e instanceof VarSubError) {
        return {
          failure: errorFailure(
            LHErrorType.VAR_MUTATION_ERROR,
            `mutating variables after node '${nodeRun.nodeName}': ${e.message}`,
          ),
        };
      }
      throw e;
    }
    for (const [key, value] of pending) {
      state.variables.get(key)!.value = value;
      state.changes.variables.add(key);
    }
  }
  return { sink: chosen.sinkNodeName };
}

function declaredTypeOf(state: WfRunState, key: string, name: string) {
  const threadNumber = Number(key.slice(0, key.indexOf("/")));
  const thread = findThread(state, threadNumber);
  const spec = thread ? state.wfSpec.threadSpecs[thread.threadSpecName] : undefined;
  const def = spec?.variableDefs.find((d) => d.varDef?.name === name)?.varDef;
  if (!def || def.type === undefined) throw new VarMutationError(`variable '${name}' has no declared type`);
  return def.type;
}

function completeThread(state: WfRunState, ctx: EngineContext, thread: ThreadRun): void {
  thread.status = LHStatus.COMPLETED;
  thread.endTime = timestampFromMs(ctx.nowMs);
  state.changes.wfRun = true;
  onThreadEnded(state, ctx, thread);
}

export function failThread(
  state: WfRunState,
  ctx: EngineContext,
  thread: ThreadRun,
  failure: ThreadFailure,
): void {
  thread.status = failure.isException ? LHStatus.EXCEPTION : LHStatus.ERROR;
  thread.errorMessage = failure.message;
  thread.endTime = timestampFromMs(ctx.nowMs);
  state.changes.wfRun = true;
  onThreadEnded(state, ctx, thread);
}

/** A WfRun's status is its entrypoint ThreadRun's status (B-RUN-5). */
function onThreadEnded(state: WfRunState, ctx: EngineContext, thread: ThreadRun): void {
  if (thread.type !== ThreadType.ENTRYPOINT) return;
  state.wfRun.status = thread.status;
  state.wfRun.endTime = timestampFromMs(ctx.nowMs);
  ctx.effects.push({ kind: "wfRunEnded", status: thread.status });
}
