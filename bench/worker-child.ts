/**
 * Child process: the task worker. On `start` it opens ONE PollTask bidi stream to the given server (more only
 * as a diagnostic, `--streams`) and keeps `concurrency` PollTaskRequests outstanding: each time a task
 * arrives it sends a new request at once (before doing the task), so a poll is always open when the server
 * schedules the next task. Every task is answered with TASK_SUCCESS and a small STR output through
 * ReportTask (unary, same channel).
 *
 * Completion detection: when a ReportTask call is acknowledged (Pony answers only after the report's effects
 * are committed: for the last task of a WfRun that includes the WfRun reaching COMPLETED), the worker sends
 * the WfRun id to the parent over IPC, batched per event-loop turn, and the parent forwards it to the client.
 * So the client learns about completions without any RPC beyond RunWf + PollTask + ReportTask.
 *
 * Measurements, per task received (all on this machine, so clocks are shared):
 *  - dispatch: wallMs() at receipt − ScheduledTask.created_at (the server's clock when it scheduled the
 *    attempt, to the microsecond; both read the wall clock the same way, see common.ts);
 *  - run→dispatch: when the input variable is "t0:<monoMs>" (the client's monotonic clock just before it sent
 *    RunWf), receipt − t0 on the shared monotonic clock (sub-ms);
 *  - hop: for a WfRun whose previous task this worker reported, receipt − the time just before that
 *    ReportTask call (sub-ms).
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  LittleHorse,
  PollTaskRequestSchema,
  ReportTaskRunSchema,
  TaskStatus,
  VariableValueSchema,
  type PollTaskRequest,
  type PollTaskResponse,
  type ScheduledTask,
} from "@pony/proto";
import { LhClient, grpc } from "./grpc";
import { errText, monoMs, serveParent, sendToParent, wallMs, type DoneEvent } from "./common";
import { TASK_DEF } from "./specs";

interface Samples {
  dispatchMs: number[];
  runToDispatchMs: number[];
  hopMs: number[];
  tasks: number;
  reportErrors: number;
  lastError?: string;
}

const newSamples = (): Samples => ({
  dispatchMs: [],
  runToDispatchMs: [],
  hopMs: [],
  tasks: 0,
  reportErrors: 0,
});

let samples = newSamples();
let clients: LhClient[] = [];
let streams: grpc.ClientDuplexStream<PollTaskRequest, PollTaskResponse>[] = [];
/** per WfRun: monotonic time just before the last ReportTask call */
const lastReport = new Map<string, number>();
let doneBatch: string[] = [];
const OUTPUT = create(VariableValueSchema, { value: { case: "str", value: "ok" } });

function flushDone(): void {
  const ids = doneBatch;
  doneBatch = [];
  if (ids.length > 0) sendToParent({ ev: "done", ids } satisfies DoneEvent);
}

function onTask(c: LhClient, ask: () => void, task: ScheduledTask): void {
  const receivedMono = monoMs();
  const receivedWall = wallMs();
  ask();
  samples.tasks++;
  const created = task.createdAt;
  if (created) {
    samples.dispatchMs.push(receivedWall - (Number(created.seconds) * 1000 + created.nanos / 1e6));
  }
  const wfRunId = task.taskRunId?.wfRunId?.id ?? "";
  const input = task.variables[0]?.value?.value;
  if (input?.case === "str" && input.value.startsWith("t0:")) {
    samples.runToDispatchMs.push(receivedMono - Number(input.value.slice(3)));
  }
  const prev = lastReport.get(wfRunId);
  if (prev !== undefined) samples.hopMs.push(receivedMono - prev);

  const report = create(ReportTaskRunSchema, {
    taskRunId: task.taskRunId,
    attemptNumber: task.attemptNumber,
    status: TaskStatus.TASK_SUCCESS,
    time: timestampFromMs(Math.floor(receivedWall)),
    result: { case: "output", value: OUTPUT },
  });
  lastReport.set(wfRunId, monoMs());
  c.unary(LittleHorse.method.reportTask, report).then(
    () => {
      if (doneBatch.length === 0) setImmediate(flushDone);
      doneBatch.push(wfRunId);
    },
    (e: unknown) => {
      samples.reportErrors++;
      samples.lastError = errText(e);
    },
  );
}

function stop(): void {
  for (const s of streams) {
    s.removeAllListeners("data");
    s.on("error", () => undefined);
    s.end();
    s.cancel();
  }
  streams = [];
  for (const c of clients) c.close();
  clients = [];
  lastReport.clear();
}

function openStream(c: LhClient, polls: number): void {
  const s = c.pollTask();
  streams.push(s);
  const request = create(PollTaskRequestSchema, {
    taskDefId: { name: TASK_DEF },
    clientId: "bench-worker",
  });
  const ask = () => {
    if (streams.includes(s)) s.write(request);
  };
  s.on("data", (res: PollTaskResponse) => {
    if (res.result) onTask(c, ask, res.result);
    else ask(); // the poll timed out empty: ask again
  });
  s.on("error", (e: unknown) => {
    if (!streams.includes(s)) return;
    samples.lastError = `PollTask stream: ${errText(e)}`;
    sendToParent({ ev: "error", message: samples.lastError });
  });
  for (let i = 0; i < polls; i++) ask();
}

serveParent({
  /**
   * Starts polling `address` (or each of `addresses`, the servers of a cluster, sharing the polls) with
   * `concurrency` requests outstanding, over `streams` PollTask streams per server (default 1; more is a
   * diagnostic: one stream's messages are written one after the other).
   */
  start: (args: {
    address: string;
    addresses?: string[];
    token?: string;
    concurrency: number;
    streams?: number;
  }) => {
    stop();
    const addresses = args.addresses ?? [args.address];
    addresses.forEach((address, at) => {
      const c = new LhClient(address, args.token);
      clients.push(c);
      const share =
        Math.floor(args.concurrency / addresses.length) + (at < args.concurrency % addresses.length ? 1 : 0);
      const n = Math.max(1, Math.min(args.streams ?? 1, share));
      for (let i = 0; i < n; i++) openStream(c, Math.floor(share / n) + (i < share % n ? 1 : 0));
    });
    return true;
  },
  /** forget samples so far (start of a measurement window) */
  reset: () => {
    samples = newSamples();
    return true;
  },
  collect: () => samples,
  stopPolling: () => {
    stop();
    return true;
  },
  stop: () => {
    stop();
    setImmediate(() => process.exit(0));
    return true;
  },
});
sendToParent({ ev: "ready" });
