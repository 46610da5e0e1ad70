/**
 * Builders and readers for the thread tests (threads, failures, interrupts, halting): nodes that start and
 * wait for threads, failure handlers, interrupts, and helpers that read a WfRun's ThreadRuns and variables.
 * Plain objects in proto-loader form, like specs.ts.
 */
import type { Msg, TestClient } from "./client";
import type { NodeDef } from "./specs";
import { waitFor } from "./wait";
import { startRawWorker, type RawWorker } from "./worker";

export const nodeOut = (nodeName: string): Msg => ({ node_output: { node_name: nodeName } });

export const edge = (sink: string, extra: Msg = {}): Msg => ({ sink_node_name: sink, ...extra });

export const mutation = (lhs: string, operation: string, rhs: Msg): Msg => ({
  lhs_name: lhs,
  operation,
  source_variable: rhs,
});

/** An edge condition `left comparator right`. */
export const cond = (left: Msg, comparator: string, right: Msg): Msg => ({ comparator, left, right });

/** A FailureHandlerDef: `specific` failure name, or `type` ERROR / EXCEPTION, or neither (any failure). */
export function onFailure(handlerSpecName: string, catches: { specific?: string; type?: string } = {}): Msg {
  const out: Msg = { handler_spec_name: handlerSpecName };
  if (catches.specific !== undefined) out.specific_failure = catches.specific;
  if (catches.type !== undefined) out.any_failure_of_type = `FAILURE_TYPE_${catches.type}`;
  return out;
}

/** Adds failure handlers to a node. */
export const withHandlers = (node: NodeDef, ...handlers: Msg[]): NodeDef => ({
  ...node,
  node: { ...node.node, failure_handlers: handlers },
});

export const startThreadNode = (
  name: string,
  threadSpecName: string,
  variables: Record<string, Msg> = {},
  edges?: Msg[],
): NodeDef => ({ name, node: { start_thread: { thread_spec_name: threadSpecName, variables } }, edges });

export const startMultipleNode = (
  name: string,
  threadSpecName: string,
  iterable: Msg,
  variables: Record<string, Msg> = {},
): NodeDef => ({
  name,
  node: { start_multiple_threads: { thread_spec_name: threadSpecName, iterable, variables } },
});

/** WAIT_FOR_THREADS on a fixed list of thread-number assignments, or on a JSON_ARR assignment. */
export function waitThreadsNode(
  name: string,
  threads: Msg[] | Msg,
  perThreadFailureHandlers: Msg[] = [],
  edges?: Msg[],
): NodeDef {
  const which = Array.isArray(threads)
    ? { threads: { threads: threads.map((t) => ({ thread_run_number: t })) } }
    : { thread_list: threads };
  return {
    name,
    node: { wait_for_threads: { ...which, per_thread_failure_handlers: perThreadFailureHandlers } },
    edges,
  };
}

export const externalEventNode = (name: string, defName: string, edges?: Msg[]): NodeDef => ({
  name,
  node: { external_event: { external_event_def_id: { name: defName } } },
  edges,
});

export const sleepNode = (name: string, seconds: number): NodeDef => ({
  name,
  node: { sleep: { raw_seconds: { literal_value: { int: String(seconds) } } } },
});

export const failingExit = (name: string, failureName: string, message: string, content?: Msg): NodeDef => ({
  name,
  node: { exit: { failure_def: { failure_name: failureName, message, ...(content ? { content } : {}) } } },
});

export const interruptDef = (eventDefName: string, handlerSpecName: string): Msg => ({
  external_event_def_id: { name: eventDefName },
  handler_spec_name: handlerSpecName,
});

/** The JS value of a VariableValue message (INT as a number, JSON parsed, null when unset). */
export function js(v: Msg | undefined | null): unknown {
  if (!v || !v.value) return null;
  switch (v.value) {
    case "int":
      return Number(v.int);
    case "json_obj":
      return JSON.parse(v.json_obj);
    case "json_arr":
      return JSON.parse(v.json_arr);
    default:
      return v[v.value];
  }
}

export const tsMs = (t: Msg | undefined | null): number =>
  Number(t!.seconds) * 1000 + Math.floor(Number(t!.nanos) / 1e6);

export class Runs {
  constructor(readonly c: TestClient) {}

  get(id: Msg): Promise<Msg> {
    return this.c.call("GetWfRun", id);
  }

  async thread(id: Msg, number: number): Promise<Msg | undefined> {
    return (await this.get(id)).thread_runs.find((t: Msg) => t.number === number);
  }

  /** Polls GetWfRun until `check` returns something other than undefined. */
  until<T>(id: Msg, check: (run: Msg) => T | undefined, what: string, timeoutMs = 15_000): Promise<T> {
    return waitFor(async () => check(await this.get(id)), timeoutMs, `${what} (WfRun ${id.id})`);
  }

  status(id: Msg, status: string, timeoutMs?: number): Promise<Msg> {
    return this.until(id, (r) => (r.status === status ? r : undefined), `status ${status}`, timeoutMs);
  }

  threadStatus(id: Msg, number: number, status: string, timeoutMs?: number): Promise<Msg> {
    return this.until(
      id,
      (r) => {
        const t = r.thread_runs.find((x: Msg) => x.number === number);
        return t?.status === status ? r : undefined;
      },
      `thread ${number} to be ${status}`,
      timeoutMs,
    );
  }

  /** Variables as { "thread/name": value }. */
  async variables(id: Msg): Promise<Record<string, unknown>> {
    const list = await this.c.call("ListVariables", { wf_run_id: id });
    return Object.fromEntries(
      list.results.map((v: Msg) => [`${v.id.thread_run_number}/${v.id.name}`, js(v.value)]),
    );
  }

  async nodeRuns(id: Msg, thread?: number): Promise<Msg[]> {
    const req: Msg = { wf_run_id: id };
    if (thread !== undefined) req.thread_run_number = thread;
    return (await this.c.call("ListNodeRuns", req)).results;
  }

  nodeRun(id: Msg, thread: number, position: number): Promise<Msg> {
    return this.c.call("GetNodeRun", { wf_run_id: id, thread_run_number: thread, position });
  }

  /** The current NodeRun of a thread. */
  async current(id: Msg, number: number): Promise<Msg> {
    const t = await this.thread(id, number);
    if (!t) throw new Error(`WfRun ${id.id} has no thread ${number}`);
    return this.nodeRun(id, number, t.current_node_position);
  }

  /** Waits until thread `number` sits at node `nodeName` (its current NodeRun). */
  async atNode(id: Msg, number: number, nodeName: string, timeoutMs = 15_000): Promise<Msg> {
    return waitFor(
      async () => {
        const t = await this.thread(id, number);
        if (!t) return undefined;
        const n = await this.nodeRun(id, number, t.current_node_position);
        return n.node_name === nodeName ? n : undefined;
      },
      timeoutMs,
      `thread ${number} of ${id.id} at ${nodeName}`,
    );
  }

  postEvent(id: Msg, defName: string, content?: Msg, extra: Msg = {}): Promise<Msg> {
    return this.c.call("PutExternalEvent", {
      wf_run_id: id,
      external_event_def_id: { name: defName },
      ...(content ? { content } : {}),
      ...extra,
    });
  }
}

/** The halt reason kinds of a ThreadRun, in order (parent_halted, interrupted, manual_halt, …). */
export const reasons = (t: Msg | undefined): string[] => (t?.halt_reasons ?? []).map((r: Msg) => r.reason);

export type Outcome =
  | { status: "TASK_SUCCESS"; output?: Msg }
  | { status: "TASK_FAILED"; message?: string }
  | { status: "TASK_EXCEPTION"; name: string; message?: string; content?: Msg };

/** Reports a task the way a worker would. */
export function report(c: TestClient, task: Msg, outcome: Outcome): Promise<Msg> {
  const req: Msg = {
    task_run_id: task.task_run_id,
    attempt_number: task.attempt_number,
    status: outcome.status,
  };
  if (outcome.status === "TASK_SUCCESS" && outcome.output) req.output = outcome.output;
  if (outcome.status === "TASK_FAILED") req.error = { type: "TASK_FAILURE", message: outcome.message ?? "" };
  if (outcome.status === "TASK_EXCEPTION") {
    req.exception = { name: outcome.name, message: outcome.message ?? "", content: outcome.content };
  }
  return c.call("ReportTask", req);
}

/** The wf_run_id.id of a ScheduledTask. */
export const taskWfRun = (task: Msg): string => task.task_run_id.wf_run_id.id;
/** The thread a ScheduledTask's NodeRun belongs to. */
export const taskThread = (task: Msg): number => task.source.task_node.node_run_id.thread_run_number;

/**
 * A worker that takes every task of a TaskDef and holds it until the test reports it (`report`), so tests
 * decide when each attempt ends.
 */
export class HeldWorker {
  private readonly worker: RawWorker;

  constructor(
    readonly c: TestClient,
    taskDefName: string,
  ) {
    this.worker = startRawWorker(c, taskDefName, () => ({ status: "NO_REPORT" }), { concurrency: 8 });
  }

  /** The tasks taken for one WfRun, once there are at least `n` of them (in the order they were taken). */
  tasks(wfRunId: Msg, n: number, timeoutMs = 15_000): Promise<Msg[]> {
    return waitFor(
      async () => {
        const mine = this.worker.received.filter((t) => taskWfRun(t) === wfRunId.id);
        return mine.length >= n ? mine : undefined;
      },
      timeoutMs,
      `${n} task(s) of WfRun ${wfRunId.id}`,
    );
  }

  /** The latest task taken for thread `thread` of the WfRun, once there are `n` of them for that thread. */
  async taskOf(wfRunId: Msg, thread: number, n = 1): Promise<Msg> {
    return waitFor(
      async () => {
        const mine = this.worker.received.filter(
          (t) => taskWfRun(t) === wfRunId.id && taskThread(t) === thread,
        );
        return mine.length >= n ? mine[mine.length - 1] : undefined;
      },
      15_000,
      `task ${n} of thread ${thread} of WfRun ${wfRunId.id}`,
    );
  }

  stop(): void {
    this.worker.stop();
  }
}
