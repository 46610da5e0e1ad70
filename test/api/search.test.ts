/**
 * Black-box tests of the object Search RPCs through gRPC (B-SRCH-1…4): SearchWfRun, SearchVariable,
 * SearchNodeRun, SearchTaskRun, SearchExternalEvent, SearchTenant and SearchPrincipal — every filter,
 * combined filters, time ranges at their edges, paging while runs are being created, limits and bookmarks.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server";
import type { Msg, TestClient } from "../support/client";
import {
  bool,
  dbl,
  entry,
  exit,
  int,
  jsonObj,
  str,
  taskDef,
  taskNode,
  thread,
  varDef,
  varRef,
  wfSpec,
  type NodeDef,
} from "../support/specs";
import { startRawWorker, type RawWorker } from "../support/worker";
import { waitFor } from "../support/wait";

let ts: TestServer;
let c: TestClient;
let worker: RawWorker;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tsMs = (t: Msg): number => Number(t.seconds) * 1000 + Math.floor(t.nanos / 1e6);
const at = (ms: number, nanos = 0): Msg => ({
  seconds: String(Math.floor(ms / 1000)),
  nanos: (ms % 1000) * 1e6 + nanos,
});
const hasBookmark = (r: Msg) => !!r.bookmark && r.bookmark.length > 0;

/** ENTRYPOINT → EXTERNAL_EVENT(def, content → `stage`) → EXIT */
function waitingThread(def: string, vars: Msg[]): Msg {
  const wait: NodeDef = {
    name: "1-wait-EXTERNAL_EVENT",
    node: { external_event: { external_event_def_id: { name: def } } },
    edges: [
      {
        sink_node_name: "2-exit-EXIT",
        variable_mutations: [{ lhs_name: "stage", operation: "ASSIGN", node_output: {} }],
      },
    ],
  };
  return thread([entry(), wait, exit("2-exit-EXIT")], vars);
}

const ORDERS = "srch-orders";
const EVENT = "srch-go";
const OTHER_EVENT = "srch-other";
const TASK = "srch-task";
const IDLE_TASK = "srch-idle-task";
const TASKS_WF = "srch-tasks";
const IDLE_WF = "srch-idle";
const EMPTY = "srch-empty";

const ORDER_VARS = [
  varDef("customer", "STR", { searchable: true }),
  varDef("amount", "INT", { searchable: true }),
  varDef("ratio", "DOUBLE", { searchable: true }),
  varDef("vip", "BOOL", { searchable: true }),
  varDef("note", "STR"),
  varDef("order", "JSON_OBJ", {
    json_indexes: [
      { field_path: "$.id", field_type: "STR" },
      { field_path: "$.total", field_type: "INT" },
    ],
  }),
  varDef("stage", "STR", { searchable: true }),
];

async function run(spec: string, id: string, variables: Msg = {}, version: Msg = {}): Promise<Msg> {
  return c.call("RunWf", { wf_spec_name: spec, id, variables, ...version });
}

async function waitStatus(id: string, status: string): Promise<Msg> {
  return waitFor(
    async () => {
      const r = await c.call("GetWfRun", { id });
      return r.status === status ? r : undefined;
    },
    10_000,
    `WfRun ${id} to be ${status}`,
  );
}

/** Every result of a search, page by page. */
async function all(method: string, req: Msg, limit = 1000): Promise<Msg[]> {
  const out: Msg[] = [];
  let bookmark: Buffer | undefined;
  for (let pages = 0; pages < 10_000; pages++) {
    const r = await c.call(method, { ...req, limit, ...(bookmark ? { bookmark } : {}) });
    out.push(...r.results);
    if (!hasBookmark(r)) return out;
    bookmark = r.bookmark;
  }
  throw new Error("too many pages");
}

const wfIds = (results: Msg[]) => results.map((r) => r.id as string);
const searchRuns = async (req: Msg) => wfIds(await all("SearchWfRun", req));

beforeAll(async () => {
  ts = await startTestServer();
  c = ts.client();
  for (const name of [EVENT, OTHER_EVENT]) await c.call("PutExternalEventDef", { name });
  await c.call("PutTaskDef", taskDef(TASK, [["input", "STR"]]));
  await c.call("PutTaskDef", taskDef(IDLE_TASK, [["input", "STR"]]));
  // 0.0, then a revision (a new optional variable), then a major version (a new searchable variable)
  await c.call("PutWfSpec", wfSpec(ORDERS, waitingThread(EVENT, ORDER_VARS)));
  await c.call("PutWfSpec", wfSpec(ORDERS, waitingThread(EVENT, [...ORDER_VARS, varDef("extra", "STR")])));
  await c.call(
    "PutWfSpec",
    wfSpec(
      ORDERS,
      waitingThread(EVENT, [
        ...ORDER_VARS,
        varDef("extra", "STR"),
        varDef("region", "STR", { searchable: true }),
      ]),
    ),
  );
  const oneTask = (name: string, def: string) =>
    wfSpec(
      name,
      thread(
        [entry(), taskNode("1-task-TASK", def, [varRef("input")]), exit("2-exit-EXIT")],
        [varDef("input", "STR", { searchable: true })],
      ),
    );
  await c.call("PutWfSpec", oneTask(TASKS_WF, TASK));
  await c.call("PutWfSpec", oneTask(IDLE_WF, IDLE_TASK));
  await c.call(
    "PutWfSpec",
    wfSpec(EMPTY, thread([entry(), exit("1-exit-EXIT")], [varDef("batch", "STR", { searchable: true })])),
  );
  worker = startRawWorker(
    c,
    TASK,
    (task) => {
      const input = task.variables?.[0]?.value?.str as string;
      return input.startsWith("bad")
        ? { status: "TASK_FAILED", message: "bad input" }
        : { status: "TASK_SUCCESS" };
    },
    { concurrency: 8 },
  );
});

afterAll(async () => {
  worker?.stop();
  await ts?.close();
});

describe("SearchWfRun", () => {
  const versions: Record<string, string[]> = { "0.0": [], "0.1": [], "1.0": [] };

  beforeAll(async () => {
    const pin = (major: number, revision: number) => ({ major_version: major, revision });
    for (let i = 0; i < 3; i++) {
      const id = `ord-00-${i}`;
      await run(ORDERS, id, { customer: str(i === 0 ? "acme" : "globex"), amount: int(10 * i) }, pin(0, 0));
      versions["0.0"]!.push(id);
    }
    for (let i = 0; i < 2; i++) {
      const id = `ord-01-${i}`;
      await run(ORDERS, id, { customer: str("acme"), amount: int(10) }, pin(0, 1));
      versions["0.1"]!.push(id);
    }
    for (let i = 0; i < 2; i++) {
      const id = `ord-10-${i}`;
      await run(ORDERS, id, { customer: str("acme"), amount: int(10), region: str("eu") }, pin(1, 0));
      versions["1.0"]!.push(id);
    }
    // two of them complete: the event's content lands in `stage`
    for (const id of ["ord-00-0", "ord-10-1"]) {
      await c.call("PutExternalEvent", {
        wf_run_id: { id },
        external_event_def_id: { name: EVENT },
        content: str("shipped"),
      });
      await waitStatus(id, "COMPLETED");
    }
  });

  it("B-SRCH-2 by WfSpec name returns every WfRun of it, oldest first", async () => {
    expect(await searchRuns({ wf_spec_name: ORDERS })).toEqual([
      ...versions["0.0"]!,
      ...versions["0.1"]!,
      ...versions["1.0"]!,
    ]);
    expect(await searchRuns({ wf_spec_name: "srch-no-such-spec" })).toEqual([]);
  });

  it("B-SRCH-2 by major version, and by major version + revision", async () => {
    expect(await searchRuns({ wf_spec_name: ORDERS, wf_spec_major_version: 0 })).toEqual([
      ...versions["0.0"]!,
      ...versions["0.1"]!,
    ]);
    expect(await searchRuns({ wf_spec_name: ORDERS, wf_spec_major_version: 1 })).toEqual(versions["1.0"]);
    expect(await searchRuns({ wf_spec_name: ORDERS, wf_spec_major_version: 0, wf_spec_revision: 1 })).toEqual(
      versions["0.1"],
    );
    expect(await searchRuns({ wf_spec_name: ORDERS, wf_spec_major_version: 1, wf_spec_revision: 1 })).toEqual(
      [],
    );
  });

  it("B-SRCH-2 by status, alone and with a version", async () => {
    expect(await searchRuns({ wf_spec_name: ORDERS, status: "COMPLETED" })).toEqual(["ord-00-0", "ord-10-1"]);
    expect(await searchRuns({ wf_spec_name: ORDERS, status: "RUNNING" })).toEqual([
      "ord-00-1",
      "ord-00-2",
      ...versions["0.1"]!,
      "ord-10-0",
    ]);
    expect(await searchRuns({ wf_spec_name: ORDERS, status: "COMPLETED", wf_spec_major_version: 1 })).toEqual(
      ["ord-10-1"],
    );
    expect(
      await searchRuns({
        wf_spec_name: ORDERS,
        status: "RUNNING",
        wf_spec_major_version: 0,
        wf_spec_revision: 0,
      }),
    ).toEqual(["ord-00-1", "ord-00-2"]);
    expect(await searchRuns({ wf_spec_name: ORDERS, status: "ERROR" })).toEqual([]);
  });

  it("B-SRCH-2 by variable_filters on searchable entrypoint variables, combined with status and version", async () => {
    const acme = { var_name: "customer", value: str("acme") };
    expect(await searchRuns({ wf_spec_name: ORDERS, variable_filters: [acme] })).toEqual([
      "ord-00-0",
      ...versions["0.1"]!,
      ...versions["1.0"]!,
    ]);
    expect(
      await searchRuns({
        wf_spec_name: ORDERS,
        variable_filters: [acme, { var_name: "amount", value: int(10) }],
      }),
    ).toEqual([...versions["0.1"]!, ...versions["1.0"]!]);
    expect(
      await searchRuns({
        wf_spec_name: ORDERS,
        status: "RUNNING",
        wf_spec_major_version: 1,
        variable_filters: [acme, { var_name: "region", value: str("eu") }],
      }),
    ).toEqual(["ord-10-0"]);
    expect(
      await searchRuns({
        wf_spec_name: ORDERS,
        variable_filters: [{ var_name: "stage", value: str("shipped") }],
      }),
    ).toEqual(["ord-00-0", "ord-10-1"]);
    expect(
      await searchRuns({
        wf_spec_name: ORDERS,
        variable_filters: [{ var_name: "customer", value: str("nobody") }],
      }),
    ).toEqual([]);
    // a variable that is not searchable is not indexed: filtering on it finds nothing
    await run(ORDERS, "ord-note", { note: str("fragile") });
    expect(
      await searchRuns({
        wf_spec_name: ORDERS,
        variable_filters: [{ var_name: "note", value: str("fragile") }],
      }),
    ).toEqual([]);
  });

  it("B-SRCH-2 a revision needs a major version; a filter needs a value; both need wf_spec_name", async () => {
    for (const bad of [
      { wf_spec_major_version: 0 },
      { variable_filters: [{ var_name: "customer", value: str("x") }] },
    ]) {
      const e = await c.fail("SearchWfRun", bad);
      expect(e.code).toBe("INVALID_ARGUMENT");
      expect(e.message).toMatch(/need wf_spec_name/);
    }
    const rev = await c.fail("SearchWfRun", { wf_spec_name: ORDERS, wf_spec_revision: 0 });
    expect(rev.code).toBe("INVALID_ARGUMENT");
    expect(rev.message).toMatch(/major/);
    const noValue = await c.fail("SearchWfRun", {
      wf_spec_name: ORDERS,
      variable_filters: [{ var_name: "customer" }],
    });
    expect(noValue.code).toBe("INVALID_ARGUMENT");
  });

  it("B-SRCH-2 SearchWfRun without wf_spec_name finds every WfSpec's WfRuns, by status and time (a Pony extension)", async () => {
    const t0 = Date.now();
    await sleep(2);
    const a = tsMs((await run(ORDERS, "any-spec-1", { customer: str("zed") })).start_time);
    await sleep(2);
    await run(EMPTY, "any-spec-2");
    const since = await searchRuns({ earliest_start: at(t0) });
    expect(since).toEqual(["any-spec-1", "any-spec-2"]);
    expect(await searchRuns({ earliest_start: at(t0), latest_start: at(a) })).toEqual(["any-spec-1"]);
    const completed = await searchRuns({ earliest_start: at(t0), status: "COMPLETED" });
    const running = await searchRuns({ earliest_start: at(t0), status: "RUNNING" });
    expect([...completed, ...running].sort()).toEqual(["any-spec-1", "any-spec-2"]);
  });

  it("B-SRCH-2 the start-time range is inclusive at both edges", async () => {
    const ids = ["edge-a", "edge-b", "edge-c"];
    const starts: number[] = [];
    for (const id of ids) {
      starts.push(tsMs((await run(EMPTY, id)).start_time));
      await sleep(5);
    }
    const [a, b, cc] = starts as [number, number, number];
    const within = (earliest?: Msg, latest?: Msg) =>
      searchRuns({
        wf_spec_name: EMPTY,
        ...(earliest ? { earliest_start: earliest } : {}),
        ...(latest ? { latest_start: latest } : {}),
      }).then((r) => r.filter((id) => id.startsWith("edge-")));
    expect(await within(at(a), at(cc))).toEqual(ids);
    expect(await within(at(b), at(b))).toEqual(["edge-b"]);
    expect(await within(at(a + 1), at(cc - 1))).toEqual(["edge-b"]);
    expect(await within(at(b))).toEqual(["edge-b", "edge-c"]);
    expect(await within(undefined, at(b))).toEqual(["edge-a", "edge-b"]);
    // a bound between two milliseconds: the run at the lower millisecond is before `earliest` (and after `latest`)
    expect(await within(at(b, 500_000), undefined)).toEqual(["edge-c"]);
    expect(await within(undefined, at(b, 500_000))).toEqual(["edge-a", "edge-b"]);
    expect(await within(at(cc + 1))).toEqual([]);
  });

  it("B-SRCH-1 results are WfRunIds, also for an id with '_' in it", async () => {
    await run(EMPTY, "under_score", { batch: str("underscore") });
    const r = await c.call("SearchWfRun", {
      wf_spec_name: EMPTY,
      variable_filters: [{ var_name: "batch", value: str("underscore") }],
    });
    expect(r.results).toHaveLength(1);
    expect(r.results[0].id).toBe("under_score");
    expect(r.results[0].parent_wf_run_id ?? null).toBeNull();
  });
});

describe("paging", () => {
  it("B-SRCH-1 paging through WfRuns while runs are being created: no duplicates, no gaps", async () => {
    const spec = "srch-paging";
    await c.call("PutWfSpec", wfSpec(spec, thread([entry(), exit("1-exit-EXIT")])));
    const before: string[] = [];
    for (let i = 0; i < 40; i++) {
      const id = `p-${String(i).padStart(3, "0")}`;
      await run(spec, id);
      before.push(id);
    }
    let writing = true;
    const writer = (async () => {
      for (let i = 0; i < 40; i++) {
        await run(spec, `q-${String(i).padStart(3, "0")}`);
        await sleep(1);
      }
      writing = false;
    })();
    const seen: string[] = [];
    let bookmark: Buffer | undefined;
    let pages = 0;
    for (;;) {
      const r = await c.call("SearchWfRun", {
        wf_spec_name: spec,
        limit: 3,
        ...(bookmark ? { bookmark } : {}),
      });
      pages++;
      seen.push(...wfIds(r.results));
      if (!hasBookmark(r)) break;
      bookmark = r.bookmark;
      await sleep(writing ? 10 : 0);
    }
    await writer;
    expect(pages).toBeGreaterThanOrEqual(14);
    // the pages did overlap the writes: runs created meanwhile were found too
    expect(seen.some((id) => id.startsWith("q-"))).toBe(true);
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of before) expect(seen).toContain(id);
    // no gaps: what the pages returned is exactly the start of the complete list read afterwards
    const complete = await searchRuns({ wf_spec_name: spec });
    expect(complete).toHaveLength(80);
    expect(seen).toEqual(complete.slice(0, seen.length));
    // and the order is by start time
    const starts = await Promise.all(
      complete.map(async (id) => tsMs((await c.call("GetWfRun", { id })).start_time)),
    );
    expect([...starts].sort((x, y) => x - y)).toEqual(starts);
  });

  it("B-SRCH-1 limit: default 100, capped at 1000, 0 or less is INVALID_ARGUMENT for every search", async () => {
    const spec = "srch-many";
    await c.call(
      "PutWfSpec",
      wfSpec(spec, thread([entry(), exit("1-exit-EXIT")], [varDef("batch", "STR", { searchable: true })])),
    );
    const t0 = Date.now();
    for (let chunk = 0; chunk < 1005; chunk += 67) {
      await Promise.all(
        Array.from({ length: Math.min(67, 1005 - chunk) }, (_, i) =>
          run(spec, `m-${String(chunk + i).padStart(4, "0")}`, { batch: str("b1") }),
        ),
      );
    }
    const first = await c.call("SearchWfRun", { wf_spec_name: spec });
    expect(first.results).toHaveLength(100);
    expect(hasBookmark(first)).toBe(true);
    const capped = await c.call("SearchWfRun", { wf_spec_name: spec, limit: 5000 });
    expect(capped.results).toHaveLength(1000);
    const rest = await c.call("SearchWfRun", { wf_spec_name: spec, limit: 5000, bookmark: capped.bookmark });
    expect(rest.results).toHaveLength(5);
    expect(hasBookmark(rest)).toBe(false);
    expect(new Set([...wfIds(capped.results), ...wfIds(rest.results)]).size).toBe(1005);

    const vars = await c.call("SearchVariable", {
      wf_spec_name: spec,
      var_name: "batch",
      value: str("b1"),
      limit: 1001,
    });
    expect(vars.results).toHaveLength(1000);
    expect(hasBookmark(vars)).toBe(true);
    const nodes = await c.call("SearchNodeRun", {
      node_type: "ENTRYPOINT",
      status: "COMPLETED",
      earliest_start: at(t0),
      limit: 100_000,
    });
    expect(nodes.results).toHaveLength(1000);

    const requests: [string, Msg][] = [
      ["SearchWfRun", { wf_spec_name: spec }],
      ["SearchVariable", { wf_spec_name: spec, var_name: "batch", value: str("b1") }],
      ["SearchNodeRun", { node_type: "ENTRYPOINT", status: "COMPLETED" }],
      ["SearchTaskRun", { task_def_name: TASK }],
      ["SearchExternalEvent", { external_event_def_id: { name: EVENT } }],
      ["SearchTenant", {}],
      ["SearchPrincipal", {}],
    ];
    for (const [method, req] of requests) {
      for (const limit of [0, -1]) {
        const f = await c.fail(method, { ...req, limit });
        expect(f.code, `${method} limit ${limit}`).toBe("INVALID_ARGUMENT");
        expect(f.message).toMatch(/limit/);
      }
    }
  });

  it("B-SRCH-1 a bookmark from one search used with another is INVALID_ARGUMENT, saying so", async () => {
    const r = await c.call("SearchWfRun", { wf_spec_name: "srch-paging", limit: 1 });
    expect(hasBookmark(r)).toBe(true);
    const uses: [string, Msg][] = [
      ["SearchTaskRun", { task_def_name: TASK }],
      ["SearchVariable", { wf_spec_name: "srch-paging", var_name: "x", value: str("y") }],
      ["SearchNodeRun", { node_type: "TASK", status: "COMPLETED" }],
      ["SearchExternalEvent", { external_event_def_id: { name: EVENT } }],
      ["SearchTenant", {}],
      ["SearchPrincipal", {}],
    ];
    for (const [method, req] of uses) {
      const f = await c.fail(method, { ...req, bookmark: r.bookmark });
      expect(f.code, method).toBe("INVALID_ARGUMENT");
      expect(f.message).toMatch(/SearchWfRun/);
    }
    // metadata searches have bookmarks of their own: neither kind is taken by the other
    const defs = await c.call("SearchExternalEventDef", { limit: 1 });
    expect(hasBookmark(defs)).toBe(true);
    expect((await c.fail("SearchWfRun", { wf_spec_name: "srch-paging", bookmark: defs.bookmark })).code).toBe(
      "INVALID_ARGUMENT",
    );
    expect((await c.fail("SearchExternalEventDef", { bookmark: r.bookmark })).code).toBe("INVALID_ARGUMENT");
    const junk = await c.fail("SearchWfRun", { wf_spec_name: "srch-paging", bookmark: Buffer.from("junk") });
    expect(junk.code).toBe("INVALID_ARGUMENT");
    expect(junk.message).toMatch(/bookmark/);
  });
});

describe("SearchVariable", () => {
  const find = (req: Msg) => all("SearchVariable", { wf_spec_name: ORDERS, ...req });
  const runsOf = (results: Msg[]) => results.map((r) => r.wf_run_id.id as string);

  beforeAll(async () => {
    await run(ORDERS, "var-1", {
      customer: str("initech"),
      amount: int(42),
      ratio: dbl(0.5),
      vip: bool(true),
      note: str("hidden"),
      order: jsonObj({ id: "A-1", total: 300, lines: [1, 2] }),
    });
    await run(ORDERS, "var-2", {
      customer: str("initech"),
      amount: int(7),
      ratio: dbl(42),
      vip: bool(false),
    });
    await run(ORDERS, "var-3", { customer: str("INITECH"), order: jsonObj({ id: "A-2", total: "300" }) });
  });

  it("B-SRCH-3 finds WfRuns by the exact value of a searchable variable", async () => {
    const r = await find({ var_name: "customer", value: str("initech") });
    expect(runsOf(r)).toEqual(["var-1", "var-2"]);
    expect(r[0]).toMatchObject({ thread_run_number: 0, name: "customer" });
    expect(runsOf(await find({ var_name: "customer", value: str("INITECH") }))).toEqual(["var-3"]);
    expect(runsOf(await find({ var_name: "customer", value: str("initec") }))).toEqual([]);
    expect(runsOf(await find({ var_name: "vip", value: bool(true) }))).toEqual(["var-1"]);
    expect(runsOf(await find({ var_name: "vip", value: bool(false) }))).toEqual(["var-2"]);
  });

  it("B-SRCH-3 numbers match by value: an INT variable found with 42 or 42.0, a STR '42' converted to the declared type", async () => {
    expect(runsOf(await find({ var_name: "amount", value: int(42) }))).toEqual(["var-1"]);
    expect(runsOf(await find({ var_name: "amount", value: dbl(42) }))).toEqual(["var-1"]);
    expect(runsOf(await find({ var_name: "amount", value: str("42") }))).toEqual(["var-1"]);
    expect(runsOf(await find({ var_name: "ratio", value: int(42) }))).toEqual(["var-2"]);
    expect(runsOf(await find({ var_name: "ratio", value: dbl(0.5) }))).toEqual(["var-1"]);
  });

  it("B-SRCH-3 JSON fields named in json_indexes are searchable (var_name + JSON path), typed", async () => {
    expect(runsOf(await find({ var_name: "order$.id", value: str("A-1") }))).toEqual(["var-1"]);
    expect(runsOf(await find({ var_name: "order$.id", value: str("A-2") }))).toEqual(["var-3"]);
    // the field is indexed as INT: "300" in var-3 converts, 300 in var-1 is one already
    expect(runsOf(await find({ var_name: "order$.total", value: int(300) }))).toEqual(["var-1", "var-3"]);
    // a path that is not in json_indexes is not indexed, nor is the JSON variable itself (not searchable)
    expect(runsOf(await find({ var_name: "order$.lines", value: str("[1,2]") }))).toEqual([]);
    expect(
      runsOf(await find({ var_name: "order", value: jsonObj({ id: "A-1", total: 300, lines: [1, 2] }) })),
    ).toEqual([]);
  });

  it("B-SRCH-3 a variable that is not searchable is not indexed", async () => {
    expect(await find({ var_name: "note", value: str("hidden") })).toEqual([]);
  });

  it("B-SRCH-3 with WfSpec major version and revision", async () => {
    expect(
      runsOf(await find({ var_name: "customer", value: str("acme"), wf_spec_major_version: 1 })),
    ).toEqual(["ord-10-0", "ord-10-1"]);
    expect(
      runsOf(
        await find({
          var_name: "customer",
          value: str("acme"),
          wf_spec_major_version: 0,
          wf_spec_revision: 1,
        }),
      ),
    ).toEqual(["ord-01-0", "ord-01-1"]);
    expect(runsOf(await find({ var_name: "region", value: str("eu"), wf_spec_major_version: 0 }))).toEqual(
      [],
    );
  });

  it("B-SRCH-3 the index follows the variable's value and is removed with DeleteWfRun", async () => {
    await run(ORDERS, "var-move", { customer: str("hooli") });
    expect(runsOf(await find({ var_name: "stage", value: str("packed") }))).toEqual([]);
    await c.call("PutExternalEvent", {
      wf_run_id: { id: "var-move" },
      external_event_def_id: { name: EVENT },
      content: str("packed"),
    });
    await waitStatus("var-move", "COMPLETED");
    expect(runsOf(await find({ var_name: "stage", value: str("packed") }))).toEqual(["var-move"]);
    expect(runsOf(await find({ var_name: "customer", value: str("hooli") }))).toEqual(["var-move"]);
    await c.call("DeleteWfRun", { id: { id: "var-move" } });
    expect(await find({ var_name: "stage", value: str("packed") })).toEqual([]);
    expect(await find({ var_name: "customer", value: str("hooli") })).toEqual([]);
    expect(
      await searchRuns({
        wf_spec_name: ORDERS,
        variable_filters: [{ var_name: "customer", value: str("hooli") }],
      }),
    ).toEqual([]);
  });

  it("B-SRCH-3 wf_spec_name, var_name and a value are required", async () => {
    for (const req of [
      { var_name: "customer", value: str("x") },
      { wf_spec_name: ORDERS, value: str("x") },
      { wf_spec_name: ORDERS, var_name: "customer" },
    ]) {
      expect((await c.fail("SearchVariable", req)).code).toBe("INVALID_ARGUMENT");
    }
  });
});

describe("SearchTaskRun and SearchNodeRun", () => {
  let t0 = 0;
  let tMid = 0;

  beforeAll(async () => {
    t0 = Date.now();
    await sleep(2);
    for (const id of ["tr-ok-1", "tr-bad-1"])
      await run(TASKS_WF, id, { input: str(id.includes("bad") ? "bad" : "ok") });
    await waitStatus("tr-ok-1", "COMPLETED");
    await waitStatus("tr-bad-1", "ERROR");
    await sleep(5);
    tMid = Date.now();
    await sleep(5);
    for (const id of ["tr-ok-2", "tr-bad-2"])
      await run(TASKS_WF, id, { input: str(id.includes("bad") ? "bad" : "ok") });
    await waitStatus("tr-ok-2", "COMPLETED");
    await waitStatus("tr-bad-2", "ERROR");
    await run(IDLE_WF, "tr-idle", { input: str("ok") });
  });

  const taskRuns = async (req: Msg) =>
    (await all("SearchTaskRun", { earliest_start: at(t0), ...req })).map((r) => r.wf_run_id.id as string);

  it("B-SRCH-4 SearchTaskRun by TaskDef name, oldest first", async () => {
    const r = await all("SearchTaskRun", { task_def_name: TASK, earliest_start: at(t0) });
    expect(r.map((x) => x.wf_run_id.id)).toEqual(["tr-ok-1", "tr-bad-1", "tr-ok-2", "tr-bad-2"]);
    const first = await c.call("GetTaskRun", r[0]);
    expect(first.task_def_id.name).toBe(TASK);
    expect(await taskRuns({ task_def_name: IDLE_TASK })).toEqual(["tr-idle"]);
    expect(await taskRuns({ task_def_name: "srch-nobody" })).toEqual([]);
  });

  it("B-KES-1 SearchTaskRun without a TaskDef name searches every TaskDef's TaskRuns (a Pony extension)", async () => {
    expect(await taskRuns({})).toEqual(["tr-ok-1", "tr-bad-1", "tr-ok-2", "tr-bad-2", "tr-idle"]);
    expect(await taskRuns({ status: "TASK_FAILED" })).toEqual(["tr-bad-1", "tr-bad-2"]);
    expect(await taskRuns({ status: "TASK_SCHEDULED", latest_start: at(tMid) })).toEqual([]);
    // paging through every TaskDef's TaskRuns resumes exactly where the last page ended
    const paged = await all("SearchTaskRun", { earliest_start: at(t0) }, 2);
    expect(paged.map((r) => r.wf_run_id.id)).toEqual([
      "tr-ok-1",
      "tr-bad-1",
      "tr-ok-2",
      "tr-bad-2",
      "tr-idle",
    ]);
  });

  it("B-SRCH-4 SearchTaskRun by status and time range, combined", async () => {
    expect(await taskRuns({ task_def_name: TASK, status: "TASK_SUCCESS" })).toEqual(["tr-ok-1", "tr-ok-2"]);
    expect(await taskRuns({ task_def_name: TASK, status: "TASK_FAILED" })).toEqual(["tr-bad-1", "tr-bad-2"]);
    expect(await taskRuns({ task_def_name: IDLE_TASK, status: "TASK_SCHEDULED" })).toEqual(["tr-idle"]);
    expect(await taskRuns({ task_def_name: TASK, status: "TASK_RUNNING" })).toEqual([]);
    expect(await taskRuns({ task_def_name: TASK, status: "TASK_FAILED", earliest_start: at(tMid) })).toEqual([
      "tr-bad-2",
    ]);
    expect(await taskRuns({ task_def_name: TASK, latest_start: at(tMid) })).toEqual(["tr-ok-1", "tr-bad-1"]);
    // the edges are inclusive: the exact scheduled time of a TaskRun finds it
    const tr = await c.call("GetTaskRun", (await all("SearchTaskRun", { task_def_name: IDLE_TASK }))[0]);
    const s = tsMs(tr.scheduled_at);
    expect(await taskRuns({ task_def_name: IDLE_TASK, earliest_start: at(s), latest_start: at(s) })).toEqual([
      "tr-idle",
    ]);
    expect(await taskRuns({ task_def_name: IDLE_TASK, earliest_start: at(s + 1) })).toEqual([]);
  });

  const nodeRuns = async (req: Msg) =>
    (await all("SearchNodeRun", { earliest_start: at(t0), ...req })).map(
      (r) => `${r.wf_run_id.id}/${r.thread_run_number}/${r.position}`,
    );

  it("B-SRCH-4 SearchNodeRun by node type and status", async () => {
    expect(await nodeRuns({ node_type: "TASK", status: "COMPLETED" })).toEqual([
      "tr-ok-1/0/1",
      "tr-ok-2/0/1",
    ]);
    expect(await nodeRuns({ node_type: "TASK", status: "ERROR" })).toEqual(["tr-bad-1/0/1", "tr-bad-2/0/1"]);
    expect(await nodeRuns({ node_type: "TASK", status: "RUNNING" })).toEqual(["tr-idle/0/1"]);
    expect(await nodeRuns({ node_type: "EXIT", status: "COMPLETED" })).toEqual([
      "tr-ok-1/0/2",
      "tr-ok-2/0/2",
    ]);
    expect(await nodeRuns({ node_type: "ENTRYPOINT", status: "COMPLETED" })).toEqual([
      "tr-ok-1/0/0",
      "tr-bad-1/0/0",
      "tr-ok-2/0/0",
      "tr-bad-2/0/0",
      "tr-idle/0/0",
    ]);
    expect(await nodeRuns({ node_type: "SLEEP", status: "COMPLETED" })).toEqual([]);
  });

  it("B-SRCH-4 SearchNodeRun by time range, at its edges", async () => {
    expect(await nodeRuns({ node_type: "TASK", status: "ERROR", earliest_start: at(tMid) })).toEqual([
      "tr-bad-2/0/1",
    ]);
    expect(await nodeRuns({ node_type: "TASK", status: "ERROR", latest_start: at(tMid) })).toEqual([
      "tr-bad-1/0/1",
    ]);
    const n = await c.call("GetNodeRun", { wf_run_id: { id: "tr-idle" }, thread_run_number: 0, position: 1 });
    const arrived = tsMs(n.arrival_time);
    const edge = (earliest: number, latest: number) =>
      nodeRuns({
        node_type: "TASK",
        status: "RUNNING",
        earliest_start: at(earliest),
        latest_start: at(latest),
      });
    expect(await edge(arrived, arrived)).toEqual(["tr-idle/0/1"]);
    expect(await edge(arrived + 1, arrived + 1000)).toEqual([]);
    expect(await edge(arrived - 1000, arrived - 1)).toEqual([]);
  });
});

describe("SearchExternalEvent", () => {
  let t0 = 0;
  const events = async (req: Msg) =>
    (await all("SearchExternalEvent", { earliest_start: at(t0), ...req })).map((r) => r.guid as string);

  beforeAll(async () => {
    t0 = Date.now();
    await sleep(2);
    await run(ORDERS, "ev-claims");
    await run(EMPTY, "ev-done");
    const post = (id: string, def: string, guid: string) =>
      c.call("PutExternalEvent", {
        wf_run_id: { id },
        external_event_def_id: { name: def },
        guid,
        content: str(guid),
      });
    await post("ev-claims", EVENT, "g-1"); // claimed by the waiting node
    await waitStatus("ev-claims", "COMPLETED");
    await sleep(3);
    await post("ev-done", EVENT, "g-2"); // nobody waits: stays unclaimed
    await sleep(3);
    await post("ev-done", OTHER_EVENT, "g-3");
  });

  it("B-SRCH-4 by ExternalEventDef (required, must exist), oldest first", async () => {
    const r = await all("SearchExternalEvent", {
      external_event_def_id: { name: EVENT },
      earliest_start: at(t0),
    });
    expect(r.map((e) => e.guid)).toEqual(["g-1", "g-2"]);
    expect(r[0]).toMatchObject({ wf_run_id: { id: "ev-claims" }, external_event_def_id: { name: EVENT } });
    expect(await events({ external_event_def_id: { name: OTHER_EVENT } })).toEqual(["g-3"]);
    expect((await c.fail("SearchExternalEvent", {})).code).toBe("INVALID_ARGUMENT");
    const unknown = await c.fail("SearchExternalEvent", { external_event_def_id: { name: "srch-nope" } });
    expect(unknown.code).toBe("INVALID_ARGUMENT");
    expect(unknown.message).toMatch(/srch-nope/);
  });

  it("B-SRCH-4 claimed or not, and time range at its edges, combined", async () => {
    expect(await events({ external_event_def_id: { name: EVENT }, is_claimed: true })).toEqual(["g-1"]);
    expect(await events({ external_event_def_id: { name: EVENT }, is_claimed: false })).toEqual(["g-2"]);
    const g2 = await c.call("GetExternalEvent", {
      wf_run_id: { id: "ev-done" },
      external_event_def_id: { name: EVENT },
      guid: "g-2",
    });
    const created = tsMs(g2.created_at);
    const def = { name: EVENT };
    expect(
      await events({ external_event_def_id: def, earliest_start: at(created), latest_start: at(created) }),
    ).toEqual(["g-2"]);
    expect(
      await events({ external_event_def_id: def, is_claimed: false, latest_start: at(created - 1) }),
    ).toEqual([]);
    expect(
      await events({ external_event_def_id: def, is_claimed: true, earliest_start: at(created) }),
    ).toEqual([]);
  });
});

describe("SearchTenant and SearchPrincipal", () => {
  it("B-SRCH-4 B-SEC-1 SearchTenant lists the default tenant and every tenant created, by id, paged", async () => {
    await c.call("PutTenant", { id: "srch-tenant-b" });
    await c.call("PutTenant", { id: "srch-tenant-a" });
    await ts.client("srch-tenant-b").call("PutTaskDef", taskDef("srch-in-b"));
    await ts.client("srch-tenant-a").call("PutExternalEventDef", { name: "srch-in-a" });
    const ids = (await all("SearchTenant", {})).map((t) => t.id);
    expect(ids).toEqual(["default", "srch-tenant-a", "srch-tenant-b"]);
    const one = await c.call("SearchTenant", { limit: 1 });
    expect(one.results).toEqual([{ id: "default" }]);
    const next = await c.call("SearchTenant", { limit: 2, bookmark: one.bookmark });
    expect(next.results.map((t: Msg) => t.id)).toEqual(["srch-tenant-a", "srch-tenant-b"]);
    expect(hasBookmark(next)).toBe(false);
  });

  it("B-SRCH-4 SearchPrincipal finds the anonymous admin principal", async () => {
    const me = await c.call("Whoami", {});
    const created = tsMs(me.created_at);
    const ids = async (req: Msg) => (await c.call("SearchPrincipal", req)).results.map((p: Msg) => p.id);
    expect(await ids({})).toEqual(["anonymous"]);
    expect(await ids({ isAdmin: true })).toEqual(["anonymous"]);
    expect(await ids({ isAdmin: false })).toEqual([]);
    expect(await ids({ tenantId: "default" })).toEqual(["anonymous"]);
    expect(await ids({ earliest_start: at(created), latest_start: at(created) })).toEqual(["anonymous"]);
    expect(await ids({ earliest_start: at(created + 1) })).toEqual([]);
  });
});
