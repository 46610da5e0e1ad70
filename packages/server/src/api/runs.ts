/**
 * WfRun RPCs: RunWf, the Get/List RPCs over one WfRun's objects, and DeleteWfRun (B-RUN-1…13).
 * Reads go to the store, which holds everything committed (an RPC is only answered after its commit).
 */
import {
  type DeleteWfRunRequest,
  type ListNodeRunsRequest,
  type ListTaskRunsRequest,
  type ListVariablesRequest,
  type NodeRunId,
  type RunWfRequest,
  type TaskRunId,
  type VariableId,
  type WfRunId,
} from "@pony/proto";
import { InvalidArgumentError, NotFoundError } from "@pony/engine";
import type { Runtime } from "../runtime/runtime";
import { checkWfRunIdText, madeUpWfRunId, newWfRunId, requireWfRunId, wfRunKey } from "../runtime/ids";
import type { CallContext } from "./context";
import { NODE_RUNS, TASK_RUNS, VARIABLES, listPage } from "./list-pages";
import { checkParent, wfSpecToRun } from "./wf-run-start";

export function runHandlers(rt: Runtime) {
  return {
    async runWf(req: RunWfRequest, ctx: CallContext) {
      const wfSpec = wfSpecToRun(rt, ctx.tenant, req);
      const parent = await checkParent(rt, ctx, wfSpec, req.parentWfRunId);
      if (req.id) checkWfRunIdText(req.id);
      const idText = req.id || madeUpWfRunId();
      return rt.runWf(ctx.tenant, newWfRunId(idText, parent), wfSpec, req);
    },

    async getWfRun(req: WfRunId, ctx: CallContext) {
      const key = wfRunKey(requireWfRunId(req, "id"));
      const wfRun = await rt.store.getWfRun(ctx.tenant, key);
      if (!wfRun) throw new NotFoundError(`WfRun '${key}' not found`);
      return wfRun;
    },

    async deleteWfRun(req: DeleteWfRunRequest, ctx: CallContext) {
      const key = wfRunKey(requireWfRunId(req.id, "id"));
      await rt.deleteWfRun(ctx.tenant, key);
      return {};
    },

    async getNodeRun(req: NodeRunId, ctx: CallContext) {
      const key = wfRunKey(requireWfRunId(req.wfRunId));
      const nodeRun = await rt.store.getNodeRun(ctx.tenant, key, req.threadRunNumber, req.position);
      if (!nodeRun)
        throw new NotFoundError(`NodeRun ${key}/${req.threadRunNumber}/${req.position} not found`);
      return nodeRun;
    },

    async listNodeRuns(req: ListNodeRunsRequest, ctx: CallContext) {
      return await listPage(NODE_RUNS, req, rt.store, ctx.tenant);
    },

    async getTaskRun(req: TaskRunId, ctx: CallContext) {
      const key = wfRunKey(requireWfRunId(req.wfRunId));
      if (!req.taskGuid) throw new InvalidArgumentError("task_guid is required");
      const taskRun = await rt.store.getTaskRun(ctx.tenant, key, req.taskGuid);
      if (!taskRun) throw new NotFoundError(`TaskRun ${key}/${req.taskGuid} not found`);
      return taskRun;
    },

    async listTaskRuns(req: ListTaskRunsRequest, ctx: CallContext) {
      return await listPage(TASK_RUNS, req, rt.store, ctx.tenant);
    },

    async getVariable(req: VariableId, ctx: CallContext) {
      const key = wfRunKey(requireWfRunId(req.wfRunId));
      if (!req.name) throw new InvalidArgumentError("name is required");
      const variable = await rt.store.getVariable(ctx.tenant, key, req.threadRunNumber, req.name);
      if (!variable)
        throw new NotFoundError(
          `Variable '${req.name}' of thread ${req.threadRunNumber} in WfRun '${key}' not found`,
        );
      return variable;
    },

    async listVariables(req: ListVariablesRequest, ctx: CallContext) {
      return await listPage(VARIABLES, req, rt.store, ctx.tenant);
    },
  };
}
