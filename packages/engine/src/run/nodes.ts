/**
 * What happens when a thread arrives at a node, by node type. Nodes that finish on arrival (ENTRYPOINT, NOP,
 * EXIT) complete their NodeRun at once; a TASK node creates its TaskRun and waits (see task-run.ts).
 */
import {
  LHErrorType,
  LHStatus,
  type Node,
  type NodeRun,
  type ThreadRun,
  type VariableValue,
} from "@pony/proto";
import { VarSubError, evaluateAssignment } from "../variables";
import { errorFailure, exceptionFailure, failNodeRun } from "./failures";
import { threadScope } from "./scope";
import type { EngineContext, WfRunState } from "./state";
import { arriveAtTaskNode, taskNodeOutput } from "./task-node";
import { completeNodeRun } from "./thread";

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
    case "exit": {
      nodeRun.nodeType = { case: "exit", value: {} as never };
      const failureDef = node.node.value.failureDef;
      if (!failureDef) {
        completeNodeRun(nodeRun, ctx.nowMs);
        return;
      }
      let content: VariableValue | undefined;
      try {
        content = failureDef.content
          ? evaluateAssignment(failureDef.content, threadScope(state, thread.number))
          : undefined;
      } catch (e) {
        if (!(e instanceof VarSubError)) throw e;
        failNodeRun(nodeRun, errorFailure(LHErrorType.VAR_SUB_ERROR, e.message), ctx.nowMs);
        return;
      }
      const builtIn = /^[A-Z_]+$/.test(failureDef.failureName);
      failNodeRun(
        nodeRun,
        builtIn
          ? { name: failureDef.failureName, message: failureDef.message, content, isException: false }
          : exceptionFailure(failureDef.failureName, failureDef.message, content),
        ctx.nowMs,
      );
      return;
    }
    case "task":
      arriveAtTaskNode(state, ctx, thread, node.node.value, nodeRun);
      return;
    default:
      failNodeRun(
        nodeRun,
        errorFailure(
          LHErrorType.INTERNAL_ERROR,
          `node '${nodeRun.nodeName}' is a ${String(node.node.case ?? "typeless")} node, which this server does not run yet`,
        ),
        ctx.nowMs,
      );
  }
}

/** The output of a finished NodeRun, used by `node_output` mutations (B-RUN-9). */
export function nodeOutput(state: WfRunState, nodeRun: NodeRun): VariableValue | undefined {
  if (nodeRun.status !== LHStatus.COMPLETED) return undefined;
  switch (nodeRun.nodeType.case) {
    case "task":
      return taskNodeOutput(state, nodeRun);
    default:
      return undefined;
  }
}
