/**
 * Child process: the load client. It registers the TaskDef, the ExternalEventDef and the WfSpecs, then runs
 * WfRuns: either `inflight` of them at a time for throughput (each lane: RunWf, wait for completion, repeat),
 * or one at a time for latency. A task WfRun counts as complete when RunWf was answered AND the worker has
 * reported (through the parent, see worker-child.ts) an acknowledged ReportTask for each of its tasks; the
 * client never polls GetWfRun, so the server sees only RunWf + PollTask + ReportTask.
 *
 * The external-event round trip (`kind: "event"`) is RunWf of bench-event (the thread waits at its
 * EXTERNAL_EVENT node), then PutExternalEvent: Pony answers the put once the claim and the rest of the WfRun
 * (EXIT, so COMPLETED) are committed, and the answer says `claimed`; an unclaimed answer counts as an error.
 */
import { create } from "@bufbuild/protobuf";
import {
  LittleHorse,
  PutExternalEventRequestSchema,
  RunWfRequestSchema,
  type RunWfRequest,
} from "@pony/proto";
import { partitionOf } from "../packages/server/src/store/placement";
import { partitionOwners } from "../test/support/cluster";
import { LhClient } from "./grpc";
import { errText, monoMs, serveParent, type DoneEvent, type Event } from "./common";
import {
  EVENT_DEF,
  EVENT_WF,
  TASKS_PER_RUN,
  chainWfSpec,
  eventWfSpec,
  externalEventDefRequest,
  fanOutWfSpec,
  oneTaskWfSpecRequest,
  runVariables,
  taskDefRequest,
} from "./specs";

/** what one lane runs: a WfRun of task nodes (completion through the worker) or an event round trip */
type Kind = "task" | "event";

/** one client per server address and bearer token (servers started with OAuth) */
const clients = new Map<string, LhClient>();
function clientFor(address: string, token?: string): LhClient {
  const key = `${address} ${token ?? ""}`;
  let c = clients.get(key);
  if (!c) clients.set(key, (c = new LhClient(address, token)));
  return c;
}

/**
 * `--to-owner` (a diagnostic): the address of the server that owns a WfRun id's partition, as the
 * partitions table says when the load starts (the servers' ids are their addresses)
 */
let ownerOf: ((wfRunId: string) => string) | undefined;

async function readOwners(databaseUrl: string): Promise<(wfRunId: string) => string> {
  const owners = await partitionOwners(databaseUrl);
  return (id) => owners.get(partitionOf("default", id, owners.size))!;
}

/** WfRuns waiting for task completions: id → tasks still to be reported, and who to wake */
const waiters = new Map<string, { left: number; resolve: () => void }>();

/**
 * `--server-ids`: RunWfs name no id, and the server makes one up. A WfRun's id is then known only from the
 * RunWf answer, and the worker may report its task before that: reports of ids not (yet) waited for are
 * counted here, and taken when the answer comes.
 */
let serverIds = false;
const early = new Map<string, number>();

function onDone(e: DoneEvent): void {
  for (const id of e.ids) {
    const w = waiters.get(id);
    if (!w) {
      if (serverIds) early.set(id, (early.get(id) ?? 0) + 1);
      continue; // else not ours (a warm-up run abandoned after a timeout)
    }
    if (--w.left <= 0) {
      waiters.delete(id);
      w.resolve();
    }
  }
}

let seq = 0;
const runPrefix = `b${process.pid}-${Date.now().toString(36)}`;

/**
 * Runs one WfRun to completion. The waiter is registered before RunWf is sent: the worker may report the
 * task before the RunWf answer gets back here. Resolves to the RunWf round-trip time in ms.
 */
async function runOne(lane: LhClient, wfSpecName: string, input: () => string, timeoutMs = 30_000) {
  const given = serverIds ? undefined : `${runPrefix}-${++seq}`;
  const c = ownerOf && given ? clientFor(ownerOf(given)) : lane;
  const tasks = TASKS_PER_RUN[wfSpecName] ?? 1;
  let timer: NodeJS.Timeout | undefined;
  let wait: (id: string, left: number) => void = () => undefined;
  const completed = new Promise<void>((resolve, reject) => {
    wait = (id, left) => {
      if (left <= 0) return resolve();
      waiters.set(id, { left, resolve });
      timer = setTimeout(() => {
        waiters.delete(id);
        reject(new Error(`WfRun ${id} did not complete within ${timeoutMs} ms`));
      }, timeoutMs);
    };
  });
  completed.catch(() => undefined); // handled below; avoids an unhandled rejection while RunWf is pending
  if (given) wait(given, tasks);
  let id = given;
  try {
    const t0 = monoMs();
    const req: RunWfRequest = create(RunWfRequestSchema, {
      wfSpecName,
      id: given,
      variables: runVariables(wfSpecName, input()),
    });
    const run = await c.unary(LittleHorse.method.runWf, req);
    const rpcMs = monoMs() - t0;
    if (!given) {
      id = run.id?.id ?? "";
      const reported = early.get(id) ?? 0;
      early.delete(id);
      wait(id, tasks - reported);
    }
    await completed;
    return { rpcMs, e2eMs: monoMs() - t0 };
  } catch (e) {
    if (id) waiters.delete(id);
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * One external-event round trip: RunWf (the WfRun waits at its EXTERNAL_EVENT node), then PutExternalEvent,
 * answered once the WfRun is COMPLETED. Resolves to the RunWf time and the whole round trip, in ms.
 */
async function eventRoundTrip(c: LhClient) {
  const id = `${runPrefix}-${++seq}`;
  const t0 = monoMs();
  await c.unary(LittleHorse.method.runWf, create(RunWfRequestSchema, { wfSpecName: EVENT_WF, id }));
  const rpcMs = monoMs() - t0;
  const event = await c.unary(
    LittleHorse.method.putExternalEvent,
    create(PutExternalEventRequestSchema, {
      wfRunId: { id },
      externalEventDefId: { name: EVENT_DEF },
      guid: "go",
      content: { value: { case: "str", value: "go" } },
    }),
  );
  if (!event.claimed) throw new Error(`the ExternalEvent of WfRun ${id} was not claimed by its node`);
  return { rpcMs, e2eMs: monoMs() - t0 };
}

const runKind = (c: LhClient, kind: Kind | undefined, wfSpecName: string, input: () => string) =>
  kind === "event" ? eventRoundTrip(c) : runOne(c, wfSpecName, input);

interface Load {
  stopping: boolean;
  completed: number;
  errors: number;
  lastError?: string;
  e2eMs: number[];
  recording: boolean;
  lanes: Promise<void>[];
}
let load: Load | undefined;

serveParent(
  {
    setup: async (args: { address: string; token?: string }) => {
      const c = clientFor(args.address, args.token);
      await c.unary(LittleHorse.method.putTaskDef, taskDefRequest());
      await c.unary(LittleHorse.method.putWfSpec, oneTaskWfSpecRequest());
      await c.unary(LittleHorse.method.putWfSpec, chainWfSpec());
      await c.unary(LittleHorse.method.putExternalEventDef, externalEventDefRequest());
      await c.unary(LittleHorse.method.putWfSpec, eventWfSpec());
      await c.unary(LittleHorse.method.putWfSpec, fanOutWfSpec());
      return true;
    },

    /** starts `inflight` lanes of back-to-back WfRuns (or event round trips); they run until stopLoad */
    startLoad: async (args: {
      address: string;
      /** the servers of a cluster: the lanes are spread over them */
      addresses?: string[];
      token?: string;
      wfSpecName: string;
      inflight: number;
      kind?: Kind;
      /** --to-owner: the cluster's database */
      ownersFrom?: string;
      /** --server-ids: RunWfs name no id */
      serverIds?: boolean;
    }) => {
      if (load) throw new Error("a load is already running");
      serverIds = args.serverIds ?? false;
      ownerOf = args.ownersFrom ? await readOwners(args.ownersFrom) : undefined;
      const addresses = args.addresses ?? [args.address];
      const l: Load = { stopping: false, completed: 0, errors: 0, e2eMs: [], recording: false, lanes: [] };
      load = l;
      const lane = async (i: number) => {
        const c = clientFor(addresses[i % addresses.length]!, args.token);
        while (!l.stopping) {
          try {
            const r = await runKind(c, args.kind, args.wfSpecName, () => "x");
            l.completed++;
            if (l.recording) l.e2eMs.push(r.e2eMs);
          } catch (e) {
            l.errors++;
            l.lastError = errText(e);
            if (l.errors > 1000) l.stopping = true;
            await new Promise((r) => setTimeout(r, 10));
          }
        }
      };
      for (let i = 0; i < args.inflight; i++) l.lanes.push(lane(i));
      return true;
    },

    /** completed WfRuns so far, read at a monotonic time; `record` switches latency recording on/off */
    loadCount: (args: { record?: boolean }) => {
      if (!load) throw new Error("no load running");
      if (args.record !== undefined) load.recording = args.record;
      return { completed: load.completed, errors: load.errors, atMs: monoMs() };
    },

    /** stops starting WfRuns, waits for those in flight, and returns the recorded latencies */
    stopLoad: async () => {
      const l = load;
      if (!l) throw new Error("no load running");
      l.stopping = true;
      await Promise.all(l.lanes);
      load = undefined;
      return { completed: l.completed, errors: l.errors, lastError: l.lastError, e2eMs: l.e2eMs };
    },

    /**
     * Runs `count` WfRuns one after the other (the worker is idle when each is scheduled). With `stamp`, the
     * input variable carries the monotonic time just before RunWf is sent, for the worker's run→dispatch.
     */
    sequential: async (args: {
      address: string;
      wfSpecName: string;
      count: number;
      stamp: boolean;
      kind?: Kind;
    }) => {
      const c = clientFor(args.address);
      const rpcMs: number[] = [];
      const e2eMs: number[] = [];
      for (let i = 0; i < args.count; i++) {
        const r = await runKind(c, args.kind, args.wfSpecName, () => (args.stamp ? `t0:${monoMs()}` : "x"));
        rpcMs.push(r.rpcMs);
        e2eMs.push(r.e2eMs);
      }
      return { rpcMs, e2eMs };
    },

    stop: () => {
      for (const c of clients.values()) c.close();
      setImmediate(() => process.exit(0));
      return true;
    },
  },
  (e: Event) => {
    if (e.ev === "done") onDone(e as DoneEvent);
  },
);
process.send?.({ ev: "ready" });
