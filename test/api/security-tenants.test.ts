/**
 * B-SEC-1 tenants: PutTenant / GetTenant / SearchTenant, the `default` tenant from the first start, an
 * unknown tenant refused, and isolation: from tenant B, no Get/List/Search/metrics RPC and no PollTask ever
 * shows tenant A's objects, while the same calls in A do.
 */
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server";
import type { Msg, TestClient } from "../support/client";
import { entry, exit, lit, str, taskDef, taskNode, thread, varDef, varRef, wfSpec } from "../support/specs";
import { firstPollOutcome, startRawWorker } from "../support/worker";
import { waitFor } from "../support/wait";

let ts: TestServer;
let root: TestClient;
let a: TestClient;
let b: TestClient;

const at = (ms: number): Msg => ({ seconds: String(Math.floor(ms / 1000)), nanos: 0 });

const isoWf = (name: string): Msg =>
  wfSpec(
    name,
    thread(
      [
        entry(),
        taskNode("1-task-TASK", "shared-task", [varRef("input")]),
        {
          name: "2-evt-EXTERNAL_EVENT",
          node: { external_event: { external_event_def_id: { name: "a-evt" } } },
        },
        {
          name: "3-ut-USER_TASK",
          node: { user_task: { user_task_def_name: "a-ut", user_id: lit(str("ann")) } },
        },
        exit("4-exit-EXIT"),
      ],
      [varDef("input", "STR", { searchable: true })],
    ),
  );

beforeAll(async () => {
  ts = await startTestServer();
  root = ts.client();
  await root.call("PutTenant", { id: "tenant-a" });
  await root.call("PutTenant", { id: "tenant-b" });
  a = ts.client("tenant-a");
  b = ts.client("tenant-b");
  for (const c of [a, b]) await c.call("PutTaskDef", taskDef("shared-task", [["input", "STR"]]));
  await a.call("PutTaskDef", taskDef("a-task"));
  await a.call("PutExternalEventDef", { name: "a-evt" });
  await a.call("PutUserTaskDef", {
    name: "a-ut",
    fields: [{ name: "ok", type: "BOOL", display_name: "OK" }],
  });
  await a.call("PutWfSpec", isoWf("a-wf"));
});

afterAll(async () => {
  await ts?.close();
});

describe("B-SEC-1 tenants", () => {
  it("B-SEC-1 the default tenant exists from the first start; tenants are created, read and listed", async () => {
    const def = await root.call("GetTenant", { id: "default" });
    expect(def.id.id).toBe("default");
    expect(Number(def.created_at.seconds)).toBeGreaterThan(0);
    const t = await root.call("PutTenant", { id: "tenant-c" });
    expect(t.id.id).toBe("tenant-c");
    expect(await root.call("GetTenant", { id: "tenant-c" })).toEqual(t);
    const ids = (await root.call("SearchTenant", {})).results.map((r: Msg) => r.id);
    expect(ids).toEqual(["default", "tenant-a", "tenant-b", "tenant-c"]);
    const first = await root.call("SearchTenant", { limit: 2 });
    expect(first.results.map((r: Msg) => r.id)).toEqual(["default", "tenant-a"]);
    const rest = await root.call("SearchTenant", { limit: 2, bookmark: first.bookmark });
    expect(rest.results.map((r: Msg) => r.id)).toEqual(["tenant-b", "tenant-c"]);
  });

  it("B-SEC-1 PutTenant refuses a duplicate and a bad id; GetTenant of an unknown id is NOT_FOUND", async () => {
    const dup = await root.fail("PutTenant", { id: "tenant-a" });
    expect(dup.code).toBe("ALREADY_EXISTS");
    expect(dup.message).toMatch(/tenant-a/);
    for (const id of ["", "has space", "-leading", "x".repeat(129), "a\u0000b"]) {
      const bad = await root.fail("PutTenant", { id });
      expect(bad.code, JSON.stringify(id)).toBe("INVALID_ARGUMENT");
    }
    const missing = await root.fail("GetTenant", { id: "nope" });
    expect(missing.code).toBe("NOT_FOUND");
    expect(missing.message).toMatch(/nope/);
  });

  it("B-SEC-1 a call naming an unknown tenant is refused, saying which, and creates nothing", async () => {
    const ghost = ts.client("ghost-tenant");
    const put = await ghost.fail("PutTaskDef", taskDef("ghost-task"));
    expect(put.code).toBe("NOT_FOUND");
    expect(put.message).toMatch(/tenant 'ghost-tenant' does not exist/);
    expect((await ghost.fail("GetWfRun", { id: "x" })).message).toMatch(/ghost-tenant/);
    expect((await root.call("SearchTenant", {})).results.map((r: Msg) => r.id)).not.toContain("ghost-tenant");
    // PollTask too
    const outcome = await firstPollOutcome(ghost, "shared-task", "ghost");
    expect(outcome.code).toBe("NOT_FOUND");
    expect(outcome.message).toMatch(/ghost-tenant/);
    // cluster-scoped calls do not depend on the header
    expect((await ghost.call("Whoami", {})).id.id).toBe("anonymous");
  });

  it("B-SEC-1 tenants survive a restart", async () => {
    const dataDir = ts.dataDir;
    const before = await root.call("GetTenant", { id: "tenant-b" });
    await ts.stop();
    ts = await startTestServer({ dataDir });
    root = ts.client();
    a = ts.client("tenant-a");
    b = ts.client("tenant-b");
    expect(await root.call("GetTenant", { id: "tenant-b" })).toEqual(before);
    expect((await b.call("GetTaskDef", { name: "shared-task" })).id.name).toBe("shared-task");
  });
});

describe("B-SEC-1 one tenant never sees another's objects", () => {
  it("B-SEC-1 PollTask in tenant B never receives tenant A's task of the same TaskDef name", async () => {
    const inB = startRawWorker(b, "shared-task", () => ({ status: "TASK_SUCCESS", output: str("from-b") }), {
      concurrency: 2,
    });
    try {
      await a.call("RunWf", { wf_spec_name: "a-wf", id: "iso-run", variables: { input: str("secret-a") } });
      await new Promise((r) => setTimeout(r, 700));
      expect(inB.received).toEqual([]);
      const inA = startRawWorker(a, "shared-task", () => ({ status: "TASK_SUCCESS", output: str("from-a") }));
      try {
        await waitFor(async () => {
          const nr = await a.call("GetNodeRun", {
            wf_run_id: { id: "iso-run" },
            thread_run_number: 0,
            position: 2,
          });
          return nr.external_event ? nr : undefined;
        });
      } finally {
        inA.stop();
      }
      expect(inB.received).toEqual([]);
    } finally {
      inB.stop();
    }
    await a.call("PutExternalEvent", {
      wf_run_id: { id: "iso-run" },
      external_event_def_id: { name: "a-evt" },
      guid: "evt-1",
      content: str("hello"),
    });
    await waitFor(async () => {
      const l = await a.call("ListUserTaskRuns", { wf_run_id: { id: "iso-run" } });
      return l.results.length > 0 ? l : undefined;
    });
  });

  it("B-SEC-1 every Get / List / Search / metrics RPC: A sees its objects, B sees none of them", async () => {
    const taskRunId = (await a.call("ListTaskRuns", { wf_run_id: { id: "iso-run" } })).results[0].id;
    const userTaskRunId = (await a.call("ListUserTaskRuns", { wf_run_id: { id: "iso-run" } })).results[0].id;
    const wfSpecId = (await a.call("GetLatestWfSpec", { name: "a-wf" })).id;
    const run = { id: "iso-run" };
    await a.call("RegisterTaskWorker", {
      task_def_id: { name: "shared-task" },
      task_worker_id: "test-worker-a",
    });
    type Check = [string, Msg, (res: Msg) => boolean];
    const has = (field: string) => (r: Msg) => (r[field]?.length ?? 0) > 0;
    const count = (field: string) => (r: Msg) => Number(r[field] ?? 0) > 0;
    const anyWindow = (field: string) => (r: Msg) => r.results.some((w: Msg) => Number(w[field] ?? 0) > 0);
    const found = () => true;
    const checks: Check[] = [
      ["GetTaskDef", { name: "a-task" }, found],
      ["GetExternalEventDef", { name: "a-evt" }, found],
      ["GetUserTaskDef", { name: "a-ut", version: 0 }, found],
      ["GetLatestUserTaskDef", { name: "a-ut" }, found],
      ["GetWfSpec", wfSpecId, found],
      ["GetLatestWfSpec", { name: "a-wf" }, found],
      ["GetWfRun", run, found],
      ["GetNodeRun", { wf_run_id: run, thread_run_number: 0, position: 1 }, found],
      ["GetTaskRun", taskRunId, found],
      ["GetVariable", { wf_run_id: run, thread_run_number: 0, name: "input" }, found],
      [
        "GetExternalEvent",
        { wf_run_id: run, external_event_def_id: { name: "a-evt" }, guid: "evt-1" },
        found,
      ],
      ["GetUserTaskRun", userTaskRunId, found],
      ["GetTaskWorkerGroup", { name: "shared-task" }, found],
      ["ListNodeRuns", { wf_run_id: run }, has("results")],
      ["ListTaskRuns", { wf_run_id: run }, has("results")],
      ["ListVariables", { wf_run_id: run }, has("results")],
      ["ListExternalEvents", { wf_run_id: run }, has("results")],
      ["ListUserTaskRuns", { wf_run_id: run }, has("results")],
      ["SearchTaskDef", { prefix: "a-" }, has("results")],
      ["SearchExternalEventDef", { prefix: "a-" }, has("results")],
      ["SearchUserTaskDef", { prefix: "a-" }, has("results")],
      ["SearchWfSpec", { prefix: "a-" }, has("results")],
      ["SearchWfRun", { wf_spec_name: "a-wf" }, has("results")],
      ["SearchNodeRun", { node_type: "TASK", status: "COMPLETED" }, has("results")],
      ["SearchTaskRun", { task_def_name: "shared-task" }, has("results")],
      ["SearchVariable", { wf_spec_name: "a-wf", var_name: "input", value: str("secret-a") }, has("results")],
      ["SearchExternalEvent", { external_event_def_id: { name: "a-evt" } }, has("results")],
      ["SearchUserTaskRun", { user_task_def_name: "a-ut" }, has("results")],
      ["SearchUserTaskRun", { user_id: "ann" }, has("results")],
      [
        "GetTaskDefMetricsWindow",
        { task_def_name: "shared-task", window_type: "DAYS_1", window_start: at(Date.now()) },
        count("total_completed"),
      ],
      [
        "ListTaskDefMetrics",
        {
          task_def_id: { name: "shared-task" },
          window_length: "DAYS_1",
          num_windows: 2,
          last_window_start: at(Date.now()),
        },
        anyWindow("total_completed"),
      ],
      [
        "GetWfSpecMetricsWindow",
        { wf_spec_id: wfSpecId, window_length: "DAYS_1", window_start: at(Date.now()) },
        count("total_started"),
      ],
      [
        "ListWfSpecMetrics",
        { wf_spec_id: wfSpecId, window_length: "DAYS_1", num_windows: 2, last_window_start: at(Date.now()) },
        anyWindow("total_started"),
      ],
    ];
    for (const [rpc, req, sees] of checks) {
      const inA = await a.call(rpc, req);
      expect(sees(inA), `${rpc} in tenant A shows A's object`).toBe(true);
      let inB: Msg | undefined;
      try {
        inB = await b.call(rpc, req);
      } catch (e) {
        const err = e as grpc.ServiceError;
        // not there: NOT_FOUND, or for a search naming a definition B does not have, INVALID_ARGUMENT
        expect(["NOT_FOUND", "INVALID_ARGUMENT"], `${rpc} in tenant B: ${err.details}`).toContain(
          grpc.status[err.code],
        );
        expect(err.details, rpc).toMatch(/not found|does not exist|no task worker/i);
        continue;
      }
      expect(sees(inB), `${rpc} in tenant B must not show A's object: ${JSON.stringify(inB)}`).toBe(false);
    }
  });
});
