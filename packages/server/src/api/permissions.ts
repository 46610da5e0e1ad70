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
import type { ScheduledWfRunId, TaskRunId, UserTaskRunId, WfRunId } from "@pony/proto";
import { CLUSTER_RESOURCES } from "../security/acl";

/** Reads an object's name from the store when the request only carries its id. */
export interface NameLookups {
  wfSpecOfWfRun(tenant: string, id: WfRunId | undefined): Promise<string | undefined>;
  taskDefOfTaskRun(tenant: string, id: TaskRunId | undefined): Promise<string | undefined>;
  userTaskDefOfUserTaskRun(tenant: string, id: UserTaskRunId | undefined): Promise<string | undefined>;
  wfSpecOfSchedule(tenant: string, id: ScheduledWfRunId | undefined): Promise<string | undefined>;
}

/** a request, by the field names of its generated message */
type Fields = Record<string, unknown>;

type NameOf = (
  req: Fields,
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

function acl(resource: ACLResource, action: ACLAction, name?: NameOf): Permission {
  return { kind: "acl", resource, action, name, cluster: CLUSTER_RESOURCES.has(resource) };
}

function search(resource: ACLResource): Permission {
  return { kind: "search", resource, action: READ, cluster: CLUSTER_RESOURCES.has(resource) };
}

const OPEN: Permission = { kind: "open" };

/**
 * Name readers, by the request's field names (as in the generated messages). `field` reads a string field,
 * `nested` a field of a sub-message (`task_def_id.name`); the `…Of` readers look the name up from the object
 * an id (the request itself, or one of its fields) points at.
 */
const at = (r: Fields, path?: string) => (path === undefined ? r : r[path]);

const field =
  (name: string) =>
  (r: Fields): string | undefined =>
    (r[name] as string | undefined) || undefined;
const nested =
  (name: string, inner = "name") =>
  (r: Fields): string | undefined =>
    ((r[name] as Record<string, string> | undefined)?.[inner] ?? "") || undefined;
const runOf = (path?: string) => (r: Fields, look: NameLookups, tenant: string) =>
  look.wfSpecOfWfRun(tenant, at(r, path) as WfRunId | undefined);
const taskRunOf = (path?: string) => (r: Fields, look: NameLookups, tenant: string) =>
  look.taskDefOfTaskRun(tenant, at(r, path) as TaskRunId | undefined);
const userTaskRunOf = (path?: string) => (r: Fields, look: NameLookups, tenant: string) =>
  look.userTaskDefOfUserTaskRun(tenant, at(r, path) as UserTaskRunId | undefined);
const scheduleOf = (path?: string) => (r: Fields, look: NameLookups, tenant: string) =>
  look.wfSpecOfSchedule(tenant, at(r, path) as ScheduledWfRunId | undefined);

const name = field("name");
const idName = nested("id");

export const RPC_PERMISSIONS: Record<keyof typeof LittleHorse.method, Permission> = {
  // ---- metadata: Put / Delete need WRITE_METADATA, Get / Search need READ, over the metadata's own name
  putTaskDef: acl(ACL_TASK, WRITE_METADATA, name),
  getTaskDef: acl(ACL_TASK, READ, name),
  deleteTaskDef: acl(ACL_TASK, WRITE_METADATA, idName),
  searchTaskDef: search(ACL_TASK),
  putExternalEventDef: acl(ACL_EXTERNAL_EVENT, WRITE_METADATA, name),
  getExternalEventDef: acl(ACL_EXTERNAL_EVENT, READ, name),
  deleteExternalEventDef: acl(ACL_EXTERNAL_EVENT, WRITE_METADATA, idName),
  searchExternalEventDef: search(ACL_EXTERNAL_EVENT),
  // WorkflowEventDefs are covered by ACL_WORKFLOW (our ACLResource has no ACL_WORKFLOW_EVENT)
  putWorkflowEventDef: acl(ACL_WORKFLOW, WRITE_METADATA, name),
  getWorkflowEventDef: acl(ACL_WORKFLOW, READ, name),
  deleteWorkflowEventDef: acl(ACL_WORKFLOW, WRITE_METADATA, idName),
  searchWorkflowEventDef: search(ACL_WORKFLOW),
  putWfSpec: acl(ACL_WORKFLOW, WRITE_METADATA, name),
  getWfSpec: acl(ACL_WORKFLOW, READ, name),
  getLatestWfSpec: acl(ACL_WORKFLOW, READ, name),
  deleteWfSpec: acl(ACL_WORKFLOW, WRITE_METADATA, idName),
  migrateWfSpec: acl(ACL_WORKFLOW, WRITE_METADATA, nested("oldWfSpec")),
  searchWfSpec: search(ACL_WORKFLOW),
  putUserTaskDef: acl(ACL_USER_TASK, WRITE_METADATA, name),
  getUserTaskDef: acl(ACL_USER_TASK, READ, name),
  getLatestUserTaskDef: acl(ACL_USER_TASK, READ, name),
  deleteUserTaskDef: acl(ACL_USER_TASK, WRITE_METADATA, idName),
  searchUserTaskDef: search(ACL_USER_TASK),

  // ---- WfRuns and what they hold: the WfSpec's name (looked up from the WfRun when not in the request)
  runWf: acl(ACL_WORKFLOW, RUN, field("wfSpecName")),
  getWfRun: acl(ACL_WORKFLOW, READ, runOf()),
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
  getWorkflowEvent: acl(ACL_WORKFLOW, READ, runOf("wfRunId")),
  listWorkflowEvents: acl(ACL_WORKFLOW, READ, runOf("wfRunId")),
  // a WorkflowEventDef's events of every WfRun: by the WorkflowEventDef's name, as it was put
  searchWorkflowEvent: acl(ACL_WORKFLOW, READ, nested("workflowEventDefId")),
  searchWfRun: acl(ACL_WORKFLOW, READ, field("wfSpecName")),
  searchVariable: acl(ACL_WORKFLOW, READ, field("wfSpecName")),
  searchNodeRun: acl(ACL_WORKFLOW, READ),
  // scheduled WfRuns: the WfSpec they run (looked up from the schedule when not in the request)
  scheduleWf: acl(ACL_WORKFLOW, RUN, field("wfSpecName")),
  deleteScheduledWfRun: acl(ACL_WORKFLOW, RUN, scheduleOf("id")),
  getScheduledWfRun: acl(ACL_WORKFLOW, READ, scheduleOf()),
  searchScheduledWfRun: acl(ACL_WORKFLOW, READ, field("wfSpecName")),
  getWfSpecMetricsWindow: acl(ACL_WORKFLOW, READ, nested("wfSpecId")),
  listWfSpecMetrics: acl(ACL_WORKFLOW, READ, nested("wfSpecId")),

  // ---- tasks: the TaskDef's name (looked up from the TaskRun for ReportTask and GetTaskRun)
  pollTask: acl(ACL_TASK, RUN, nested("taskDefId")),
  reportTask: acl(ACL_TASK, RUN, taskRunOf("taskRunId")),
  registerTaskWorker: acl(ACL_TASK, RUN, nested("taskDefId")),
  getTaskRun: acl(ACL_TASK, READ, taskRunOf()),
  searchTaskRun: acl(ACL_TASK, READ, field("taskDefName")),
  getTaskDefMetricsWindow: acl(ACL_TASK, READ, field("taskDefName")),
  listTaskDefMetrics: acl(ACL_TASK, READ, nested("taskDefId")),
  getTaskWorkerGroup: acl(ACL_TASK_WORKER_GROUP, READ, name),

  // ---- external events: the ExternalEventDef's name
  putExternalEvent: acl(ACL_EXTERNAL_EVENT, RUN, nested("externalEventDefId")),
  getExternalEvent: acl(ACL_EXTERNAL_EVENT, READ, nested("externalEventDefId")),
  searchExternalEvent: acl(ACL_EXTERNAL_EVENT, READ, nested("externalEventDefId")),

  // ---- user tasks: the UserTaskDef's name (looked up from the UserTaskRun)
  getUserTaskRun: acl(ACL_USER_TASK, READ, userTaskRunOf()),
  assignUserTaskRun: acl(ACL_USER_TASK, RUN, userTaskRunOf("userTaskRunId")),
  completeUserTaskRun: acl(ACL_USER_TASK, RUN, userTaskRunOf("userTaskRunId")),
  cancelUserTaskRun: acl(ACL_USER_TASK, RUN, userTaskRunOf("userTaskRunId")),
  searchUserTaskRun: acl(ACL_USER_TASK, READ, field("userTaskDefName")),

  // ---- cluster-scoped: tenants and principals (global ACLs only)
  putTenant: acl(ACL_TENANT, WRITE_METADATA, field("id")),
  getTenant: acl(ACL_TENANT, READ, field("id")),
  searchTenant: search(ACL_TENANT),
  putPrincipal: acl(ACL_PRINCIPAL, WRITE_METADATA, field("id")),
  deletePrincipal: acl(ACL_PRINCIPAL, WRITE_METADATA, nested("id", "id")),
  getPrincipal: acl(ACL_PRINCIPAL, READ, field("id")),
  searchPrincipal: search(ACL_PRINCIPAL),
  whoami: OPEN,
  getServerVersion: OPEN,
};
