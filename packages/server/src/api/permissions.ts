/**
 * The whole permission model on one screen: what each RPC of `littlehorse.LittleHorse` needs (B-SEC-2).
 *
 *  - `acl(resource, action, name)`: the caller needs `action` over `resource` for the object the request
 *    names (`name` reads it from the request, or looks up the object's TaskDef / WfSpec / …); an RPC that
 *    names no single object needs an ACL without a name filter.
 *  - `search(resource)`: any READ grant over the resource admits the call; the handler answers only the
 *    objects the caller may read (ctx.may).
 *  - `open`: any authenticated caller (Whoami, GetServerVersion).
 *
 * Tenant-scoped RPCs run in the tenant of the `tenantid` header, which must exist; RPCs over ACL_TENANT and
 * ACL_PRINCIPAL are cluster-scoped and only global ACLs grant them. The table is typed by the service's
 * methods, so a new RPC without an entry does not compile (test/api/security-acl.test.ts also walks every method).
 */
import { ACLAction, ACLResource, type LittleHorse } from "@pony/proto";
import type { TaskRunId, UserTaskRunId, WfRunId } from "@pony/proto";
import { CLUSTER_RESOURCES } from "../security/acl";

/** Reads an object's name from the store when the request only carries its id. */
export interface NameLookups {
  wfSpecOfWfRun(tenant: string, id: WfRunId | undefined): Promise<string | undefined>;
  taskDefOfTaskRun(tenant: string, id: TaskRunId | undefined): Promise<string | undefined>;
  userTaskDefOfUserTaskRun(tenant: string, id: UserTaskRunId | undefined): Promise<string | undefined>;
}

type NameOf = (
  req: never,
  look: NameLookups,
  tenant: string,
) => string | undefined | Promise<string | undefined>;

export type Permission =
  | { kind: "open" }
  | { kind: "acl"; resource: ACLResource; action: ACLAction; name?: NameOf; cluster: boolean }
  | { kind: "search"; resource: ACLResource; action: ACLAction; cluster: boolean };

const { READ, RUN, WRITE_METADATA } = ACLAction;
const {
  ACL_WORKFLOW,
  ACL_TASK,
  ACL_EXTERNAL_EVENT,
  ACL_USER_TASK,
  ACL_PRINCIPAL,
  ACL_TENANT,
  ACL_TASK_WORKER_GROUP,
} = ACLResource;

function acl<Req>(
  resource: ACLResource,
  action: ACLAction,
  name?: (req: Req, look: NameLookups, tenant: string) => string | undefined | Promise<string | undefined>,
): Permission {
  return {
    kind: "acl",
    resource,
    action,
    name: name as NameOf | undefined,
    cluster: CLUSTER_RESOURCES.has(resource),
  };
}

function search(resource: ACLResource): Permission {
  return { kind: "search", resource, action: READ, cluster: CLUSTER_RESOURCES.has(resource) };
}

const OPEN: Permission = { kind: "open" };

/** Request shapes the name readers use (field names of the generated messages). */
type Named = { name: string };
type WithId<K extends string, T> = { [k in K]?: T };

const nameField = (r: Named) => r.name || undefined;
const idName = (r: WithId<"id", Named>) => r.id?.name || undefined;
const runOf =
  (field: string) =>
  (r: Record<string, unknown>, look: NameLookups, tenant: string): Promise<string | undefined> =>
    look.wfSpecOfWfRun(tenant, r[field] as WfRunId | undefined);
const nested =
  (field: string, inner = "name") =>
  (r: Record<string, unknown>): string | undefined =>
    ((r[field] as Record<string, string> | undefined)?.[inner] ?? "") || undefined;

export const RPC_PERMISSIONS: Record<keyof typeof LittleHorse.method, Permission> = {
  // ---- metadata: Put / Delete need WRITE_METADATA, Get / Search need READ, over the metadata's own name
  putTaskDef: acl(ACL_TASK, WRITE_METADATA, nameField),
  getTaskDef: acl(ACL_TASK, READ, nameField),
  deleteTaskDef: acl(ACL_TASK, WRITE_METADATA, idName),
  searchTaskDef: search(ACL_TASK),
  putExternalEventDef: acl(ACL_EXTERNAL_EVENT, WRITE_METADATA, nameField),
  getExternalEventDef: acl(ACL_EXTERNAL_EVENT, READ, nameField),
  deleteExternalEventDef: acl(ACL_EXTERNAL_EVENT, WRITE_METADATA, idName),
  searchExternalEventDef: search(ACL_EXTERNAL_EVENT),
  putWorkflowEventDef: acl(ACL_WORKFLOW, WRITE_METADATA, nameField),
  putWfSpec: acl(ACL_WORKFLOW, WRITE_METADATA, nameField),
  getWfSpec: acl(ACL_WORKFLOW, READ, nameField),
  getLatestWfSpec: acl(ACL_WORKFLOW, READ, nameField),
  deleteWfSpec: acl(ACL_WORKFLOW, WRITE_METADATA, idName),
  migrateWfSpec: acl(ACL_WORKFLOW, WRITE_METADATA, nested("oldWfSpec")),
  searchWfSpec: search(ACL_WORKFLOW),
  putUserTaskDef: acl(ACL_USER_TASK, WRITE_METADATA, nameField),
  getUserTaskDef: acl(ACL_USER_TASK, READ, nameField),
  getLatestUserTaskDef: acl(ACL_USER_TASK, READ, nameField),
  deleteUserTaskDef: acl(ACL_USER_TASK, WRITE_METADATA, idName),
  searchUserTaskDef: search(ACL_USER_TASK),

  // ---- WfRuns and what they hold: the WfSpec's name (looked up from the WfRun when not in the request)
  runWf: acl(ACL_WORKFLOW, RUN, (r: { wfSpecName: string }) => r.wfSpecName || undefined),
  getWfRun: acl(ACL_WORKFLOW, READ, (r: WfRunId, look, tenant) => look.wfSpecOfWfRun(tenant, r)),
  stopWfRun: acl(ACL_WORKFLOW, RUN, runOf("wfRunId")),
  resumeWfRun: acl(ACL_WORKFLOW, RUN, runOf("wfRunId")),
  rescueThreadRun: acl(ACL_WORKFLOW, RUN, runOf("wfRunId")),
  deleteWfRun: acl(ACL_WORKFLOW, RUN, runOf("id")),
  getNodeRun: acl(ACL_WORKFLOW, READ, runOf("wfRunId")),
  listNodeRuns: acl(ACL_WORKFLOW, READ, runOf("wfRunId")),
  getVariable: acl(ACL_WORKFLOW, READ, runOf("wfRunId")),
  listVariables: acl(ACL_WORKFLOW, READ, runOf("wfRunId")),
  // what one WfRun holds is read as part of the WfRun, whatever TaskDefs, events and forms it used
  listTaskRuns: acl(ACL_WORKFLOW, READ, runOf("wfRunId")),
  listExternalEvents: acl(ACL_WORKFLOW, READ, runOf("wfRunId")),
  listUserTaskRuns: acl(ACL_WORKFLOW, READ, runOf("wfRunId")),
  awaitWorkflowEvent: acl(ACL_WORKFLOW, READ, runOf("wfRunId")),
  searchWfRun: acl(ACL_WORKFLOW, READ, (r: { wfSpecName: string }) => r.wfSpecName || undefined),
  searchVariable: acl(ACL_WORKFLOW, READ, (r: { wfSpecName: string }) => r.wfSpecName || undefined),
  searchNodeRun: acl(ACL_WORKFLOW, READ),
  getWfSpecMetricsWindow: acl(ACL_WORKFLOW, READ, nested("wfSpecId")),
  listWfSpecMetrics: acl(ACL_WORKFLOW, READ, nested("wfSpecId")),

  // ---- tasks: the TaskDef's name (looked up from the TaskRun for ReportTask and GetTaskRun)
  pollTask: acl(ACL_TASK, RUN, nested("taskDefId")),
  reportTask: acl(ACL_TASK, RUN, (r: { taskRunId?: TaskRunId }, look, tenant) =>
    look.taskDefOfTaskRun(tenant, r.taskRunId),
  ),
  registerTaskWorker: acl(ACL_TASK, RUN, nested("taskDefId")),
  getTaskRun: acl(ACL_TASK, READ, (r: TaskRunId, look, tenant) => look.taskDefOfTaskRun(tenant, r)),
  searchTaskRun: acl(ACL_TASK, READ, (r: { taskDefName: string }) => r.taskDefName || undefined),
  getTaskDefMetricsWindow: acl(ACL_TASK, READ, (r: { taskDefName?: string }) => r.taskDefName || undefined),
  listTaskDefMetrics: acl(ACL_TASK, READ, nested("taskDefId")),
  getTaskWorkerGroup: acl(ACL_TASK_WORKER_GROUP, READ, nameField),

  // ---- external events: the ExternalEventDef's name
  putExternalEvent: acl(ACL_EXTERNAL_EVENT, RUN, nested("externalEventDefId")),
  getExternalEvent: acl(ACL_EXTERNAL_EVENT, READ, nested("externalEventDefId")),
  searchExternalEvent: acl(ACL_EXTERNAL_EVENT, READ, nested("externalEventDefId")),

  // ---- user tasks: the UserTaskDef's name (looked up from the UserTaskRun)
  getUserTaskRun: acl(ACL_USER_TASK, READ, (r: UserTaskRunId, look, tenant) =>
    look.userTaskDefOfUserTaskRun(tenant, r),
  ),
  assignUserTaskRun: acl(ACL_USER_TASK, RUN, (r: { userTaskRunId?: UserTaskRunId }, look, tenant) =>
    look.userTaskDefOfUserTaskRun(tenant, r.userTaskRunId),
  ),
  completeUserTaskRun: acl(ACL_USER_TASK, RUN, (r: { userTaskRunId?: UserTaskRunId }, look, tenant) =>
    look.userTaskDefOfUserTaskRun(tenant, r.userTaskRunId),
  ),
  cancelUserTaskRun: acl(ACL_USER_TASK, RUN, (r: { userTaskRunId?: UserTaskRunId }, look, tenant) =>
    look.userTaskDefOfUserTaskRun(tenant, r.userTaskRunId),
  ),
  searchUserTaskRun: acl(
    ACL_USER_TASK,
    READ,
    (r: { userTaskDefName?: string }) => r.userTaskDefName || undefined,
  ),

  // ---- cluster-scoped: tenants and principals (global ACLs only)
  putTenant: acl(ACL_TENANT, WRITE_METADATA, (r: { id: string }) => r.id || undefined),
  getTenant: acl(ACL_TENANT, READ, (r: { id: string }) => r.id || undefined),
  searchTenant: search(ACL_TENANT),
  putPrincipal: acl(ACL_PRINCIPAL, WRITE_METADATA, (r: { id: string }) => r.id || undefined),
  deletePrincipal: acl(ACL_PRINCIPAL, WRITE_METADATA, (r: { id?: { id: string } }) => r.id?.id || undefined),
  getPrincipal: acl(ACL_PRINCIPAL, READ, (r: { id: string }) => r.id || undefined),
  searchPrincipal: search(ACL_PRINCIPAL),
  whoami: OPEN,
  getServerVersion: OPEN,
};
