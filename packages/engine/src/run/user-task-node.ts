/**
 * USER_TASK nodes (B-UT-1…6). Arrival creates a UserTaskRun and waits for it to be completed or cancelled.
 */
import {
  LHErrorType,
  type NodeRun,
  type ThreadRun,
  type UserTaskNode,
  type VariableValue,
} from "@pony/proto";
import { errorFailure, failNodeRun } from "./failures";
import type { EngineContext, WfRunState } from "./state";

export function arriveAtUserTaskNode(
  _state: WfRunState,
  ctx: EngineContext,
  _thread: ThreadRun,
  node: UserTaskNode,
  nodeRun: NodeRun,
): void {
  failNodeRun(
    nodeRun,
    errorFailure(
      LHErrorType.INTERNAL_ERROR,
      `USER_TASK '${node.userTaskDefName}': user tasks are being built`,
    ),
    ctx.nowMs,
  );
}

export function userTaskNodeOutput(_state: WfRunState, _nodeRun: NodeRun): VariableValue | undefined {
  return undefined;
}
