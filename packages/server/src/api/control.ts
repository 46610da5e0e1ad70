/**
 * Run control RPCs (B-THR-9, B-THR-10): StopWfRun and ResumeWfRun for any thread (0 = the whole WfRun), and
 * RescueThreadRun.
 */
import type { RescueThreadRunRequest, ResumeWfRunRequest, StopWfRunRequest } from "@pony/proto";
import { NotFoundError, applyCommand, type WfRunCommand } from "@pony/engine";
import type { Runtime } from "../runtime/runtime";
import { requireWfRunId, wfRunKey } from "../runtime/ids";
import type { CallContext } from "./context";

export function controlHandlers(rt: Runtime) {
  /** Applies a command to an existing WfRun and answers with the WfRun as committed. */
  function run(tenant: string, key: string, command: WfRunCommand) {
    return rt.submit({
      wfRun: { tenant, key },
      apply: (tx) => {
        const state = rt.cached(tenant, key);
        if (!state) throw new NotFoundError(`WfRun '${key}' not found`);
        const ctx = rt.engineContext(tenant);
        applyCommand(state, ctx, command);
        rt.flush(tx, state, ctx);
        return state.wfRun;
      },
    });
  }

  return {
    async stopWfRun(req: StopWfRunRequest, ctx: CallContext) {
      const key = wfRunKey(requireWfRunId(req.wfRunId));
      await run(ctx.tenant, key, { kind: "stopThread", threadRunNumber: req.threadRunNumber });
      return {};
    },
    async resumeWfRun(req: ResumeWfRunRequest, ctx: CallContext) {
      const key = wfRunKey(requireWfRunId(req.wfRunId));
      await run(ctx.tenant, key, { kind: "resumeThread", threadRunNumber: req.threadRunNumber });
      return {};
    },
    async rescueThreadRun(req: RescueThreadRunRequest, ctx: CallContext) {
      const key = wfRunKey(requireWfRunId(req.wfRunId));
      return run(ctx.tenant, key, {
        kind: "rescueThread",
        threadRunNumber: req.threadRunNumber,
        skipCurrentNode: req.skipCurrentNode,
      });
    },
  };
}
