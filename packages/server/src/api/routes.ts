/**
 * Where each RPC runs in a cluster. Reads run on the server that took the call (they read the store, and
 * owners answer a command only once it is committed, so a read after an acknowledged write sees it). A
 * command for a WfRun runs on the owner of the WfRun's partition; a change to metadata, tenants, principals
 * or task worker groups on the owner of the metadata partition (so version numbers and "already exists"
 * stay exact). An RPC not named here is a read, or PollTask (each server hands out its own partitions'
 * tasks to the workers polling it).
 */
import type {
  AssignUserTaskRunRequest,
  AwaitWorkflowEventRequest,
  CancelUserTaskRunRequest,
  CompleteUserTaskRunRequest,
  DeleteWfRunRequest,
  PutExternalEventRequest,
  ReportTaskRun,
  RescueThreadRunRequest,
  ResumeWfRunRequest,
  RunWfRequest,
  StopWfRunRequest,
  WfRunId,
} from "@pony/proto";
import { madeUpWfRunId, wfRunKey } from "../runtime/ids";
import type { RPC_PERMISSIONS } from "./permissions";

type MethodName = keyof typeof RPC_PERMISSIONS;

/** "metadata": the metadata partition; otherwise the storage key of the WfRun the command is for */
export type Route = "metadata" | { wfRunKey: string };

type RouteOf<Req> = (req: Req) => Route | undefined;

const byRun = (id: WfRunId | undefined): Route | undefined =>
  id?.id ? { wfRunKey: wfRunKey(id) } : undefined;
const metadata = (): Route => "metadata";

export const RPC_ROUTES: Partial<Record<MethodName, RouteOf<never>>> = {
  putTaskDef: metadata,
  deleteTaskDef: metadata,
  putExternalEventDef: metadata,
  deleteExternalEventDef: metadata,
  putWorkflowEventDef: metadata,
  deleteWorkflowEventDef: metadata,
  putWfSpec: metadata,
  deleteWfSpec: metadata,
  migrateWfSpec: metadata,
  putUserTaskDef: metadata,
  deleteUserTaskDef: metadata,
  putTenant: metadata,
  putPrincipal: metadata,
  deletePrincipal: metadata,
  // scheduled WfRuns are fired by the owner of the metadata partition, which holds them all
  scheduleWf: metadata,
  deleteScheduledWfRun: metadata,
  // task worker groups live in the memory of one server
  registerTaskWorker: metadata,
  getTaskWorkerGroup: metadata,
  runWf: (req: RunWfRequest) => {
    // the id is chosen here when the client leaves it out, so the run is placed once, where it is created
    if (req.id === undefined || req.id === "") req.id = madeUpWfRunId();
    const parent = req.parentWfRunId?.id ? wfRunKey(req.parentWfRunId) : undefined;
    return { wfRunKey: parent ? `${parent}_${req.id}` : req.id };
  },
  stopWfRun: (req: StopWfRunRequest) => byRun(req.wfRunId),
  resumeWfRun: (req: ResumeWfRunRequest) => byRun(req.wfRunId),
  rescueThreadRun: (req: RescueThreadRunRequest) => byRun(req.wfRunId),
  deleteWfRun: (req: DeleteWfRunRequest) => byRun(req.id),
  reportTask: (req: ReportTaskRun) => byRun(req.taskRunId?.wfRunId),
  putExternalEvent: (req: PutExternalEventRequest) => byRun(req.wfRunId),
  assignUserTaskRun: (req: AssignUserTaskRunRequest) => byRun(req.userTaskRunId?.wfRunId),
  completeUserTaskRun: (req: CompleteUserTaskRunRequest) => byRun(req.userTaskRunId?.wfRunId),
  cancelUserTaskRun: (req: CancelUserTaskRunRequest) => byRun(req.userTaskRunId?.wfRunId),
  // the owner wakes the waiters when it commits a WorkflowEvent
  awaitWorkflowEvent: (req: AwaitWorkflowEventRequest) => byRun(req.wfRunId),
};

/** The route of a call, or undefined to run it where it arrived. */
export function routeOf(method: string, req: object): Route | undefined {
  const route = RPC_ROUTES[method as MethodName] as ((req: object) => Route | undefined) | undefined;
  return route?.(req);
}
