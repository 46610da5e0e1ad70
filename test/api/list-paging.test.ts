/**
 * B-SRCH-1 the List RPCs page through one WfRun's objects through an index: with a WfRun of 100,001
 * NodeRuns (50,000 loops through a TASK node, written straight into the store), ListNodeRuns, ListTaskRuns
 * and ListVariables return each object exactly once, in order, a bounded page at a time, and a bookmark
 * resumes exactly where its page ended even after more objects were added. ListExternalEvents and
 * ListUserTaskRuns page the same way.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  ExternalEventSchema,
  NodeRunSchema,
  UserTaskRunSchema,
  UserTaskRunStatus,
  WfSpecIdSchema,
} from "@pony/proto";
import { startTestServer, type TestServer } from "../support/server";
import type { Msg, TestClient } from "../support/client";
import { seedLongWfRun, taskGuidOf } from "../support/long-wfrun";
import { oneTaskWf, taskDef } from "../support/specs";

const LOOPS = 50_000;
const NODE_RUNS = 2 * LOOPS + 1;
const THREADS = 1_000;
const RUN = "long-run";

let ts: TestServer;
let c: TestClient;
let startMs: number;

beforeAll(async () => {
  ts = await startTestServer();
  c = ts.client();
  await c.call("PutTaskDef", taskDef("work", [["input", "STR"]]));
  const spec = await c.call("PutWfSpec", oneTaskWf("long-wf", "work"));
  startMs = Date.now() - 10 * NODE_RUNS;
  await seedLongWfRun(ts.server.runtime.store, {
    id: RUN,
    wfSpecId: create(WfSpecIdSchema, {
      name: "long-wf",
      majorVersion: spec.id.major_version,
      revision: spec.id.revision,
    }),
    loops: LOOPS,
    threads: THREADS,
    startMs,
  });
}, 120_000);

afterAll(async () => {
  await ts?.close();
});

/** Reads every page of a List RPC; returns the pages. */
async function allPages(rpc: string, req: Msg, limit?: number): Promise<Msg[][]> {
  const pages: Msg[][] = [];
  let bookmark: Buffer | undefined;
  for (;;) {
    const res = await c.call(rpc, { ...req, ...(limit ? { limit } : {}), ...(bookmark ? { bookmark } : {}) });
    pages.push(res.results);
    if (!res.bookmark || res.bookmark.length === 0) return pages;
    bookmark = res.bookmark;
  }
}

const nodeKey = (n: Msg) => `${n.id.thread_run_number}/${n.id.position}`;

describe("B-SRCH-1 List RPCs page through an index", () => {
  it("B-SRCH-1 ListNodeRuns pages through 100,001 NodeRuns: each once, in order, at most 1,000 a page", async () => {
    const pages = await allPages("ListNodeRuns", { wf_run_id: { id: RUN } }, 5_000);
    expect(Math.max(...pages.map((p) => p.length))).toBe(1_000); // capped
    const positions = pages.flat().map((n) => n.id.position);
    expect(positions).toHaveLength(NODE_RUNS);
    expect(positions).toEqual(Array.from({ length: NODE_RUNS }, (_, i) => i));
    expect(pages.flat().every((n) => n.id.thread_run_number === 0)).toBe(true);
  }, 60_000);

  it("B-SRCH-1 without a limit a List RPC answers the default page of 100 and a bookmark", async () => {
    for (const rpc of ["ListNodeRuns", "ListTaskRuns", "ListVariables"]) {
      const res = await c.call(rpc, { wf_run_id: { id: RUN } });
      expect(res.results, rpc).toHaveLength(100);
      expect(res.bookmark?.length ?? 0, rpc).toBeGreaterThan(0);
    }
    expect((await c.fail("ListNodeRuns", { wf_run_id: { id: RUN }, limit: 0 })).code).toBe(
      "INVALID_ARGUMENT",
    );
  });

  it("B-SRCH-1 a bookmark taken before more NodeRuns are added resumes exactly after its page", async () => {
    const first = await c.call("ListNodeRuns", { wf_run_id: { id: RUN }, limit: 1_000 });
    expect(first.results.map(nodeKey).at(-1)).toBe("0/999");
    const tail = await c.call("ListNodeRuns", { wf_run_id: { id: RUN }, limit: 1, bookmark: first.bookmark });
    expect(tail.results.map(nodeKey)).toEqual(["0/1000"]);
    // more NodeRuns: in thread 0 after the end, and a new thread 1
    const more = [
      [0, NODE_RUNS],
      [0, NODE_RUNS + 1],
      [1, 0],
      [1, 1],
    ].map(([thread, position]) => ({
      op: "putNodeRun" as const,
      tenant: "default",
      wfRunKey: RUN,
      nodeRun: create(NodeRunSchema, {
        id: { wfRunId: { id: RUN }, threadRunNumber: thread, position },
        status: 0,
        arrivalTime: timestampFromMs(Date.now()),
      }),
    }));
    await ts.server.runtime.store.commit(more);
    const rest: Msg[] = [];
    let bookmark: Buffer | undefined = first.bookmark;
    while (bookmark && bookmark.length > 0) {
      const res = await c.call("ListNodeRuns", { wf_run_id: { id: RUN }, limit: 1_000, bookmark });
      rest.push(...res.results);
      bookmark = res.bookmark;
    }
    const keys = rest.map(nodeKey);
    expect(keys[0]).toBe("0/1000");
    expect(keys).toHaveLength(NODE_RUNS + 4 - 1_000);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.slice(-4)).toEqual([`0/${NODE_RUNS}`, `0/${NODE_RUNS + 1}`, "1/0", "1/1"]);
    // one thread alone, paged
    const ofThread = (
      await allPages("ListNodeRuns", { wf_run_id: { id: RUN }, thread_run_number: 1 }, 1)
    ).flat();
    expect(ofThread.map(nodeKey)).toEqual(["1/0", "1/1"]);
  }, 60_000);

  it("B-SRCH-1 ListTaskRuns pages through 50,000 TaskRuns in scheduled order, each once", async () => {
    const guids = (await allPages("ListTaskRuns", { wf_run_id: { id: RUN } }, 1_000))
      .flat()
      .map((t) => t.id.task_guid);
    expect(guids).toHaveLength(LOOPS);
    expect(guids).toEqual(Array.from({ length: LOOPS }, (_, i) => taskGuidOf(i)));
  }, 60_000);

  it("B-SRCH-1 ListVariables pages through every thread's variables by thread, then name", async () => {
    const pages = await allPages("ListVariables", { wf_run_id: { id: RUN } }, 333);
    const keys = pages.flat().map((v) => `${v.id.thread_run_number}/${v.id.name}`);
    expect(keys).toHaveLength(2 * (THREADS + 1));
    expect(keys.slice(0, 4)).toEqual(["0/item", "0/result", "1/item", "1/result"]);
    expect(new Set(keys).size).toBe(keys.length);
    expect(pages.slice(0, -1).every((p) => p.length === 333)).toBe(true);
  });

  it("B-SRCH-1 ListExternalEvents and ListUserTaskRuns page in time order", async () => {
    const ops = [];
    for (let i = 0; i < 250; i++) {
      ops.push({
        op: "putExternalEvent" as const,
        tenant: "default",
        wfRunKey: RUN,
        event: create(ExternalEventSchema, {
          id: { wfRunId: { id: RUN }, externalEventDefId: { name: i % 2 ? "odd" : "even" }, guid: `g${i}` },
          createdAt: timestampFromMs(startMs + i),
        }),
      });
      ops.push({
        op: "putUserTaskRun" as const,
        tenant: "default",
        wfRunKey: RUN,
        userTaskRun: create(UserTaskRunSchema, {
          id: { wfRunId: { id: RUN }, userTaskGuid: `u${i.toString().padStart(3, "0")}` },
          userTaskDefId: { name: "form", version: 0 },
          status: UserTaskRunStatus.UNASSIGNED,
          userGroup: "ops",
          scheduledTime: timestampFromMs(startMs + i),
        }),
      });
    }
    await ts.server.runtime.store.commit(ops);
    const events = (await allPages("ListExternalEvents", { wf_run_id: { id: RUN } }, 100)).flat();
    expect(events.map((e) => e.id.guid)).toEqual(Array.from({ length: 250 }, (_, i) => `g${i}`));
    const uts = await allPages("ListUserTaskRuns", { wf_run_id: { id: RUN } }, 60);
    expect(uts.map((p) => p.length)).toEqual([60, 60, 60, 60, 10]);
    expect(uts.flat().map((u) => u.id.user_task_guid)).toEqual(
      Array.from({ length: 250 }, (_, i) => `u${i.toString().padStart(3, "0")}`),
    );
  });

  it("B-SRCH-1 a bookmark is refused by another List RPC, and when damaged", async () => {
    const nodes = await c.call("ListNodeRuns", { wf_run_id: { id: RUN }, limit: 1 });
    const wrong = await c.fail("ListTaskRuns", { wf_run_id: { id: RUN }, bookmark: nodes.bookmark });
    expect(wrong.code).toBe("INVALID_ARGUMENT");
    expect(wrong.message).toMatch(/ListNodeRuns/);
    const damaged = await c.fail("ListVariables", { wf_run_id: { id: RUN }, bookmark: Buffer.from("junk") });
    expect(damaged.code).toBe("INVALID_ARGUMENT");
  });
});
