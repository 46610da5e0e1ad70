/**
 * `npm run bench:dashboard [-- --runs N --loops N --samples N --json FILE]`
 *
 * The dashboard at scale (issue 12): with `--runs` WfRuns (default 1,000,000) in the store, every page must
 * render its first data in under 1 s, and a WfSpec of 200 nodes must lay out in under 0.5 s.
 *
 * The store is seeded directly (bench/seed-wfruns.ts, as `npm run bench:search` does) with WfRuns of the
 * WfSpec `bench-search`, plus one long WfRun `long-run` that looped `--loops` (100,000) times through a TASK
 * node (its TaskRuns are the Task Runs page's rows), a WfSpec `bench-200` of 200 nodes, and a UserTaskDef.
 * Then a Pony server (bench/server-child.ts) starts on it and Debian's chromium (playwright-core) opens each
 * page `--samples` times, each time in a fresh browser context (no cache, no earlier answers): the time is
 * from navigation start to the page's first data in the DOM (a selector per page, below), noted by the page
 * itself (a MutationObserver), not by polling from here. The layout time
 * is what the page measures itself (`pony:layout`: the server's layout from POST /layout, kept or made on
 * its warm thread, or elkjs in the page's worker when the server is slow, whichever comes first); the first
 * layout of the 200-node WfSpec, before the server has kept it, is reported apart.
 */
import { fork, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { create } from "@bufbuild/protobuf";
import { chromium, type Browser } from "playwright-core";
import {
  Comparator,
  LittleHorse,
  PutTaskDefRequestSchema,
  PutUserTaskDefRequestSchema,
  PutWfSpecRequestSchema,
  VariableType,
  type WfSpecId,
} from "@pony/proto";
import { seedLongWfRun } from "../test/support/long-wfrun";
import { CHROMIUM, CHROMIUM_ARGS } from "../test/support/browser";
import { monoMs, percentile, round, type Event } from "./common";
import { LhClient } from "./grpc";
import { seedWfRuns, seededRunId, startSeedingServer } from "./seed-wfruns";

const here = path.dirname(fileURLToPath(import.meta.url));

const { values: opt } = parseArgs({
  args: process.argv.slice(2),
  options: {
    runs: { type: "string", default: "1000000" },
    loops: { type: "string", default: "100000" },
    samples: { type: "string", default: "5" },
    json: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
  strict: true,
  allowPositionals: false,
});
if (opt.help) {
  console.log(`Usage: npm run bench:dashboard -- [options]
  --runs N      WfRuns seeded into the store (default 1000000)
  --loops N     TASK loops of the long WfRun (default 100000: its TaskRuns fill the Task Runs page)
  --samples N   page loads timed per page (default 5, after one untimed load of each)
  --json FILE   also write the JSON results to FILE`);
  process.exit(0);
}
const RUNS = Math.max(100, Math.round(Number(opt.runs)));
const LOOPS = Math.max(1000, Math.round(Number(opt.loops)));
const SAMPLES = Math.max(1, Math.round(Number(opt.samples)));
const FIRST_DATA_TARGET_MS = 1000;
const LAYOUT_TARGET_MS = 500;
const SPEC = "bench-search";
const BIG_SPEC = "bench-200";
const BIG_NODES = 200;
const STEP_MS = 10;
const invokedFrom = process.env.INIT_CWD ?? process.cwd();
const log = (msg: string) => process.stderr.write(`bench:dashboard: ${msg}\n`);

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "pony-bench-dashboard-"));
let child: ChildProcess | undefined;
let browser: Browser | undefined;
function cleanupSync(): void {
  child?.kill("SIGKILL");
  fs.rmSync(dataDir, { recursive: true, force: true });
}
process.on("exit", cleanupSync);
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    void browser?.close();
    cleanupSync();
    process.exit(130);
  });
}

/**
 * A WfSpec of `n` nodes: an entrypoint, then diamonds (a NOP that branches on a variable to two TASK
 * nodes, joined by a NOP) one after another, then an exit.
 */
function bigWfSpec(n: number) {
  const nodes: Record<string, object> = {};
  let i = 0;
  const name = (kind: string) => `${i++}-${kind}`;
  let last = name("entrypoint-ENTRYPOINT");
  nodes[last] = { node: { case: "entrypoint", value: {} }, outgoingEdges: [] };
  const link = (from: string, to: string, condition?: object) =>
    (nodes[from] as { outgoingEdges: object[] }).outgoingEdges.push({ sinkNodeName: to, condition });
  while (i < n - 4) {
    const fork = name("fork-NOP");
    const a = name("a-TASK");
    const b = name("b-TASK");
    const join = name("join-NOP");
    const task = {
      case: "task",
      value: { taskToExecute: { case: "taskDefId", value: { name: "bench-200-task" } }, timeoutSeconds: 10 },
    };
    nodes[fork] = { node: { case: "nop", value: {} }, outgoingEdges: [] };
    nodes[a] = { node: task, outgoingEdges: [] };
    nodes[b] = { node: task, outgoingEdges: [] };
    nodes[join] = { node: { case: "nop", value: {} }, outgoingEdges: [] };
    link(last, fork);
    const amount = { source: { case: "variableName", value: "amount" } };
    const ten = { source: { case: "literalValue", value: { value: { case: "int", value: 10n } } } };
    link(fork, a, { comparator: Comparator.LESS_THAN, left: amount, right: ten });
    link(fork, b, { comparator: Comparator.GREATER_THAN_EQ, left: amount, right: ten });
    link(a, join);
    link(b, join);
    last = join;
  }
  while (i < n - 1) {
    const nop = name("pad-NOP");
    nodes[nop] = { node: { case: "nop", value: {} }, outgoingEdges: [] };
    link(last, nop);
    last = nop;
  }
  const exit = name("exit-EXIT");
  nodes[exit] = { node: { case: "exit", value: {} } };
  link(last, exit);
  return create(PutWfSpecRequestSchema, {
    name: BIG_SPEC,
    entrypointThreadName: "entrypoint",
    threadSpecs: {
      entrypoint: {
        nodes: nodes,
        variableDefs: [{ varDef: { name: "amount", type: VariableType.INT } }],
      },
    },
  });
}

async function seed(): Promise<{ seedSeconds: number; bigNodes: number }> {
  const server = await startSeedingServer(dataDir);
  const client = new LhClient(`127.0.0.1:${server.grpcPort}`);
  // the TASK nodes need their TaskDefs first
  await client.unary(LittleHorse.method.putTaskDef, create(PutTaskDefRequestSchema, { name: "work" }));
  await client.unary(
    LittleHorse.method.putTaskDef,
    create(PutTaskDefRequestSchema, { name: "bench-200-task" }),
  );
  const wfSpec = await client.unary(
    LittleHorse.method.putWfSpec,
    create(PutWfSpecRequestSchema, {
      name: SPEC,
      entrypointThreadName: "entrypoint",
      threadSpecs: {
        entrypoint: {
          nodes: {
            "0-entrypoint-ENTRYPOINT": {
              node: { case: "entrypoint", value: {} },
              outgoingEdges: [{ sinkNodeName: "1-work-TASK" }],
            },
            "1-work-TASK": {
              node: {
                case: "task",
                value: { taskToExecute: { case: "taskDefId", value: { name: "work" } } },
              },
              outgoingEdges: [{ sinkNodeName: "2-exit-EXIT" }],
            },
            "2-exit-EXIT": { node: { case: "exit", value: {} } },
          },
          variableDefs: [
            { varDef: { name: "customer", type: VariableType.STR }, searchable: true },
            { varDef: { name: "amount", type: VariableType.INT } },
          ],
        },
      },
    }),
  );
  const big = await client.unary(LittleHorse.method.putWfSpec, bigWfSpec(BIG_NODES));
  await client.unary(
    LittleHorse.method.putUserTaskDef,
    create(PutUserTaskDefRequestSchema, {
      name: "bench-approval",
      fields: [{ name: "ok", type: VariableType.BOOL, displayName: "Approve?", required: true }],
    }),
  );
  const specId = wfSpec.id as WfSpecId;
  const store = server.runtime.store;
  const t0 = monoMs();
  const baseMs = Date.now() - RUNS * STEP_MS;
  await seedWfRuns(store, {
    wfSpecId: specId,
    runs: RUNS,
    customers: Math.floor(RUNS / 10) + 1,
    baseMs,
    stepMs: STEP_MS,
    progress: (done) => log(`seeded ${done} WfRuns (${round((monoMs() - t0) / 1000, 1)} s)`),
  });
  log(`seeding the long WfRun: ${2 * LOOPS + 1} NodeRuns, ${LOOPS} TaskRuns`);
  // its TaskRuns are scheduled in the last hours, so the Task Runs page's default range shows them
  await seedLongWfRun(store, {
    id: "long-run",
    wfSpecId: specId,
    loops: LOOPS,
    threads: 100,
    startMs: Date.now() - LOOPS,
  });
  const seedSeconds = round((monoMs() - t0) / 1000, 1);
  client.close();
  await server.stop();
  return { seedSeconds, bigNodes: Object.keys(big.threadSpecs.entrypoint?.nodes ?? {}).length };
}

function startServer(): Promise<number> {
  child = fork(path.join(here, "server-child.ts"), [dataDir], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", 2, 2, "ipc"],
  });
  return new Promise((resolve, reject) => {
    child!.on("message", (m: unknown) => {
      const e = m as Partial<Event>;
      if (e.ev === "ready") resolve(Number(e.httpPort));
    });
    child!.once("exit", (code) => reject(new Error(`server exited (${code}) before it was ready`)));
  });
}

interface PageCase {
  page: string;
  path: string;
  /** what on the page is its first data */
  firstData: string;
}

const PAGES: PageCase[] = [
  { page: "Home: WfSpecs", path: "/", firstData: "[data-testid=metadata-results] tbody tr" },
  { page: "Home: most recent WfRuns", path: "/", firstData: "[data-testid=wf-runs] tbody tr .status" },
  {
    page: "WfSpec (1M WfRuns)",
    path: `/wfSpec/${SPEC}/0/0`,
    firstData: "[data-testid=wf-runs] tbody tr .status",
  },
  {
    page: "WfSpec graph (1M WfRuns)",
    path: `/wfSpec/${SPEC}/0/0`,
    firstData: "[data-testid=wf-graph] .wf-node",
  },
  {
    page: "WfRun",
    path: `/wfRun/${seededRunId(RUNS - 1)}`,
    firstData: "[data-testid=thread-runs] tbody tr .status",
  },
  {
    page: "WfRun graph of a long WfRun",
    path: "/wfRun/long-run",
    firstData: "[data-testid=wf-graph] .wf-node[data-node-status]",
  },
  { page: "Task Runs", path: "/taskRuns", firstData: "[data-testid=task-runs] tbody tr .status" },
  {
    page: "TaskDef",
    path: "/taskDef/work",
    firstData: "[data-testid=input-vars], [data-testid=wf-specs-using] a",
  },
  {
    page: "User tasks",
    path: "/userTasks",
    firstData: "[data-testid=user-task-runs] tbody tr, [data-testid=no-user-tasks]",
  },
  { page: "WfSpec metrics", path: `/wfSpec/${SPEC}/0/0/metrics`, firstData: ".recharts-surface" },
  {
    page: "WfSpec of 200 nodes",
    path: `/wfSpec/${BIG_SPEC}/0/0`,
    firstData: `[data-testid=wf-graph][data-node-count="${BIG_NODES}"] .wf-node`,
  },
];

async function loadOnce(base: string, c: PageCase): Promise<{ ms: number; layoutMs?: number }> {
  const context = await browser!.newContext({ baseURL: base, viewport: { width: 1400, height: 1000 } });
  try {
    // the page notes the moment its first data is in the DOM (ms since navigation started): waiting for it
    // from here polls at growing intervals (up to 500 ms), which would be measured too
    await context.addInitScript({
      content: `(() => {
        const check = () => {
          if (window.ponyFirstData === undefined && document.querySelector(${JSON.stringify(c.firstData)})) {
            window.ponyFirstData = performance.now();
            observer.disconnect();
          }
        };
        const observer = new MutationObserver(check);
        observer.observe(document, { subtree: true, childList: true, attributes: true });
      })();`,
    });
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    await page.goto(c.path, { waitUntil: "commit" });
    await page
      .locator(c.firstData)
      .first()
      .waitFor({ state: "attached" })
      .catch(async (e: unknown) => {
        const shown = await page
          .locator("main")
          .innerText()
          .catch(() => "");
        throw new Error(`${c.page} (${c.path}): no first data; the page shows:\n${shown.slice(0, 800)}`, {
          cause: e,
        });
      });
    const ms = await page.evaluate<number>("window.ponyFirstData");
    // the 200-node graph shows in its quick layout first: wait for elkjs's, whose time the page measured
    if (c.path.includes(BIG_SPEC)) await page.locator('[data-testid=wf-graph][data-layout="elk"]').waitFor();
    const layouts = await page.evaluate(() =>
      performance
        .getEntriesByName("pony:layout")
        .map((e) => ({ ms: e.duration, detail: (e as unknown as { detail: { nodes: number } }).detail })),
    );
    const big = layouts.filter((l) => l.detail.nodes >= BIG_NODES).map((l) => l.ms);
    return { ms, layoutMs: big.length > 0 ? Math.max(...big) : undefined };
  } finally {
    await context.close();
  }
}

/**
 * The layout of the 200-node WfSpec: the first one in a fresh page, then again and again in the same page
 * (to the metrics page and back: the graph is laid out anew each time), which is what a person browsing
 * WfSpecs waits for.
 */
async function measureLayout(base: string): Promise<{ coldMs: number; warmMs: number[] }> {
  const context = await browser!.newContext({ baseURL: base, viewport: { width: 1400, height: 1000 } });
  try {
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    const layouts = () =>
      page.evaluate(() =>
        performance
          .getEntriesByName("pony:layout")
          .filter((e) => (e as unknown as { detail: { nodes: number } }).detail.nodes > 100)
          .map((e) => e.duration),
      );
    // elkjs's layout (the page shows a quick one first)
    const graph = page
      .locator(`[data-testid=wf-graph][data-layout="elk"][data-node-count="${BIG_NODES}"] .wf-node`)
      .first();
    await page.goto(`/wfSpec/${BIG_SPEC}/0/0`);
    await graph.waitFor({ state: "attached" });
    const coldMs = (await layouts())[0]!;
    for (let i = 0; i < SAMPLES; i++) {
      await page.getByRole("link", { name: "Metrics →" }).click();
      await page.locator(".recharts-surface").first().waitFor({ state: "attached" });
      await page.goBack();
      await graph.waitFor({ state: "attached" });
    }
    return { coldMs, warmMs: (await layouts()).slice(1) };
  } finally {
    await context.close();
  }
}

async function main(): Promise<void> {
  log(`seeding ${RUNS} WfRuns into ${dataDir}`);
  const { seedSeconds, bigNodes } = await seed();
  log(`seeded in ${seedSeconds} s; starting the server`);
  const port = await startServer();
  const base = `http://127.0.0.1:${port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
  });
  const figures = [];
  const layoutMs: number[] = [];
  /** the 200-node layout of the first page that shows it: the server has no layout of it kept yet */
  let firstEverMs: number | undefined;
  for (const c of PAGES) {
    // warm: the server's caches and the browser's compiled code
    const warm = await loadOnce(base, c);
    if (warm.layoutMs !== undefined) firstEverMs ??= warm.layoutMs;
    const ms: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const r = await loadOnce(base, c);
      ms.push(r.ms);
      if (r.layoutMs !== undefined) layoutMs.push(r.layoutMs);
    }
    const fig = {
      page: c.page,
      path: c.path,
      p50_ms: round(percentile(ms, 50), 0),
      max_ms: round(Math.max(...ms), 0),
      target_ms: FIRST_DATA_TARGET_MS,
      under_target: Math.max(...ms) < FIRST_DATA_TARGET_MS,
    };
    log(`${c.page}: first data p50 ${fig.p50_ms} ms, max ${fig.max_ms} ms`);
    figures.push(fig);
  }
  const { coldMs, warmMs } = await measureLayout(base);
  await browser.close();
  child?.send({ id: 1, cmd: "stop" });
  const layout = {
    nodes: bigNodes,
    /** the first time any page lays it out: nothing kept at the server (POST /layout) yet */
    first_ever_ms: firstEverMs === undefined ? undefined : round(firstEverMs, 0),
    first_in_fresh_page_ms: round(coldMs, 0),
    fresh_pages_p50_ms: round(percentile(layoutMs, 50), 0),
    p50_ms: round(percentile(warmMs, 50), 0),
    max_ms: round(Math.max(...warmMs), 0),
    target_ms: LAYOUT_TARGET_MS,
    under_target: Math.max(...warmMs) < LAYOUT_TARGET_MS,
  };
  const result = {
    runs: RUNS,
    loops: LOOPS,
    samples: SAMPLES,
    seed_seconds: seedSeconds,
    pages: figures,
    layout_200_nodes: layout,
    cpus: os.cpus().length,
    node: process.version,
  };
  console.log("\nfirst data on screen, fresh browser context per load (ms):");
  console.table(
    figures.map((f) => ({
      page: f.page,
      p50: f.p50_ms,
      max: f.max_ms,
      "< 1 s": f.under_target ? "yes" : "NO",
    })),
  );
  console.log(
    `layout of the ${bigNodes}-node WfSpec (elkjs): p50 ${layout.p50_ms} ms, max ${layout.max_ms} ms ` +
      `(target < ${LAYOUT_TARGET_MS} ms); the first in a fresh page: ` +
      `${layout.first_in_fresh_page_ms} ms (p50 over fresh pages ${layout.fresh_pages_p50_ms} ms); ` +
      `the first ever, with no layout kept at the server: ${layout.first_ever_ms} ms`,
  );
  console.log(JSON.stringify(result, null, 2));
  if (opt.json) fs.writeFileSync(path.resolve(invokedFrom, opt.json), JSON.stringify(result, null, 2) + "\n");
  process.exit(0);
}

await main();
