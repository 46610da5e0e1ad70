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

/** A worker's heartbeat is written at most this often (GetTaskWorkerGroup shows it at most this late). */
const HEARTBEAT_WRITE_MS = 1000;
/** the longest task_worker_id RegisterTaskWorker takes */
const MAX_WORKER_ID_LENGTH = 256;
/** GetTaskWorkerGroup shows at most this many workers (the most recent heartbeats) */
const MAX_GROUP_WORKERS = 10_000;

export function taskHandlers(rt: Runtime, log: Logger, opts: TaskHandlerOptions) {
  /**
   * Each worker's latest heartbeat on this server (RegisterTaskWorker and GetTaskWorkerGroup run on the
   * metadata partition's owner, routes.ts) and when it was last written, to write at most one per
   * HEARTBEAT_WRITE_MS (tenant\0taskDef\0worker → ms); entries of silent workers are swept.
   */
  const heartbeats = new Map<string, { seenMs: number; writtenMs: number }>();
  let sweptMs = 0;

  function sweep(now: number): void {
    if (now - sweptMs < opts.workerHeartbeatTimeoutMs) return;
    sweptMs = now;
    for (const [k, h] of heartbeats) if (now - h.seenMs > opts.workerHeartbeatTimeoutMs) heartbeats.delete(k);
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
      if (req.taskWorkerId.length > MAX_WORKER_ID_LENGTH)
        throw new InvalidArgumentError(`task_worker_id is longer than ${MAX_WORKER_ID_LENGTH} characters`);
      const now = rt.now();
      sweep(now);
      const key = tenantKey(ctx.tenant, name, req.taskWorkerId);
      const known = heartbeats.get(key);
      if (known) known.seenMs = now;
      if (known === undefined || now - known.writtenMs >= HEARTBEAT_WRITE_MS) {
        // a worker new to this server: drop the group's silent workers, so the group holds live ones only
        const silent =
          known === undefined
            ? ((await rt.store.getTaskWorkerGroup(ctx.tenant, name, MAX_GROUP_WORKERS))?.workers ?? [])
                .filter((w) => now - w.heartbeatMs > opts.workerHeartbeatTimeoutMs)
                .map((w) => w.workerId)
            : [];
        await rt.submit({
          apply: (tx) => {
            for (const workerId of silent) {
              tx.ops.push({ op: "deleteTaskWorker", tenant: ctx.tenant, taskDefName: name, workerId });
            }
            tx.ops.push({
              op: "putTaskWorker",
              tenant: ctx.tenant,
              taskDefName: name,
              workerId: req.taskWorkerId,
              heartbeatMs: now,
            });
          },
        });
        heartbeats.set(key, { seenMs: now, writtenMs: now });
      }
      return create(RegisterTaskWorkerResponseSchema, { yourHosts: hosts(), isClusterHealthy: true });
    },

    async getTaskWorkerGroup(req: TaskDefId, ctx: CallContext) {
      if (!req.name) throw new InvalidArgumentError("name is required");
      const g = await rt.store.getTaskWorkerGroup(ctx.tenant, req.name, MAX_GROUP_WORKERS);
      if (!g) throw new NotFoundError(`no task worker has registered for TaskDef '${req.name}'`);
      const cutoff = rt.now() - opts.workerHeartbeatTimeoutMs;
      const taskWorkers: Record<string, ReturnType<typeof create<typeof TaskWorkerMetadataSchema>>> = {};
      for (const w of g.workers) {
        const latest = Math.max(
          w.heartbeatMs,
          heartbeats.get(tenantKey(ctx.tenant, req.name, w.workerId))?.seenMs ?? 0,
        );
        if (latest < cutoff) continue;
        taskWorkers[w.workerId] = create(TaskWorkerMetadataSchema, {
          taskWorkerId: w.workerId,
          latestHeartbeat: timestampFromMs(latest),
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
    let releaseStream: () => void;
    try {
      releaseStream = rt.admission.admitPollStream();
    } catch (e) {
      stream.fail(e);
      return;
    }
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
      releaseStream();
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
        deliver(task: ScheduledTask, lost: () => void): void {
          if (poller.closed || ended) {
            lost();
            return;
          }
          poller.closed = true;
          open.delete(poller);
          if (timer) clearTimeout(timer);
          stream.send(create(PollTaskResponseSchema, { result: task }), (ok) => {
            if (!ok) lost();
          });
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
