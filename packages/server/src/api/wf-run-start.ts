/**
 * What RunWf and ScheduleWf both check before a WfRun may start: the WfSpec version it names, and its parent
 * WfRun (which must exist, run the WfSpec the child's WfSpec asks for, and be one the caller may run).
 */
import { ACLAction, ACLResource, type WfRunId, type WfSpec } from "@pony/proto";
import { InvalidArgumentError, NotFoundError } from "@pony/engine";
import type { Runtime } from "../runtime/runtime";
import { requireWfRunId, wfRunKey } from "../runtime/ids";
import { PermissionDeniedError } from "../security/errors";
import type { CallContext } from "./context";

/** The WfSpec a request names: the latest one, of a major version, or one exact version. */
export function wfSpecToRun(
  rt: Runtime,
  tenant: string,
  req: { wfSpecName: string; majorVersion?: number; revision?: number },
): WfSpec {
  if (!req.wfSpecName) throw new InvalidArgumentError("wf_spec_name is required");
  if (req.revision !== undefined && req.majorVersion === undefined) {
    throw new InvalidArgumentError("a revision can only be given together with a major_version");
  }
  const wfSpec = rt.metadata.get(
    tenant,
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
  return wfSpec;
}

/** Checks the parent WfRun of a WfRun to start (or that it needs none); resolves to the parent's id. */
export async function checkParent(
  rt: Runtime,
  ctx: CallContext,
  wfSpec: WfSpec,
  parentWfRunId: WfRunId | undefined,
): Promise<WfRunId | undefined> {
  const name = wfSpec.id?.name ?? "";
  if (!parentWfRunId) {
    if (wfSpec.parentWfSpec) {
      throw new InvalidArgumentError(
        `WfSpec '${name}' must run as a child of a WfRun of WfSpec '${wfSpec.parentWfSpec.wfSpecName}': ` +
          `set parent_wf_run_id`,
      );
    }
    return undefined;
  }
  const parent = requireWfRunId(parentWfRunId, "parent_wf_run_id");
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
      `WfSpec '${name}' must run as a child of a WfRun of WfSpec '${want}', ` +
        `but '${wfRunKey(parent)}' runs '${parentRun.wfSpecId?.name}'`,
    );
  }
  return parent;
}
