/**
 * `npm run bench [-- --seconds N --warmup N --json FILE --cpu-prof DIR]`
 *
 * End-to-end benchmark of Pony over real gRPC on loopback. Four processes: this one (orchestrator, relays
 * the worker's completion notices to the client over IPC), a Pony server (bench/server-child.ts: default
 * SQLite store, synchronous=FULL, fresh temp data dir), a task worker (bench/worker-child.ts) and a load
 * client (bench/client-child.ts). Then the same client and worker drive a no-op gRPC server
 * (bench/baseline-child.ts) for the baseline.
 *
 * Phases, against Pony and then against the baseline:
 *  1. throughput: `--inflight` (64) one-task WfRuns in flight, worker with 64 polls outstanding; warm up
 *     `--warmup` s, then count completed WfRuns for `--seconds` s; the worker's dispatch latencies in that
 *     window are the "loaded" ones;
 *  2. idle latency: worker with 1 poll outstanding, one-task WfRuns run one at a time (`--idle-runs`);
 *  3. task hop: bench-chain WfRuns (20 TASK nodes) run one at a time (`--chains`).
 * Then, against Pony only (the baseline has no engine to wait at a node or start threads):
 *  4. external-event round trip: `--event-inflight` (64) lanes of RunWf(bench-event: the thread waits at an
 *     EXTERNAL_EVENT node) → PutExternalEvent → answered with the WfRun COMPLETED; round trips per second
 *     and their p50/p99 over `--case-seconds` after a 1 s warm-up, then `--idle-runs` of them one at a time;
 *  5. fan-out: `--fanout-inflight` (4) bench-fanout WfRuns at a time, each START_MULTIPLE_THREADS over a
 *     JSON_ARR of 100 items (one child thread per item, one TASK each) then WAIT_FOR_THREADS; tasks per
 *     second over `--case-seconds`, next to the one-task case's.
 * With `--oauth`, phase 1 runs `--oauth-rounds` (3) more times on each of two kinds of fresh Pony server,
 * alternately: without authentication, and requiring OAuth (`--oauth-issuer`, `--oauth-audience`,
 * `--oauth-jwks-file`), where the client and the worker send a signed JWT on every call as least-privilege
 * principals (RUN+READ on the WfSpec, RUN+READ on the TaskDef: every call is authorized by name). The ratio of
 * the two medians is the cost of authentication and authorization.
 * Results: a table and a JSON object on stdout (and in `--json FILE`). Children's logs go to stderr.
 */
import { fork, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  childExecArgv,
  cpuSample,
  errText,
  percentile,
  round,
  type CpuSample,
  type Event,
  type Reply,
} from "./common";
import { create } from "@bufbuild/protobuf";
import { TestIssuer } from "../test/support/oauth";
import { startThrowawayPostgres, stopLeftoverClusters } from "../test/support/postgres";
import { ACLAction, ACLResource, LittleHorse, PutPrincipalRequestSchema } from "@pony/proto";
import { LhClient } from "./grpc";
import { CHAIN_LENGTH, CHAIN_WF, EVENT_WF, FANOUT_WF, FANOUT_WIDTH, ONE_TASK_WF, TASK_DEF } from "./specs";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "..");

// ---- options ----------------------------------------------------------------------------------------------

const { values: opt } = parseArgs({
  args: process.argv.slice(2),
  options: {
    seconds: { type: "string", default: "10" },
    warmup: { type: "string" },
    inflight: { type: "string", default: "64" },
    "idle-runs": { type: "string", default: "200" },
    chains: { type: "string", default: "20" },
    streams: { type: "string", default: "1" },
    "case-seconds": { type: "string", default: "5" },
    "event-inflight": { type: "string", default: "64" },
    "fanout-inflight": { type: "string", default: "4" },
    json: { type: "string" },
    "cpu-prof": { type: "string" },
    "no-baseline": { type: "boolean", default: false },
    oauth: { type: "boolean", default: false },
    "oauth-rounds": { type: "string", default: "3" },
    store: { type: "string", default: "sqlite" },
    servers: { type: "string", default: "3" },
    "to-owner": { type: "boolean", default: false },
    "server-ids": { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
  strict: true,
  allowPositionals: false,
});

if (opt.help) {
  console.log(`Usage: npm run bench -- [options]
  --seconds N      measured throughput window, per server (default 10)
  --warmup N       throughput warm-up before measuring (default 2; 15 with --store postgres)
  --inflight N     WfRuns in flight and polls outstanding in the throughput phase (default 64)
  --idle-runs N    sequential one-task WfRuns for the idle dispatch latency (default 200)
  --chains N       sequential ${CHAIN_LENGTH}-task WfRuns for the task hop latency (default 20)
  --streams N      PollTask streams the worker spreads its polls over (default 1; a diagnostic)
  --case-seconds N measured window of the external-event and fan-out cases (default 5)
  --event-inflight N  external-event round trips in flight (default 64)
  --fanout-inflight N ${FANOUT_WIDTH}-task fan-out WfRuns in flight (default 4)
  --json FILE      also write the JSON results to FILE
  --cpu-prof DIR   run the server, worker and client children with --cpu-prof into DIR
  --no-baseline    skip the no-op gRPC baseline
  --oauth          also measure throughput on fresh servers without auth and with OAuth bearer tokens
                   (a local JWKS file; every call carries a signed JWT), alternately, and their ratio
  --oauth-rounds N rounds of that comparison (default 3)
  --store postgres compare one-task throughput on SQLite, then PostgreSQL clusters of 1 … --servers servers
                   (a throwaway PostgreSQL cluster, fsync on), instead of the phases above
  --servers N      the largest PostgreSQL cluster of that comparison (default 3)
  --to-owner       (a diagnostic, with --store postgres) the client sends each RunWf straight to the owner of
                   its partition, read from the database, as no LittleHorse client can: the difference to a
                   normal run is what forwarding costs`);
  process.exit(0);
}

function positive(name: string, raw: string | undefined): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got '${raw}'`);
  return n;
}
const SECONDS = positive("seconds", opt.seconds);
/**
 * A server's hot code is compiled by V8's optimizing tier over its first seconds under load, and a server of
 * a cluster, which gets a share of the load, takes as many times longer. With 2 s, three servers were still
 * compiling in the measured window (a fifth of their CPU), which is no server's steady state: the store
 * comparison warms up for 15 s.
 */
const WARMUP = opt.warmup !== undefined ? positive("warmup", opt.warmup) : opt.store === "postgres" ? 15 : 2;
const INFLIGHT = Math.round(positive("inflight", opt.inflight));
const IDLE_RUNS = Math.round(positive("idle-runs", opt["idle-runs"]));
const CHAINS = Math.round(positive("chains", opt.chains));
const STREAMS = Math.round(positive("streams", opt.streams));
const CASE_SECONDS = positive("case-seconds", opt["case-seconds"]);
const OAUTH_ROUNDS = Math.round(positive("oauth-rounds", opt["oauth-rounds"]));
const EVENT_INFLIGHT = Math.round(positive("event-inflight", opt["event-inflight"]));
const FANOUT_INFLIGHT = Math.round(positive("fanout-inflight", opt["fanout-inflight"]));
/** where `npm run` was started (npm runs the script in the package root) */
const invokedFrom = process.env.INIT_CWD ?? process.cwd();
const CPU_PROF_DIR = opt["cpu-prof"] ? path.resolve(invokedFrom, opt["cpu-prof"]) : undefined;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const log = (msg: string) => process.stderr.write(`bench: ${msg}\n`);

// ---- child processes --------------------------------------------------------------------------------------

/** every child still running: killed (SIGKILL) whatever way this process ends */
const live = new Set<Child>();

class Child {
  readonly proc: ChildProcess;
  readonly ready: Promise<Event>;
  readonly exited: Promise<void>;
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }
  >();
  private readonly listeners = new Map<string, (e: Event) => void>();
  private exitText?: string;
  private stopping = false;

  constructor(
    readonly name: string,
    file: string,
    args: string[] = [],
  ) {
    this.proc = fork(path.join(here, file), args, {
      cwd: repoRoot,
      execArgv: childExecArgv(CPU_PROF_DIR),
      // children's stdout and stderr both go to our stderr: our stdout is only the results
      stdio: ["ignore", 2, 2, "ipc"],
    });
    live.add(this);
    let readyResolve: (e: Event) => void = () => undefined;
    let readyReject: (e: Error) => void = () => undefined;
    this.ready = new Promise<Event>((resolve, reject) => {
      readyResolve = resolve;
      readyReject = reject;
    });
    this.ready.catch(() => undefined);
    this.listeners.set("ready", (e) => readyResolve(e));
    this.exited = new Promise<void>((resolve) => {
      this.proc.once("exit", (code, signal) => {
        live.delete(this);
        this.exitText = `${this.name} process exited (${signal ?? `code ${code}`})`;
        if (!this.stopping) {
          // a child that dies mid-run makes every figure meaningless: stop now (the exit handler cleans up)
          log(`${this.exitText} unexpectedly: aborting`);
          process.exit(1);
        }
        const err = new Error(this.exitText);
        readyReject(err);
        for (const p of this.pending.values()) {
          clearTimeout(p.timer);
          p.reject(err);
        }
        this.pending.clear();
        resolve();
      });
    });
    this.proc.on("error", (e) => log(`${this.name}: ${e.message}`));
    this.proc.on("message", (raw: unknown) => {
      const m = raw as Partial<Reply> & Partial<Event>;
      if (typeof m.ev === "string") {
        this.listeners.get(m.ev)?.(m as Event);
        return;
      }
      const p = typeof m.id === "number" ? this.pending.get(m.id) : undefined;
      if (!p) return;
      this.pending.delete(m.id!);
      clearTimeout(p.timer);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(`${this.name}: ${m.error ?? "failed"}`));
    });
  }

  /** the coming exit is expected */
  markStopping(): void {
    this.stopping = true;
  }

  get alive(): boolean {
    return live.has(this);
  }

  on(ev: string, fn: (e: Event) => void): void {
    this.listeners.set(ev, fn);
  }

  send(e: Event): void {
    if (this.alive && this.proc.connected) this.proc.send(e);
  }

  async waitReady(timeoutMs = 30_000): Promise<Event> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${this.name} was not ready within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.ready, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  call<T>(cmd: string, args?: unknown, timeoutMs = 60_000): Promise<T> {
    if (!this.alive || !this.proc.connected) {
      return Promise.reject(new Error(this.exitText ?? `${this.name} is not running`));
    }
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: '${cmd}' got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.proc.send({ id, cmd, args });
    });
  }

  /** Asks the child to stop cleanly (so a --cpu-prof profile gets written), else kills it. */
  async stop(graceMs = 5_000): Promise<void> {
    this.stopping = true;
    if (!this.alive) return;
    await this.call("stop", undefined, graceMs).catch(() => undefined);
    await Promise.race([this.exited, sleep(graceMs)]);
    if (this.alive) {
      this.proc.kill("SIGKILL");
      await this.exited;
    }
  }
}

// ---- cleanup: no child and no temp dir outlives the run ---------------------------------------------------

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "pony-bench-"));

function cleanupSync(): void {
  for (const c of live) {
    c.markStopping();
    try {
      c.proc.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
  live.clear();
  fs.rmSync(dataDir, { recursive: true, force: true });
  // a run that aborts (a child died) leaves no throwaway PostgreSQL of --store postgres behind
  stopLeftoverClusters(process.pid);
}
process.on("exit", cleanupSync);
for (const [signal, code] of [
  ["SIGINT", 130],
  ["SIGTERM", 143],
  ["SIGHUP", 129],
] as const) {
  process.on(signal, () => {
    log(`${signal}: stopping`);
    cleanupSync();
    process.exit(code);
  });
}

// ---- phases -----------------------------------------------------------------------------------------------

interface WorkerSamples {
  dispatchMs: number[];
  runToDispatchMs: number[];
  hopMs: number[];
  tasks: number;
  reportErrors: number;
  lastError?: string;
}
interface LoadCount {
  completed: number;
  errors: number;
  atMs: number;
}
interface LoadResult {
  completed: number;
  errors: number;
  lastError?: string;
  e2eMs: number[];
}
interface SequentialResult {
  rpcMs: number[];
  e2eMs: number[];
}
interface ProcessorStats {
  batches: number;
  jobs: number;
  commitMs: number[];
  commitOps: number;
}

/** CPU time (ms) all cores of the machine spent busy so far */
function machineBusyMs(): number {
  let busy = 0;
  for (const c of os.cpus()) busy += c.times.user + c.times.nice + c.times.sys + c.times.irq;
  return busy;
}

const cpuPct = (a: CpuSample, b: CpuSample) =>
  round((100 * (b.user - a.user + b.system - a.system)) / 1000 / (b.atMs - a.atMs), 1);
/** event-loop utilization: share of the time the main thread was not waiting for events */
const eluPct = (a: CpuSample, b: CpuSample) =>
  round((100 * (b.active - a.active)) / (b.active - a.active + b.idle - a.idle), 1);

function checkWorker(w: WorkerSamples, what: string): void {
  if (w.reportErrors > 0) {
    throw new Error(`${what}: ${w.reportErrors} ReportTask calls failed (last: ${w.lastError})`);
  }
}

async function throughputPhase(
  label: string,
  /** a server's address, or every address of a cluster (the load and the polls are spread over them) */
  target: string | string[],
  worker: Child,
  client: Child,
  /** the server(s): the first one's batch statistics are read with `withStats` */
  serverOrServers: Child | Child[],
  withStats: boolean,
  tokens?: { worker: string; client: string },
  /** --to-owner: the cluster's database, where the client reads the partitions' owners */
  ownersFrom?: string,
) {
  const addresses = Array.isArray(target) ? target : [target];
  const servers = Array.isArray(serverOrServers) ? serverOrServers : [serverOrServers];
  const server = servers[0]!;
  const address = addresses[0]!;
  log(`${label}: throughput, ${INFLIGHT} in flight, warm-up ${WARMUP} s, measuring ${SECONDS} s`);
  await worker.call("start", {
    address,
    addresses,
    token: tokens?.worker,
    concurrency: INFLIGHT,
    streams: STREAMS,
  });
  await client.call("startLoad", {
    address,
    addresses,
    token: tokens?.client,
    wfSpecName: ONE_TASK_WF,
    inflight: INFLIGHT,
    ownersFrom,
    serverIds: opt["server-ids"],
  });
  await sleep(WARMUP * 1000);

  const procs: Record<string, Child> = { worker, client };
  if (servers.length === 1) procs.server = server;
  else servers.forEach((sv, i) => (procs[`server${i + 1}`] = sv));
  const snapshotCpu = async () => {
    const out: Record<string, CpuSample> = { orchestrator: cpuSample() };
    for (const [name, c] of Object.entries(procs)) out[name] = await c.call<CpuSample>("cpu");
    return { procs: out, machineBusyMs: machineBusyMs(), atMs: out.orchestrator!.atMs };
  };
  await worker.call("reset");
  const c0 = await client.call<LoadCount>("loadCount", { record: true });
  const s0 = withStats ? await server.call<ProcessorStats>("stats") : undefined;
  const cpu0 = await snapshotCpu();
  await sleep(SECONDS * 1000);
  const c1 = await client.call<LoadCount>("loadCount", { record: false });
  const s1 = withStats ? await server.call<ProcessorStats>("stats") : undefined;
  const cpu1 = await snapshotCpu();
  const w = await worker.call<WorkerSamples>("collect");
  const fin = await client.call<LoadResult>("stopLoad", undefined, 60_000);
  await worker.call("stopPolling");

  if (fin.errors > 0) throw new Error(`${label}: ${fin.errors} WfRuns failed (last: ${fin.lastError})`);
  checkWorker(w, label);
  const seconds = (c1.atMs - c0.atMs) / 1000;
  const completed = c1.completed - c0.completed;
  const cpu: Record<string, number> = {};
  const elu: Record<string, number> = {};
  for (const k of Object.keys(cpu0.procs)) {
    cpu[k] = cpuPct(cpu0.procs[k]!, cpu1.procs[k]!);
    elu[k] = eluPct(cpu0.procs[k]!, cpu1.procs[k]!);
  }
  // CPU used by everything else on the machine meanwhile (other programs disturb the figures)
  const machinePct = (100 * (cpu1.machineBusyMs - cpu0.machineBusyMs)) / (cpu1.atMs - cpu0.atMs);
  const oursPct = Object.values(cpu).reduce((a, b) => a + b, 0);
  cpu.machine = round(machinePct, 1);
  cpu.others = round(Math.max(0, machinePct - oursPct), 1);
  if (cpu.others > 20) {
    log(`warning: other processes used ${cpu.others}% CPU (of ${os.cpus().length * 100}%) during the window`);
  }
  const batches =
    s0 && s1
      ? {
          batches_per_sec: round((s1.batches - s0.batches) / seconds, 1),
          jobs_per_batch: round((s1.jobs - s0.jobs) / Math.max(1, s1.batches - s0.batches), 2),
          jobs_per_wf_run: round((s1.jobs - s0.jobs) / Math.max(1, completed), 2),
          write_ops_per_commit: round(s1.commitOps / Math.max(1, s1.commitMs.length), 1),
          commit_p50_ms: round(percentile(s1.commitMs, 50)),
          commit_p99_ms: round(percentile(s1.commitMs, 99)),
          commit_max_ms: round(percentile(s1.commitMs, 100)),
          /** share of the window the server's event loop spent blocked in synchronous commits */
          commit_busy_pct: round((100 * s1.commitMs.reduce((a, b) => a + b, 0)) / (seconds * 1000), 1),
        }
      : undefined;
  const result = {
    wf_per_sec: round(completed / seconds, 1),
    completed,
    seconds: round(seconds, 3),
    wf_e2e_p50_ms: round(percentile(fin.e2eMs, 50)),
    wf_e2e_p99_ms: round(percentile(fin.e2eMs, 99)),
    dispatch_p50_ms: round(percentile(w.dispatchMs, 50)),
    dispatch_p99_ms: round(percentile(w.dispatchMs, 99)),
    dispatch_samples: w.dispatchMs.length,
    cpu_pct: cpu,
    event_loop_busy_pct: elu,
    server_batches: batches,
  };
  log(`${label}: ${result.wf_per_sec} WfRuns/s`);
  return result;
}

async function latencyPhase(label: string, address: string, worker: Child, client: Child) {
  log(`${label}: idle dispatch (${IDLE_RUNS} sequential WfRuns) and task hop (${CHAINS} chains)`);
  await worker.call("start", { address, concurrency: 1 });
  // warm-up of the one-poll path
  await client.call("sequential", { address, wfSpecName: ONE_TASK_WF, count: 20, stamp: true });
  await worker.call("reset");
  const idle = await client.call<SequentialResult>("sequential", {
    address,
    wfSpecName: ONE_TASK_WF,
    count: IDLE_RUNS,
    stamp: true,
  });
  const wIdle = await worker.call<WorkerSamples>("collect");
  checkWorker(wIdle, `${label} idle`);

  await client.call("sequential", { address, wfSpecName: CHAIN_WF, count: 1, stamp: false });
  await worker.call("reset");
  const chain = await client.call<SequentialResult>("sequential", {
    address,
    wfSpecName: CHAIN_WF,
    count: CHAINS,
    stamp: false,
  });
  const wChain = await worker.call<WorkerSamples>("collect");
  checkWorker(wChain, `${label} chain`);
  await worker.call("stopPolling");
  if (wChain.hopMs.length !== CHAINS * (CHAIN_LENGTH - 1)) {
    throw new Error(`${label}: expected ${CHAINS * (CHAIN_LENGTH - 1)} hops, got ${wChain.hopMs.length}`);
  }
  return {
    dispatch_idle_p50_ms: round(percentile(wIdle.dispatchMs, 50)),
    dispatch_idle_p99_ms: round(percentile(wIdle.dispatchMs, 99)),
    dispatch_idle_mean_ms: round(wIdle.dispatchMs.reduce((a, b) => a + b, 0) / wIdle.dispatchMs.length),
    run_to_dispatch_idle_p50_ms: round(percentile(wIdle.runToDispatchMs, 50)),
    run_to_dispatch_idle_p99_ms: round(percentile(wIdle.runToDispatchMs, 99)),
    run_wf_rpc_idle_p50_ms: round(percentile(idle.rpcMs, 50)),
    run_wf_rpc_idle_p99_ms: round(percentile(idle.rpcMs, 99)),
    wf_e2e_idle_p50_ms: round(percentile(idle.e2eMs, 50)),
    wf_e2e_idle_p99_ms: round(percentile(idle.e2eMs, 99)),
    task_hop_p50_ms: round(percentile(wChain.hopMs, 50)),
    task_hop_p99_ms: round(percentile(wChain.hopMs, 99)),
    chain_wf_e2e_p50_ms: round(percentile(chain.e2eMs, 50)),
    idle_samples: wIdle.runToDispatchMs.length,
    hop_samples: wChain.hopMs.length,
  };
}

/** Runs a load of `kind` for a 1 s warm-up and then CASE_SECONDS; returns completions per second and e2e. */
async function caseLoad(
  client: Child,
  address: string,
  load: { wfSpecName: string; inflight: number; kind: "task" | "event" },
) {
  await client.call("startLoad", { address, ...load });
  await sleep(1000);
  const c0 = await client.call<LoadCount>("loadCount", { record: true });
  await sleep(CASE_SECONDS * 1000);
  const c1 = await client.call<LoadCount>("loadCount", { record: false });
  const fin = await client.call<LoadResult>("stopLoad", undefined, 60_000);
  if (fin.errors > 0)
    throw new Error(`${load.wfSpecName}: ${fin.errors} runs failed (last: ${fin.lastError})`);
  const seconds = (c1.atMs - c0.atMs) / 1000;
  return {
    perSec: (c1.completed - c0.completed) / seconds,
    completed: c1.completed - c0.completed,
    seconds,
    fin,
  };
}

async function eventPhase(address: string, client: Child) {
  log(`pony: external-event round trip, ${EVENT_INFLIGHT} in flight, measuring ${CASE_SECONDS} s`);
  const loaded = await caseLoad(client, address, {
    wfSpecName: EVENT_WF,
    inflight: EVENT_INFLIGHT,
    kind: "event",
  });
  const idle = await client.call<SequentialResult>("sequential", {
    address,
    wfSpecName: EVENT_WF,
    count: IDLE_RUNS,
    stamp: false,
    kind: "event",
  });
  const result = {
    round_trips_per_sec: round(loaded.perSec, 1),
    completed: loaded.completed,
    seconds: round(loaded.seconds, 3),
    round_trip_p50_ms: round(percentile(loaded.fin.e2eMs, 50)),
    round_trip_p99_ms: round(percentile(loaded.fin.e2eMs, 99)),
    round_trip_idle_p50_ms: round(percentile(idle.e2eMs, 50)),
    round_trip_idle_p99_ms: round(percentile(idle.e2eMs, 99)),
    run_wf_rpc_idle_p50_ms: round(percentile(idle.rpcMs, 50)),
    idle_samples: idle.e2eMs.length,
  };
  log(`pony: ${result.round_trips_per_sec} external-event round trips/s`);
  return result;
}

async function fanOutPhase(address: string, worker: Child, client: Child) {
  log(
    `pony: fan-out, ${FANOUT_INFLIGHT} WfRuns x ${FANOUT_WIDTH} child threads in flight, measuring ${CASE_SECONDS} s`,
  );
  await worker.call("start", { address, concurrency: INFLIGHT, streams: STREAMS });
  const loaded = await caseLoad(client, address, {
    wfSpecName: FANOUT_WF,
    inflight: FANOUT_INFLIGHT,
    kind: "task",
  });
  const w = await worker.call<WorkerSamples>("collect");
  await worker.call("stopPolling");
  checkWorker(w, "fan-out");
  const result = {
    tasks_per_sec: round(loaded.perSec * FANOUT_WIDTH, 1),
    wf_per_sec: round(loaded.perSec, 2),
    completed: loaded.completed,
    seconds: round(loaded.seconds, 3),
    wf_e2e_p50_ms: round(percentile(loaded.fin.e2eMs, 50)),
    wf_e2e_p99_ms: round(percentile(loaded.fin.e2eMs, 99)),
  };
  log(`pony: fan-out ${result.tasks_per_sec} tasks/s`);
  return result;
}

// ---- report -----------------------------------------------------------------------------------------------

type Results = NonNullable<Awaited<ReturnType<typeof run>>>;

function table(r: Results): string {
  const fmt = (v: number | null | undefined, unit = "") =>
    v === undefined || v === null || Number.isNaN(v) ? "-" : `${v}${unit}`;
  const check = (ok: boolean) => (ok ? "PASS" : "FAIL");
  const p = r.pony;
  const b = r.baseline;
  const rows: [string, string, string, string][] = [
    ["metric", "pony", "baseline", "target"],
    [
      `one-task WfRuns/s (${INFLIGHT} in flight)`,
      fmt(p.throughput.wf_per_sec),
      fmt(b?.throughput.wf_per_sec),
      `>= 900 ${check(p.throughput.wf_per_sec >= 900)}`,
    ],
    ["ratio pony / baseline", fmt(r.summary.ratio), "", ""],
    ...(r.oauth
      ? ([
          [
            `one-task WfRuns/s, median of ${OAUTH_ROUNDS} fresh servers each: no auth | OAuth`,
            `${fmt(r.oauth.plain)} | ${fmt(r.oauth.oauth)}`,
            "-",
            "",
          ],
          [
            "  each round: no auth | OAuth",
            r.oauth.plainWfPerSec.map((v, i) => `${v} | ${r.oauth!.oauthWfPerSec[i]}`).join(", "),
            "",
            "",
          ],
          ["ratio OAuth / no auth", fmt(r.oauth.ratio), "", `>= 0.9 ${check(r.oauth.ratio >= 0.9)}`],
        ] as [string, string, string, string][])
      : []),
    [
      `tasks/s: one-task WfRuns | fan-out (${FANOUT_INFLIGHT} WfRuns x ${FANOUT_WIDTH} children)`,
      `${fmt(p.throughput.wf_per_sec)} | ${fmt(p.fanout.tasks_per_sec)}`,
      "-",
      "",
    ],
    [
      "fan-out WfRun end-to-end p50 / p99 (ms)",
      `${fmt(p.fanout.wf_e2e_p50_ms)} / ${fmt(p.fanout.wf_e2e_p99_ms)}`,
      "-",
      "",
    ],
    [
      `external-event round trips/s (${EVENT_INFLIGHT} in flight)`,
      fmt(p.events.round_trips_per_sec),
      "-",
      "",
    ],
    [
      "  round trip loaded p50 / p99 (ms)",
      `${fmt(p.events.round_trip_p50_ms)} / ${fmt(p.events.round_trip_p99_ms)}`,
      "-",
      "",
    ],
    [
      "  round trip idle p50 / p99 (ms)",
      `${fmt(p.events.round_trip_idle_p50_ms)} / ${fmt(p.events.round_trip_idle_p99_ms)}`,
      "-",
      "",
    ],
    [
      "task hop p50 / p99 (ms)",
      `${fmt(p.latency.task_hop_p50_ms)} / ${fmt(p.latency.task_hop_p99_ms)}`,
      b ? `${fmt(b.latency.task_hop_p50_ms)} / ${fmt(b.latency.task_hop_p99_ms)}` : "-",
      `p50 < 1.5 ${check(p.latency.task_hop_p50_ms < 1.5)}`,
    ],
    [
      "dispatch idle p50 / p99 (ms)",
      `${fmt(p.latency.dispatch_idle_p50_ms)} / ${fmt(p.latency.dispatch_idle_p99_ms)}`,
      b ? `${fmt(b.latency.dispatch_idle_p50_ms)} / ${fmt(b.latency.dispatch_idle_p99_ms)}` : "-",
      `p50 < 0.5 ${check(p.latency.dispatch_idle_p50_ms < 0.5)}`,
    ],
    [
      "  mean of the above (ms)",
      fmt(p.latency.dispatch_idle_mean_ms),
      fmt(b?.latency.dispatch_idle_mean_ms),
      "",
    ],
    [
      "RunWf sent -> task received, idle p50 / p99",
      `${fmt(p.latency.run_to_dispatch_idle_p50_ms)} / ${fmt(p.latency.run_to_dispatch_idle_p99_ms)}`,
      b
        ? `${fmt(b.latency.run_to_dispatch_idle_p50_ms)} / ${fmt(b.latency.run_to_dispatch_idle_p99_ms)}`
        : "-",
      "(bounds the above)",
    ],
    [
      "dispatch loaded p50 / p99 (ms)",
      `${fmt(p.throughput.dispatch_p50_ms)} / ${fmt(p.throughput.dispatch_p99_ms)}`,
      b ? `${fmt(b.throughput.dispatch_p50_ms)} / ${fmt(b.throughput.dispatch_p99_ms)}` : "-",
      "",
    ],
    [
      "WfRun end-to-end loaded p50 / p99 (ms)",
      `${fmt(p.throughput.wf_e2e_p50_ms)} / ${fmt(p.throughput.wf_e2e_p99_ms)}`,
      b ? `${fmt(b.throughput.wf_e2e_p50_ms)} / ${fmt(b.throughput.wf_e2e_p99_ms)}` : "-",
      "",
    ],
    [
      "RunWf RPC idle p50 / p99 (ms)",
      `${fmt(p.latency.run_wf_rpc_idle_p50_ms)} / ${fmt(p.latency.run_wf_rpc_idle_p99_ms)}`,
      b ? `${fmt(b.latency.run_wf_rpc_idle_p50_ms)} / ${fmt(b.latency.run_wf_rpc_idle_p99_ms)}` : "-",
      "",
    ],
    [
      "WfRun end-to-end idle p50 (ms)",
      fmt(p.latency.wf_e2e_idle_p50_ms),
      fmt(b?.latency.wf_e2e_idle_p50_ms),
      "",
    ],
    [
      `${CHAIN_LENGTH}-task WfRun end-to-end p50 (ms)`,
      fmt(p.latency.chain_wf_e2e_p50_ms),
      fmt(b?.latency.chain_wf_e2e_p50_ms),
      "",
    ],
  ];
  const cpu = (x: Record<string, number>) =>
    `srv ${x.server}% wrk ${x.worker}% cli ${x.client}% orch ${x.orchestrator}%` +
    (x.others === undefined ? "" : ` other ${x.others}%`);
  rows.push(["CPU during throughput", cpu(p.throughput.cpu_pct), b ? cpu(b.throughput.cpu_pct) : "-", ""]);
  rows.push([
    "event loop busy during throughput",
    cpu(p.throughput.event_loop_busy_pct),
    b ? cpu(b.throughput.event_loop_busy_pct) : "-",
    "",
  ]);
  const sb = p.throughput.server_batches;
  if (sb) {
    rows.push([
      "server commits/s, jobs/commit, jobs/WfRun",
      `${sb.batches_per_sec}, ${sb.jobs_per_batch}, ${sb.jobs_per_wf_run}`,
      "",
      "",
    ]);
    rows.push([
      "server commit p50 / p99 / max (ms)",
      `${sb.commit_p50_ms} / ${sb.commit_p99_ms} / ${sb.commit_max_ms}`,
      "",
      "",
    ]);
    rows.push(["commit time in flight, summed / window", `${sb.commit_busy_pct}%`, "", ""]);
  }
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) =>
    row
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  const notes = [
    "",
    "dispatch = worker's wall clock at receipt - ScheduledTask.created_at (the attempt's schedule time, which Pony",
    "keeps to the microsecond); both read performance.timeOrigin + performance.now(), which agree within µs.",
    "RunWf sent -> task received uses the shared monotonic clock (sub-ms); it includes the RunWf request's",
    "transit and handling, so it is an upper bound of the idle dispatch latency. task hop = worker about to",
    "send ReportTask for task k -> task k+1 received. 'other' = CPU used by processes outside the benchmark.",
    "external-event round trip = client clock from RunWf sent (the thread then waits at an EXTERNAL_EVENT",
    "node) to the PutExternalEvent answer, which Pony sends once the claim and the WfRun's COMPLETED are",
    "committed. Fan-out and event cases run against Pony only.",
  ];
  return [
    line(rows[0]!),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...rows.slice(1).map(line),
    ...notes,
  ].join("\n");
}

// ---- OAuth (--oauth) ----------------------------------------------------------------------------------------

/**
 * A signing key in a local JWKS file, the server flags that trust it, and tokens for three principals: the
 * bootstrap admin `bench` (sets up the metadata), `bench-client` (may only run and read bench-one-task
 * WfRuns) and `bench-worker` (may only read and run the TaskDef bench-task).
 */
async function benchIssuer() {
  // the tests' issuer: a key in a local JWKS file and tokens it signs (test/support/oauth.ts)
  const issuer = await TestIssuer.create();
  const admin = await issuer.token("bench", { expiresIn: 7200 });
  return {
    admin,
    client: await issuer.token("bench-client", { expiresIn: 7200 }),
    worker: await issuer.token("bench-worker", { expiresIn: 7200 }),
    serverArgs: [...issuer.serverArgs(), "--bootstrap-admin", "bench"],
    async createPrincipals(address: string) {
      const c = new LhClient(address, admin);
      const { READ, RUN } = ACLAction;
      const grant = (id: string, resource: ACLResource, name: string) =>
        c.unary(
          LittleHorse.method.putPrincipal,
          create(PutPrincipalRequestSchema, {
            id,
            globalAcls: {
              acls: [
                {
                  resources: [resource],
                  allowedActions: [READ, RUN],
                  resourceFilter: { case: "name", value: name },
                },
              ],
            },
          }),
        );
      await grant("bench-client", ACLResource.ACL_WORKFLOW, ONE_TASK_WF);
      await grant("bench-worker", ACLResource.ACL_TASK, TASK_DEF);
      c.close();
    },
    remove: () => issuer.close(),
  };
}

// ---- SQLite vs PostgreSQL clusters (--store postgres) --------------------------------------------------------

type Throughput = Awaited<ReturnType<typeof throughputPhase>>;

/**
 * One-task throughput on a fresh SQLite server, then on fresh PostgreSQL clusters of 1, 2, … `--servers`
 * servers (all on this machine, one throwaway PostgreSQL with fsync on, a fresh database each), with the
 * same client and worker: the load and the polls are spread over every server of a cluster.
 */
async function storeComparison(worker: Child, client: Child) {
  const maxServers = Math.round(positive("servers", opt.servers));
  const results: { config: string; servers: number; r: Throughput }[] = [];
  const sqliteServer = new Child("sqlite", "server-child.ts", [dataDir]);
  const sqliteAt = String((await sqliteServer.waitReady()).address);
  await client.call("setup", { address: sqliteAt });
  results.push({
    config: "SQLite, 1 server",
    servers: 1,
    r: await throughputPhase("sqlite", sqliteAt, worker, client, sqliteServer, true),
  });
  await sqliteServer.stop(10_000);
  for (let n = 1; n <= maxServers; n++) {
    // A PostgreSQL cluster of its own for each configuration: the WAL one configuration writes (some 350 MB
    // at one server) would otherwise set off a checkpoint in a later one's window, whose full-page writes
    // and buffer flushes then count against that configuration alone.
    const pg = await startThrowawayPostgres({ fsync: true, maxConnections: 200 });
    try {
      const url = await pg.createDatabase(`bench_${n}`);
      const servers: Child[] = [];
      for (let i = 0; i < n; i++) {
        const args = [
          fs.mkdtempSync(path.join(os.tmpdir(), "pony-bench-")),
          ...["--store", "postgres", "--database-url", url, "--advertised-host", "127.0.0.1"],
          // port 0: the server binds a free port itself and registers it (a port picked here could be taken
          // by another socket before the server binds it)
          ...["--internal-host", "127.0.0.1", "--internal-port", "0"],
        ];
        servers.push(new Child(`pg${n}.${i + 1}`, "server-child.ts", args));
        // one at a time: each later one takes its share of the partitions from those before it
        await servers[i]!.waitReady();
      }
      const addresses = await Promise.all(servers.map(async (sv) => String((await sv.waitReady()).address)));
      await client.call("setup", { address: addresses[0] });
      await sleep(2000); // the partitions settle on every server
      results.push({
        config: `PostgreSQL, ${n} server${n === 1 ? "" : "s"}`,
        servers: n,
        r: await throughputPhase(
          `pg x${n}`,
          addresses,
          worker,
          client,
          servers,
          true,
          undefined,
          opt["to-owner"] && n > 1 ? url : undefined,
        ),
      });
      for (const sv of servers) await sv.stop(15_000);
    } finally {
      await pg.stop();
    }
  }
  return results;
}

function storeTable(rows: { config: string; servers: number; r: Throughput }[]): string {
  const sqlite = rows[0]!.r.wf_per_sec;
  const pg1 = rows.find((x) => x.config.startsWith("PostgreSQL"))?.r.wf_per_sec ?? 0;
  const head = [
    "config",
    "WfRuns/s",
    "vs SQLite",
    "vs PG x1",
    "e2e p50 ms",
    "e2e p99 ms",
    "Pony CPU ms/WfRun",
    "per server CPU %",
    "other CPU % (PostgreSQL)",
  ];
  const body = rows.map(({ config, r }) => {
    const servers = Object.entries(r.cpu_pct).filter(([k]) => k.startsWith("server"));
    const serverPct = servers.reduce((a, [, v]) => a + v, 0);
    return [
      config,
      String(r.wf_per_sec),
      fmtRatio(r.wf_per_sec / sqlite),
      config.startsWith("PostgreSQL") ? fmtRatio(r.wf_per_sec / pg1) : "",
      String(r.wf_e2e_p50_ms),
      String(r.wf_e2e_p99_ms),
      String(round((serverPct * 10) / Math.max(1, r.wf_per_sec), 3)),
      servers.map(([, v]) => String(round(v, 0))).join(" / "),
      String(r.cpu_pct.others),
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ");
  return [
    line(head),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...body.map(line),
    "",
    "Targets (issue 11): PostgreSQL x1 >= 0.6 x SQLite; PostgreSQL x3 >= 0.8 x PostgreSQL x1 (all servers on this",
    "one 2-core machine). Pony CPU ms/WfRun: the servers' CPU per completed WfRun, summed over the servers.",
  ].join("\n");
}

const fmtRatio = (x: number) => round(x, 3).toFixed(3);

// ---- main -------------------------------------------------------------------------------------------------

async function run() {
  log(`data dir ${dataDir}${CPU_PROF_DIR ? `, CPU profiles in ${CPU_PROF_DIR}` : ""}`);
  const server = new Child("server", "server-child.ts", [dataDir]);
  const worker = new Child("worker", "worker-child.ts");
  const client = new Child("client", "client-child.ts");
  // completion notices: worker → here → client (see worker-child.ts)
  worker.on("done", (e) => client.send(e));
  worker.on("error", (e) => log(`worker: ${String(e.message)}`));
  const address = String((await server.waitReady()).address);
  await Promise.all([worker.waitReady(), client.waitReady()]);
  if (CPU_PROF_DIR) {
    log(`pids: server ${server.proc.pid}, worker ${worker.proc.pid}, client ${client.proc.pid}`);
  }
  log(`pony server at ${address}`);
  if (opt.store === "postgres") {
    await server.stop(10_000);
    const rows = await storeComparison(worker, client);
    await Promise.all([worker.stop(), client.stop()]);
    console.log(storeTable(rows));
    const json = { machine: { cpus: os.cpus().length }, store_comparison: rows };
    console.log(JSON.stringify(json, null, 2));
    if (opt.json) fs.writeFileSync(path.resolve(invokedFrom, opt.json), JSON.stringify(json, null, 2) + "\n");
    return undefined;
  }
  await client.call("setup", { address });

  const ponyThroughput = await throughputPhase("pony", address, worker, client, server, true);
  const ponyLatency = await latencyPhase("pony", address, worker, client);
  const ponyFanOut = await fanOutPhase(address, worker, client);
  const ponyEvents = await eventPhase(address, client);
  await server.stop(10_000);
  fs.rmSync(dataDir, { recursive: true, force: true });

  let oauth:
    | { oauthWfPerSec: number[]; plainWfPerSec: number[]; oauth: number; plain: number; ratio: number }
    | undefined;
  if (opt.oauth) {
    // Fresh servers measured alternately with the same (now warm) client and worker, OAUTH_ROUNDS times
    // each: without authentication, then requiring OAuth. The ratio of the medians is the cost of OAuth;
    // alternating keeps a drift of the machine from showing up as a difference between the two.
    // With OAuth the client and the worker are least-privilege principals, not admins, so every call of
    // theirs is authorized name by name (ReportTask reads its TaskRun's TaskDef from the store to do so).
    const throughputOn = async (
      label: string,
      serverArgs: string[],
      tokens?: Awaited<ReturnType<typeof benchIssuer>>,
    ) => {
      const extra = new Child(label, "server-child.ts", [
        fs.mkdtempSync(path.join(os.tmpdir(), "pony-bench-")),
        ...serverArgs,
      ]);
      const at = String((await extra.waitReady()).address);
      if (tokens) await tokens.createPrincipals(at);
      await client.call("setup", { address: at, token: tokens?.admin });
      const result = await throughputPhase(label, at, worker, client, extra, false, tokens);
      await extra.stop(10_000);
      return result.wf_per_sec;
    };
    const issuer = await benchIssuer();
    const plainWfPerSec: number[] = [];
    const oauthWfPerSec: number[] = [];
    for (let round = 1; round <= OAUTH_ROUNDS; round++) {
      plainWfPerSec.push(await throughputOn(`no-auth#${round}`, []));
      oauthWfPerSec.push(await throughputOn(`oauth#${round}`, issuer.serverArgs, issuer));
    }
    issuer.remove();
    const plain = percentile(plainWfPerSec, 50);
    const withOAuth = percentile(oauthWfPerSec, 50);
    oauth = { plainWfPerSec, oauthWfPerSec, plain, oauth: withOAuth, ratio: round(withOAuth / plain, 3) };
  }

  let baseline: { throughput: typeof ponyThroughput; latency: typeof ponyLatency } | undefined;
  if (!opt["no-baseline"]) {
    const base = new Child("baseline", "baseline-child.ts");
    const baseAddress = String((await base.waitReady()).address);
    log(`baseline no-op server at ${baseAddress}`);
    baseline = {
      throughput: await throughputPhase("baseline", baseAddress, worker, client, base, false),
      latency: await latencyPhase("baseline", baseAddress, worker, client),
    };
    await base.stop();
  }
  await Promise.all([worker.stop(), client.stop()]);

  const summary = {
    one_task_wf_per_sec: ponyThroughput.wf_per_sec,
    dispatch_idle_p50_ms: ponyLatency.dispatch_idle_p50_ms,
    dispatch_idle_p99_ms: ponyLatency.dispatch_idle_p99_ms,
    dispatch_loaded_p50_ms: ponyThroughput.dispatch_p50_ms,
    dispatch_loaded_p99_ms: ponyThroughput.dispatch_p99_ms,
    run_to_dispatch_idle_p50_ms: ponyLatency.run_to_dispatch_idle_p50_ms,
    run_to_dispatch_idle_p99_ms: ponyLatency.run_to_dispatch_idle_p99_ms,
    task_hop_p50_ms: ponyLatency.task_hop_p50_ms,
    task_hop_p99_ms: ponyLatency.task_hop_p99_ms,
    fanout_tasks_per_sec: ponyFanOut.tasks_per_sec,
    event_round_trips_per_sec: ponyEvents.round_trips_per_sec,
    event_round_trip_p50_ms: ponyEvents.round_trip_p50_ms,
    event_round_trip_p99_ms: ponyEvents.round_trip_p99_ms,
    oauth_one_task_wf_per_sec: oauth ? oauth.oauth : null,
    oauth_plain_one_task_wf_per_sec: oauth ? oauth.plain : null,
    oauth_ratio: oauth ? oauth.ratio : null,
    baseline_wf_per_sec: baseline ? baseline.throughput.wf_per_sec : null,
    ratio: baseline ? round(ponyThroughput.wf_per_sec / baseline.throughput.wf_per_sec, 3) : null,
  };
  return {
    summary,
    config: {
      seconds: SECONDS,
      warmup_seconds: WARMUP,
      inflight: INFLIGHT,
      idle_runs: IDLE_RUNS,
      chains: CHAINS,
      worker_streams: STREAMS,
      case_seconds: CASE_SECONDS,
      event_inflight: EVENT_INFLIGHT,
      fanout_inflight: FANOUT_INFLIGHT,
      fanout_width: FANOUT_WIDTH,
      chain_length: CHAIN_LENGTH,
      cpus: os.cpus().length,
      node: process.version,
    },
    pony: { throughput: ponyThroughput, latency: ponyLatency, fanout: ponyFanOut, events: ponyEvents },
    oauth,
    baseline,
  };
}

// A hard limit: whatever hangs, the run ends, and the exit handler kills the children.
const watchdogMs =
  (120 +
    (opt.oauth ? 2 + 2 * OAUTH_ROUNDS : 2) * (SECONDS + WARMUP) +
    2 * (CASE_SECONDS + 1) +
    (opt.store === "postgres" ? (1 + Number(opt.servers)) * (SECONDS + WARMUP + 20) : 0)) *
  1000;
const watchdog = setTimeout(() => {
  log(`giving up after ${watchdogMs / 1000} s`);
  process.exit(1);
}, watchdogMs);
watchdog.unref();

try {
  // undefined: the store comparison (--store postgres) printed its own results
  const results = await run();
  if (results) {
    const { summary, ...details } = results;
    const json = { ...summary, ...details };
    console.log(table(results));
    console.log(JSON.stringify(json, null, 2));
    if (opt.json) {
      const file = path.resolve(invokedFrom, opt.json);
      fs.writeFileSync(file, JSON.stringify(json, null, 2) + "\n");
      log(`results written to ${file}`);
    }
  }
  process.exitCode = 0;
} catch (e) {
  log(`failed: ${e instanceof Error ? (e.stack ?? e.message) : errText(e)}`);
  process.exitCode = 1;
} finally {
  clearTimeout(watchdog);
  cleanupSync();
}
