/**
 * WfRun RPCs: RunWf, the Get/List RPCs over one WfRun's objects, and DeleteWfRun (B-RUN-1…13).
 * Reads go to the store, which holds everything committed (an RPC is only answered after its commit).
 */
import { randomUUID } from "node:crypto";
import {
  ACLAction,
  ACLResource,
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
import { checkWfRunIdText, newWfRunId, requireWfRunId, wfRunKey } from "../runtime/ids";
import type { CallContext } from "./context";
import { NODE_RUNS, TASK_RUNS, VARIABLES, listPage } from "./list-pages";
import { PermissionDeniedError } from "../security/errors";

export function runHandlers(rt: Runtime) {
  return {
    async runWf(req: RunWfRequest, ctx: CallContext) {
      if (!req.wfSpecName) throw new InvalidArgumentError("wf_spec_name is required");
      if (req.revision !== undefined && req.majorVersion === undefined) {
        throw new InvalidArgumentError("a revision can only be given together with a major_version");
      }
      const wfSpec = rt.metadata.get(
        ctx.tenant,
        "wf_spec",
        req.wfSpecName,
        req.majorVersion === undefined ? undefined : { major: req.majorVersion, minor: req.revision },
      );
      if (!wfSpec) {
        const version =
          req.majorVersion === undefined
            ? ""
            : ` version ${req.majorVersion}${req.revision === undefined ? "" : `.${req.revision}`}`;
        throw new NotFoundError(`WfSpec '${req.wfSpecName}'${version} not found`);
      }
      let parent: WfRunId | undefined;
      if (req.parentWfRunId) {
        parent = requireWfRunId(req.parentWfRunId, "parent_wf_run_id");
        const parentRun = await rt.store.getWfRun(ctx.tenant, wfRunKey(parent));
        if (!parentRun) throw new InvalidArgumentError(`parent WfRun '${wfRunKey(parent)}' does not exist`);
        // a child WfRun changes its parent's variables: running one needs RUN over the parent's WfSpec too
        const runParent = { resource: ACLResource.ACL_WORKFLOW, action: ACLAction.RUN };
        if (!ctx.may({ ...runParent, name: parentRun.wfSpecId?.name }))
          throw new PermissionDeniedError(ctx.rpc, ctx.principalId, ctx.tenant, runParent, {
            nameHidden: true,
            why: "a child WfRun needs RUN over its parent WfRun's WfSpec",
          });
        const want = wfSpec.parentWfSpec?.wfSpecName;
        if (want && parentRun.wfSpecId?.name !== want) {
          throw new InvalidArgumentError(
            `WfSpec '${req.wfSpecName}' must run as a child of a WfRun of WfSpec '${want}', ` +
              `but '${wfRunKey(parent)}' runs '${parentRun.wfSpecId?.name}'`,
          );
        }
      } else if (wfSpec.parentWfSpec) {
        throw new InvalidArgumentError(
          `WfSpec '${req.wfSpecName}' must run as a child of a WfRun of WfSpec '${wfSpec.parentWfSpec.wfSpecName}': ` +
            `set parent_wf_run_id`,
        );
      }
      let idText: string;
      if (req.id !== undefined && req.id !== "") {
        checkWfRunIdText(req.id);
        idText = req.id;
      } else {
        idText = randomUUID().replaceAll("-", "");
      }
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
      const key = wfRunKey(requireWfRunId(req.wfRunId));
      const thread = req.threadRunNumber;
      return await listPage(
        NODE_RUNS,
        req,
        (page) => rt.store.listNodeRuns(ctx.tenant, key, { ...page, thread }),
        { store: rt.store, tenant: ctx.tenant, key },
      );
    },

    async getTaskRun(req: TaskRunId, ctx: CallContext) {
      const key = wfRunKey(requireWfRunId(req.wfRunId));
      if (!req.taskGuid) throw new InvalidArgumentError("task_guid is required");
      const taskRun = await rt.store.getTaskRun(ctx.tenant, key, req.taskGuid);
      if (!taskRun) throw new NotFoundError(`TaskRun ${key}/${req.taskGuid} not found`);
      return taskRun;
    },

    async listTaskRuns(req: ListTaskRunsRequest, ctx: CallContext) {
      const key = wfRunKey(requireWfRunId(req.wfRunId));
      return await listPage(TASK_RUNS, req, (page) => rt.store.listTaskRuns(ctx.tenant, key, page), {
        store: rt.store,
        tenant: ctx.tenant,
        key,
      });
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
      const key = wfRunKey(requireWfRunId(req.wfRunId));
      return await listPage(VARIABLES, req, (page) => rt.store.listVariables(ctx.tenant, key, page), {
        store: rt.store,
        tenant: ctx.tenant,
        key,
      });
    },
  };
}
