/**
 * Task worker RPCs (B-TASK-2, B-TASK-4, B-TASK-9): PollTask (a bidirectional stream: one response per
 * request), ReportTask, RegisterTaskWorker and GetTaskWorkerGroup.
 */
import { UnavailableError } from "../grpc/status";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  LHHostInfoSchema,
  PollTaskResponseSchema,
  RegisterTaskWorkerResponseSchema,
  TaskStatus,
  TaskWorkerGroupSchema,
  TaskWorkerMetadataSchema,
  type PollTaskRequest,
  type RegisterTaskWorkerRequest,
  type ReportTaskRun,
  type ScheduledTask,
  type TaskDefId,
} from "@pony/proto";
import { InvalidArgumentError, NotFoundError } from "@pony/engine";
import type { Logger } from "pino";
import type { Runtime } from "../runtime/runtime";
import type { Poller } from "../runtime/task-queues";
import { requireWfRunId, wfRunKey } from "../runtime/ids";
import { tenantKey } from "../runtime/tenant-keys";
import type { BidiStream, CallContext } from "./context";

export interface TaskHandlerOptions {
  /** the hosts and ports workers are told to poll (`your_hosts`): every live server of the cluster */
  hosts(): { host: string; port: number }[];
  /** a PollTask request with no task for this long gets an empty response */
  pollWaitMs: number;
  /** a worker silent for this long is dropped from its TaskWorkerGroup */
  workerHeartbeatTimeoutMs: number;
}

const REPORTABLE = new Set([
  TaskStatus.TASK_SUCCESS,
  TaskStatus.TASK_FAILED,
  TaskStatus.TASK_EXCEPTION,
  TaskStatus.TASK_OUTPUT_SERIALIZING_ERROR,
  TaskStatus.TASK_INPUT_VAR_SUB_ERROR,
  TaskStatus.TASK_TIMEOUT,
]);

interface WorkerRecord {
  createdMs: number;
  workers: Map<string, number>;
}

export function taskHandlers(rt: Runtime, log: Logger, opts: TaskHandlerOptions) {
  /** tenant\0taskDef → heartbeats by worker id */
  const groups = new Map<string, WorkerRecord>();

  function liveGroup(tenant: string, taskDefName: string): WorkerRecord | undefined {
    const g = groups.get(tenantKey(tenant, taskDefName));
    if (!g) return undefined;
    const cutoff = rt.now() - opts.workerHeartbeatTimeoutMs;
    for (const [id, last] of g.workers) if (last < cutoff) g.workers.delete(id);
    return g;
  }

  function hosts() {
    return opts.hosts().map((h) => create(LHHostInfoSchema, h));
  }

  const unary = {
    async reportTask(req: ReportTaskRun, ctx: CallContext) {
      const id = requireWfRunId(req.taskRunId?.wfRunId, "task_run_id.wf_run_id");
      if (!req.taskRunId?.taskGuid) throw new InvalidArgumentError("task_run_id.task_guid is required");
      if (!REPORTABLE.has(req.status)) {
        throw new InvalidArgumentError(
          `status ${TaskStatus[req.status] ?? req.status} cannot be reported: report the attempt's outcome`,
        );
      }
      const changed = await rt.reportTask(ctx.tenant, req);
      if (!changed && !(await rt.store.getWfRun(ctx.tenant, wfRunKey(id)))) {
        throw new NotFoundError(`WfRun '${wfRunKey(id)}' not found`);
      }
      // A late, duplicate or post-timeout report is acknowledged and ignored (B-TASK-4).
      return {};
    },

    async registerTaskWorker(req: RegisterTaskWorkerRequest, ctx: CallContext) {
      const name = req.taskDefId?.name;
      if (!name) throw new InvalidArgumentError("task_def_id is required");
      if (!req.taskWorkerId) throw new InvalidArgumentError("task_worker_id is required");
      if (!rt.metadata.get(ctx.tenant, "task_def", name))
        throw new NotFoundError(`TaskDef '${name}' not found`);
      const key = tenantKey(ctx.tenant, name);
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { createdMs: rt.now(), workers: new Map() }));
      g.workers.set(req.taskWorkerId, rt.now());
      return create(RegisterTaskWorkerResponseSchema, { yourHosts: hosts(), isClusterHealthy: true });
    },

    async getTaskWorkerGroup(req: TaskDefId, ctx: CallContext) {
      if (!req.name) throw new InvalidArgumentError("name is required");
      const g = liveGroup(ctx.tenant, req.name);
      if (!g) throw new NotFoundError(`no task worker has registered for TaskDef '${req.name}'`);
      const taskWorkers: Record<string, ReturnType<typeof create<typeof TaskWorkerMetadataSchema>>> = {};
      for (const [id, last] of g.workers) {
        taskWorkers[id] = create(TaskWorkerMetadataSchema, {
          taskWorkerId: id,
          latestHeartbeat: timestampFromMs(last),
          hosts: hosts(),
        });
      }
      return create(TaskWorkerGroupSchema, {
        id: { taskDefId: { name: req.name } },
        createdAt: timestampFromMs(g.createdMs),
        taskWorkers,
      });
    },
  };

  /** open PollTask streams, ended when the server stops so that it can shut down */
  const streams = new Set<() => void>();

  function endAllStreams(): void {
    for (const end of [...streams]) end();
  }

  function pollTask(stream: BidiStream<PollTaskRequest, object>, ctx: CallContext): void {
    const open = new Set<Poller>();
    let ended = false;
    // the server is stopping: UNAVAILABLE, so a worker reconnects (to this server restarted, or another)
    // rather than take the end of the stream for a finished one
    const endStream = () => {
      closeAll();
      stream.fail(new UnavailableError("the server is stopping: reconnect and poll again"));
    };
    streams.add(endStream);
    const closeAll = () => {
      ended = true;
      streams.delete(endStream);
      for (const p of open) {
        p.closed = true;
        rt.queues.removePoller(p);
      }
      open.clear();
    };
    const refuse = (e: Error) => {
      closeAll();
      stream.fail(e);
    };
    stream.onMessage((req) => {
      if (ended) return;
      const name = req.taskDefId?.name;
      if (!name) {
        refuse(new InvalidArgumentError("task_def_id is required"));
        return;
      }
      if (!rt.metadata.get(ctx.tenant, "task_def", name)) {
        refuse(new NotFoundError(`TaskDef '${name}' not found`));
        return;
      }
      let timer: NodeJS.Timeout | undefined;
      const poller: Poller = {
        tenant: ctx.tenant,
        taskDefName: name,
        clientId: req.clientId,
        taskWorkerVersion: req.taskWorkerVersion,
        closed: false,
        deliver(task: ScheduledTask): boolean {
          if (poller.closed || ended) return false;
          poller.closed = true;
          open.delete(poller);
          if (timer) clearTimeout(timer);
          stream.send(create(PollTaskResponseSchema, { result: task }));
          return true;
        },
      };
      open.add(poller);
      rt.poll(poller);
      // No task within the poll wait: an empty response. A poller taken for a task is being claimed for it;
      // the task answers it, or the poller waits again (the claim found nothing): look again shortly.
      const expire = (): void => {
        if (poller.closed || ended) return;
        if (!rt.queues.removePoller(poller)) {
          timer = setTimeout(expire, 50);
          return;
        }
        poller.closed = true;
        open.delete(poller);
        stream.send(create(PollTaskResponseSchema, {}));
      };
      if (!poller.closed) timer = setTimeout(expire, opts.pollWaitMs);
    });
    stream.onEnd(endStream);
    stream.onClose(closeAll);
  }

  return { unary, pollTask, endAllStreams };
}
