/** A minimal task worker over the raw PollTask stream, for black-box tests. */
import type * as grpc from "@grpc/grpc-js";
import { status as grpcStatus } from "@grpc/grpc-js";
import type { Msg, TestClient } from "./client";

export type TaskOutcome =
  | { status: "TASK_SUCCESS"; output?: Msg }
  | { status: "TASK_FAILED"; message?: string }
  | { status: "TASK_EXCEPTION"; name: string; message?: string; content?: Msg }
  | { status: "TASK_OUTPUT_SERIALIZING_ERROR" | "TASK_INPUT_VAR_SUB_ERROR"; message?: string }
  | { status: "NO_REPORT" };

export interface RawWorker {
  received: Msg[];
  /** ReportTask calls sent and not answered yet */
  reporting: number;
  stop(): void;
}

/**
 * Polls `taskDefName` with up to `concurrency` outstanding requests and answers every task with `handle`.
 */
export function startRawWorker(
  client: TestClient,
  taskDefName: string,
  handle: (task: Msg) => TaskOutcome | Promise<TaskOutcome>,
  /** onClose: called once when the stream is over, however it ended */
  opts: { clientId?: string; concurrency?: number; onClose?: () => void } = {},
): RawWorker {
  const stream = client.raw.PollTask(client.metadata()) as grpc.ClientDuplexStream<Msg, Msg>;
  const received: Msg[] = [];
  let stopped = false;
  const ask = () => {
    if (!stopped)
      stream.write({ task_def_id: { name: taskDefName }, client_id: opts.clientId ?? "test-worker" });
  };
  stream.on("data", (res: Msg) => {
    const task = res.result as Msg | undefined;
    if (!task) {
      ask();
      return;
    }
    received.push(task);
    void (async () => {
      const outcome = await handle(task);
      if (outcome.status !== "NO_REPORT" && !stopped) {
        const report: Msg = {
          task_run_id: task.task_run_id,
          attempt_number: task.attempt_number,
          status: outcome.status,
          time: { seconds: String(Math.floor(Date.now() / 1000)), nanos: 0 },
        };
        if (outcome.status === "TASK_SUCCESS" && outcome.output) report.output = outcome.output;
        if (outcome.status === "TASK_FAILED")
          report.error = { type: "TASK_FAILURE", message: outcome.message ?? "" };
        if (outcome.status === "TASK_EXCEPTION") {
          report.exception = { name: outcome.name, message: outcome.message ?? "", content: outcome.content };
        }
        w.reporting++;
        await client.call("ReportTask", report).catch(() => undefined);
        w.reporting--;
      }
      ask();
    })();
  });
  stream.on("error", () => undefined);
  // the call is over (the server ended it, or failed it: a server killed fails it with UNAVAILABLE)
  let over = false;
  const ended = () => {
    if (over) return;
    over = true;
    opts.onClose?.();
  };
  stream.on("status", ended);
  stream.on("error", ended);
  stream.on("end", ended);
  for (let i = 0; i < (opts.concurrency ?? 1); i++) ask();
  const w: RawWorker = {
    received,
    reporting: 0,
    stop() {
      stopped = true;
      stream.end();
      stream.cancel();
    },
  };
  return w;
}

/**
 * Opens a PollTask stream, sends one request for `taskDefName` and returns how the stream answered: "OK"
 * with the response, or the gRPC status code name and message it failed with.
 */
export async function firstPollOutcome(
  client: TestClient,
  taskDefName: string,
  clientId = "probe",
): Promise<{ code: string; message?: string; data?: Msg }> {
  const stream = client.raw.PollTask(client.metadata()) as grpc.ClientDuplexStream<Msg, Msg>;
  const outcome = await new Promise<{ code: string; message?: string; data?: Msg }>((resolve) => {
    stream.on("data", (data: Msg) => resolve({ code: "OK", data }));
    stream.on("error", (e: grpc.ServiceError) => resolve({ code: grpcStatus[e.code], message: e.details }));
    // a stream the server ends without an answer (or with OK) must not leave the test waiting
    stream.on("status", (st: grpc.StatusObject) =>
      resolve({ code: grpcStatus[st.code], message: st.details }),
    );
    stream.on("end", () => resolve({ code: "ENDED_WITHOUT_ANSWER" }));
    stream.write({ task_def_id: { name: taskDefName }, client_id: clientId });
  });
  stream.cancel();
  return outcome;
}
