/**
 * Black-box tests of retention through gRPC: ExternalEventRetentionPolicy deletes unclaimed ExternalEvents
 * `seconds_after_put` (B-EVT-4); WorkflowRetentionPolicy deletes a terminated WfRun and everything under it
 * `seconds_after_wf_termination` after it ended (B-EVT-7). Both timers survive a restart.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server";
import { grpcStatus, type Msg, type TestClient } from "../support/client";
import {
  entry,
  exit,
  lit,
  str,
  taskDef,
  taskNode,
  thread,
  varDef,
  varRef,
  wfSpec,
  type NodeDef,
} from "../support/specs";
import { startRawWorker } from "../support/worker";
import { waitFor } from "../support/wait";

let ts: TestServer;
let c: TestClient;

const eventNode = (name: string, defName: string): NodeDef => ({
  name,
  node: { external_event: { external_event_def_id: { name: defName } } },
});

const put = (id: string, defName: string, extra: Msg = {}) =>
  c.call("PutExternalEvent", { wf_run_id: { id }, external_event_def_id: { name: defName }, ...extra });
const eventId = (id: string, defName: string, guid: string): Msg => ({
  wf_run_id: { id },
  external_event_def_id: { name: defName },
  guid,
});

async function waitGone(what: string, check: () => Promise<unknown>, timeoutMs = 10_000): Promise<void> {
  await waitFor(
    async () => {
      try {
        await check();
        return undefined;
      } catch (e) {
        const code = (e as { code?: number }).code;
        if (code === grpcStatus.NOT_FOUND) return true;
        throw e;
      }
    },
    timeoutMs,
    `${what} to be deleted`,
  );
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

// ENTRYPOINT → EXTERNAL_EVENT(rt-gate) → EXTERNAL_EVENT(rt-kept-2s → got) → EXIT
const GATED = "rt-gated";
// ENTRYPOINT → TASK(rt-task) → THROW_EVENT(rt-thrown) → EXTERNAL_EVENT(rt-go → got) → EXIT, deleted 1 s after it ends
const FULL = "rt-full";
// ENTRYPOINT → EXTERNAL_EVENT(rt-go) → EXIT with failure_def, deleted 1 s after it ends
const FAILING = "rt-failing";
// the same, deleted 3 s after it ends
const FAILING_3S = "rt-failing-3s";

beforeAll(async () => {
  ts = await startTestServer();
  c = ts.client();
  await c.call("PutExternalEventDef", { name: "rt-gate" });
  await c.call("PutExternalEventDef", { name: "rt-go" });
  await c.call("PutExternalEventDef", { name: "rt-stray" });
  await c.call("PutExternalEventDef", { name: "rt-kept-2s", retention_policy: { seconds_after_put: "2" } });
  await c.call("PutWorkflowEventDef", { name: "rt-thrown", type: "STR" });
  await c.call("PutTaskDef", taskDef("rt-task", [["x", "STR"]]));
  await c.call(
    "PutWfSpec",
    wfSpec(
      GATED,
      thread(
        [
          entry(),
          eventNode("1-gate-EXTERNAL_EVENT", "rt-gate"),
          {
            ...eventNode("2-kept-EXTERNAL_EVENT", "rt-kept-2s"),
            edges: [
              {
                sink_node_name: "3-exit-EXIT",
                variable_mutations: [{ lhs_name: "got", operation: "ASSIGN", node_output: {} }],
              },
            ],
          },
          exit("3-exit-EXIT"),
        ],
        [varDef("got", "STR")],
      ),
    ),
  );
  await c.call(
    "PutWfSpec",
    wfSpec(
      FULL,
      thread(
        [
          entry(),
          taskNode("1-task-TASK", "rt-task", [varRef("got")]),
          {
            name: "2-thrown-THROW_EVENT",
            node: { throw_event: { event_def_id: { name: "rt-thrown" }, content: lit(str("thrown")) } },
          },
          eventNode("3-go-EXTERNAL_EVENT", "rt-go"),
          exit("4-exit-EXIT"),
        ],
        [varDef("got", "STR", { default_value: str("x") })],
      ),
      { retention_policy: { seconds_after_wf_termination: "1" } },
    ),
  );
  await c.call(
    "PutWfSpec",
    wfSpec(
      FAILING,
      thread([
        entry(),
        eventNode("1-go-EXTERNAL_EVENT", "rt-go"),
        exit("2-exit-EXIT", { failure_name: "boom", message: "no" }),
      ]),
      { retention_policy: { seconds_after_wf_termination: "1" } },
    ),
  );
  await c.call(
    "PutWfSpec",
    wfSpec(
      FAILING_3S,
      thread([
        entry(),
        eventNode("1-go-EXTERNAL_EVENT", "rt-go"),
        exit("2-exit-EXIT", { failure_name: "boom", message: "no" }),
      ]),
      { retention_policy: { seconds_after_wf_termination: "3" } },
    ),
  );
});

afterAll(async () => {
  await ts.close();
});

describe("ExternalEventRetentionPolicy", () => {
  it("B-EVT-4 an unclaimed event is deleted seconds_after_put after it was put; a claimed one is kept", async () => {
    await c.call("RunWf", { wf_spec_name: GATED, id: "rt-evt" });
    const unclaimed = await put("rt-evt", "rt-kept-2s", { guid: "unclaimed", content: str("old") });
    // still there right after the put
    expect((await c.call("GetExternalEvent", eventId("rt-evt", "rt-kept-2s", "unclaimed"))).claimed).toBe(
      false,
    );
    await waitGone("the unclaimed event", () =>
      c.call("GetExternalEvent", eventId("rt-evt", "rt-kept-2s", "unclaimed")),
    );
    const goneAt = Date.now();
    expect(unclaimed.created_at).toBeTruthy();
    const listed = (await c.call("ListExternalEvents", { wf_run_id: { id: "rt-evt" } })).results as Msg[];
    expect(listed.map((e) => e.id.guid)).not.toContain("unclaimed");

    // the deleted event is not there to be claimed: the node waits for a new one
    await put("rt-evt", "rt-gate");
    expect((await c.call("GetWfRun", { id: "rt-evt" })).status).toBe("RUNNING");
    // its guid is free again: the same guid makes a new event, which the waiting node claims
    const again = await put("rt-evt", "rt-kept-2s", { guid: "unclaimed", content: str("new") });
    expect(again.content).toMatchObject({ str: "new" });
    expect((await c.call("GetWfRun", { id: "rt-evt" })).status).toBe("COMPLETED");
    expect(
      (await c.call("GetVariable", { wf_run_id: { id: "rt-evt" }, thread_run_number: 0, name: "got" })).value,
    ).toMatchObject({ str: "new" });
    // claimed events stay, past their retention
    await new Promise((r) => setTimeout(r, Math.max(0, goneAt + 2500 - Date.now())));
    expect(await c.call("GetExternalEvent", eventId("rt-evt", "rt-kept-2s", "unclaimed"))).toMatchObject({
      claimed: true,
      content: { str: "new" },
    });
  });

  it("B-EVT-4 events of a def without a retention policy are kept", async () => {
    await c.call("RunWf", { wf_spec_name: GATED, id: "rt-no-policy" });
    await put("rt-no-policy", "rt-stray", { guid: "stays" });
    await new Promise((r) => setTimeout(r, 2500));
    expect((await c.call("GetExternalEvent", eventId("rt-no-policy", "rt-stray", "stays"))).claimed).toBe(
      false,
    );
  });

  it("B-EVT-4 the retention timer survives a restart", async () => {
    await c.call("RunWf", { wf_spec_name: GATED, id: "rt-evt-restart" });
    await put("rt-evt-restart", "rt-kept-2s", { guid: "restart" });
    await ts.stop();
    ts = await startTestServer({ dataDir: ts.dataDir });
    c = ts.client();
    expect(
      (await c.call("GetExternalEvent", eventId("rt-evt-restart", "rt-kept-2s", "restart"))).claimed,
    ).toBe(false);
    await waitGone("the event", () =>
      c.call("GetExternalEvent", eventId("rt-evt-restart", "rt-kept-2s", "restart")),
    );
  });
});

describe("WorkflowRetentionPolicy", () => {
  it("B-EVT-7 a terminated WfRun and everything under it are deleted seconds_after_wf_termination after it ended", async () => {
    const worker = startRawWorker(c, "rt-task", () => ({ status: "TASK_SUCCESS", output: str("done") }));
    try {
      await c.call("RunWf", { wf_spec_name: FULL, id: "rt-full" });
      await waitFor(
        async () => {
          const n = await c.call("GetNodeRun", {
            wf_run_id: { id: "rt-full" },
            thread_run_number: 0,
            position: 3,
          });
          return n.status === "RUNNING" ? n : undefined;
        },
        10_000,
        "the run to wait for its event",
      );
    } finally {
      worker.stop();
    }
    await put("rt-full", "rt-stray", { guid: "stray" });
    // running WfRuns are never deleted, however long they run
    await new Promise((r) => setTimeout(r, 1500));
    expect((await c.call("GetWfRun", { id: "rt-full" })).status).toBe("RUNNING");

    await put("rt-full", "rt-go", { guid: "go" });
    const done = await c.call("GetWfRun", { id: "rt-full" });
    expect(done.status).toBe("COMPLETED");
    const taskGuid = (await c.call("ListTaskRuns", { wf_run_id: { id: "rt-full" } })).results[0].id.task_guid;
    const wfRunId = { id: "rt-full" };

    await waitGone("the WfRun", () => c.call("GetWfRun", wfRunId));
    expect((await c.fail("GetNodeRun", { wf_run_id: wfRunId, thread_run_number: 0, position: 1 })).code).toBe(
      "NOT_FOUND",
    );
    expect((await c.fail("ListNodeRuns", { wf_run_id: wfRunId })).code).toBe("NOT_FOUND");
    expect((await c.fail("GetTaskRun", { wf_run_id: wfRunId, task_guid: taskGuid })).code).toBe("NOT_FOUND");
    expect((await c.fail("ListTaskRuns", { wf_run_id: wfRunId })).code).toBe("NOT_FOUND");
    expect(
      (await c.fail("GetVariable", { wf_run_id: wfRunId, thread_run_number: 0, name: "got" })).code,
    ).toBe("NOT_FOUND");
    expect((await c.fail("ListVariables", { wf_run_id: wfRunId })).code).toBe("NOT_FOUND");
    expect((await c.fail("GetExternalEvent", eventId("rt-full", "rt-go", "go"))).code).toBe("NOT_FOUND");
    expect((await c.fail("GetExternalEvent", eventId("rt-full", "rt-stray", "stray"))).code).toBe(
      "NOT_FOUND",
    );
    expect((await c.fail("ListExternalEvents", { wf_run_id: wfRunId })).code).toBe("NOT_FOUND");
    expect((await c.fail("AwaitWorkflowEvent", { wf_run_id: wfRunId })).code).toBe("NOT_FOUND");
    // no longer there to post to, even with a guid it had before
    expect(
      (
        await c.fail("PutExternalEvent", {
          wf_run_id: wfRunId,
          external_event_def_id: { name: "rt-go" },
          guid: "go",
        })
      ).code,
    ).toBe("NOT_FOUND");
    // and the id is free for a new run, which starts from scratch
    const fresh = await c.call("RunWf", { wf_spec_name: GATED, id: "rt-full" });
    expect(fresh.status).toBe("RUNNING");
    expect((await c.call("ListExternalEvents", { wf_run_id: wfRunId })).results).toEqual([]);
  });

  it("B-EVT-7 a WfRun that ended in ERROR or EXCEPTION is deleted too", async () => {
    await c.call("RunWf", { wf_spec_name: FAILING, id: "rt-failed" });
    await put("rt-failed", "rt-go");
    const failed = await waitStatus("rt-failed", "EXCEPTION");
    expect(failed.end_time).toBeTruthy();
    await waitGone("the failed WfRun", () => c.call("GetWfRun", { id: "rt-failed" }));
    expect((await c.fail("ListNodeRuns", { wf_run_id: { id: "rt-failed" } })).code).toBe("NOT_FOUND");
  });

  it("B-EVT-7 a HALTED WfRun is not terminated and is kept", async () => {
    await c.call("RunWf", { wf_spec_name: FAILING, id: "rt-halted" });
    await c.call("StopWfRun", { wf_run_id: { id: "rt-halted" }, thread_run_number: 0 });
    await new Promise((r) => setTimeout(r, 1500));
    expect((await c.call("GetWfRun", { id: "rt-halted" })).status).toBe("HALTED");
  });

  it("B-EVT-7 the deletion timer survives a restart", async () => {
    await c.call("RunWf", { wf_spec_name: FAILING_3S, id: "rt-restart" });
    await put("rt-restart", "rt-go");
    await ts.stop();
    ts = await startTestServer({ dataDir: ts.dataDir });
    c = ts.client();
    expect((await c.call("GetWfRun", { id: "rt-restart" })).status).toBe("EXCEPTION");
    await waitGone("the WfRun", () => c.call("GetWfRun", { id: "rt-restart" }));
    expect((await c.fail("ListExternalEvents", { wf_run_id: { id: "rt-restart" } })).code).toBe("NOT_FOUND");
  });
});
