/**
 * Child process: the no-op baseline. A grpc-js server with the same `littlehorse.LittleHorse` service
 * definition and codecs, but no engine, no store and no fsync:
 *  - RunWf answers at once with a WfRun that carries only the id, and hands the WfRun's first task (a canned
 *    ScheduledTask) to a waiting PollTask request, or queues it until one arrives;
 *  - PollTask answers each request at once when a task is queued, else as soon as RunWf/ReportTask makes one;
 *  - ReportTask answers at once; for a bench-chain WfRun it first hands out the next task of the chain.
 * So per one-task "workflow" it sees exactly the calls Pony sees (RunWf + one PollTask request/response +
 * ReportTask), driven by the same client and worker: Pony's figures divided by these are the cost of the
 * engine and the durable store over the bare transport. Tasks are tied to RunWf (not answered to every poll
 * unconditionally) so the worker does exactly one task per workflow and the client's in-flight limit holds.
 */
import { create } from "@bufbuild/protobuf";
import { timestampAt } from "@pony/engine";
import {
  PollTaskResponseSchema,
  ScheduledTaskSchema,
  TaskDefSchema,
  WfRunSchema,
  WfSpecSchema,
  type PollTaskRequest,
  type PollTaskResponse,
  type ReportTaskRun,
  type RunWfRequest,
  type ScheduledTask,
} from "@pony/proto";
import { grpc, serviceDefinition } from "./grpc";
import { serveParent, sendToParent, wallMs } from "./common";
import { TASKS_PER_RUN, TASK_DEF } from "./specs";

type Stream = grpc.ServerDuplexStream<PollTaskRequest, PollTaskResponse>;

/** one open PollTask request per entry (a stream with N outstanding requests appears N times) */
const waiting: Stream[] = [];
const queued: ScheduledTask[] = [];
/** tasks still to hand out per WfRun (chains) */
const remaining = new Map<string, { left: number; input: ScheduledTask["variables"] }>();
let guid = 0;

function dispatch(wfRunId: string, variables: ScheduledTask["variables"]): void {
  const task = create(ScheduledTaskSchema, {
    taskRunId: { wfRunId: { id: wfRunId }, taskGuid: String(++guid) },
    taskDefId: { name: TASK_DEF },
    attemptNumber: 0,
    variables,
    createdAt: timestampAt(wallMs()),
  });
  while (waiting.length > 0) {
    const call = waiting.shift()!;
    if (call.cancelled || call.destroyed) continue;
    call.write(create(PollTaskResponseSchema, { result: task }));
    return;
  }
  queued.push(task);
}

const impl: grpc.UntypedServiceImplementation = {
  runWf(call: grpc.ServerUnaryCall<RunWfRequest, object>, callback: grpc.sendUnaryData<object>) {
    const req = call.request;
    const id = req.id ?? String(++guid);
    const input = req.variables.input;
    const variables = input ? [{ varName: "input", value: input }] : [];
    const tasks = TASKS_PER_RUN[req.wfSpecName] ?? 1;
    if (tasks > 1) remaining.set(id, { left: tasks - 1, input: variables as ScheduledTask["variables"] });
    dispatch(id, variables as ScheduledTask["variables"]);
    callback(null, create(WfRunSchema, { id: { id } }));
  },
  reportTask(call: grpc.ServerUnaryCall<ReportTaskRun, object>, callback: grpc.sendUnaryData<object>) {
    const id = call.request.taskRunId?.wfRunId?.id ?? "";
    const chain = remaining.get(id);
    if (chain) {
      if (--chain.left <= 0) remaining.delete(id);
      dispatch(id, chain.input);
    }
    callback(null, {});
  },
  pollTask(call: Stream) {
    call.on("data", () => {
      const task = queued.shift();
      if (task) call.write(create(PollTaskResponseSchema, { result: task }));
      else waiting.push(call);
    });
    call.on("end", () => call.end());
    call.on("error", () => undefined);
  },
  putTaskDef(_call: unknown, callback: grpc.sendUnaryData<object>) {
    callback(null, create(TaskDefSchema, { id: { name: TASK_DEF } }));
  },
  putWfSpec(_call: unknown, callback: grpc.sendUnaryData<object>) {
    callback(null, create(WfSpecSchema, {}));
  },
};

const server = new grpc.Server();
server.addService(serviceDefinition(), impl);
const port = await new Promise<number>((resolve, reject) =>
  server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
    err ? reject(err) : resolve(p),
  ),
);

serveParent({
  stop: async () => {
    server.forceShutdown();
    setImmediate(() => process.exit(0));
    return true;
  },
});
sendToParent({ ev: "ready", address: `127.0.0.1:${port}` });
