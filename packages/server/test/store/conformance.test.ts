/**
 * The store conformance suite: the same tests against every implementation of the Store interface
 * (src/store/store.ts) — the embedded SQLite store and the clustered PostgreSQL one — so both answer alike.
 * Every test opens its own store (for PostgreSQL: its own database in one throwaway cluster), writes through
 * `commit` and observes only through the Store's own reads.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { create, fromBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import {
  ExternalEventSchema,
  LHStatus,
  NodeRunSchema,
  ScheduledWfRunSchema,
  TaskRunSchema,
  TaskStatus,
  UserTaskRunSchema,
  UserTaskRunStatus,
  VariableSchema,
  WorkflowEventSchema,
  type ScheduledWfRun,
} from "@pony/proto";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { PgStore } from "../../src/store/pg";
import { SqliteStore } from "../../src/store/sqlite";
import type {
  ExternalEventQuery,
  NodeRunQuery,
  TaskRunQuery,
  VariableQuery,
  WfRunQuery,
  WorkflowEventQuery,
} from "../../src/store/search-types";
import {
  FencedError,
  WfRunExistsError,
  type EventPosition,
  type NodeRunPosition,
  type ScheduledPosition,
  type Store,
  type UserTaskRunPosition,
  type VariablePosition,
  type WorkflowEventPosition,
  type WriteOp,
} from "../../src/store/store";
import { startThrowawayPostgres, type ThrowawayPostgres } from "../../../../test/support/postgres";
import {
  OTHER_TENANT,
  TENANT,
  addMetrics,
  deleteExternalEvent,
  deleteMetadata,
  deletePrincipal,
  deleteTimer,
  deleteWfRun,
  dequeue,
  enqueue,
  externalEvent,
  indexInfo,
  metadataRow,
  metricsDelta,
  nodeRun,
  principal,
  putExternalEvent,
  putMetadata,
  putNodeRun,
  putPrincipal,
  putTaskRun,
  putTenant,
  putTimer,
  putUserTaskRun,
  putVariable,
  putWfRun,
  putWorkflowEvent,
  queuedTask,
  taskRun,
  tenant,
  timer,
  userTaskRun,
  variable,
  wfRun,
  wfRunIdOf,
  workflowEvent,
  type NodeType,
} from "./conformance-fixtures";

// ---- helpers ------------------------------------------------------------------------------------------------

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Settles a commit's promise at once (no unhandled rejection while others are awaited). */
function settle(p: Promise<unknown>): Promise<{ ok: true } | { ok: false; error: unknown }> {
  return p.then(
    () => ({ ok: true }) as const,
    (error: unknown) => ({ ok: false, error }) as const,
  );
}

/** Orders by each key in turn (strings by UTF-16 code units: bytewise for the ASCII used here). */
function by<T>(...keys: ((t: T) => number | string)[]): (a: T, b: T) => number {
  return (a, b) => {
    for (const k of keys) {
      const x = k(a);
      const y = k(b);
      if (x < y) return -1;
      if (x > y) return 1;
    }
    return 0;
  };
}

const PAGE = 10;

/**
 * Reads every page, each resuming strictly after the position of the last item of the one before, until a
 * short page; checks that no page exceeds the limit.
 */
async function allPages<T, P>(
  read: (after: P | undefined) => Promise<T[]>,
  positionOf: (t: T) => P,
  limit = PAGE,
): Promise<T[]> {
  const out: T[] = [];
  let after: P | undefined;
  for (let pages = 0; ; pages++) {
    const page = await read(after);
    expect(page.length).toBeLessThanOrEqual(limit);
    out.push(...page);
    if (page.length < limit) return out;
    after = positionOf(page[page.length - 1]!);
    if (pages > 1000) throw new Error("paging does not end");
  }
}

/** Whether a time is within a search's time range (inclusive at both ends). */
const inRange = (ms: number, q: { earliestMs?: number; latestMs?: number }) =>
  (q.earliestMs === undefined || ms >= q.earliestMs) && (q.latestMs === undefined || ms <= q.latestMs);

/**
 * Checks a search case by case against a model of what was written: every page of it (`allPages`) together
 * holds the model's matches exactly once, in the search's order, as hits; more than a page of them.
 */
async function expectEveryMatchOnce<Q, M, H, P>(
  cases: Q[],
  model: M[],
  search: {
    matches: (m: M, q: Q) => boolean;
    order: ((m: M) => number | string)[];
    hit: (m: M) => H;
    page: (q: Q, after: P | undefined) => Promise<H[]>;
    position: (h: H) => P;
  },
): Promise<void> {
  for (const q of cases) {
    const expected = model.filter((m) => search.matches(m, q)).sort(by(...search.order));
    expect(expected.length, JSON.stringify(q)).toBeGreaterThan(PAGE);
    const hits = await allPages((after?: P) => search.page(q, after), search.position);
    expect(hits, JSON.stringify(q)).toEqual(expected.map(search.hit));
  }
}

const decode = <D extends DescMessage>(schema: D, items: { item: Uint8Array }[]): MessageShape<D>[] =>
  items.map((i) => fromBinary(schema, i.item));

const bytesOf = (b: Uint8Array) => Array.from(b);

/** The stores the suite runs against register their tests through this. */
function conformance(
  name: string,
  open: () => Promise<Store>,
  cleanup: (store: Store) => Promise<void>,
  setup: { beforeAll?: () => Promise<void>; afterAll?: () => Promise<void> } = {},
): void {
  describe(name, () => {
    let store: Store;
    if (setup.beforeAll) beforeAll(setup.beforeAll);
    if (setup.afterAll) afterAll(setup.afterAll);
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      if (store) await cleanup(store);
      store = undefined as unknown as Store;
    });

    const timerDues = async (parts: number[]) =>
      Object.fromEntries(
        (await store.loadTimers(parts)).map((t) => [`${t.tenant}/${t.wfRunKey}/${t.key}`, t.dueMs]),
      );

    // ---- commit rules (B-RUN-13) ---------------------------------------------------------------------------

    describe("commit rules", () => {
      it("B-RUN-13: batches handed in without awaiting commit in the order given: the last of 20 updates wins", async () => {
        const commits: Promise<void>[] = [];
        for (let i = 0; i < 20; i++) {
          const ops: WriteOp[] = [
            putTimer(timer("t", 1_000 + i)),
            putWfRun(
              wfRun("run-1", {
                status: i % 2 === 1 ? LHStatus.COMPLETED : LHStatus.RUNNING,
                startMs: 1_000,
                endMs: 5_000 + i,
              }),
            ),
          ];
          // every few batches a large one (the SQLite store writes those on its writer thread)
          if (i % 5 === 2)
            for (let j = 0; j < 300; j++) ops.push(putTimer(timer(`bulk-${j}`, i, { part: 1 })));
          commits.push(store.commit(ops));
        }
        await Promise.all(commits);
        expect(await timerDues([0])).toEqual({ "default/run-1/t": 1_019 });
        const bulk = await store.loadTimers([1]);
        expect(bulk).toHaveLength(300);
        expect(new Set(bulk.map((t) => t.dueMs))).toEqual(new Set([17]));
        const run = await store.getWfRun(TENANT, "run-1");
        expect(run?.status).toBe(LHStatus.COMPLETED);
        expect(run?.endTime?.seconds).toBe(5n);
        expect(run?.endTime?.nanos).toBe(19_000_000);
        const completed = await store.searchWfRuns({
          tenant: TENANT,
          wfSpecName: "spec",
          status: LHStatus.COMPLETED,
          variables: [],
          limit: 10,
        });
        expect(completed.map((h) => h.wfRunKey)).toEqual(["run-1"]);
      });

      it("store: getWfRuns reads many WfRuns at once, by tenant, and leaves out keys not stored", async () => {
        const keys = Array.from({ length: 40 }, (_, i) => `many-${i}`);
        await store.commit(keys.map((k, i) => putWfRun(wfRun(k, { startMs: 1_000 + i }))));
        await store.commit([putWfRun(wfRun("other-tenant-run"), "other")]);
        const asked = [...keys.filter((_, i) => i % 3 !== 0), "missing-1", "other-tenant-run", "many-1"];
        const found = await store.getWfRuns(TENANT, asked);
        expect([...found.keys()].sort()).toEqual(keys.filter((_, i) => i % 3 !== 0).sort());
        expect(found.get("many-5")?.id?.id).toBe("many-5");
        expect(found.get("many-5")?.startTime?.seconds).toBe(1n);
        expect((await store.getWfRuns("other", ["other-tenant-run", "many-1"])).size).toBe(1);
        expect((await store.getWfRuns(TENANT, [])).size).toBe(0);
      });

      it("B-RUN-13: an empty batch resolves, also while other batches are in flight", async () => {
        await expect(store.commit([])).resolves.toBeUndefined();
        const pending = [store.commit([putTimer(timer("a", 1))]), store.commit([])];
        await Promise.all(pending);
        expect(await timerDues([0])).toEqual({ "default/run-1/a": 1 });
      });

      it("B-RUN-13: flushed() resolves once every batch handed in so far is committed", async () => {
        const done: boolean[] = [];
        for (let i = 0; i < 12; i++) {
          const ops: WriteOp[] = [putTimer(timer(`t${i}`, i))];
          if (i % 4 === 1)
            for (let j = 0; j < 250; j++) ops.push(putTimer(timer(`bulk-${i}-${j}`, j, { part: 1 })));
          void store.commit(ops).then(() => (done[i] = true));
        }
        await store.flushed();
        expect(done.filter(Boolean)).toHaveLength(12);
        expect(Object.keys(await timerDues([0]))).toHaveLength(12);
        expect(await store.loadTimers([1])).toHaveLength(750);
        // nothing in flight: resolves too
        await store.flushed();
      });

      it("B-RUN-13: a batch that fails while encoding stores nothing, and every later batch fails until resetAfterFailure", async () => {
        await store.commit([putTimer(timer("before", 1))]);
        const noId = nodeRun("run-x", 0, 1);
        noId.id = undefined;
        const failing = settle(
          store.commit([
            putTimer(timer("x", 1)),
            putWfRun(wfRun("run-x")),
            putNodeRun(nodeRun("run-x", 0, 0)),
            { op: "putNodeRun", tenant: TENANT, wfRunKey: "run-x", nodeRun: noId },
          ]),
        );
        // handed in before the failure is seen: it was computed on top of the failed batch
        const next = settle(store.commit([putTimer(timer("next", 1)), putWfRun(wfRun("run-next"))]));
        const first = await failing;
        expect(first.ok).toBe(false);
        expect(!first.ok && first.error).toBeInstanceOf(Error);
        expect((await next).ok).toBe(false);
        await store.flushed();
        expect((await settle(store.commit([putTimer(timer("later", 1))]))).ok).toBe(false);
        expect((await settle(store.commit([deleteWfRun("nothing")]))).ok).toBe(false);

        expect(await store.getWfRun(TENANT, "run-x")).toBeUndefined();
        expect(await store.getNodeRun(TENANT, "run-x", 0, 0)).toBeUndefined();
        expect(await store.getWfRun(TENANT, "run-next")).toBeUndefined();
        expect(await timerDues([0])).toEqual({ "default/run-1/before": 1 });

        await store.resetAfterFailure();
        await store.commit([putTimer(timer("after", 2)), putWfRun(wfRun("run-after"))]);
        expect(await timerDues([0])).toEqual({ "default/run-1/before": 1, "default/run-1/after": 2 });
        expect(await store.getWfRun(TENANT, "run-after")).toBeDefined();
      });

      it("B-RUN-13: a batch the database rejects stores none of its writes, and every later batch fails until resetAfterFailure", async () => {
        await store.commit([putTimer(timer("before", 1)), putMetadata(metadataRow("task_def", "kept"))]);
        const version = await store.metadataVersion();
        const broken = { ...metadataRow("task_def", "broken"), bytes: null as unknown as Uint8Array };
        const ops: WriteOp[] = [
          putTimer(timer("x", 1)),
          putWfRun(wfRun("run-x", { startMs: 1_000 })),
          putNodeRun(nodeRun("run-x", 0, 0)),
          putMetadata(metadataRow("task_def", "also-new")),
          putTenant(tenant("new-tenant")),
        ];
        // large enough for the SQLite store to write it on its writer thread: the failure comes later
        for (let j = 0; j < 250; j++) ops.push(putTimer(timer(`bulk-${j}`, j, { part: 1 })));
        ops.push(putMetadata(broken), putTimer(timer("y", 1)));
        const failing = settle(store.commit(ops));
        const next = settle(store.commit([putTimer(timer("next", 1))]));
        expect((await failing).ok).toBe(false);
        expect((await next).ok).toBe(false);
        expect((await settle(store.commit([putTimer(timer("later", 1))]))).ok).toBe(false);
        await store.flushed();

        expect(await timerDues([0])).toEqual({ "default/run-1/before": 1 });
        expect(await store.loadTimers([1])).toEqual([]);
        expect(await store.getWfRun(TENANT, "run-x")).toBeUndefined();
        expect(await store.getNodeRun(TENANT, "run-x", 0, 0)).toBeUndefined();
        expect((await store.listMetadata()).map((r) => r.name)).toEqual(["kept"]);
        expect((await store.listTenants()).map((t) => t.id?.id)).not.toContain("new-tenant");
        expect(await store.metadataVersion()).toBe(version);

        await store.resetAfterFailure();
        await store.commit([putTimer(timer("after", 2))]);
        expect(await timerDues([0])).toEqual({ "default/run-1/before": 1, "default/run-1/after": 2 });
      });
    });

    // ---- every WriteOp round-trips -------------------------------------------------------------------------

    describe("round trips", () => {
      it("store: putMetadata and deleteMetadata round-trip through listMetadata, with the deleted flag", async () => {
        const rows = [
          metadataRow("wf_spec", "order", { major: 1, minor: 0, bytes: [1] }),
          metadataRow("wf_spec", "order", { major: 1, minor: 1, bytes: [2] }),
          metadataRow("wf_spec", "order", { major: 2, minor: 0, bytes: [3], deleted: true }),
          metadataRow("task_def", "work", { bytes: [4, 5, 6] }),
          metadataRow("external_event_def", "ev", { bytes: [7] }),
          metadataRow("workflow_event_def", "thrown", { bytes: [8] }),
          metadataRow("user_task_def", "approve", { major: 3, bytes: [9] }),
          metadataRow("task_def", "work", { tenant: OTHER_TENANT, bytes: [10] }),
        ];
        await store.commit(rows.map(putMetadata));
        const sortRows = <
          R extends { tenant: string; kind: string; name: string; major: number; minor: number },
        >(
          r: R[],
        ) =>
          [...r].sort(
            by(
              (x) => x.tenant,
              (x) => x.kind,
              (x) => x.name,
              (x) => x.major,
              (x) => x.minor,
            ),
          );
        const plain = (r: { bytes: Uint8Array }[]) => r.map((x) => ({ ...x, bytes: bytesOf(x.bytes) }));
        expect(plain(sortRows(await store.listMetadata()))).toEqual(plain(sortRows(rows)));

        // updated in place: new bytes, now deleted; another version deleted outright
        const updated = metadataRow("wf_spec", "order", {
          major: 1,
          minor: 0,
          bytes: [11, 12],
          deleted: true,
        });
        await store.commit([putMetadata(updated), deleteMetadata(rows[1]!)]);
        const expected = sortRows([updated, rows[2]!, ...rows.slice(3)]);
        expect(plain(sortRows(await store.listMetadata()))).toEqual(plain(expected));
        // undeleted again
        await store.commit([putMetadata({ ...updated, deleted: false })]);
        const again = (await store.listMetadata()).find((r) => r.kind === "wf_spec" && r.major === 1);
        expect(again?.deleted).toBe(false);
        // deleting a row that is not there changes nothing
        await store.commit([deleteMetadata(metadataRow("task_def", "missing"))]);
        expect(await store.listMetadata()).toHaveLength(expected.length);
      });

      it("store: putWfRun round-trips through getWfRun and wfSpecNameOf, per tenant", async () => {
        const a = wfRun("run-1", { spec: "spec-a", major: 2, revision: 1, startMs: 1_000 });
        const b = wfRun("run-1", {
          spec: "spec-b",
          startMs: 2_000,
          status: LHStatus.COMPLETED,
          endMs: 3_000,
        });
        const child = wfRun("run-1_child", { spec: "spec-c", startMs: 1_500 });
        await store.commit([putWfRun(a), putWfRun(b, OTHER_TENANT), putWfRun(child)]);
        expect(await store.getWfRun(TENANT, "run-1")).toEqual(a);
        expect(await store.getWfRun(OTHER_TENANT, "run-1")).toEqual(b);
        expect(await store.getWfRun(TENANT, "run-1_child")).toEqual(child);
        expect(await store.wfSpecNameOf(TENANT, "run-1")).toBe("spec-a");
        expect(await store.wfSpecNameOf(OTHER_TENANT, "run-1")).toBe("spec-b");
        expect(await store.wfSpecNameOf(TENANT, "run-1_child")).toBe("spec-c");
        expect(await store.getWfRun(TENANT, "run-2")).toBeUndefined();
        expect(await store.wfSpecNameOf(TENANT, "run-2")).toBeUndefined();
        expect(await store.getWfRun("third", "run-1")).toBeUndefined();
        expect(await store.wfSpecNameOf("third", "run-1")).toBeUndefined();
      });

      it("store: putNodeRun round-trips through getNodeRun and listNodeRuns", async () => {
        const runs = [
          nodeRun("run-1", 0, 0, { type: "entrypoint", status: LHStatus.COMPLETED, arrivalMs: 1_000 }),
          nodeRun("run-1", 0, 1, { type: "task", guid: "t1", arrivalMs: 1_001 }),
          nodeRun("run-1", 1, 0, { type: undefined, arrivalMs: 1_002 }),
          nodeRun("run-1", 1, 1, { type: "userTask", guid: "u1" }),
        ];
        const elsewhere = nodeRun("run-2", 0, 0, { type: "entrypoint" });
        await store.commit([
          ...runs.map((n) => putNodeRun(n)),
          putNodeRun(elsewhere),
          putNodeRun(runs[0]!, OTHER_TENANT),
        ]);
        for (const n of runs) {
          expect(await store.getNodeRun(TENANT, "run-1", n.id!.threadRunNumber, n.id!.position)).toEqual(n);
        }
        expect(await store.getNodeRun(TENANT, "run-1", 0, 2)).toBeUndefined();
        expect(await store.getNodeRun(TENANT, "run-1", 2, 0)).toBeUndefined();
        expect(await store.getNodeRun("third", "run-1", 0, 0)).toBeUndefined();
        const listed = await store.listNodeRuns(TENANT, "run-1", { limit: 100 });
        expect(listed.map((p) => p.position)).toEqual([
          { thread: 0, position: 0 },
          { thread: 0, position: 1 },
          { thread: 1, position: 0 },
          { thread: 1, position: 1 },
        ]);
        expect(decode(NodeRunSchema, listed)).toEqual(runs);
        const ofThread = await store.listNodeRuns(TENANT, "run-1", { limit: 100, thread: 1 });
        expect(decode(NodeRunSchema, ofThread)).toEqual(runs.slice(2));
        expect(await store.listNodeRuns(TENANT, "run-1", { limit: 100, thread: 5 })).toEqual([]);
        expect(await store.listNodeRuns(TENANT, "run-3", { limit: 100 })).toEqual([]);
      });

      it("store: putTaskRun round-trips through getTaskRun, taskDefNameOf and listTaskRuns", async () => {
        const t1 = taskRun("run-1", "t1", {
          def: "work",
          scheduledMs: 2_000,
          status: TaskStatus.TASK_RUNNING,
        });
        const t2 = taskRun("run-1", "t2", { def: "other-work" }); // no scheduled time: sorts as 0
        const t3 = taskRun("run-2", "t3", { def: "third" });
        await store.commit([putTaskRun(t1), putTaskRun(t2), putTaskRun(t3), putTaskRun(t1, OTHER_TENANT)]);
        expect(await store.getTaskRun(TENANT, "run-1", "t1")).toEqual(t1);
        expect(await store.getTaskRun(TENANT, "run-1", "t2")).toEqual(t2);
        expect(await store.getTaskRun(TENANT, "run-1", "t3")).toBeUndefined();
        expect(await store.getTaskRun("third", "run-1", "t1")).toBeUndefined();
        expect(await store.taskDefNameOf(TENANT, "run-1", "t1")).toBe("work");
        expect(await store.taskDefNameOf(TENANT, "run-1", "t2")).toBe("other-work");
        expect(await store.taskDefNameOf(TENANT, "run-2", "t3")).toBe("third");
        expect(await store.taskDefNameOf(TENANT, "run-2", "t1")).toBeUndefined();
        const listed = await store.listTaskRuns(TENANT, "run-1", { limit: 100 });
        expect(listed.map((p) => p.position)).toEqual([
          { ms: 0, guid: "t2" },
          { ms: 2_000, guid: "t1" },
        ]);
        expect(decode(TaskRunSchema, listed)).toEqual([t2, t1]);
      });

      it("store: putVariable without an index round-trips through getVariable and listVariables, and is not searchable", async () => {
        const vars = [
          variable("run-1", 0, "a", "x"),
          variable("run-1", 0, "b", 7),
          variable("run-1", 1, "a", "y"),
        ];
        await store.commit([
          putWfRun(wfRun("run-1", { startMs: 1_000 })),
          ...vars.map((v) => putVariable(v)),
          putVariable(variable("run-2", 0, "a", "z")),
        ]);
        for (const v of vars) {
          expect(await store.getVariable(TENANT, "run-1", v.id!.threadRunNumber, v.id!.name)).toEqual(v);
        }
        expect(await store.getVariable(TENANT, "run-1", 2, "a")).toBeUndefined();
        expect(await store.getVariable(TENANT, "run-1", 0, "c")).toBeUndefined();
        expect(await store.getVariable(OTHER_TENANT, "run-1", 0, "a")).toBeUndefined();
        const listed = await store.listVariables(TENANT, "run-1", { limit: 100 });
        expect(listed.map((p) => p.position)).toEqual([
          { thread: 0, name: "a" },
          { thread: 0, name: "b" },
          { thread: 1, name: "a" },
        ]);
        expect(decode(VariableSchema, listed)).toEqual(vars);
        expect(
          await store.searchVariables({
            tenant: TENANT,
            wfSpecName: "spec",
            field: "a",
            key: "str:x",
            limit: 10,
          }),
        ).toEqual([]);
        expect(
          await store.searchWfRuns({
            tenant: TENANT,
            wfSpecName: "spec",
            variables: [{ field: "a", key: "str:x" }],
            limit: 10,
          }),
        ).toEqual([]);
      });

      it("B-SRCH-3: putVariable with an index makes it searchable; a new value moves the entry, an undefined key removes it", async () => {
        const spec = { spec: "orders", major: 1, revision: 2, startMs: 5_000 };
        await store.commit([
          putWfRun(wfRun("run-1", spec)),
          putVariable(
            variable("run-1", 0, "color", "red"),
            indexInfo([{ field: "color", key: "str:red" }], spec),
          ),
          // a JSON variable indexed by two paths
          putVariable(
            variable("run-1", 0, "doc", '{"a":1,"b":"x"}'),
            indexInfo(
              [
                { field: "doc$.a", key: "num:1" },
                { field: "doc$.b", key: "str:x" },
              ],
              spec,
            ),
          ),
        ]);
        const findVar = (field: string, key: string) =>
          store.searchVariables({ tenant: TENANT, wfSpecName: "orders", field, key, limit: 10 });
        const findRuns = (field: string, key: string) =>
          store
            .searchWfRuns({ tenant: TENANT, wfSpecName: "orders", variables: [{ field, key }], limit: 10 })
            .then((hits) => hits.map((h) => h.wfRunKey));
        expect(await findVar("color", "str:red")).toEqual([
          { startMs: 5_000, wfRunKey: "run-1", wfRunId: wfRunIdOf("run-1"), thread: 0, name: "color" },
        ]);
        expect(await findVar("doc$.b", "str:x")).toEqual([
          { startMs: 5_000, wfRunKey: "run-1", wfRunId: wfRunIdOf("run-1"), thread: 0, name: "doc" },
        ]);
        expect(await findRuns("color", "str:red")).toEqual(["run-1"]);
        expect(await findRuns("doc$.a", "num:1")).toEqual(["run-1"]);
        expect(await findVar("color", "str:blue")).toEqual([]);
        expect(
          await store.searchVariables({
            tenant: TENANT,
            wfSpecName: "other",
            field: "color",
            key: "str:red",
            limit: 10,
          }),
        ).toEqual([]);
        expect(
          await store.searchVariables({
            tenant: OTHER_TENANT,
            wfSpecName: "orders",
            field: "color",
            key: "str:red",
            limit: 10,
          }),
        ).toEqual([]);

        // a new value: the entry follows it
        const blue = variable("run-1", 0, "color", "blue");
        await store.commit([putVariable(blue, indexInfo([{ field: "color", key: "str:blue" }], spec))]);
        expect(await store.getVariable(TENANT, "run-1", 0, "color")).toEqual(blue);
        expect(await findVar("color", "str:red")).toEqual([]);
        expect(await findRuns("color", "str:red")).toEqual([]);
        expect((await findVar("color", "str:blue")).map((h) => h.wfRunKey)).toEqual(["run-1"]);
        expect(await findRuns("color", "str:blue")).toEqual(["run-1"]);

        // nothing to index any more (e.g. null): the entry goes; the other path of the JSON variable stays
        await store.commit([
          putVariable(
            variable("run-1", 0, "color", ""),
            indexInfo([{ field: "color", key: undefined }], spec),
          ),
          putVariable(
            variable("run-1", 0, "doc", '{"b":"x"}'),
            indexInfo(
              [
                { field: "doc$.a", key: undefined },
                { field: "doc$.b", key: "str:x" },
              ],
              spec,
            ),
          ),
        ]);
        expect(await findVar("color", "str:blue")).toEqual([]);
        expect(await findRuns("color", "str:blue")).toEqual([]);
        expect(await findVar("doc$.a", "num:1")).toEqual([]);
        expect(await findRuns("doc$.b", "str:x")).toEqual(["run-1"]);
        // a put without index info leaves the index as it is
        await store.commit([putVariable(variable("run-1", 0, "doc", '{"b":"x","c":2}'))]);
        expect(await findRuns("doc$.b", "str:x")).toEqual(["run-1"]);
      });

      it("store: putExternalEvent and deleteExternalEvent round-trip through getExternalEvent, listExternalEvents and loadActiveWfRun", async () => {
        const e1 = externalEvent("run-1", "ev", "g1", { createdMs: 1_000 });
        const e2 = externalEvent("run-1", "ev", "g2", { createdMs: 2_000, claimed: true });
        const e3 = externalEvent("run-1", "other-ev", "g3", { createdMs: 3_000, sub: 7 });
        await store.commit([
          putWfRun(wfRun("run-1", { startMs: 500 })),
          putExternalEvent(e1),
          putExternalEvent(e2),
          putExternalEvent(e3),
          putExternalEvent(externalEvent("run-2", "ev", "g1")),
        ]);
        expect(await store.getExternalEvent(TENANT, "run-1", "ev", "g1")).toEqual(e1);
        expect(await store.getExternalEvent(TENANT, "run-1", "ev", "g2")).toEqual(e2);
        expect(await store.getExternalEvent(TENANT, "run-1", "other-ev", "g3")).toEqual(e3);
        expect(await store.getExternalEvent(TENANT, "run-1", "ev", "g3")).toBeUndefined();
        expect(await store.getExternalEvent(OTHER_TENANT, "run-1", "ev", "g1")).toBeUndefined();
        const listed = await store.listExternalEvents(TENANT, "run-1", { limit: 100 });
        expect(listed.map((p) => p.position)).toEqual([
          { ms: 1_000, sub: 0, defName: "ev", guid: "g1" },
          { ms: 2_000, sub: 0, defName: "ev", guid: "g2" },
          { ms: 3_000, sub: 7, defName: "other-ev", guid: "g3" },
        ]);
        expect(decode(ExternalEventSchema, listed)).toEqual([e1, e2, e3]);
        const active = await store.loadActiveWfRun(TENANT, "run-1");
        expect(active?.unclaimedEvents.sort(by((e) => e.id!.guid))).toEqual([e1, e3]);

        // claimed later: no longer unclaimed
        const e1Claimed = externalEvent("run-1", "ev", "g1", { createdMs: 1_000, claimed: true });
        await store.commit([putExternalEvent(e1Claimed)]);
        expect(await store.getExternalEvent(TENANT, "run-1", "ev", "g1")).toEqual(e1Claimed);
        expect((await store.loadActiveWfRun(TENANT, "run-1"))?.unclaimedEvents).toEqual([e3]);

        await store.commit([deleteExternalEvent(e3), deleteExternalEvent(e1)]);
        expect(await store.getExternalEvent(TENANT, "run-1", "other-ev", "g3")).toBeUndefined();
        expect(await store.getExternalEvent(TENANT, "run-1", "ev", "g1")).toBeUndefined();
        expect(
          decode(ExternalEventSchema, await store.listExternalEvents(TENANT, "run-1", { limit: 100 })),
        ).toEqual([e2]);
        expect((await store.loadActiveWfRun(TENANT, "run-1"))?.unclaimedEvents).toEqual([]);
        // the other run's event with the same def and guid stays
        expect(await store.getExternalEvent(TENANT, "run-2", "ev", "g1")).toBeDefined();
      });

      it("B-EVT-6: putWorkflowEvent round-trips through getWorkflowEvent, listWorkflowEvents (with and without defName) and loadActiveWfRun's counts", async () => {
        const events = [
          workflowEvent("run-1", "A", 0, 1_000),
          workflowEvent("run-1", "B", 0, 1_500),
          workflowEvent("run-1", "A", 1, 2_000),
          workflowEvent("run-1", "A", 2, 3_000),
        ];
        await store.commit([
          putWfRun(wfRun("run-1", { startMs: 500 })),
          ...events.map((e) => putWorkflowEvent(e)),
          putWorkflowEvent(workflowEvent("run-2", "A", 0)),
          putWorkflowEvent(workflowEvent("run-1", "A", 5), OTHER_TENANT),
        ]);
        const all = await store.listWorkflowEvents(TENANT, "run-1", { limit: 100 });
        expect(all.map((p) => p.position)).toEqual([
          { ms: 1_000, defName: "A", number: 0 },
          { ms: 1_500, defName: "B", number: 0 },
          { ms: 2_000, defName: "A", number: 1 },
          { ms: 3_000, defName: "A", number: 2 },
        ]);
        expect(all.map((p) => p.item)).toEqual(events);
        const ofA = await store.listWorkflowEvents(TENANT, "run-1", { limit: 100, defName: "A" });
        expect(ofA.map((p) => p.item)).toEqual([events[0], events[2], events[3]]);
        expect(await store.listWorkflowEvents(TENANT, "run-1", { limit: 100, defName: "C" })).toEqual([]);
        expect(await store.getWorkflowEvent(TENANT, "run-1", "A", 1)).toEqual(events[2]);
        expect(await store.getWorkflowEvent(TENANT, "run-2", "A", 0)).toEqual(workflowEvent("run-2", "A", 0));
        expect(await store.getWorkflowEvent(OTHER_TENANT, "run-1", "A", 5)).toEqual(
          workflowEvent("run-1", "A", 5),
        );
        expect(await store.getWorkflowEvent(TENANT, "run-1", "A", 5)).toBeUndefined();
        expect(await store.getWorkflowEvent(TENANT, "run-1", "B", 1)).toBeUndefined();
        const active = await store.loadActiveWfRun(TENANT, "run-1");
        expect(active?.workflowEventCounts).toEqual(
          new Map([
            ["A", 3],
            ["B", 1],
          ]),
        );
        await store.commit([putWfRun(wfRun("run-3"))]);
        expect((await store.loadActiveWfRun(TENANT, "run-3"))?.workflowEventCounts).toEqual(new Map());
      });

      it("B-UT-6: putUserTaskRun round-trips through getUserTaskRun, userTaskDefNameOf, listUserTaskRuns and searchUserTaskRuns", async () => {
        const u1 = userTaskRun("run-1", "u1", { def: "approve", userGroup: "finance", scheduledMs: 1_000 });
        const u2 = userTaskRun("run-1", "u2", {
          def: "review",
          status: UserTaskRunStatus.ASSIGNED,
          userId: "ann",
          userGroup: "finance",
          scheduledMs: 2_000,
        });
        const u3 = userTaskRun("run-2", "u3", {
          def: "approve",
          status: UserTaskRunStatus.DONE,
          userId: "bob",
          scheduledMs: 3_000,
        });
        await store.commit([
          putUserTaskRun(u1),
          putUserTaskRun(u2),
          putUserTaskRun(u3),
          putUserTaskRun(u1, OTHER_TENANT),
        ]);
        expect(await store.getUserTaskRun(TENANT, "run-1", "u1")).toEqual(u1);
        expect(await store.getUserTaskRun(TENANT, "run-2", "u3")).toEqual(u3);
        expect(await store.getUserTaskRun(TENANT, "run-2", "u1")).toBeUndefined();
        expect(await store.getUserTaskRun("third", "run-1", "u1")).toBeUndefined();
        expect(await store.userTaskDefNameOf(TENANT, "run-1", "u2")).toBe("review");
        expect(await store.userTaskDefNameOf(TENANT, "run-2", "u3")).toBe("approve");
        expect(await store.userTaskDefNameOf(TENANT, "run-2", "u2")).toBeUndefined();
        const listed = await store.listUserTaskRuns(TENANT, "run-1", { limit: 100 });
        expect(listed.map((p) => p.position)).toEqual([
          { ms: 1_000, guid: "u1" },
          { ms: 2_000, guid: "u2" },
        ]);
        expect(decode(UserTaskRunSchema, listed)).toEqual([u1, u2]);

        const search = async (s: Omit<Parameters<Store["searchUserTaskRuns"]>[1], "limit">) =>
          (await store.searchUserTaskRuns(TENANT, { ...s, limit: 100 })).map((h) => h.run.id!.userTaskGuid);
        expect(await search({})).toEqual(["u1", "u2", "u3"]);
        expect(await search({ status: UserTaskRunStatus.ASSIGNED })).toEqual(["u2"]);
        expect(await search({ defName: "approve" })).toEqual(["u1", "u3"]);
        expect(await search({ userId: "bob" })).toEqual(["u3"]);
        expect(await search({ userGroup: "finance" })).toEqual(["u1", "u2"]);
        expect(await search({ userGroup: "finance", userId: "ann" })).toEqual(["u2"]);
        expect(await search({ defName: "approve", status: UserTaskRunStatus.UNASSIGNED })).toEqual(["u1"]);
        expect(await search({ earliestMs: 2_000 })).toEqual(["u2", "u3"]);
        expect(await search({ latestMs: 2_000 })).toEqual(["u1", "u2"]);
        expect(await search({ earliestMs: 2_000, latestMs: 2_000 })).toEqual(["u2"]);
        expect(await search({ userId: "nobody" })).toEqual([]);
        const hits = await store.searchUserTaskRuns(TENANT, { userId: "bob", limit: 10 });
        expect(hits).toEqual([{ run: u3, position: { scheduledMs: 3_000, wfRunKey: "run-2", guid: "u3" } }]);
        expect((await store.searchUserTaskRuns(OTHER_TENANT, { limit: 10 })).map((h) => h.run)).toEqual([u1]);
      });

      it("store: loadActiveWfRun holds the run, its variables, current NodeRuns with their TaskRuns and UserTaskRuns, unfinished reminders", async () => {
        const run = wfRun("run-1", {
          startMs: 1_000,
          threads: [
            { number: 0, position: 2 },
            { number: 1, position: 1 },
            { number: 2, position: 0 },
          ],
        });
        const current = [
          nodeRun("run-1", 0, 2, { type: "task", guid: "t-cur" }),
          nodeRun("run-1", 1, 1, { type: "userTask", guid: "u-cur" }),
          nodeRun("run-1", 2, 0, { type: "externalEvent" }),
        ];
        const tCur = taskRun("run-1", "t-cur", { scheduledMs: 1_500 });
        const reminder = taskRun("run-1", "t-remind", { scheduledMs: 1_600, userTaskTrigger: true });
        const uCur = userTaskRun("run-1", "u-cur", { scheduledMs: 1_400 });
        const vars = [variable("run-1", 0, "a", 1), variable("run-1", 1, "b", "x")];
        await store.commit([
          putWfRun(run),
          putNodeRun(nodeRun("run-1", 0, 0, { type: "entrypoint" })),
          putNodeRun(nodeRun("run-1", 0, 1, { type: "task", guid: "t-old" })),
          putNodeRun(nodeRun("run-1", 1, 0, { type: "userTask", guid: "u-old" })),
          ...current.map((n) => putNodeRun(n)),
          putTaskRun(taskRun("run-1", "t-old", { status: TaskStatus.TASK_SUCCESS, scheduledMs: 1_100 })),
          putTaskRun(tCur),
          putTaskRun(reminder),
          putTaskRun(
            taskRun("run-1", "t-remind-done", {
              status: TaskStatus.TASK_SUCCESS,
              scheduledMs: 1_200,
              userTaskTrigger: true,
            }),
          ),
          putUserTaskRun(
            userTaskRun("run-1", "u-old", { status: UserTaskRunStatus.DONE, scheduledMs: 1_050 }),
          ),
          putUserTaskRun(uCur),
          ...vars.map((v) => putVariable(v)),
        ]);
        const active = await store.loadActiveWfRun(TENANT, "run-1");
        expect(active).toBeDefined();
        expect(active!.wfRun).toEqual(run);
        expect(
          [...active!.variables].sort(
            by(
              (v) => v.id!.threadRunNumber,
              (v) => v.id!.name,
            ),
          ),
        ).toEqual(vars);
        expect([...active!.nodeRuns].sort(by((n) => n.id!.threadRunNumber))).toEqual(current);
        expect([...active!.taskRuns].sort(by((t) => t.id!.taskGuid))).toEqual([tCur, reminder]);
        expect(active!.userTaskRuns).toEqual([uCur]);
        expect(active!.unclaimedEvents).toEqual([]);
        expect(active!.workflowEventCounts).toEqual(new Map());
        expect(await store.loadActiveWfRun(TENANT, "run-2")).toBeUndefined();
        expect(await store.loadActiveWfRun(OTHER_TENANT, "run-1")).toBeUndefined();
      });

      it("store: enqueueTask and dequeueTask: loadTaskQueue gives the asked partitions' tasks in enqueue order", async () => {
        const a = queuedTask(1, "run-1", "g1");
        const b = queuedTask(0, "run-2", "g1");
        const c = queuedTask(1, "run-3", "g1", 0, { def: "other" });
        const d = queuedTask(2, "run-4", "g1", 0, { tenant: OTHER_TENANT });
        const e = queuedTask(1, "run-1", "g1", 1);
        const f = queuedTask(1, "run-0", "g0");
        await store.commit([enqueue(a), enqueue(b), enqueue(c)]);
        await store.commit([enqueue(d), enqueue(e)]);
        await store.commit([enqueue(f)]);
        expect(await store.loadTaskQueue([1])).toEqual([a, c, e, f]);
        const of02 = await store.loadTaskQueue([0, 2]);
        expect(of02.filter((t) => t.part === 0)).toEqual([b]);
        expect(of02.filter((t) => t.part === 2)).toEqual([d]);
        expect(of02).toHaveLength(2);
        expect(await store.loadTaskQueue([])).toEqual([]);
        expect(await store.loadTaskQueue([5])).toEqual([]);

        await store.commit([dequeue(c), dequeue(queuedTask(1, "run-1", "g1", 7))]);
        expect(await store.loadTaskQueue([1])).toEqual([a, e, f]);
        // queued again: now the newest
        await store.commit([enqueue(c)]);
        expect(await store.loadTaskQueue([1])).toEqual([a, e, f, c]);
      });

      it("store: a task dequeued and enqueued again within one batch is queued anew, after the tasks enqueued before it", async () => {
        const a = queuedTask(0, "run-1", "ga");
        const b = queuedTask(0, "run-2", "gb");
        await store.commit([enqueue(a), enqueue(b), dequeue(a), enqueue(a)]);
        expect(await store.loadTaskQueue([0])).toEqual([b, a]);
      });

      it("store: a queued task dequeued and enqueued again in one later batch is queued anew, after the tasks enqueued before it", async () => {
        const a = queuedTask(0, "run-1", "ga");
        const b = queuedTask(0, "run-2", "gb");
        await store.commit([enqueue(a), enqueue(b)]);
        await store.commit([dequeue(a), enqueue(a)]);
        expect(await store.loadTaskQueue([0])).toEqual([b, a]);
      });

      it("store: putTimer and deleteTimer: loadTimers gives the asked partitions' timers", async () => {
        const t1 = timer("t1", 1_000, { part: 0 });
        const t2 = timer("t2", 2_000, {
          part: 1,
          command: { kind: "taskAttemptTimedOut", taskGuid: "g1", attemptNumber: 2 },
        });
        const t3 = timer("t1", 3_000, { part: 1, wfRunKey: "run-2", command: { kind: "wfRunExpired" } });
        const t4 = timer("t1", 4_000, { part: 1, tenant: OTHER_TENANT });
        await store.commit([putTimer(t1), putTimer(t2), putTimer(t3), putTimer(t4)]);
        const sorted = (ts: Awaited<ReturnType<Store["loadTimers"]>>) =>
          [...ts].sort(
            by(
              (t) => t.tenant,
              (t) => t.wfRunKey,
              (t) => t.key,
            ),
          );
        expect(sorted(await store.loadTimers([1]))).toEqual(sorted([t2, t3, t4]));
        expect(sorted(await store.loadTimers([0, 1]))).toEqual(sorted([t1, t2, t3, t4]));
        expect(await store.loadTimers([0])).toEqual([t1]);
        expect(await store.loadTimers([3])).toEqual([]);

        await store.commit([deleteTimer(t2)]);
        expect(sorted(await store.loadTimers([1]))).toEqual(sorted([t3, t4]));
        // rescheduled into another partition
        const moved = { ...t3, part: 2, dueMs: 9_000 };
        await store.commit([putTimer(moved)]);
        expect(await store.loadTimers([1])).toEqual([t4]);
        expect(await store.loadTimers([2])).toEqual([moved]);
      });

      it("B-SEC-1: putTenant round-trips through listTenants, by id", async () => {
        await store.commit([putTenant(tenant("b", 2_000)), putTenant(tenant("a", 1_000))]);
        await store.commit([
          putTenant(tenant("c", 3_000)),
          putTenant(tenant("B", 4_000)),
          putTenant(tenant("A_1", 5_000)),
        ]);
        // by id, in byte order
        expect(await store.listTenants()).toEqual([
          tenant("A_1", 5_000),
          tenant("B", 4_000),
          tenant("a", 1_000),
          tenant("b", 2_000),
          tenant("c", 3_000),
        ]);
        await store.commit([putTenant(tenant("b", 9_000))]);
        expect(await store.listTenants()).toEqual([
          tenant("A_1", 5_000),
          tenant("B", 4_000),
          tenant("a", 1_000),
          tenant("b", 9_000),
          tenant("c", 3_000),
        ]);
      });

      it("B-SEC-2: putPrincipal and deletePrincipal round-trip through listPrincipals, by id", async () => {
        const bob = principal("bob", 1_000, [TENANT]);
        const alice = principal("alice", 2_000, [TENANT, OTHER_TENANT]);
        const carl = principal("Carl", 3_000, [TENANT]);
        await store.commit([putPrincipal(bob), putPrincipal(alice), putPrincipal(carl)]);
        expect(await store.listPrincipals()).toEqual([carl, alice, bob]);
        await store.commit([deletePrincipal("Carl")]);
        expect(await store.listPrincipals()).toEqual([alice, bob]);
        const bob2 = principal("bob", 1_000, [OTHER_TENANT]);
        await store.commit([putPrincipal(bob2)]);
        expect(await store.listPrincipals()).toEqual([alice, bob2]);
        await store.commit([deletePrincipal("alice"), deletePrincipal("nobody")]);
        expect(await store.listPrincipals()).toEqual([bob2]);
      });

      it("B-TASK-9: putTaskWorker keeps the group's creation time and each worker's latest heartbeat; deleteTaskWorker removes one", async () => {
        const hb = (workerId: string, heartbeatMs: number, taskDefName = "greet"): WriteOp => ({
          op: "putTaskWorker",
          tenant: TENANT,
          taskDefName,
          workerId,
          heartbeatMs,
        });
        expect(await store.getTaskWorkerGroup(TENANT, "greet", 100)).toBeUndefined();
        await store.commit([hb("w1", 1_000), hb("w2", 2_000)]);
        await store.commit([hb("w1", 3_000), hb("other", 9_000, "other-def")]);
        expect(await store.getTaskWorkerGroup(TENANT, "greet", 100)).toEqual({
          createdMs: 1_000,
          workers: [
            { workerId: "w1", heartbeatMs: 3_000 },
            { workerId: "w2", heartbeatMs: 2_000 },
          ],
        });
        expect((await store.getTaskWorkerGroup(TENANT, "greet", 1))?.workers).toEqual([
          { workerId: "w1", heartbeatMs: 3_000 },
        ]);
        expect(await store.getTaskWorkerGroup(OTHER_TENANT, "greet", 100)).toBeUndefined();
        await store.commit([
          { op: "deleteTaskWorker", tenant: TENANT, taskDefName: "greet", workerId: "w1" },
          { op: "deleteTaskWorker", tenant: TENANT, taskDefName: "greet", workerId: "w2" },
        ]);
        // the group outlives its workers: it keeps when it was created
        expect(await store.getTaskWorkerGroup(TENANT, "greet", 100)).toEqual({
          createdMs: 1_000,
          workers: [],
        });
      });

      it("putScheduledWfRun stores a schedule and moves its next tick; search pages a WfSpec's by id; deleteScheduledWfRun removes one", async () => {
        const sched = (id: string, major: number, revision: number): ScheduledWfRun =>
          create(ScheduledWfRunSchema, {
            id: { id },
            wfSpecId: { name: "nightly", majorVersion: major, revision },
            variables: { who: { value: { case: "str", value: id } } },
            cronExpression: "0 3 * * *",
            createdAt: { seconds: 1_000n, nanos: 0 },
          });
        const put = (tenant: string, s: ScheduledWfRun, nextMs: number): WriteOp => ({
          op: "putScheduledWfRun",
          tenant,
          schedule: s,
          nextMs,
        });
        expect(await store.getScheduledWfRun(TENANT, "s-b")).toBeUndefined();
        await store.commit([
          put(TENANT, sched("s-c", 0, 1), 3_000),
          put(TENANT, sched("s-a", 0, 0), 1_000),
          put(TENANT, sched("s-b", 1, 0), 2_000),
          put(OTHER_TENANT, sched("s-a", 0, 0), 9_000),
        ]);
        await store.commit([put(TENANT, sched("s-a", 0, 0), 86_401_000)]);
        expect(await store.getScheduledWfRun(TENANT, "s-a")).toEqual({
          tenant: TENANT,
          schedule: sched("s-a", 0, 0),
          nextMs: 86_401_000,
        });
        const search = (extra: { major?: number; revision?: number; afterId?: string; limit?: number }) =>
          store.searchScheduledWfRuns(TENANT, { wfSpecName: "nightly", limit: 10, ...extra });
        expect(await search({})).toEqual(["s-a", "s-b", "s-c"]);
        expect(await search({ limit: 2 })).toEqual(["s-a", "s-b"]);
        expect(await search({ afterId: "s-a" })).toEqual(["s-b", "s-c"]);
        expect(await search({ major: 0 })).toEqual(["s-a", "s-c"]);
        expect(await search({ major: 0, revision: 1 })).toEqual(["s-c"]);
        expect(await store.searchScheduledWfRuns(TENANT, { wfSpecName: "other", limit: 10 })).toEqual([]);
        expect(
          (await store.listScheduledWfRuns()).map((s) => [s.tenant, s.schedule.id!.id, s.nextMs]),
        ).toEqual(
          [
            [OTHER_TENANT, "s-a", 9_000],
            [TENANT, "s-a", 86_401_000],
            [TENANT, "s-b", 2_000],
            [TENANT, "s-c", 3_000],
          ].sort((x, y) => (x[0]! < y[0]! ? -1 : x[0]! > y[0]! ? 1 : 0)),
        );
        await store.commit([{ op: "deleteScheduledWfRun", tenant: TENANT, id: "s-a" }]);
        expect(await store.getScheduledWfRun(TENANT, "s-a")).toBeUndefined();
        expect(await store.getScheduledWfRun(OTHER_TENANT, "s-a")).toBeDefined();
        expect(await search({})).toEqual(["s-b", "s-c"]);
      });

      it("B-SRCH-5: addMetrics sums counters and totals across batches and within one, maxima keep the larger", async () => {
        const W = 300_000;
        const w0 = 5_000 * W;
        const w1 = w0 + W;
        await store.commit([
          addMetrics(
            metricsDelta(w0, { scheduled: 1, started: 1, scheduleToStartTotal: 10, scheduleToStartMax: 10 }),
            metricsDelta(w0, {
              scheduled: 2,
              scheduleToStartTotal: 5,
              scheduleToStartMax: 5,
              completed: 1,
              startToCompleteTotal: 30,
              startToCompleteMax: 30,
            }),
          ),
          // a second addMetrics op in the same batch
          addMetrics(metricsDelta(w0, { scheduled: 1 })),
        ]);
        await store.commit([
          putTimer(timer("t", 1)),
          addMetrics(
            metricsDelta(w0, {
              errored: 1,
              startToCompleteTotal: 7,
              startToCompleteMax: 7,
              scheduleToStartMax: 3,
            }),
            metricsDelta(w1, { scheduled: 4 }),
            metricsDelta(w0, { kind: "wf", name: "work", major: 1, revision: 2, completed: 5 }),
            metricsDelta(w0, { name: "other", scheduled: 9 }),
            metricsDelta(w0, { windowType: 1, scheduled: 8 }),
            metricsDelta(w0, { tenant: OTHER_TENANT, scheduled: 7 }),
          ),
        ]);
        await store.commit([
          addMetrics(metricsDelta(w0, { completed: 1, startToCompleteTotal: 50, startToCompleteMax: 50 })),
        ]);
        const q = {
          tenant: TENANT,
          kind: "task" as const,
          name: "work",
          major: 0,
          revision: 0,
          windowType: 0,
        };
        const w0Row = metricsDelta(w0, {
          scheduled: 4,
          started: 1,
          completed: 2,
          errored: 1,
          scheduleToStartTotal: 15,
          scheduleToStartMax: 10,
          startToCompleteTotal: 87,
          startToCompleteMax: 50,
        });
        const w1Row = metricsDelta(w1, { scheduled: 4 });
        expect(await store.metricsWindows({ ...q, fromMs: w0, toMs: w1 })).toEqual([w0Row, w1Row]);
        expect(await store.metricsWindows({ ...q, fromMs: w0 - 10 * W, toMs: w1 + 10 * W })).toEqual([
          w0Row,
          w1Row,
        ]);
        expect(await store.metricsWindows({ ...q, fromMs: w0 + 1, toMs: w1 })).toEqual([w1Row]);
        expect(await store.metricsWindows({ ...q, fromMs: w0, toMs: w1 - 1 })).toEqual([w0Row]);
        expect(await store.metricsWindows({ ...q, fromMs: w1 + 1, toMs: w1 + W })).toEqual([]);
        expect(
          await store.metricsWindows({ ...q, kind: "wf", major: 1, revision: 2, fromMs: w0, toMs: w1 }),
        ).toEqual([metricsDelta(w0, { kind: "wf", name: "work", major: 1, revision: 2, completed: 5 })]);
        expect(
          await store.metricsWindows({ ...q, kind: "wf", major: 1, revision: 1, fromMs: w0, toMs: w1 }),
        ).toEqual([]);
        expect(await store.metricsWindows({ ...q, name: "other", fromMs: w0, toMs: w1 })).toEqual([
          metricsDelta(w0, { name: "other", scheduled: 9 }),
        ]);
        expect(await store.metricsWindows({ ...q, windowType: 1, fromMs: w0, toMs: w1 })).toEqual([
          metricsDelta(w0, { windowType: 1, scheduled: 8 }),
        ]);
        expect(await store.metricsWindows({ ...q, tenant: OTHER_TENANT, fromMs: w0, toMs: w1 })).toEqual([
          metricsDelta(w0, { tenant: OTHER_TENANT, scheduled: 7 }),
        ]);
      });

      it("store: deleteWfRun removes every object of the run and leaves other runs untouched", async () => {
        /** one WfRun with one of everything */
        const seed = (key: string, t = TENANT): WriteOp[] => {
          const spec = { spec: "spec", major: 0, revision: 0, startMs: 1_000 };
          return [
            putWfRun(wfRun(key, { ...spec, threads: [{ number: 0, position: 1 }] }), t),
            putNodeRun(
              nodeRun(key, 0, 0, { type: "entrypoint", status: LHStatus.COMPLETED, arrivalMs: 1_000 }),
              t,
            ),
            putNodeRun(nodeRun(key, 0, 1, { type: "task", guid: "g1", arrivalMs: 1_001 }), t),
            putTaskRun(taskRun(key, "g1", { scheduledMs: 1_001 }), t),
            putVariable(
              variable(key, 0, "color", "red"),
              indexInfo([{ field: "color", key: "str:red" }], spec),
              t,
            ),
            putExternalEvent(externalEvent(key, "ev", "e1", { createdMs: 1_002 }), t),
            putWorkflowEvent(workflowEvent(key, "thrown", 0, 1_003), t),
            putUserTaskRun(userTaskRun(key, "u1", { userId: "ann", scheduledMs: 1_004 }), t),
            enqueue(queuedTask(0, key, "g1", 0, { tenant: t })),
            putTimer(timer("t1", 2_000, { wfRunKey: key, tenant: t })),
          ];
        };
        await store.commit([
          ...seed("run-1"),
          ...seed("run-10"),
          ...seed("run-1_child"),
          ...seed("run-1", OTHER_TENANT),
        ]);
        await store.commit([deleteWfRun("run-1")]);

        const present = async (t: string, key: string) => ({
          wfRun: (await store.getWfRun(t, key)) !== undefined,
          specName: await store.wfSpecNameOf(t, key),
          active: (await store.loadActiveWfRun(t, key)) !== undefined,
          nodeRun: (await store.getNodeRun(t, key, 0, 0)) !== undefined,
          nodeRuns: (await store.listNodeRuns(t, key, { limit: 10 })).length,
          taskRun: (await store.getTaskRun(t, key, "g1")) !== undefined,
          taskDef: await store.taskDefNameOf(t, key, "g1"),
          taskRuns: (await store.listTaskRuns(t, key, { limit: 10 })).length,
          variable: (await store.getVariable(t, key, 0, "color")) !== undefined,
          variables: (await store.listVariables(t, key, { limit: 10 })).length,
          event: (await store.getExternalEvent(t, key, "ev", "e1")) !== undefined,
          events: (await store.listExternalEvents(t, key, { limit: 10 })).length,
          workflowEvents: (await store.listWorkflowEvents(t, key, { limit: 10 })).length,
          userTaskRun: (await store.getUserTaskRun(t, key, "u1")) !== undefined,
          userTaskDef: await store.userTaskDefNameOf(t, key, "u1"),
          userTaskRuns: (await store.listUserTaskRuns(t, key, { limit: 10 })).length,
          queued: (await store.loadTaskQueue([0])).filter((q) => q.tenant === t && q.wfRunKey === key).length,
          timers: (await store.loadTimers([0])).filter((q) => q.tenant === t && q.wfRunKey === key).length,
        });
        const all = {
          wfRun: true,
          specName: "spec",
          active: true,
          nodeRun: true,
          nodeRuns: 2,
          taskRun: true,
          taskDef: "work",
          taskRuns: 1,
          variable: true,
          variables: 1,
          event: true,
          events: 1,
          workflowEvents: 1,
          userTaskRun: true,
          userTaskDef: "approve",
          userTaskRuns: 1,
          queued: 1,
          timers: 1,
        };
        expect(await present(TENANT, "run-1")).toEqual({
          wfRun: false,
          specName: undefined,
          active: false,
          nodeRun: false,
          nodeRuns: 0,
          taskRun: false,
          taskDef: undefined,
          taskRuns: 0,
          variable: false,
          variables: 0,
          event: false,
          events: 0,
          workflowEvents: 0,
          userTaskRun: false,
          userTaskDef: undefined,
          userTaskRuns: 0,
          queued: 0,
          timers: 0,
        });
        expect(await present(TENANT, "run-10")).toEqual(all);
        expect(await present(TENANT, "run-1_child")).toEqual(all);
        expect(await present(OTHER_TENANT, "run-1")).toEqual(all);

        // nor found by any search
        const keys = (hits: { wfRunKey: string }[]) => hits.map((h) => h.wfRunKey).sort();
        const remaining = ["run-10", "run-1_child"];
        expect(
          keys(await store.searchWfRuns({ tenant: TENANT, wfSpecName: "spec", variables: [], limit: 10 })),
        ).toEqual(remaining);
        expect(
          keys(
            await store.searchWfRuns({
              tenant: TENANT,
              wfSpecName: "spec",
              variables: [{ field: "color", key: "str:red" }],
              limit: 10,
            }),
          ),
        ).toEqual(remaining);
        expect(
          keys(
            await store.searchVariables({
              tenant: TENANT,
              wfSpecName: "spec",
              field: "color",
              key: "str:red",
              limit: 10,
            }),
          ),
        ).toEqual(remaining);
        expect(
          keys(
            await store.searchNodeRuns({
              tenant: TENANT,
              nodeType: "task",
              status: LHStatus.RUNNING,
              limit: 10,
            }),
          ),
        ).toEqual(remaining);
        expect(keys(await store.searchTaskRuns({ tenant: TENANT, taskDefName: "work", limit: 10 }))).toEqual(
          remaining,
        );
        expect(keys(await store.searchExternalEvents({ tenant: TENANT, defName: "ev", limit: 10 }))).toEqual(
          remaining,
        );
        expect(
          (await store.searchUserTaskRuns(TENANT, { userId: "ann", limit: 10 }))
            .map((h) => h.position.wfRunKey)
            .sort(),
        ).toEqual(remaining);
      });
    });

    // ---- updates and deletes within a batch ------------------------------------------------------------------

    describe("updates within and across batches", () => {
      it("store: a row put twice keeps the latest, in one batch and across batches, searches included", async () => {
        const versions = (i: number): WriteOp[] => [
          putWfRun(
            wfRun("run-1", {
              startMs: 1_000,
              status: [LHStatus.RUNNING, LHStatus.HALTED, LHStatus.COMPLETED][i],
              endMs: 2_000 + i,
            }),
          ),
          putNodeRun(
            nodeRun("run-1", 0, 1, {
              type: "task",
              arrivalMs: 1_000,
              status: [LHStatus.RUNNING, LHStatus.HALTED, LHStatus.ERROR][i],
            }),
          ),
          putTaskRun(
            taskRun("run-1", "g1", {
              scheduledMs: 1_000,
              status: [TaskStatus.TASK_SCHEDULED, TaskStatus.TASK_RUNNING, TaskStatus.TASK_SUCCESS][i],
            }),
          ),
          putVariable(variable("run-1", 0, "v", i)),
          putExternalEvent(externalEvent("run-1", "ev", "e1", { createdMs: 1_000, claimed: i !== 1 })),
          putWorkflowEvent(workflowEvent("run-1", "thrown", 0, 1_000 + i)),
          putUserTaskRun(
            userTaskRun("run-1", "u1", {
              scheduledMs: 1_000,
              userId: ["ann", "bob", "cid"][i],
              userGroup: ["g0", "g1", "g2"][i],
              status: [UserTaskRunStatus.UNASSIGNED, UserTaskRunStatus.ASSIGNED, UserTaskRunStatus.DONE][i],
            }),
          ),
          putTimer(timer("t1", 5_000 + i)),
          putTenant(tenant("t", 1_000 + i)),
          putPrincipal(principal("p", 1_000 + i)),
          putMetadata(metadataRow("task_def", "work", { bytes: [i] })),
        ];
        const check = async (i: number) => {
          const run = await store.getWfRun(TENANT, "run-1");
          expect(run?.status).toBe([LHStatus.RUNNING, LHStatus.HALTED, LHStatus.COMPLETED][i]);
          expect(run?.endTime?.nanos).toBe(i * 1_000_000);
          expect((await store.getNodeRun(TENANT, "run-1", 0, 1))?.status).toBe(
            [LHStatus.RUNNING, LHStatus.HALTED, LHStatus.ERROR][i],
          );
          const taskStatus = [TaskStatus.TASK_SCHEDULED, TaskStatus.TASK_RUNNING, TaskStatus.TASK_SUCCESS][
            i
          ]!;
          expect((await store.getTaskRun(TENANT, "run-1", "g1"))?.status).toBe(taskStatus);
          expect(await store.getVariable(TENANT, "run-1", 0, "v")).toEqual(variable("run-1", 0, "v", i));
          expect((await store.getExternalEvent(TENANT, "run-1", "ev", "e1"))?.claimed).toBe(i !== 1);
          const thrown = await store.listWorkflowEvents(TENANT, "run-1", { limit: 10 });
          expect(thrown.map((p) => p.position)).toEqual([{ ms: 1_000 + i, defName: "thrown", number: 0 }]);
          const u = await store.getUserTaskRun(TENANT, "run-1", "u1");
          expect(u?.userId).toBe(["ann", "bob", "cid"][i]);
          expect(await timerDues([0])).toEqual({ "default/run-1/t1": 5_000 + i });
          expect(await store.listTenants()).toEqual([tenant("t", 1_000 + i)]);
          expect(await store.listPrincipals()).toEqual([principal("p", 1_000 + i)]);
          expect((await store.listMetadata()).map((r) => bytesOf(r.bytes))).toEqual([[i]]);
          // the searches see the latest columns only
          for (const [j, status] of [LHStatus.RUNNING, LHStatus.HALTED, LHStatus.COMPLETED].entries()) {
            const hits = await store.searchWfRuns({
              tenant: TENANT,
              wfSpecName: "spec",
              status,
              variables: [],
              limit: 10,
            });
            expect(hits.length).toBe(j === i ? 1 : 0);
          }
          for (const [j, status] of [LHStatus.RUNNING, LHStatus.HALTED, LHStatus.ERROR].entries()) {
            const hits = await store.searchNodeRuns({ tenant: TENANT, nodeType: "task", status, limit: 10 });
            expect(hits.length).toBe(j === i ? 1 : 0);
          }
          for (const [j, status] of [
            TaskStatus.TASK_SCHEDULED,
            TaskStatus.TASK_RUNNING,
            TaskStatus.TASK_SUCCESS,
          ].entries()) {
            const hits = await store.searchTaskRuns({
              tenant: TENANT,
              taskDefName: "work",
              status,
              limit: 10,
            });
            expect(hits.length).toBe(j === i ? 1 : 0);
          }
          for (const claimed of [true, false]) {
            const hits = await store.searchExternalEvents({
              tenant: TENANT,
              defName: "ev",
              claimed,
              limit: 10,
            });
            expect(hits.length).toBe(claimed === (i !== 1) ? 1 : 0);
          }
          for (const [j, userId] of ["ann", "bob", "cid"].entries()) {
            expect((await store.searchUserTaskRuns(TENANT, { userId, limit: 10 })).length).toBe(
              j === i ? 1 : 0,
            );
            expect((await store.searchUserTaskRuns(TENANT, { userGroup: `g${j}`, limit: 10 })).length).toBe(
              j === i ? 1 : 0,
            );
          }
        };
        await store.commit([...versions(0), ...versions(1)]);
        await check(1);
        await store.commit(versions(2));
        await check(2);
        await store.commit([...versions(1), ...versions(0)]);
        await check(0);
      });

      it("store: in one batch, a put followed by a delete of the same row leaves nothing", async () => {
        const ev = externalEvent("run-1", "ev", "e1");
        const t = timer("t1", 1_000);
        const q = queuedTask(0, "run-1", "g1");
        const m = metadataRow("task_def", "work");
        const spec = { startMs: 1_000 };
        await store.commit([
          putExternalEvent(ev),
          deleteExternalEvent(ev),
          putTimer(t),
          deleteTimer(t),
          enqueue(q),
          dequeue(q),
          putMetadata(m),
          deleteMetadata(m),
          putPrincipal(principal("p")),
          deletePrincipal("p"),
          putVariable(
            variable("run-1", 0, "color", "red"),
            indexInfo([{ field: "color", key: "str:red" }], spec),
          ),
          putVariable(
            variable("run-1", 0, "color", ""),
            indexInfo([{ field: "color", key: undefined }], spec),
          ),
        ]);
        expect(await store.getExternalEvent(TENANT, "run-1", "ev", "e1")).toBeUndefined();
        expect(await store.listExternalEvents(TENANT, "run-1", { limit: 10 })).toEqual([]);
        expect(await store.searchExternalEvents({ tenant: TENANT, defName: "ev", limit: 10 })).toEqual([]);
        expect(await store.loadTimers([0])).toEqual([]);
        expect(await store.loadTaskQueue([0])).toEqual([]);
        expect(await store.listMetadata()).toEqual([]);
        expect(await store.listPrincipals()).toEqual([]);
        expect(
          await store.searchVariables({
            tenant: TENANT,
            wfSpecName: "spec",
            field: "color",
            key: "str:red",
            limit: 10,
          }),
        ).toEqual([]);

        // the same with rows that existed before the batch
        await store.commit([
          putExternalEvent(ev),
          putTimer(t),
          enqueue(q),
          putMetadata(m),
          putPrincipal(principal("p")),
          putVariable(
            variable("run-1", 0, "color", "red"),
            indexInfo([{ field: "color", key: "str:red" }], spec),
          ),
        ]);
        await store.commit([
          putExternalEvent({ ...ev, claimed: true }),
          deleteExternalEvent(ev),
          putTimer({ ...t, dueMs: 2_000 }),
          deleteTimer(t),
          dequeue(q),
          putMetadata({ ...m, bytes: new Uint8Array([9]) }),
          deleteMetadata(m),
          putPrincipal(principal("p", 5_000)),
          deletePrincipal("p"),
          putVariable(
            variable("run-1", 0, "color", "blue"),
            indexInfo([{ field: "color", key: "str:blue" }], spec),
          ),
          putVariable(
            variable("run-1", 0, "color", ""),
            indexInfo([{ field: "color", key: undefined }], spec),
          ),
        ]);
        expect(await store.getExternalEvent(TENANT, "run-1", "ev", "e1")).toBeUndefined();
        expect(await store.loadTimers([0])).toEqual([]);
        expect(await store.loadTaskQueue([0])).toEqual([]);
        expect(await store.listMetadata()).toEqual([]);
        expect(await store.listPrincipals()).toEqual([]);
        for (const key of ["str:red", "str:blue"]) {
          expect(
            await store.searchVariables({
              tenant: TENANT,
              wfSpecName: "spec",
              field: "color",
              key,
              limit: 10,
            }),
          ).toEqual([]);
        }
      });

      it("store: in one batch, a delete followed by a put of the same row leaves the put", async () => {
        const ev = externalEvent("run-1", "ev", "e1", { createdMs: 1_000 });
        const t = timer("t1", 1_000);
        const q = queuedTask(0, "run-1", "g1");
        const m = metadataRow("task_def", "work", { bytes: [1] });
        const spec = { startMs: 1_000 };
        const batch = (n: number): WriteOp[] => [
          deleteExternalEvent(ev),
          putExternalEvent({ ...ev, claimed: n % 2 === 1 }),
          deleteTimer(t),
          putTimer({ ...t, dueMs: 1_000 + n }),
          dequeue(q),
          enqueue(q),
          deleteMetadata(m),
          putMetadata({ ...m, bytes: new Uint8Array([n]) }),
          deletePrincipal("p"),
          putPrincipal(principal("p", 1_000 + n)),
          putVariable(
            variable("run-1", 0, "color", ""),
            indexInfo([{ field: "color", key: undefined }], spec),
          ),
          putVariable(
            variable("run-1", 0, "color", `c${n}`),
            indexInfo([{ field: "color", key: `str:c${n}` }], spec),
          ),
        ];
        const check = async (n: number) => {
          expect((await store.getExternalEvent(TENANT, "run-1", "ev", "e1"))?.claimed).toBe(n % 2 === 1);
          expect(await timerDues([0])).toEqual({ "default/run-1/t1": 1_000 + n });
          expect(await store.loadTaskQueue([0])).toEqual([q]);
          expect((await store.listMetadata()).map((r) => bytesOf(r.bytes))).toEqual([[n]]);
          expect(await store.listPrincipals()).toEqual([principal("p", 1_000 + n)]);
          const hits = await store.searchVariables({
            tenant: TENANT,
            wfSpecName: "spec",
            field: "color",
            key: `str:c${n}`,
            limit: 10,
          });
          expect(hits.map((h) => h.name)).toEqual(["color"]);
        };
        // from nothing
        await store.commit(batch(1));
        await check(1);
        // over rows that exist
        await store.commit(batch(2));
        await check(2);
        expect(
          await store.searchVariables({
            tenant: TENANT,
            wfSpecName: "spec",
            field: "color",
            key: "str:c1",
            limit: 10,
          }),
        ).toEqual([]);
      });

      it("store: in one batch, an ExternalEvent deleted and put again under the same guid is the new one, creation time included", async () => {
        const old = externalEvent("run-1", "ev", "e1", { createdMs: 1_000 });
        const other = externalEvent("run-1", "ev", "e2", { createdMs: 2_000 });
        await store.commit([putExternalEvent(old), putExternalEvent(other)]);
        const renewed = externalEvent("run-1", "ev", "e1", { createdMs: 3_000, sub: 5 });
        await store.commit([deleteExternalEvent(old), putExternalEvent(renewed)]);
        expect(await store.getExternalEvent(TENANT, "run-1", "ev", "e1")).toEqual(renewed);
        const listed = await store.listExternalEvents(TENANT, "run-1", { limit: 10 });
        expect(listed.map((p) => p.position)).toEqual([
          { ms: 2_000, sub: 0, defName: "ev", guid: "e2" },
          { ms: 3_000, sub: 5, defName: "ev", guid: "e1" },
        ]);
        const found = await store.searchExternalEvents({
          tenant: TENANT,
          defName: "ev",
          earliestMs: 2_500,
          limit: 10,
        });
        expect(found.map((h) => [h.createdMs, h.guid])).toEqual([[3_000, "e1"]]);
      });

      it("store: deleteWfRun followed by puts for the same run in one batch keeps those puts; puts followed by deleteWfRun leave nothing", async () => {
        await store.commit([
          putWfRun(wfRun("run-1", { startMs: 1_000, endMs: 1_500 })),
          putNodeRun(nodeRun("run-1", 0, 0)),
          putNodeRun(nodeRun("run-1", 0, 1)),
          putTimer(timer("old", 1_000)),
        ]);
        // a new WfRun under the same key: another WfSpec and start time
        const fresh = wfRun("run-1", {
          spec: "spec-2",
          startMs: 7_000,
          status: LHStatus.COMPLETED,
          endMs: 8_000,
        });
        const freshNode = nodeRun("run-1", 0, 5, { status: LHStatus.COMPLETED });
        const freshTimer = timer("new", 3_000);
        await store.commit([
          deleteWfRun("run-1"),
          putWfRun(fresh),
          putNodeRun(freshNode),
          putTimer(freshTimer),
        ]);
        expect(await store.getWfRun(TENANT, "run-1")).toEqual(fresh);
        expect(await store.wfSpecNameOf(TENANT, "run-1")).toBe("spec-2");
        expect(
          await store.searchWfRuns({ tenant: TENANT, wfSpecName: "spec", variables: [], limit: 10 }),
        ).toEqual([]);
        expect(
          (await store.searchWfRuns({ tenant: TENANT, wfSpecName: "spec-2", variables: [], limit: 10 })).map(
            (h) => [h.startMs, h.wfRunKey],
          ),
        ).toEqual([[7_000, "run-1"]]);
        expect(decode(NodeRunSchema, await store.listNodeRuns(TENANT, "run-1", { limit: 10 }))).toEqual([
          freshNode,
        ]);
        expect(await store.loadTimers([0])).toEqual([freshTimer]);

        await store.commit([
          putWfRun(wfRun("run-2", { startMs: 1_000 })),
          putNodeRun(nodeRun("run-2", 0, 0)),
          putTaskRun(taskRun("run-2", "g1")),
          putVariable(variable("run-2", 0, "v", 1)),
          putTimer(timer("t", 1_000, { wfRunKey: "run-2" })),
          enqueue(queuedTask(0, "run-2", "g1")),
          deleteWfRun("run-2"),
        ]);
        expect(await store.getWfRun(TENANT, "run-2")).toBeUndefined();
        expect(await store.listNodeRuns(TENANT, "run-2", { limit: 10 })).toEqual([]);
        expect(await store.getTaskRun(TENANT, "run-2", "g1")).toBeUndefined();
        expect(await store.getVariable(TENANT, "run-2", 0, "v")).toBeUndefined();
        expect(await store.loadTaskQueue([0])).toEqual([]);
        expect(await store.loadTimers([0])).toEqual([freshTimer]);
        // run-1 untouched by run-2's delete
        expect(await store.getWfRun(TENANT, "run-1")).toEqual(fresh);
      });
    });

    // ---- search paging (B-SRCH-1…4) --------------------------------------------------------------------------

    describe("search paging", () => {
      const BASE = 1_700_000_000_000;

      it("B-SRCH-2: searchWfRuns pages through every match once, in (start time, key) order, by status, version, variables and time", async () => {
        interface Run {
          key: string;
          startMs: number;
          major: number;
          revision: number;
          status: LHStatus;
          color: string;
          size: string;
        }
        const N = 90;
        const model: Run[] = [];
        const ops: WriteOp[] = [];
        for (let i = 0; i < N; i++) {
          // keys in another order than start times; some child runs (parent_child keys)
          const base = `w${String((i * 37) % N).padStart(3, "0")}`;
          const key = i % 10 === 9 ? `${base}_c${i}` : base;
          const run: Run = {
            key,
            startMs: BASE + Math.floor(i / 4) * 1_000,
            major: 1 + (i % 2),
            revision: i % 3 === 0 ? 1 : 0,
            status: i % 5 < 2 ? LHStatus.COMPLETED : LHStatus.RUNNING,
            color: i % 2 === 0 ? "red" : "blue",
            size: i % 3 === 0 ? "big" : "small",
          };
          model.push(run);
          const spec = { spec: "s", major: run.major, revision: run.revision, startMs: run.startMs };
          ops.push(putWfRun(wfRun(key, { ...spec, status: run.status })));
          ops.push(
            putVariable(
              variable(key, 0, "color", run.color),
              indexInfo([{ field: "color", key: `str:${run.color}` }], spec),
            ),
          );
          ops.push(
            putVariable(
              variable(key, 0, "size", run.size),
              indexInfo([{ field: "size", key: `str:${run.size}` }], spec),
            ),
          );
          // a thread-1 variable that would match: WfRun search looks at entrypoint variables only
          if (run.color === "blue")
            ops.push(
              putVariable(
                variable(key, 1, "color", "red"),
                indexInfo([{ field: "color", key: "str:red" }], spec),
              ),
            );
        }
        // not matching: another WfSpec, another tenant
        for (let i = 0; i < 15; i++) {
          const spec = { spec: "t", major: 1, revision: 1, startMs: BASE + i * 1_000 };
          ops.push(putWfRun(wfRun(`x${i}`, { ...spec, status: LHStatus.COMPLETED })));
          ops.push(
            putVariable(
              variable(`x${i}`, 0, "color", "red"),
              indexInfo([{ field: "color", key: "str:red" }], spec),
            ),
          );
          const own = { ...spec, spec: "s" };
          ops.push(putWfRun(wfRun(`y${i}`, { ...own, status: LHStatus.COMPLETED }), OTHER_TENANT));
          ops.push(
            putVariable(
              variable(`y${i}`, 0, "color", "red"),
              indexInfo([{ field: "color", key: "str:red" }], own),
              OTHER_TENANT,
            ),
          );
        }
        await store.commit(ops);

        type Q = Omit<Parameters<Store["searchWfRuns"]>[0], "tenant" | "wfSpecName" | "limit" | "after">;
        const cases: [Q, (r: Run) => boolean][] = [
          [{ variables: [] }, () => true],
          [{ variables: [], status: LHStatus.COMPLETED }, (r) => r.status === LHStatus.COMPLETED],
          [{ variables: [], major: 2 }, (r) => r.major === 2],
          [{ variables: [], major: 2, revision: 1 }, (r) => r.major === 2 && r.revision === 1],
          [
            { variables: [], major: 1, status: LHStatus.RUNNING },
            (r) => r.major === 1 && r.status === LHStatus.RUNNING,
          ],
          [
            { variables: [], major: 2, revision: 0, status: LHStatus.RUNNING },
            (r) => r.major === 2 && r.revision === 0 && r.status === LHStatus.RUNNING,
          ],
          [{ variables: [], revision: 1 }, (r) => r.revision === 1],
          [
            { variables: [], earliestMs: BASE + 5_000, latestMs: BASE + 15_000 },
            (r) => r.startMs >= BASE + 5_000 && r.startMs <= BASE + 15_000,
          ],
          [{ variables: [], earliestMs: BASE + 12_000 }, (r) => r.startMs >= BASE + 12_000],
          [{ variables: [], latestMs: BASE + 12_000 }, (r) => r.startMs <= BASE + 12_000],
          [
            { variables: [], status: LHStatus.RUNNING, earliestMs: BASE + 3_000, latestMs: BASE + 18_000 },
            (r) => r.status === LHStatus.RUNNING && r.startMs >= BASE + 3_000 && r.startMs <= BASE + 18_000,
          ],
          [{ variables: [{ field: "color", key: "str:red" }] }, (r) => r.color === "red"],
          [
            {
              variables: [
                { field: "color", key: "str:red" },
                { field: "size", key: "str:big" },
              ],
            },
            (r) => r.color === "red" && r.size === "big",
          ],
          [
            { variables: [{ field: "size", key: "str:small" }], status: LHStatus.COMPLETED },
            (r) => r.size === "small" && r.status === LHStatus.COMPLETED,
          ],
          [
            { variables: [{ field: "color", key: "str:red" }], major: 1, revision: 1 },
            (r) => r.color === "red" && r.major === 1 && r.revision === 1,
          ],
          [
            { variables: [{ field: "color", key: "str:blue" }], major: 2 },
            (r) => r.color === "blue" && r.major === 2,
          ],
          [
            {
              variables: [{ field: "size", key: "str:small" }],
              earliestMs: BASE + 4_000,
              latestMs: BASE + 16_000,
            },
            (r) => r.size === "small" && r.startMs >= BASE + 4_000 && r.startMs <= BASE + 16_000,
          ],
        ];
        for (const [q, matches] of cases) {
          const expected = model.filter(matches).sort(
            by(
              (r) => r.startMs,
              (r) => r.key,
            ),
          );
          expect(expected.length, JSON.stringify(q)).toBeGreaterThan(PAGE);
          const hits = await allPages(
            (after?: WfRunQuery["after"]) =>
              store.searchWfRuns({ tenant: TENANT, wfSpecName: "s", ...q, after, limit: PAGE }),
            (h) => ({ startMs: h.startMs, wfRunKey: h.wfRunKey }),
          );
          expect(
            hits.map((h) => [h.startMs, h.wfRunKey]),
            JSON.stringify(q),
          ).toEqual(expected.map((r) => [r.startMs, r.key]));
          for (const h of hits) expect(h.wfRunId).toEqual(wfRunIdOf(h.wfRunKey));
        }
      });

      it("B-SRCH-1: a WfRun search resumed after WfRuns were added sees those after the bookmark, none twice", async () => {
        const put = (key: string, startMs: number) => putWfRun(wfRun(key, { spec: "s", startMs }));
        await store.commit(
          Array.from({ length: 30 }, (_, i) => put(`r${String(i).padStart(2, "0")}`, BASE + i * 10)),
        );
        const first = await store.searchWfRuns({
          tenant: TENANT,
          wfSpecName: "s",
          variables: [],
          limit: PAGE,
        });
        const last = first[first.length - 1]!;
        // one before the bookmark (not seen again), one at its time with a greater key, one at the end
        await store.commit([put("a-early", BASE), put("r09z", last.startMs), put("z-late", BASE + 10_000)]);
        const rest = await allPages(
          (after?: WfRunQuery["after"]) =>
            store.searchWfRuns({
              tenant: TENANT,
              wfSpecName: "s",
              variables: [],
              after: after ?? { startMs: last.startMs, wfRunKey: last.wfRunKey },
              limit: PAGE,
            }),
          (h) => ({ startMs: h.startMs, wfRunKey: h.wfRunKey }),
        );
        const seen = [...first, ...rest].map((h) => h.wfRunKey);
        expect(seen).toEqual([
          ...Array.from({ length: 10 }, (_, i) => `r${String(i).padStart(2, "0")}`),
          "r09z",
          ...Array.from({ length: 20 }, (_, i) => `r${String(i + 10).padStart(2, "0")}`),
          "z-late",
        ]);
      });

      it("B-SRCH-3: searchVariables pages through every match once, in (start time, key, thread) order, by version", async () => {
        interface V {
          key: string;
          startMs: number;
          thread: number;
          major: number;
          revision: number;
        }
        const model: V[] = [];
        const ops: WriteOp[] = [];
        for (let i = 0; i < 60; i++) {
          const key = `v${String((i * 13) % 60).padStart(2, "0")}`;
          const spec = {
            spec: "s",
            major: i % 2,
            revision: i % 4 < 2 ? 0 : 1,
            startMs: BASE + Math.floor(i / 4) * 1_000,
          };
          ops.push(putWfRun(wfRun(key, spec)));
          for (const thread of i % 3 === 0 ? [0, 1, 3] : [0]) {
            const red = (i + thread) % 5 !== 0;
            ops.push(
              putVariable(
                variable(key, thread, "color", red ? "red" : "blue"),
                indexInfo([{ field: "color", key: red ? "str:red" : "str:blue" }], spec),
              ),
            );
            if (red)
              model.push({ key, startMs: spec.startMs, thread, major: spec.major, revision: spec.revision });
          }
          ops.push(
            putVariable(
              variable(key, 0, "other", "red"),
              indexInfo([{ field: "other", key: "str:red" }], spec),
            ),
          );
        }
        // same field and value in another WfSpec and tenant
        for (let i = 0; i < 10; i++) {
          const spec = { spec: "t", startMs: BASE + i };
          ops.push(
            putVariable(
              variable(`t${i}`, 0, "color", "red"),
              indexInfo([{ field: "color", key: "str:red" }], spec),
            ),
          );
          ops.push(
            putVariable(
              variable(`t${i}`, 0, "color", "red"),
              indexInfo([{ field: "color", key: "str:red" }], { ...spec, spec: "s" }),
              OTHER_TENANT,
            ),
          );
        }
        await store.commit(ops);
        const cases: [{ major?: number; revision?: number }, (v: V) => boolean][] = [
          [{}, () => true],
          [{ major: 0 }, (v) => v.major === 0],
          [{ major: 1, revision: 1 }, (v) => v.major === 1 && v.revision === 1],
        ];
        for (const [q, matches] of cases) {
          const expected = model.filter(matches).sort(
            by(
              (v) => v.startMs,
              (v) => v.key,
              (v) => v.thread,
            ),
          );
          expect(expected.length).toBeGreaterThan(PAGE);
          const hits = await allPages(
            (after?: VariableQuery["after"]) =>
              store.searchVariables({
                tenant: TENANT,
                wfSpecName: "s",
                field: "color",
                key: "str:red",
                ...q,
                after,
                limit: PAGE,
              }),
            (h) => ({ startMs: h.startMs, wfRunKey: h.wfRunKey, thread: h.thread }),
          );
          expect(hits).toEqual(
            expected.map((v) => ({
              startMs: v.startMs,
              wfRunKey: v.key,
              wfRunId: wfRunIdOf(v.key),
              thread: v.thread,
              name: "color",
            })),
          );
        }
      });

      it("B-SRCH-4: searchNodeRuns pages through every match once, in (arrival, key, thread, position) order, by type, status and time", async () => {
        interface N {
          key: string;
          thread: number;
          position: number;
          arrivalMs: number;
          type: NodeType;
          status: LHStatus;
        }
        const types: NodeType[] = ["task", "externalEvent", "task", "sleep"];
        const model: N[] = [];
        const ops: WriteOp[] = [];
        for (let r = 0; r < 30; r++) {
          const key = `n${String((r * 7) % 30).padStart(2, "0")}`;
          for (let thread = 0; thread < 2; thread++) {
            for (let position = 0; position < 4; position++) {
              const n: N = {
                key,
                thread,
                position,
                arrivalMs: BASE + Math.floor(r / 3) * 1_000 + position * 10,
                type: types[position],
                status: (r + position + thread) % 3 === 0 ? LHStatus.COMPLETED : LHStatus.RUNNING,
              };
              model.push(n);
              const built = nodeRun(key, thread, position, {
                type: n.type,
                status: n.status,
                arrivalMs: n.arrivalMs,
              });
              ops.push(putNodeRun(built));
              if (r < 5) ops.push(putNodeRun(built, OTHER_TENANT));
            }
          }
        }
        await store.commit(ops);
        const cases: [Omit<Parameters<Store["searchNodeRuns"]>[0], "tenant" | "limit" | "after">][] = [
          [{ nodeType: "task", status: LHStatus.RUNNING }],
          [{ nodeType: "task", status: LHStatus.COMPLETED }],
          [{ nodeType: "externalEvent", status: LHStatus.RUNNING }],
          [{ nodeType: "task", status: LHStatus.RUNNING, earliestMs: BASE + 2_010, latestMs: BASE + 8_010 }],
          [{ nodeType: "task", status: LHStatus.RUNNING, earliestMs: BASE + 4_020 }],
          [{ nodeType: "task", status: LHStatus.RUNNING, latestMs: BASE + 6_000 }],
        ];
        await expectEveryMatchOnce(
          cases.map(([q]) => q),
          model,
          {
            matches: (n, q) =>
              n.type === q.nodeType && (n.status as number) === q.status && inRange(n.arrivalMs, q),
            order: [(n) => n.arrivalMs, (n) => n.key, (n) => n.thread, (n) => n.position],
            hit: (n) => ({
              arrivalMs: n.arrivalMs,
              wfRunKey: n.key,
              wfRunId: wfRunIdOf(n.key),
              thread: n.thread,
              position: n.position,
            }),
            page: (q, after: NodeRunQuery["after"]) =>
              store.searchNodeRuns({ tenant: TENANT, ...q, after, limit: PAGE }),
            position: (h) => ({
              arrivalMs: h.arrivalMs,
              wfRunKey: h.wfRunKey,
              thread: h.thread,
              position: h.position,
            }),
          },
        );
        expect(
          await store.searchNodeRuns({
            tenant: TENANT,
            nodeType: "userTask",
            status: LHStatus.RUNNING,
            limit: 10,
          }),
        ).toEqual([]);
      });

      it("B-SRCH-4: searchTaskRuns pages through every match once, in (scheduled time, key, guid) order, with and without status and time", async () => {
        interface T {
          key: string;
          guid: string;
          scheduledMs: number;
          def: string;
          status: TaskStatus;
        }
        const statuses = [TaskStatus.TASK_SCHEDULED, TaskStatus.TASK_SUCCESS, TaskStatus.TASK_FAILED];
        const model: T[] = [];
        const ops: WriteOp[] = [];
        for (let i = 0; i < 80; i++) {
          const t: T = {
            key: `k${i % 7}`,
            guid: `g${String((i * 11) % 80).padStart(2, "0")}`,
            scheduledMs: BASE + Math.floor(i / 5) * 1_000,
            def: i % 4 === 3 ? "other" : "work",
            status: statuses[i % 3]!,
          };
          model.push(t);
          const built = taskRun(t.key, t.guid, { def: t.def, status: t.status, scheduledMs: t.scheduledMs });
          ops.push(putTaskRun(built));
          if (i < 10) ops.push(putTaskRun(built, OTHER_TENANT));
        }
        await store.commit(ops);
        const cases: Omit<
          Parameters<Store["searchTaskRuns"]>[0],
          "tenant" | "taskDefName" | "limit" | "after"
        >[] = [
          {},
          { status: TaskStatus.TASK_SUCCESS },
          { earliestMs: BASE + 3_000, latestMs: BASE + 11_000 },
          { status: TaskStatus.TASK_SCHEDULED, earliestMs: BASE + 1_000, latestMs: BASE + 14_000 },
          { latestMs: BASE + 9_000 },
        ];
        await expectEveryMatchOnce(cases, model, {
          matches: (t, q) =>
            t.def === "work" &&
            (q.status === undefined || (t.status as number) === q.status) &&
            inRange(t.scheduledMs, q),
          order: [(t) => t.scheduledMs, (t) => t.key, (t) => t.guid],
          hit: (t) => ({
            scheduledMs: t.scheduledMs,
            wfRunKey: t.key,
            wfRunId: wfRunIdOf(t.key),
            taskGuid: t.guid,
          }),
          page: (q, after: TaskRunQuery["after"]) =>
            store.searchTaskRuns({ tenant: TENANT, taskDefName: "work", ...q, after, limit: PAGE }),
          position: (h) => ({ scheduledMs: h.scheduledMs, wfRunKey: h.wfRunKey, taskGuid: h.taskGuid }),
        });
      });

      it("B-SRCH-4: searchExternalEvents pages through every match once, in (creation time, key, guid) order, with and without claimed and time", async () => {
        interface E {
          key: string;
          guid: string;
          createdMs: number;
          def: string;
          claimed: boolean;
        }
        const model: E[] = [];
        const ops: WriteOp[] = [];
        for (let i = 0; i < 70; i++) {
          const e: E = {
            key: `k${i % 6}`,
            guid: `e${String((i * 17) % 70).padStart(2, "0")}`,
            createdMs: BASE + Math.floor(i / 4) * 1_000,
            def: i % 5 === 4 ? "other" : "ev",
            claimed: i % 3 === 0,
          };
          model.push(e);
          const built = externalEvent(e.key, e.def, e.guid, {
            createdMs: e.createdMs,
            claimed: e.claimed,
            sub: i % 3,
          });
          ops.push(putExternalEvent(built));
          if (i < 10) ops.push(putExternalEvent(built, OTHER_TENANT));
        }
        await store.commit(ops);
        const cases: Omit<
          Parameters<Store["searchExternalEvents"]>[0],
          "tenant" | "defName" | "limit" | "after"
        >[] = [
          {},
          { claimed: true },
          { claimed: false },
          { earliestMs: BASE + 2_000, latestMs: BASE + 12_000 },
          { claimed: false, earliestMs: BASE + 1_000, latestMs: BASE + 14_000 },
        ];
        await expectEveryMatchOnce(cases, model, {
          matches: (e, q) =>
            e.def === "ev" && (q.claimed === undefined || e.claimed === q.claimed) && inRange(e.createdMs, q),
          order: [(e) => e.createdMs, (e) => e.key, (e) => e.guid],
          hit: (e) => ({ createdMs: e.createdMs, wfRunKey: e.key, wfRunId: wfRunIdOf(e.key), guid: e.guid }),
          page: (q, after: ExternalEventQuery["after"]) =>
            store.searchExternalEvents({ tenant: TENANT, defName: "ev", ...q, after, limit: PAGE }),
          position: (h) => ({ createdMs: h.createdMs, wfRunKey: h.wfRunKey, guid: h.guid }),
        });
      });

      it("B-SRCH-4: searchWorkflowEvents pages through every match of one def once, in (creation time, key, number) order, with and without time", async () => {
        interface E {
          key: string;
          def: string;
          number: number;
          createdMs: number;
        }
        const model: E[] = [];
        // a child WfRun's id is read from its stored WfRun
        const ops: WriteOp[] = [putWfRun(wfRun("k2_child"))];
        const thrown = new Map<string, number>();
        for (let i = 0; i < 80; i++) {
          // several WfRuns (one a child), two defs, several events of one millisecond
          const key = i % 7 === 6 ? "k2_child" : `k${(i * 5) % 7}`;
          const def = i % 4 === 3 ? "other" : "we";
          const number = thrown.get(`${key}/${def}`) ?? 0;
          thrown.set(`${key}/${def}`, number + 1);
          const e: E = { key, def, number, createdMs: BASE + Math.floor(i / 5) * 1_000 };
          model.push(e);
          const built = workflowEvent(key, def, number, e.createdMs);
          ops.push(putWorkflowEvent(built));
          if (i < 10) ops.push(putWorkflowEvent(built, OTHER_TENANT));
        }
        await store.commit(ops);
        const cases: Omit<WorkflowEventQuery, "tenant" | "defName" | "limit" | "after">[] = [
          {},
          { earliestMs: BASE + 2_000 },
          { latestMs: BASE + 9_000 },
          { earliestMs: BASE + 3_000, latestMs: BASE + 12_000 },
        ];
        await expectEveryMatchOnce(cases, model, {
          matches: (e, q) => e.def === "we" && inRange(e.createdMs, q),
          order: [(e) => e.createdMs, (e) => e.key, (e) => e.number],
          hit: (e) => ({
            createdMs: e.createdMs,
            wfRunKey: e.key,
            wfRunId: wfRunIdOf(e.key),
            number: e.number,
          }),
          page: (q, after: WorkflowEventQuery["after"]) =>
            store.searchWorkflowEvents({ tenant: TENANT, defName: "we", ...q, after, limit: PAGE }),
          position: (h) => ({ createdMs: h.createdMs, wfRunKey: h.wfRunKey, number: h.number }),
        });
        // the other def's events, and none of a def nobody threw
        const other = await store.searchWorkflowEvents({ tenant: TENANT, defName: "other", limit: 100 });
        expect(other).toHaveLength(model.filter((e) => e.def === "other").length);
        expect(await store.searchWorkflowEvents({ tenant: TENANT, defName: "none", limit: 100 })).toEqual([]);
        expect(
          await store.searchWorkflowEvents({ tenant: OTHER_TENANT, defName: "we", limit: 100 }),
        ).toHaveLength(model.slice(0, 10).filter((e) => e.def === "we").length);
      });

      it("B-UT-6: searchUserTaskRuns pages through every match once, in (scheduled time, key, guid) order, by each criterion and time", async () => {
        interface U {
          key: string;
          guid: string;
          scheduledMs: number;
          def: string;
          status: UserTaskRunStatus;
          userId?: string;
          userGroup?: string;
        }
        const statuses = [UserTaskRunStatus.UNASSIGNED, UserTaskRunStatus.ASSIGNED, UserTaskRunStatus.DONE];
        const model: U[] = [];
        const ops: WriteOp[] = [];
        for (let i = 0; i < 120; i++) {
          const u: U = {
            key: `k${i % 9}`,
            guid: `u${String((i * 7) % 120).padStart(3, "0")}`,
            scheduledMs: BASE + Math.floor(i / 4) * 1_000,
            def: Math.floor(i / 2) % 2 === 0 ? "approve" : "review",
            status: statuses[i % 3]!,
            userId: [undefined, "ann", "bob", "ann"][i % 4],
            userGroup: [undefined, "g1", "g2", "g1", "g2"][i % 5],
          };
          model.push(u);
          const built = userTaskRun(u.key, u.guid, u);
          ops.push(putUserTaskRun(built));
          if (i < 10) ops.push(putUserTaskRun(built, OTHER_TENANT));
        }
        await store.commit(ops);
        type Q = Omit<Parameters<Store["searchUserTaskRuns"]>[1], "limit" | "after">;
        const cases: Q[] = [
          {},
          { status: UserTaskRunStatus.ASSIGNED },
          { defName: "review" },
          { defName: "approve", status: UserTaskRunStatus.DONE },
          { userId: "ann" },
          { userId: "ann", status: UserTaskRunStatus.UNASSIGNED },
          { userGroup: "g2" },
          { userGroup: "g1", status: UserTaskRunStatus.DONE },
          { userId: "ann", defName: "approve" },
          { userGroup: "g1", defName: "review" },
          { earliestMs: BASE + 5_000, latestMs: BASE + 20_000 },
          { userId: "ann", earliestMs: BASE + 3_000 },
          { status: UserTaskRunStatus.UNASSIGNED, latestMs: BASE + 22_000 },
          { userGroup: "g2", earliestMs: BASE + 2_000, latestMs: BASE + 25_000 },
        ];
        for (const q of cases) {
          const expected = model
            .filter(
              (u) =>
                (q.status === undefined || (u.status as number) === q.status) &&
                (q.defName === undefined || u.def === q.defName) &&
                (q.userId === undefined || u.userId === q.userId) &&
                (q.userGroup === undefined || u.userGroup === q.userGroup) &&
                (q.earliestMs === undefined || u.scheduledMs >= q.earliestMs) &&
                (q.latestMs === undefined || u.scheduledMs <= q.latestMs),
            )
            .sort(
              by(
                (u) => u.scheduledMs,
                (u) => u.key,
                (u) => u.guid,
              ),
            );
          expect(expected.length, JSON.stringify(q)).toBeGreaterThan(PAGE);
          const hits = await allPages(
            (after?: UserTaskRunPosition) => store.searchUserTaskRuns(TENANT, { ...q, after, limit: PAGE }),
            (h) => h.position,
          );
          expect(
            hits.map((h) => h.position),
            JSON.stringify(q),
          ).toEqual(expected.map((u) => ({ scheduledMs: u.scheduledMs, wfRunKey: u.key, guid: u.guid })));
          for (const h of hits)
            expect(h.run).toEqual(
              userTaskRun(
                h.position.wfRunKey,
                h.position.guid,
                model.find((u) => u.guid === h.position.guid),
              ),
            );
        }
      });
    });

    // ---- list paging (B-SRCH-1) ------------------------------------------------------------------------------

    describe("list paging", () => {
      const BASE = 1_700_000_000_000;
      /** the listed run's neighbours: a key it prefixes, its child, the same key in another tenant */
      const neighbours: [string, string][] = [
        [TENANT, "run-10"],
        [TENANT, "run-1_child"],
        [OTHER_TENANT, "run-1"],
      ];
      /** writes `build(key)` for the listed run and each neighbour */
      const writeAll = async (build: (key: string) => WriteOp[]) => {
        const ops = build("run-1");
        for (const [t, key] of neighbours)
          for (const op of build(key)) ops.push({ ...op, tenant: t } as WriteOp);
        await store.commit(ops);
      };

      it("B-SRCH-1: listNodeRuns pages through every NodeRun once by (thread, position), also of one thread", async () => {
        const runs = (key: string) => {
          const out = [];
          for (let thread = 0; thread < 3; thread++)
            for (let position = 0; position < 12; position++)
              out.push(nodeRun(key, thread, position, { arrivalMs: BASE + 100 - position }));
          return out;
        };
        await writeAll((key) =>
          runs(key)
            .reverse()
            .map((n) => putNodeRun(n)),
        );
        const all = await allPages(
          (after?: NodeRunPosition) => store.listNodeRuns(TENANT, "run-1", { after, limit: PAGE }),
          (p) => p.position,
        );
        expect(all.map((p) => p.position)).toEqual(
          runs("run-1").map((n) => ({ thread: n.id!.threadRunNumber, position: n.id!.position })),
        );
        expect(decode(NodeRunSchema, all)).toEqual(runs("run-1"));
        for (const thread of [0, 1, 2]) {
          const ofThread = await allPages(
            (after?: NodeRunPosition) => store.listNodeRuns(TENANT, "run-1", { after, limit: 5, thread }),
            (p) => p.position,
            5,
          );
          expect(ofThread.map((p) => p.position)).toEqual(
            Array.from({ length: 12 }, (_, position) => ({ thread, position })),
          );
        }
      });

      it("B-SRCH-1: listVariables pages through every variable once by (thread, name), names in byte order", async () => {
        const names = ["B", "Z", "a", "a_b", "ab", "b", "zz", "é", "0", "A-1"];
        const vars = (key: string) => {
          const out = [];
          for (let thread = 0; thread < 3; thread++)
            for (const name of names) out.push(variable(key, thread, name, name));
          return out;
        };
        await writeAll((key) => vars(key).map((v) => putVariable(v)));
        const sortedNames = [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
        const expected = [0, 1, 2].flatMap((thread) => sortedNames.map((name) => ({ thread, name })));
        const all = await allPages(
          (after?: VariablePosition) => store.listVariables(TENANT, "run-1", { after, limit: 7 }),
          (p) => p.position,
          7,
        );
        expect(all.map((p) => p.position)).toEqual(expected);
        expect(decode(VariableSchema, all)).toEqual(
          expected.map((p) => variable("run-1", p.thread, p.name, p.name)),
        );
      });

      it("B-SRCH-1: listTaskRuns pages by (scheduled time, guid), unscheduled first; objects added after the bookmark show up later", async () => {
        const runs = (key: string) =>
          Array.from({ length: 25 }, (_, i) =>
            taskRun(key, `g${String((i * 7) % 25).padStart(2, "0")}`, {
              scheduledMs: i < 3 ? undefined : BASE + Math.floor(i / 3) * 1_000,
            }),
          );
        await writeAll((key) => runs(key).map((t) => putTaskRun(t)));
        const position = (t: ReturnType<typeof taskRun>) => ({
          ms: t.scheduledAt ? Number(t.scheduledAt.seconds) * 1_000 + t.scheduledAt.nanos / 1e6 : 0,
          guid: t.id!.taskGuid,
        });
        const expected = runs("run-1").sort(
          by(
            (t) => position(t).ms,
            (t) => position(t).guid,
          ),
        );
        const first = await store.listTaskRuns(TENANT, "run-1", { limit: PAGE });
        // added meanwhile: one before the bookmark (never seen), one after it
        const early = taskRun("run-1", "a-early", { scheduledMs: BASE - 5_000 });
        const late = taskRun("run-1", "z-late", { scheduledMs: BASE + 99_000 });
        await store.commit([putTaskRun(early), putTaskRun(late)]);
        const rest = await allPages(
          (after?: ScheduledPosition) =>
            store.listTaskRuns(TENANT, "run-1", {
              after: after ?? first[first.length - 1]!.position,
              limit: PAGE,
            }),
          (p) => p.position,
        );
        const all = [...first, ...rest];
        expect(all.map((p) => p.position)).toEqual([...expected, late].map(position));
        expect(decode(TaskRunSchema, all)).toEqual([...expected, late]);
      });

      it("B-SRCH-1: listExternalEvents pages by (creation time, sub-millisecond sequence, def name, guid)", async () => {
        const events = (key: string) =>
          Array.from({ length: 27 }, (_, i) =>
            externalEvent(key, i % 2 === 0 ? "b-def" : "a-def", `e${String((i * 5) % 27).padStart(2, "0")}`, {
              createdMs: BASE + Math.floor(i / 6) * 1_000,
              sub: (i * 7) % 4,
            }),
          );
        await writeAll((key) => events(key).map((e) => putExternalEvent(e)));
        const position = (e: ReturnType<typeof externalEvent>) => ({
          ms: Number(e.createdAt!.seconds) * 1_000 + Math.floor(e.createdAt!.nanos / 1e6),
          sub: e.createdAt!.nanos % 1_000_000,
          defName: e.id!.externalEventDefId!.name,
          guid: e.id!.guid,
        });
        const expected = events("run-1").sort(
          by(
            (e) => position(e).ms,
            (e) => position(e).sub,
            (e) => position(e).defName,
            (e) => position(e).guid,
          ),
        );
        const all = await allPages(
          (after?: EventPosition) => store.listExternalEvents(TENANT, "run-1", { after, limit: PAGE }),
          (p) => p.position,
        );
        expect(all.map((p) => p.position)).toEqual(expected.map(position));
        expect(decode(ExternalEventSchema, all)).toEqual(expected);
      });

      it("B-SRCH-1: listWorkflowEvents and listEncodedWorkflowEvents page by (creation time, def name, number); of one def by number", async () => {
        const events = (key: string) => [
          ...Array.from({ length: 14 }, (_, n) =>
            workflowEvent(key, "b", n, BASE + Math.floor(n / 2) * 1_000),
          ),
          ...Array.from({ length: 13 }, (_, n) =>
            workflowEvent(key, "a", n, BASE + Math.floor(n / 3) * 1_000),
          ),
        ];
        await writeAll((key) => events(key).map((e) => putWorkflowEvent(e)));
        const position = (e: ReturnType<typeof workflowEvent>) => ({
          ms: Number(e.createdAt!.seconds) * 1_000 + Math.floor(e.createdAt!.nanos / 1e6),
          defName: e.id!.workflowEventDefId!.name,
          number: e.id!.number,
        });
        const expected = events("run-1").sort(
          by(
            (e) => position(e).ms,
            (e) => position(e).defName,
            (e) => position(e).number,
          ),
        );
        const all = await allPages(
          (after?: WorkflowEventPosition) =>
            store.listWorkflowEvents(TENANT, "run-1", { after, limit: PAGE }),
          (p) => p.position,
        );
        expect(all.map((p) => p.position)).toEqual(expected.map(position));
        expect(all.map((p) => p.item)).toEqual(expected);
        // the same pages as stored bytes (ListWorkflowEvents)
        const encoded = await allPages(
          (after?: WorkflowEventPosition) =>
            store.listEncodedWorkflowEvents(TENANT, "run-1", { after, limit: PAGE }),
          (p) => p.position,
        );
        expect(encoded.map((p) => p.position)).toEqual(expected.map(position));
        expect(decode(WorkflowEventSchema, encoded)).toEqual(expected);
        for (const [defName, count] of [
          ["a", 13],
          ["b", 14],
        ] as const) {
          const ofDef = await allPages(
            (after?: WorkflowEventPosition) =>
              store.listWorkflowEvents(TENANT, "run-1", { after, limit: 4, defName }),
            (p) => p.position,
            4,
          );
          expect(ofDef.map((p) => p.item)).toEqual(
            Array.from({ length: count }, (_, n) =>
              events("run-1").find((e) => position(e).defName === defName && position(e).number === n),
            ),
          );
        }
      });

      it("B-SRCH-1: listUserTaskRuns pages by (scheduled time, guid), unscheduled first", async () => {
        const runs = (key: string) =>
          Array.from({ length: 25 }, (_, i) =>
            userTaskRun(key, `u${String((i * 9) % 25).padStart(2, "0")}`, {
              scheduledMs: i < 2 ? undefined : BASE + Math.floor(i / 4) * 1_000,
            }),
          );
        await writeAll((key) => runs(key).map((u) => putUserTaskRun(u)));
        const position = (u: ReturnType<typeof userTaskRun>) => ({
          ms: u.scheduledTime ? Number(u.scheduledTime.seconds) * 1_000 + u.scheduledTime.nanos / 1e6 : 0,
          guid: u.id!.userTaskGuid,
        });
        const expected = runs("run-1").sort(
          by(
            (u) => position(u).ms,
            (u) => position(u).guid,
          ),
        );
        const all = await allPages(
          (after?: ScheduledPosition) => store.listUserTaskRuns(TENANT, "run-1", { after, limit: PAGE }),
          (p) => p.position,
        );
        expect(all.map((p) => p.position)).toEqual(expected.map(position));
        expect(decode(UserTaskRunSchema, all)).toEqual(expected);
      });

      it("B-SRCH-1: long pages (more rows than a store reads at a time) hold every object once", async () => {
        const n = 230;
        const ops: WriteOp[] = [];
        for (let i = 0; i < n; i++) {
          const guid = `g${String(i).padStart(3, "0")}`;
          ops.push(putNodeRun(nodeRun("run-1", i % 2, Math.floor(i / 2))));
          ops.push(putVariable(variable("run-1", i % 2, `v${String(i).padStart(3, "0")}`, i)));
          ops.push(putTaskRun(taskRun("run-1", guid, { scheduledMs: BASE + Math.floor(i / 7) })));
          ops.push(
            putExternalEvent(externalEvent("run-1", "ev", guid, { createdMs: BASE + Math.floor(i / 7) })),
          );
          ops.push(putUserTaskRun(userTaskRun("run-1", guid, { scheduledMs: BASE + Math.floor(i / 7) })));
        }
        await store.commit(ops);
        const limit = 150;
        const count = async <P>(read: (after?: P) => Promise<{ position: P }[]>) => {
          const all = await allPages(read, (p) => p.position, limit);
          return new Set(all.map((p) => JSON.stringify(p.position))).size === all.length ? all.length : -1;
        };
        expect(
          await count((after?: NodeRunPosition) => store.listNodeRuns(TENANT, "run-1", { after, limit })),
        ).toBe(n);
        expect(
          await count((after?: NodeRunPosition) =>
            store.listNodeRuns(TENANT, "run-1", { after, limit, thread: 1 }),
          ),
        ).toBe(n / 2);
        expect(
          await count((after?: VariablePosition) => store.listVariables(TENANT, "run-1", { after, limit })),
        ).toBe(n);
        expect(
          await count((after?: ScheduledPosition) => store.listTaskRuns(TENANT, "run-1", { after, limit })),
        ).toBe(n);
        expect(
          await count((after?: EventPosition) => store.listExternalEvents(TENANT, "run-1", { after, limit })),
        ).toBe(n);
        expect(
          await count((after?: ScheduledPosition) =>
            store.listUserTaskRuns(TENANT, "run-1", { after, limit }),
          ),
        ).toBe(n);
        const first = await store.listTaskRuns(TENANT, "run-1", { limit });
        expect(first).toHaveLength(limit);
        expect(first.map((p) => p.position.guid)).toEqual(
          Array.from({ length: limit }, (_, i) => `g${String(i).padStart(3, "0")}`),
        );
      });
    });

    // ---- partitions, fencing, servers (ClusterStore) ---------------------------------------------------------

    describe("partitions and fencing", () => {
      const epochs = (...pairs: [number, number][]) => new Map(pairs);

      it("store: initPartitions fixes the partition count once; listPartitions lists them, free", async () => {
        expect(await store.initPartitions(8)).toBe(8);
        expect(await store.initPartitions(4)).toBe(8);
        expect(await store.initPartitions(16)).toBe(8);
        const parts = await store.listPartitions();
        expect(parts.map((p) => p.part)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
        for (const p of parts) {
          expect(p.owner).toBe("");
          expect(p.epoch).toBe(0);
          expect(p.leaseLeftMs).toBeLessThanOrEqual(0);
        }
      });

      it("store: acquirePartition takes a free partition, or one whose lease ran out, at the next epoch", async () => {
        await store.initPartitions(8);
        // 3 with a short lease (~50 ms), 4 with a long one
        expect(await store.acquirePartition(3, "a", 50)).toBe(1);
        expect(await store.acquirePartition(4, "a", 60_000)).toBe(1);
        expect(await store.acquirePartition(4, "b", 60_000)).toBeUndefined();
        const held = (await store.listPartitions()).find((p) => p.part === 4)!;
        expect(held.owner).toBe("a");
        expect(held.epoch).toBe(1);
        expect(held.leaseLeftMs).toBeGreaterThan(50_000);
        expect(held.leaseLeftMs).toBeLessThanOrEqual(60_000);
        await sleep(100);
        const ranOut = (await store.listPartitions()).find((p) => p.part === 3)!;
        expect(ranOut).toMatchObject({ owner: "a", epoch: 1 });
        expect(ranOut.leaseLeftMs).toBeLessThanOrEqual(0);
        expect(await store.acquirePartition(3, "b", 60_000)).toBe(2);
        expect(await store.acquirePartition(4, "b", 60_000)).toBeUndefined();
        const after = await store.listPartitions();
        expect(after.find((p) => p.part === 3)).toMatchObject({ owner: "b", epoch: 2 });
        expect(after.find((p) => p.part === 4)).toMatchObject({ owner: "a", epoch: 1 });
        expect(after.filter((p) => p.owner === "")).toHaveLength(6);
        // the same server (a former run of it) takes its live partition again, at the next epoch
        expect(await store.acquirePartition(4, "a", 60_000)).toBe(2);
        expect((await store.listPartitions()).find((p) => p.part === 4)).toMatchObject({
          owner: "a",
          epoch: 2,
        });
      });

      it("store: a commit fenced with an epoch its committer no longer holds fails with FencedError and stores nothing", async () => {
        await store.initPartitions(8);
        expect(await store.acquirePartition(3, "a", 50)).toBe(1);
        expect(await store.acquirePartition(5, "a", 60_000)).toBe(1);
        await store.commit([putTimer(timer("by-a", 1, { part: 3 }))], {
          owner: "a",
          epochs: epochs([3, 1], [5, 1]),
        });
        await sleep(100);
        expect(await store.acquirePartition(3, "b", 60_000)).toBe(2);

        const stale = await settle(
          store.commit(
            [putTimer(timer("stale", 2, { part: 3 })), putWfRun(wfRun("run-stale")), putTenant(tenant("t"))],
            {
              owner: "a",
              epochs: epochs([3, 1], [5, 1]),
            },
          ),
        );
        expect(stale.ok).toBe(false);
        const error = !stale.ok ? stale.error : undefined;
        expect(error).toBeInstanceOf(FencedError);
        expect((error as FencedError).parts).toEqual([3]);
        expect(await timerDues([3])).toEqual({ "default/run-1/by-a": 1 });
        expect(await store.getWfRun(TENANT, "run-stale")).toBeUndefined();
        expect(await store.listTenants()).toEqual([]);
        // a failed batch: later ones fail too until resetAfterFailure
        expect((await settle(store.commit([putTimer(timer("unfenced", 3))]))).ok).toBe(false);
        await store.resetAfterFailure();

        // the right epoch but not the owner
        const wrongOwner = await settle(
          store.commit([putTimer(timer("wrong-owner", 2, { part: 3 }))], {
            owner: "a",
            epochs: epochs([3, 2]),
          }),
        );
        expect(!wrongOwner.ok && wrongOwner.error).toBeInstanceOf(FencedError);
        await store.resetAfterFailure();

        await store.commit([putTimer(timer("by-b", 3, { part: 3 })), putWfRun(wfRun("run-b"))], {
          owner: "b",
          epochs: epochs([3, 2]),
        });
        expect(await timerDues([3])).toEqual({ "default/run-1/by-a": 1, "default/run-1/by-b": 3 });
        expect(await store.getWfRun(TENANT, "run-b")).toBeDefined();
        // a's other partition is still a's
        await store.commit([putTimer(timer("a-again", 4, { part: 5 }))], {
          owner: "a",
          epochs: epochs([5, 1]),
        });
        expect(await timerDues([5])).toEqual({ "default/run-1/a-again": 4 });
      });

      it("store: of batches handed in together, those before a fenced one commit; it and every later one fail, storing nothing", async () => {
        await store.initPartitions(8);
        expect(await store.acquirePartition(3, "a", 50)).toBe(1);
        expect(await store.acquirePartition(5, "a", 60_000)).toBe(1);
        await sleep(100);
        expect(await store.acquirePartition(3, "b", 60_000)).toBe(2);
        const held = { owner: "a", epochs: epochs([5, 1]) };
        // none awaited before the next is handed in: the later ones queue behind the first
        const results = await Promise.all([
          settle(store.commit([putTimer(timer("first", 1, { part: 5 }))], held)),
          settle(store.commit([putTimer(timer("second", 2, { part: 5 })), putWfRun(wfRun("run-2"))], held)),
          settle(
            store.commit([putTimer(timer("lost", 3, { part: 3 })), putWfRun(wfRun("run-3"))], {
              owner: "a",
              epochs: epochs([3, 1], [5, 1]),
            }),
          ),
          settle(store.commit([putTimer(timer("after", 4, { part: 5 })), putWfRun(wfRun("run-4"))], held)),
        ]);
        expect(results.map((r) => r.ok)).toEqual([true, true, false, false]);
        const error = !results[2].ok ? results[2].error : undefined;
        expect(error).toBeInstanceOf(FencedError);
        expect((error as FencedError).parts).toEqual([3]);
        expect(await timerDues([3, 5])).toEqual({ "default/run-1/first": 1, "default/run-1/second": 2 });
        expect(await store.getWfRun(TENANT, "run-2")).toBeDefined();
        expect(await store.getWfRun(TENANT, "run-3")).toBeUndefined();
        expect(await store.getWfRun(TENANT, "run-4")).toBeUndefined();
        await store.resetAfterFailure();
        await store.commit([putTimer(timer("again", 5, { part: 5 }))], held);
        expect(await timerDues([5])).toEqual({
          "default/run-1/first": 1,
          "default/run-1/second": 2,
          "default/run-1/again": 5,
        });
      });

      it("store: a batch creating a WfRun stored already fails with WfRunExistsError naming it, and stores nothing", async () => {
        const created = (key: string, startMs = 1_000): WriteOp => {
          const w = wfRun(key, { startMs });
          return { op: "putWfRun", tenant: TENANT, wfRunKey: key, wfRun: w, created: true };
        };
        await store.commit([created("run-a"), putTimer(timer("a", 1))]);
        // created twice: in a later batch, and in a batch of its own once it is stored
        const results = await Promise.all([
          settle(store.commit([created("run-b")])),
          settle(store.commit([created("run-c"), created("run-a", 2_000), putTimer(timer("x", 2))])),
          settle(store.commit([created("run-d")])),
        ]);
        expect(results.map((r) => r.ok)).toEqual([true, false, false]);
        const error = !results[1].ok ? results[1].error : undefined;
        expect(error).toBeInstanceOf(WfRunExistsError);
        expect((error as WfRunExistsError).wfRuns).toEqual([{ tenant: TENANT, key: "run-a" }]);
        await store.flushed();
        expect(await timerDues([0])).toEqual({ "default/run-1/a": 1 });
        expect(await store.getWfRun(TENANT, "run-b")).toBeDefined();
        expect(await store.getWfRun(TENANT, "run-c")).toBeUndefined();
        expect(await store.getWfRun(TENANT, "run-d")).toBeUndefined();
        expect(await store.getWfRun(TENANT, "run-a")).toMatchObject({ id: { id: "run-a" } });

        await store.resetAfterFailure();
        // the same WfRun put again (not created) is an update, as before
        await store.commit([putWfRun(wfRun("run-a", { startMs: 3_000 })), created("run-e")]);
        expect(await store.getWfRun(TENANT, "run-e")).toBeDefined();
        // a batch that also deletes a WfRun (its statements run one by one) is checked the same way
        const withDelete = await settle(
          store.commit([{ op: "deleteWfRun", tenant: TENANT, wfRunKey: "run-b" }, created("run-e")]),
        );
        expect(!withDelete.ok && withDelete.error).toBeInstanceOf(WfRunExistsError);
        expect(await store.getWfRun(TENANT, "run-b")).toBeDefined();
        await store.resetAfterFailure();
      });

      it("store: an empty batch writes nothing, so it is not fenced: it resolves even with an epoch its committer no longer holds", async () => {
        await store.initPartitions(8);
        expect(await store.acquirePartition(2, "a", 50)).toBe(1);
        await store.commit([], { owner: "a", epochs: epochs([2, 1]) });
        await sleep(100);
        expect(await store.acquirePartition(2, "b", 60_000)).toBe(2);
        await store.commit([], { owner: "a", epochs: epochs([2, 1]) });
        // and it is no failed batch: later ones commit
        await store.commit([putTimer(timer("t", 1, { part: 2 }))], { owner: "b", epochs: epochs([2, 2]) });
        expect(await timerDues([2])).toEqual({ "default/run-1/t": 1 });
      });

      it("store: a FencedError names every fenced partition the committer no longer holds, and only those", async () => {
        await store.initPartitions(8);
        for (const part of [1, 4, 6]) expect(await store.acquirePartition(part, "a", 50)).toBe(1);
        expect(await store.acquirePartition(2, "a", 60_000)).toBe(1);
        await sleep(100);
        expect(await store.acquirePartition(4, "b", 60_000)).toBe(2);
        expect(await store.acquirePartition(6, "b", 60_000)).toBe(2);
        // 1 ran out but nobody took it: still a's at epoch 1
        const stale = await settle(
          store.commit([putTimer(timer("t", 1, { part: 4 }))], {
            owner: "a",
            epochs: epochs([1, 1], [2, 1], [4, 1], [6, 1]),
          }),
        );
        expect(!stale.ok && stale.error).toBeInstanceOf(FencedError);
        expect(!stale.ok && [...(stale.error as FencedError).parts].sort()).toEqual([4, 6]);
        expect(await store.loadTimers([4])).toEqual([]);
      });

      it("store: renewPartitions extends only the leases still held; releasePartitions lets another server acquire at once", async () => {
        await store.initPartitions(8);
        expect(await store.acquirePartition(1, "a", 60_000)).toBe(1);
        expect(await store.acquirePartition(2, "a", 50)).toBe(1);
        expect(await store.acquirePartition(3, "a", 50)).toBe(1);
        // renewing 2 in time keeps it; 3 runs out
        expect((await store.renewPartitions("a", epochs([2, 1]), 60_000)).sort()).toEqual([2]);
        await sleep(100);
        expect(await store.acquirePartition(2, "b", 60_000)).toBeUndefined();
        expect(await store.acquirePartition(3, "b", 60_000)).toBe(2);
        expect((await store.renewPartitions("a", epochs([1, 1], [2, 1], [3, 1]), 60_000)).sort()).toEqual([
          1, 2,
        ]);
        expect(await store.renewPartitions("a", epochs([1, 2]), 60_000)).toEqual([]);
        expect(await store.renewPartitions("z", epochs([1, 1]), 60_000)).toEqual([]);
        expect(await store.renewPartitions("b", epochs([3, 2]), 60_000)).toEqual([3]);

        await store.releasePartitions("b", epochs([3, 2]));
        const released = (await store.listPartitions()).find((p) => p.part === 3)!;
        expect(released.owner).toBe("");
        expect(await store.acquirePartition(3, "c", 60_000)).toBe(3);
        // a stale owner's release changes nothing
        await store.releasePartitions("b", epochs([3, 2]));
        await store.releasePartitions("a", epochs([3, 1], [1, 7]));
        expect(await store.acquirePartition(3, "d", 60_000)).toBeUndefined();
        expect(await store.acquirePartition(1, "d", 60_000)).toBeUndefined();
        expect((await store.listPartitions()).find((p) => p.part === 3)).toMatchObject({
          owner: "c",
          epoch: 3,
        });
        expect(await store.renewPartitions("b", epochs([3, 2]), 60_000)).toEqual([]);
      });

      it("store: putServer announces a server or renews its heartbeat; listServers and deleteServer", async () => {
        await store.putServer({ id: "s2", address: "h2:2023", internalAddress: "h2:2024", stopping: false });
        await store.putServer({ id: "s1", address: "h1:2023", internalAddress: "h1:2024", stopping: true });
        const sorted = async () => [...(await store.listServers())].sort(by((s) => s.id));
        let servers = await sorted();
        expect(servers.map(({ heartbeatAgeMs: _, ...s }) => s)).toEqual([
          { id: "s1", address: "h1:2023", internalAddress: "h1:2024", stopping: true },
          { id: "s2", address: "h2:2023", internalAddress: "h2:2024", stopping: false },
        ]);
        for (const s of servers) {
          expect(s.heartbeatAgeMs).toBeGreaterThanOrEqual(0);
          expect(s.heartbeatAgeMs).toBeLessThan(5_000);
        }
        await sleep(60);
        await store.putServer({ id: "s1", address: "h1:3000", internalAddress: "h1:3001", stopping: false });
        servers = await sorted();
        expect(servers.map(({ heartbeatAgeMs: _, ...s }) => s)).toEqual([
          { id: "s1", address: "h1:3000", internalAddress: "h1:3001", stopping: false },
          { id: "s2", address: "h2:2023", internalAddress: "h2:2024", stopping: false },
        ]);
        expect(servers[1]!.heartbeatAgeMs).toBeGreaterThanOrEqual(40);
        expect(servers[0]!.heartbeatAgeMs).toBeLessThan(servers[1]!.heartbeatAgeMs);
        await store.deleteServer("s2");
        await store.deleteServer("nobody");
        expect((await store.listServers()).map((s) => s.id)).toEqual(["s1"]);
      });

      it("store: metadataVersion goes up with each commit that changes metadata, tenants or principals, and only then", async () => {
        const v0 = await store.metadataVersion();
        await store.commit([
          putWfRun(wfRun("run-1", { startMs: 1_000 })),
          putNodeRun(nodeRun("run-1", 0, 0)),
          putTimer(timer("t", 1)),
          enqueue(queuedTask(0, "run-1", "g1")),
          addMetrics(metricsDelta(0, { scheduled: 1 })),
        ]);
        await store.commit([]);
        expect(await store.metadataVersion()).toBe(v0);
        let last = v0;
        const bumps: WriteOp[][] = [
          [putMetadata(metadataRow("task_def", "work")), putWfRun(wfRun("run-2"))],
          [putTenant(tenant("t"))],
          [putPrincipal(principal("p"))],
          [deletePrincipal("p")],
          [deleteMetadata(metadataRow("task_def", "work"))],
        ];
        for (const ops of bumps) {
          await store.commit(ops);
          const v = await store.metadataVersion();
          expect(v, ops[0]!.op).toBeGreaterThan(last);
          last = v;
          await store.commit([putWfRun(wfRun("run-1", { startMs: 1_000, status: LHStatus.COMPLETED }))]);
          expect(await store.metadataVersion()).toBe(last);
        }
        const stop = store.onAnnouncement(() => undefined);
        expect(typeof stop).toBe("function");
        stop();
        await store.announce("metadata");
      });
    });
  });
}

// ---- the stores -----------------------------------------------------------------------------------------------

const sqliteDirs = new Map<Store, string>();

conformance(
  "SQLite store",
  async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pony-conformance-"));
    const store = new SqliteStore(dir);
    sqliteDirs.set(store, dir);
    return store;
  },
  async (store) => {
    await store.close();
    fs.rmSync(sqliteDirs.get(store)!, { recursive: true, force: true });
    sqliteDirs.delete(store);
  },
);

let postgres: ThrowawayPostgres | undefined;

conformance(
  "PostgreSQL store",
  async () => PgStore.open(await postgres!.createDatabase()),
  (store) => store.close(),
  {
    beforeAll: async () => {
      postgres = await startThrowawayPostgres({ fsync: false });
    },
    afterAll: async () => {
      await postgres?.stop();
    },
  },
);
