/**
 * Black-box tests of reading WorkflowEventDefs and WorkflowEvents back through gRPC (the RPCs of LittleHorse
 * 1.x): GetWorkflowEventDef, DeleteWorkflowEventDef, SearchWorkflowEventDef, GetWorkflowEvent,
 * ListWorkflowEvents and SearchWorkflowEvent — prefixes, paging with bookmarks across several WfRuns (also
 * while WfRuns go on throwing), time ranges at their edges, and bad input. On PostgreSQL (the -postgres
 * file) also: a delete sent to either server of a cluster is seen by both.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server";
import type { Msg, TestClient } from "../support/client";
import { entry, exit, lit, str, thread, throwNode, wfSpec, workflowEventId as evId } from "../support/specs";
import { waitFor } from "../support/wait";

let ts: TestServer;
let c: TestClient;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tsMs = (t: Msg): number => Number(t.seconds) * 1000 + Math.floor(t.nanos / 1e6);
const at = (ms: number): Msg => ({ seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 });
const hasBookmark = (r: Msg) => !!r.bookmark && r.bookmark.length > 0;

/** Every page of a Search or List RPC with this limit, following the bookmarks; each page's results. */
async function pages(method: string, req: Msg, limit: number): Promise<Msg[][]> {
  const out: Msg[][] = [];
  let bookmark: Buffer | undefined;
  for (;;) {
    const r = await c.call(method, { ...req, limit, ...(bookmark ? { bookmark } : {}) });
    out.push(r.results as Msg[]);
    expect(r.results.length).toBeLessThanOrEqual(limit);
    if (!hasBookmark(r)) return out;
    bookmark = r.bookmark as Buffer;
    if (out.length > 100) throw new Error("paging does not end");
  }
}

/** a WorkflowEventId as text, for comparing lists of them */
const idText = (id: Msg) => `${id.wf_run_id.id}/${id.workflow_event_def_id.name}/${id.number}`;

// ENTRYPOINT → THROW(wer-a "a0") → THROW(wer-b "b0") → THROW(wer-a "a1") → EXIT
const THROWS = "wer-throws";
// ENTRYPOINT → EXTERNAL_EVENT(wer-go) → THROW(wer-a "late") → EXIT
const LATE = "wer-late";
/** the WfRuns of THROWS, each started a few ms after the one before */
const RUNS = ["wer-1", "wer-2", "wer-3"];

beforeAll(async () => {
  ts = await startTestServer();
  c = ts.client();
  await c.call("PutWorkflowEventDef", { name: "wer-a", type: "STR" });
  await c.call("PutWorkflowEventDef", { name: "wer-b", type: "STR" });
  await c.call("PutExternalEventDef", { name: "wer-go" });
  await c.call(
    "PutWfSpec",
    wfSpec(
      THROWS,
      thread([
        entry(),
        throwNode("1-a0-THROW_EVENT", "wer-a", lit(str("a0"))),
        throwNode("2-b0-THROW_EVENT", "wer-b", lit(str("b0"))),
        throwNode("3-a1-THROW_EVENT", "wer-a", lit(str("a1"))),
        exit("4-exit-EXIT"),
      ]),
    ),
  );
  await c.call(
    "PutWfSpec",
    wfSpec(
      LATE,
      thread([
        entry(),
        {
          name: "1-go-EXTERNAL_EVENT",
          node: { external_event: { external_event_def_id: { name: "wer-go" } } },
        },
        throwNode("2-late-THROW_EVENT", "wer-a", lit(str("late"))),
        exit("3-exit-EXIT"),
      ]),
    ),
  );
  for (const id of RUNS) {
    expect((await c.call("RunWf", { wf_spec_name: THROWS, id })).status).toBe("COMPLETED");
    await sleep(3);
  }
});

afterAll(async () => {
  await ts.close();
});

describe("WorkflowEventDef reads", () => {
  it("B-META-1 GetWorkflowEventDef returns the WorkflowEventDef as PutWorkflowEventDef stored it", async () => {
    const put = await c.call("PutWorkflowEventDef", { name: "wer-get", type: "INT" });
    const got = await c.call("GetWorkflowEventDef", { name: "wer-get" });
    expect(got).toEqual(put);
    expect(got).toMatchObject({ id: { name: "wer-get" }, type: "INT" });
    const unknown = await c.fail("GetWorkflowEventDef", { name: "wer-nope" });
    expect(unknown.code).toBe("NOT_FOUND");
    expect(unknown.message).toMatch(/WorkflowEventDef 'wer-nope'/);
  });

  it("B-SRCH-4 SearchWorkflowEventDef by prefix pages with limit 1, no duplicates or gaps", async () => {
    const names = ["wer-srch-c", "wer-srch-a", "wer-srch-b"];
    for (const name of names) await c.call("PutWorkflowEventDef", { name, type: "STR" });
    await c.call("PutWorkflowEventDef", { name: "wer-srchx", type: "STR" });
    const one = await pages("SearchWorkflowEventDef", { prefix: "wer-srch-" }, 1);
    expect(one.map((p) => p.length)).toEqual([1, 1, 1]);
    expect(one.flat()).toEqual([...names].sort().map((name) => ({ name })));
    const byTwo = await pages("SearchWorkflowEventDef", { prefix: "wer-srch" }, 2);
    expect(byTwo.map((p) => p.length)).toEqual([2, 2]);
    expect(byTwo.flat().map((r) => r.name)).toEqual([...[...names].sort(), "wer-srchx"]);
    // without a prefix: every one, in name order
    const every = (await c.call("SearchWorkflowEventDef", {})).results.map((r: Msg) => r.name as string);
    expect(every).toEqual([...every].sort());
    expect(every).toEqual(expect.arrayContaining(["wer-a", "wer-b", ...names]));
  });

  it("B-META-8 DeleteWorkflowEventDef removes it: Get is NOT_FOUND, Search no longer lists it, a WfSpec may not use it", async () => {
    await c.call("PutWorkflowEventDef", { name: "wer-del", type: "STR" });
    expect(await c.call("DeleteWorkflowEventDef", { id: { name: "wer-del" } })).toEqual({});
    const gone = await c.fail("GetWorkflowEventDef", { name: "wer-del" });
    expect(gone.code).toBe("NOT_FOUND");
    expect(gone.message).toMatch(/wer-del/);
    expect((await c.call("SearchWorkflowEventDef", { prefix: "wer-del" })).results).toEqual([]);
    const spec = await c.fail(
      "PutWfSpec",
      wfSpec(
        "wer-uses-deleted",
        thread([entry(), throwNode("1-t-THROW_EVENT", "wer-del", lit(str("x"))), exit("2-exit-EXIT")]),
      ),
    );
    expect(spec.code).toBe("INVALID_ARGUMENT");
    expect(spec.message).toMatch(/wer-del/);
    // the name is free again, also with another type
    expect((await c.call("PutWorkflowEventDef", { name: "wer-del", type: "INT" })).type).toBe("INT");
    // deleting what is not there
    const again = await c.fail("DeleteWorkflowEventDef", { id: { name: "wer-del-nope" } });
    expect(again.code).toBe("NOT_FOUND");
    expect(again.message).toMatch(/WorkflowEventDef 'wer-del-nope'/);
  });
});

describe("WorkflowEvent reads", () => {
  it("B-EVT-6 GetWorkflowEvent returns one thrown event by WfRun, def and number, as AwaitWorkflowEvent does", async () => {
    const got = await c.call("GetWorkflowEvent", evId("wer-2", "wer-a", 1));
    expect(got.id).toMatchObject(evId("wer-2", "wer-a", 1));
    expect(got.content).toMatchObject({ str: "a1" });
    const awaited = await c.call(
      "AwaitWorkflowEvent",
      {
        wf_run_id: { id: "wer-2" },
        event_def_ids: [{ name: "wer-a" }],
        workflow_events_to_ignore: [evId("wer-2", "wer-a", 0)],
      },
      { deadlineMs: 5_000 },
    );
    expect(got).toEqual(awaited);
    expect((await c.call("GetWorkflowEvent", evId("wer-2", "wer-b", 0))).content).toMatchObject({
      str: "b0",
    });
    for (const id of [evId("wer-2", "wer-b", 1), evId("wer-nope", "wer-a", 0), evId("wer-2", "wer-get", 0)]) {
      const f = await c.fail("GetWorkflowEvent", id);
      expect(f.code, idText(id)).toBe("NOT_FOUND");
      expect(f.message).toContain(`WorkflowEvent ${idText(id)} not found`);
    }
  });

  it("B-SRCH-1 ListWorkflowEvents returns every event of one WfRun by creation time, then def and number, paged", async () => {
    const all = await c.call("ListWorkflowEvents", { wf_run_id: { id: "wer-1" } });
    expect(hasBookmark(all)).toBe(false);
    const key = (e: Msg) => [
      tsMs(e.created_at),
      e.id.workflow_event_def_id.name as string,
      e.id.number as number,
    ];
    const expected = [...all.results].sort((x: Msg, y: Msg) => {
      const [a, b] = [key(x), key(y)];
      for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
      return 0;
    });
    expect(all.results).toEqual(expected);
    expect(all.results.map((e: Msg) => idText(e.id)).sort()).toEqual(
      ["wer-1/wer-a/0", "wer-1/wer-a/1", "wer-1/wer-b/0"].sort(),
    );
    expect(all.results.map((e: Msg) => e.content.str).sort()).toEqual(["a0", "a1", "b0"]);
    // the same, one at a time
    const one = await pages("ListWorkflowEvents", { wf_run_id: { id: "wer-1" } }, 1);
    expect(one.map((p) => p.length)).toEqual([1, 1, 1]);
    expect(one.flat()).toEqual(all.results);
    // a WfRun that threw nothing (yet) lists none; one that does not exist is NOT_FOUND
    await c.call("RunWf", { wf_spec_name: LATE, id: "wer-quiet" });
    expect((await c.call("ListWorkflowEvents", { wf_run_id: { id: "wer-quiet" } })).results).toEqual([]);
    const f = await c.fail("ListWorkflowEvents", { wf_run_id: { id: "wer-nope" } });
    expect(f.code).toBe("NOT_FOUND");
    expect(f.message).toMatch(/WfRun 'wer-nope'/);
  });

  it("B-SRCH-4 SearchWorkflowEvent finds a def's events of every WfRun, oldest first, paged with bookmarks", async () => {
    const ofA = RUNS.flatMap((id) => [`${id}/wer-a/0`, `${id}/wer-a/1`]);
    const byFour = await pages("SearchWorkflowEvent", { workflow_event_def_id: { name: "wer-a" } }, 4);
    expect(byFour.map((p) => p.length)).toEqual([4, 2]);
    expect(byFour.flat().map(idText)).toEqual(ofA);
    const one = await pages("SearchWorkflowEvent", { workflow_event_def_id: { name: "wer-a" } }, 1);
    expect(one.flat().map(idText)).toEqual(ofA);
    const ofB = await c.call("SearchWorkflowEvent", { workflow_event_def_id: { name: "wer-b" } });
    expect(ofB.results.map(idText)).toEqual(RUNS.map((id) => `${id}/wer-b/0`));
    expect(ofB.results[0]).toEqual(evId("wer-1", "wer-b", 0));
    expect(hasBookmark(ofB)).toBe(false);
    // a def nobody threw
    expect(
      (await c.call("SearchWorkflowEvent", { workflow_event_def_id: { name: "wer-get" } })).results,
    ).toEqual([]);
  });

  it("B-SRCH-1 a SearchWorkflowEvent bookmark resumes after its page while WfRuns go on throwing: the new events come after", async () => {
    const first = await c.call("SearchWorkflowEvent", { workflow_event_def_id: { name: "wer-a" }, limit: 5 });
    expect(first.results.map(idText)).toEqual(
      [...RUNS.flatMap((id) => [`${id}/wer-a/0`, `${id}/wer-a/1`])].slice(0, 5),
    );
    await c.call("RunWf", { wf_spec_name: LATE, id: "wer-later" });
    await sleep(2);
    await c.call("PutExternalEvent", {
      wf_run_id: { id: "wer-later" },
      external_event_def_id: { name: "wer-go" },
    });
    const rest = await c.call("SearchWorkflowEvent", {
      workflow_event_def_id: { name: "wer-a" },
      limit: 5,
      bookmark: first.bookmark,
    });
    expect(rest.results.map(idText)).toEqual(["wer-3/wer-a/1", "wer-later/wer-a/0"]);
    expect(hasBookmark(rest)).toBe(false);
    expect((await c.call("GetWorkflowEvent", evId("wer-later", "wer-a", 0))).content).toMatchObject({
      str: "late",
    });
  });

  it("B-SRCH-4 SearchWorkflowEvent's time range (creation time) is inclusive at both edges", async () => {
    const created = tsMs((await c.call("GetWorkflowEvent", evId("wer-2", "wer-a", 0))).created_at);
    const search = async (range: Msg) =>
      (
        await c.call("SearchWorkflowEvent", { workflow_event_def_id: { name: "wer-b" }, ...range })
      ).results.map(idText);
    expect(await search({ earliest_start: at(created), latest_start: at(created) })).toEqual([
      "wer-2/wer-b/0",
    ]);
    expect(await search({ latest_start: at(created - 1) })).toEqual(["wer-1/wer-b/0"]);
    expect(await search({ earliest_start: at(created + 1) })).toEqual(["wer-3/wer-b/0"]);
    expect(await search({ earliest_start: at(created), latest_start: at(created - 1) })).toEqual([]);
  });

  it("B-RUN-12 DeleteWfRun takes its WorkflowEvents with it: Get is NOT_FOUND, Search no longer finds them", async () => {
    await c.call("RunWf", { wf_spec_name: THROWS, id: "wer-deleted" });
    expect(
      (await c.call("SearchWorkflowEvent", { workflow_event_def_id: { name: "wer-b" } })).results.map(idText),
    ).toContain("wer-deleted/wer-b/0");
    await c.call("DeleteWfRun", { id: { id: "wer-deleted" } });
    expect((await c.fail("GetWorkflowEvent", evId("wer-deleted", "wer-b", 0))).code).toBe("NOT_FOUND");
    expect(
      (await c.call("SearchWorkflowEvent", { workflow_event_def_id: { name: "wer-b" } })).results.map(idText),
    ).toEqual(RUNS.map((id) => `${id}/wer-b/0`));
  });
});

describe("bad input", () => {
  it("B-WIRE-3 a missing id is INVALID_ARGUMENT naming the field", async () => {
    const cases: [string, Msg, RegExp][] = [
      ["GetWorkflowEventDef", {}, /name/],
      ["DeleteWorkflowEventDef", {}, /id\.name/],
      ["DeleteWorkflowEventDef", { id: {} }, /id\.name/],
      ["GetWorkflowEvent", {}, /wf_run_id/],
      ["GetWorkflowEvent", { wf_run_id: { id: "wer-1" } }, /workflow_event_def_id/],
      ["GetWorkflowEvent", { ...evId("wer-1", "wer-a", 0), number: -1 }, /number/],
      ["ListWorkflowEvents", {}, /wf_run_id/],
      ["SearchWorkflowEvent", {}, /workflow_event_def_id/],
    ];
    for (const [method, req, field] of cases) {
      const f = await c.fail(method, req);
      expect(f.code, `${method} ${JSON.stringify(req)}`).toBe("INVALID_ARGUMENT");
      expect(f.message, method).toMatch(field);
    }
  });

  it("B-SRCH-4 SearchWorkflowEvent of a WorkflowEventDef that does not exist is INVALID_ARGUMENT naming it", async () => {
    const f = await c.fail("SearchWorkflowEvent", { workflow_event_def_id: { name: "wer-nope" } });
    expect(f.code).toBe("INVALID_ARGUMENT");
    expect(f.message).toMatch(/WorkflowEventDef 'wer-nope'/);
  });

  it("B-SRCH-1 limit 0 or less, a damaged bookmark, or one from another RPC is INVALID_ARGUMENT", async () => {
    const requests: [string, Msg][] = [
      ["SearchWorkflowEventDef", {}],
      ["SearchWorkflowEvent", { workflow_event_def_id: { name: "wer-a" } }],
      ["ListWorkflowEvents", { wf_run_id: { id: "wer-1" } }],
    ];
    const fromSearchWfRun = (await c.call("SearchWfRun", { wf_spec_name: THROWS, limit: 1 }))
      .bookmark as Buffer;
    expect(fromSearchWfRun.length).toBeGreaterThan(0);
    for (const [method, req] of requests) {
      for (const limit of [0, -1]) {
        const f = await c.fail(method, { ...req, limit });
        expect(f.code, `${method} limit ${limit}`).toBe("INVALID_ARGUMENT");
        expect(f.message).toMatch(/limit/);
      }
      for (const bookmark of [Buffer.from("junk"), fromSearchWfRun]) {
        const f = await c.fail(method, { ...req, bookmark });
        expect(f.code, `${method} bookmark ${bookmark.toString()}`).toBe("INVALID_ARGUMENT");
        expect(f.message).toMatch(/bookmark/);
      }
    }
    // a bookmark of SearchWorkflowEvent does not continue ListWorkflowEvents, and the other way round
    const search = await c.call("SearchWorkflowEvent", {
      workflow_event_def_id: { name: "wer-a" },
      limit: 1,
    });
    const list = await c.call("ListWorkflowEvents", { wf_run_id: { id: "wer-1" }, limit: 1 });
    const f1 = await c.fail("ListWorkflowEvents", { wf_run_id: { id: "wer-1" }, bookmark: search.bookmark });
    expect(f1.message).toMatch(/SearchWorkflowEvent/);
    const f2 = await c.fail("SearchWorkflowEvent", {
      workflow_event_def_id: { name: "wer-a" },
      bookmark: list.bookmark,
    });
    expect(f2.message).toMatch(/ListWorkflowEvents/);
  });
});

describe.runIf(process.env.PONY_TEST_STORE === "postgres")("on a cluster", () => {
  it("B-META-8 a WorkflowEventDef deleted through one server of a cluster is gone on both", async () => {
    const other = await startTestServer({ databaseUrl: ts.databaseUrl });
    try {
      const o = other.client();
      await c.call("PutWorkflowEventDef", { name: "wer-cluster", type: "STR" });
      // the other server hears of a change it did not make soon after (an announcement)
      await waitFor(
        async () => (await o.call("GetWorkflowEventDef", { name: "wer-cluster" })).id,
        10_000,
        "the other server to know the WorkflowEventDef",
      );
      await o.call("DeleteWorkflowEventDef", { id: { name: "wer-cluster" } });
      for (const client of [o, c]) {
        expect((await client.fail("GetWorkflowEventDef", { name: "wer-cluster" })).code).toBe("NOT_FOUND");
        expect((await client.call("SearchWorkflowEventDef", { prefix: "wer-cluster" })).results).toEqual([]);
      }
    } finally {
      await other.close();
    }
  }, 60_000);
});
