/**
 * Task worker RPCs (B-TASK-2, B-TASK-4, B-TASK-9): PollTask (a bidirectional stream: one response per
 * request), ReportTask, RegisterTaskWorker and GetTaskWorkerGroup.
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type * as grpc from "@grpc/grpc-js";
import { status as grpcStatus } from "@grpc/grpc-js";
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
import type { CallContext } from "./context";
import { undecodable } from "../grpc/decode";

export interface TaskHandlerOptions {
  /** host and port workers are told to poll (`your_hosts`); read at each call */
  advertised: { host: string; port: number };
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
    const g = groups.get(`${tenant}\u0000${taskDefName}`);
    if (!g) return undefined;
    const cutoff = rt.now() - opts.workerHeartbeatTimeoutMs;
    for (const [id, last] of g.workers) if (last < cutoff) g.workers.delete(id);
    return g;
  }

  function hosts() {
    return [create(LHHostInfoSchema, { host: opts.advertised.host, port: opts.advertised.port })];
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
      const key = `${ctx.tenant}\u0000${name}`;
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

  function pollTask(call: grpc.ServerDuplexStream<object, object>, ctx: CallContext): void {
    const open = new Set<Poller>();
    let ended = false;
    const endStream = () => {
      closeAll();
      call.end();
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
    call.on("data", (req: PollTaskRequest) => {
      if (ended) return;
      const bad = undecodable(req);
      if (bad !== undefined) {
        fail(call, grpcStatus.INVALID_ARGUMENT, bad);
        closeAll();
        return;
      }
      const name = req.taskDefId?.name;
      if (!name) {
        fail(call, grpcStatus.INVALID_ARGUMENT, "task_def_id is required");
        closeAll();
        return;
      }
      if (!rt.metadata.get(ctx.tenant, "task_def", name)) {
        fail(call, grpcStatus.NOT_FOUND, `TaskDef '${name}' not found`);
        closeAll();
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
          call.write(create(PollTaskResponseSchema, { result: task }));
          return true;
        },
      };
      open.add(poller);
      rt.poll(poller);
      if (!poller.closed) {
        timer = setTimeout(() => {
          if (poller.closed || ended) return;
          // A poller already taken for a task is being claimed for it: the task, not an empty
          // response, answers this request.
          if (!rt.queues.removePoller(poller)) return;
          poller.closed = true;
          open.delete(poller);
          call.write(create(PollTaskResponseSchema, {}));
        }, opts.pollWaitMs);
      }
    });
    call.on("end", endStream);
    call.on("cancelled", closeAll);
    call.on("close", closeAll);
    call.on("error", (e) => {
      log.debug({ err: e }, "PollTask stream error");
      closeAll();
    });
  }

  return { unary, pollTask, endAllStreams };
}

function fail(call: grpc.ServerDuplexStream<object, object>, code: grpcStatus, details: string): void {
  call.emit("error", { code, details });
}
