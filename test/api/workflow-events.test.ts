/**
 * Black-box tests of THROW_EVENT nodes and AwaitWorkflowEvent through gRPC (B-EVT-6): numbering per def per
 * WfRun from 0, `event_def_ids` (empty = any), `workflow_events_to_ignore`, events thrown before or after
 * the call, the client's deadline, NOT_FOUND, and many concurrent awaiters.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server";
import { grpcStatus, type Msg, type TestClient } from "../support/client";
import {
  entry,
  exit,
  lit,
  str,
  thread,
  throwNode,
  varDef,
  varRef,
  wfSpec,
  workflowEventId as evId,
  type NodeDef,
} from "../support/specs";
import { waitFor } from "../support/wait";

let ts: TestServer;
let c: TestClient;

const tsMs = (t: Msg | undefined | null): number => Number(t!.seconds) * 1000 + Math.floor(t!.nanos / 1e6);

const waitNode = (name: string, defName: string): NodeDef => ({
  name,
  node: { external_event: { external_event_def_id: { name: defName } } },
});

const awaitEvent = (req: Msg, deadlineMs = 10_000, client = c) =>
  client.call("AwaitWorkflowEvent", req, { deadlineMs });

/** Expects the call to end with the given gRPC status. */
async function expectCode(p: Promise<unknown>, code: keyof typeof grpcStatus): Promise<void> {
  try {
    await p;
  } catch (e) {
    expect(grpcStatus[(e as { code: number }).code]).toBe(code);
    return;
  }
  throw new Error(`expected ${code}, but the call succeeded`);
}

// ENTRYPOINT → THROW(we-b "b0") → THROW(we-a "a0") → THROW(we-a "a1") → EXTERNAL_EVENT(we-go)
//   → THROW(we-b = the `note` variable) → THROW(we-a "a2") → EXIT
const MANY = "we-many";
// ENTRYPOINT → EXTERNAL_EVENT(we-go) → THROW(we-a "late") → EXIT
const LATE = "we-late";
// ENTRYPOINT → THROW(we-a) in a child thread, the parent waits for it → EXIT
const IN_CHILD = "we-in-child";

beforeAll(async () => {
  ts = await startTestServer();
  c = ts.client();
  await c.call("PutWorkflowEventDef", { name: "we-a", type: "STR" });
  await c.call("PutWorkflowEventDef", { name: "we-b", type: "STR" });
  await c.call("PutExternalEventDef", { name: "we-go" });
  await c.call(
    "PutWfSpec",
    wfSpec(
      MANY,
      thread(
        [
          entry(),
          throwNode("1-b0-THROW_EVENT", "we-b", lit(str("b0"))),
          throwNode("2-a0-THROW_EVENT", "we-a", lit(str("a0"))),
          throwNode("3-a1-THROW_EVENT", "we-a", lit(str("a1"))),
          waitNode("4-go-EXTERNAL_EVENT", "we-go"),
          throwNode("5-b1-THROW_EVENT", "we-b", varRef("note")),
          throwNode("6-a2-THROW_EVENT", "we-a", lit(str("a2"))),
          exit("7-exit-EXIT"),
        ],
        [varDef("note", "STR", { default_value: str("b1") })],
      ),
    ),
  );
  await c.call(
    "PutWfSpec",
    wfSpec(
      LATE,
      thread([
        entry(),
        waitNode("1-go-EXTERNAL_EVENT", "we-go"),
        throwNode("2-late-THROW_EVENT", "we-a", lit(str("late"))),
        exit("3-exit-EXIT"),
      ]),
    ),
  );
  await c.call("PutWfSpec", {
    name: IN_CHILD,
    entrypoint_thread_name: "entrypoint",
    thread_specs: {
      entrypoint: thread(
        [
          entry(),
          {
            name: "1-start-START_THREAD",
            node: { start_thread: { thread_spec_name: "child", variables: {} } },
            edges: [
              {
                sink_node_name: "2-wait-WAIT_FOR_THREADS",
                variable_mutations: [{ lhs_name: "child", operation: "ASSIGN", node_output: {} }],
              },
            ],
          },
          {
            name: "2-wait-WAIT_FOR_THREADS",
            node: { wait_for_threads: { threads: { threads: [{ thread_run_number: varRef("child") }] } } },
          },
          exit("3-exit-EXIT"),
        ],
        [varDef("child", "INT")],
      ),
      child: thread([
        entry(),
        waitNode("1-go-EXTERNAL_EVENT", "we-go"),
        throwNode("2-from-child-THROW_EVENT", "we-a", lit(str("from child"))),
        exit("3-exit-EXIT"),
      ]),
    },
  });
});

afterAll(async () => {
  await ts.close();
});

const go = (id: string) =>
  c.call("PutExternalEvent", { wf_run_id: { id }, external_event_def_id: { name: "we-go" } });

describe("THROW_EVENT", () => {
  it("B-EVT-6 each THROW_EVENT creates a WorkflowEvent numbered from 0 per def per WfRun, with its content", async () => {
    const run = await c.call("RunWf", { wf_spec_name: MANY, id: "we-numbers" });
    expect(run.status).toBe("RUNNING");
    const expectThrown = async (pos: number, defName: string, number: number) => {
      const n = await c.call("GetNodeRun", {
        wf_run_id: { id: "we-numbers" },
        thread_run_number: 0,
        position: pos,
      });
      expect(n.status).toBe("COMPLETED");
      expect(n.throw_event.workflow_event_id).toMatchObject(evId("we-numbers", defName, number));
    };
    await expectThrown(1, "we-b", 0);
    await expectThrown(2, "we-a", 0);
    await expectThrown(3, "we-a", 1);
    await go("we-numbers");
    expect((await c.call("GetWfRun", { id: "we-numbers" })).status).toBe("COMPLETED");
    await expectThrown(5, "we-b", 1);
    await expectThrown(6, "we-a", 2);

    // each event as thrown: content and time
    for (const [defName, number, content] of [
      ["we-b", 0, "b0"],
      ["we-a", 0, "a0"],
      ["we-a", 1, "a1"],
      ["we-b", 1, "b1"],
      ["we-a", 2, "a2"],
    ] as const) {
      const e = await awaitEvent({
        wf_run_id: { id: "we-numbers" },
        event_def_ids: [{ name: defName }],
        workflow_events_to_ignore: Array.from({ length: number }, (_, i) => evId("we-numbers", defName, i)),
      });
      expect(e.id).toMatchObject(evId("we-numbers", defName, number));
      expect(e.content).toMatchObject({ str: content });
      expect(tsMs(e.created_at)).toBeGreaterThanOrEqual(tsMs(run.start_time));
    }

    // another WfRun numbers from 0 again
    await c.call("RunWf", { wf_spec_name: MANY, id: "we-numbers-2" });
    const first = await awaitEvent({ wf_run_id: { id: "we-numbers-2" }, event_def_ids: [{ name: "we-a" }] });
    expect(first.id).toMatchObject(evId("we-numbers-2", "we-a", 0));
  });

  it("B-EVT-6 numbering goes on where it was after the WfRun is reloaded from the store", async () => {
    await c.call("RunWf", { wf_spec_name: MANY, id: "we-numbers-restart" });
    await ts.stop();
    ts = await startTestServer({ dataDir: ts.dataDir });
    c = ts.client();
    await go("we-numbers-restart");
    const n = await c.call("GetNodeRun", {
      wf_run_id: { id: "we-numbers-restart" },
      thread_run_number: 0,
      position: 6,
    });
    expect(n.throw_event.workflow_event_id).toMatchObject(evId("we-numbers-restart", "we-a", 2));
  });

  it("B-EVT-6 a THROW_EVENT in a child thread throws for the WfRun", async () => {
    await c.call("RunWf", { wf_spec_name: IN_CHILD, id: "we-child" });
    const pending = awaitEvent({ wf_run_id: { id: "we-child" } });
    await go("we-child");
    const e = await pending;
    expect(e.id).toMatchObject(evId("we-child", "we-a", 0));
    expect(e.content).toMatchObject({ str: "from child" });
    expect((await c.call("GetWfRun", { id: "we-child" })).status).toBe("COMPLETED");
  });
});

describe("AwaitWorkflowEvent", () => {
  it("B-EVT-6 returns at once an event thrown before the call; empty event_def_ids means any def, first thrown first", async () => {
    await c.call("RunWf", { wf_spec_name: MANY, id: "we-any" });
    // we-b/0 was thrown first, then we-a/0 and we-a/1 (all by the same command)
    const any = await awaitEvent({ wf_run_id: { id: "we-any" } }, 2000);
    expect(any.id).toMatchObject(evId("we-any", "we-b", 0));
    const next = await awaitEvent(
      { wf_run_id: { id: "we-any" }, workflow_events_to_ignore: [evId("we-any", "we-b", 0)] },
      2000,
    );
    expect(next.id).toMatchObject(evId("we-any", "we-a", 0));
    const third = await awaitEvent(
      {
        wf_run_id: { id: "we-any" },
        workflow_events_to_ignore: [evId("we-any", "we-b", 0), evId("we-any", "we-a", 0)],
      },
      2000,
    );
    expect(third.id).toMatchObject(evId("we-any", "we-a", 1));
    const onlyA = await awaitEvent({ wf_run_id: { id: "we-any" }, event_def_ids: [{ name: "we-a" }] }, 2000);
    expect(onlyA.id).toMatchObject(evId("we-any", "we-a", 0));
    const aOrB = await awaitEvent(
      { wf_run_id: { id: "we-any" }, event_def_ids: [{ name: "we-a" }, { name: "we-b" }] },
      2000,
    );
    expect(aOrB.id).toMatchObject(evId("we-any", "we-b", 0));
  });

  it("B-EVT-6 waits for an event thrown after the call, skipping the ignored ones", async () => {
    await c.call("RunWf", { wf_spec_name: MANY, id: "we-after" });
    const ignoreSoFar = [
      evId("we-after", "we-b", 0),
      evId("we-after", "we-a", 0),
      evId("we-after", "we-a", 1),
    ];
    const anyNew = awaitEvent({ wf_run_id: { id: "we-after" }, workflow_events_to_ignore: ignoreSoFar });
    const nextA = awaitEvent({
      wf_run_id: { id: "we-after" },
      event_def_ids: [{ name: "we-a" }],
      workflow_events_to_ignore: ignoreSoFar,
    });
    let settled = false;
    void anyNew.finally(() => (settled = true));
    await new Promise((r) => setTimeout(r, 200));
    expect(settled).toBe(false);
    await c.call("PutExternalEvent", {
      wf_run_id: { id: "we-after" },
      external_event_def_id: { name: "we-go" },
    });
    expect((await anyNew).id).toMatchObject(evId("we-after", "we-b", 1));
    expect((await anyNew).content).toMatchObject({ str: "b1" });
    expect((await nextA).id).toMatchObject(evId("we-after", "we-a", 2));
  });

  it("B-EVT-6 an awaiter registered before a WfRun throws gets the event once the throw is committed", async () => {
    await c.call("RunWf", { wf_spec_name: LATE, id: "we-late" });
    const pending = awaitEvent({ wf_run_id: { id: "we-late" }, event_def_ids: [{ name: "we-a" }] });
    await new Promise((r) => setTimeout(r, 50));
    await go("we-late");
    const e = await pending;
    expect(e.id).toMatchObject(evId("we-late", "we-a", 0));
    expect(e.content).toMatchObject({ str: "late" });
  });

  it("B-EVT-6 ends with DEADLINE_EXCEEDED at the client's deadline when no matching event comes", async () => {
    await c.call("RunWf", { wf_spec_name: LATE, id: "we-deadline" });
    const t0 = Date.now();
    await expectCode(awaitEvent({ wf_run_id: { id: "we-deadline" } }, 500), "DEADLINE_EXCEEDED");
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(450);
    expect(took).toBeLessThan(3000);
    // only ignored or other-def events: still DEADLINE_EXCEEDED
    await c.call("RunWf", { wf_spec_name: MANY, id: "we-deadline-2" });
    await expectCode(
      awaitEvent(
        {
          wf_run_id: { id: "we-deadline-2" },
          event_def_ids: [{ name: "we-a" }],
          workflow_events_to_ignore: [evId("we-deadline-2", "we-a", 0), evId("we-deadline-2", "we-a", 1)],
        },
        300,
      ),
      "DEADLINE_EXCEEDED",
    );
    // the server let go of every waiter at the deadline
    await waitFor(
      async () => (ts.server.runtime.workflowEventWaiters.size === 0 ? true : undefined),
      2000,
      "no waiter left",
    );
  });

  it("B-EVT-6 a client that cancels its AwaitWorkflowEvent (no deadline) is let go of at once", async () => {
    await c.call("RunWf", { wf_spec_name: LATE, id: "we-cancel" });
    const call = c.raw.AwaitWorkflowEvent({ wf_run_id: { id: "we-cancel" } }, c.metadata(), () => undefined);
    await waitFor(
      async () => (ts.server.runtime.workflowEventWaiters.size === 1 ? true : undefined),
      2000,
      "the waiter registered",
    );
    call.cancel();
    await waitFor(
      async () => (ts.server.runtime.workflowEventWaiters.size === 0 ? true : undefined),
      2000,
      "no waiter left after the cancel",
    );
  });

  it("B-EVT-6 AwaitWorkflowEvent on an unknown WfRun is NOT_FOUND", async () => {
    await expectCode(awaitEvent({ wf_run_id: { id: "we-no-such-run" } }, 2000), "NOT_FOUND");
  });

  it("B-EVT-6 500 concurrent awaiters are held cheaply and all get their event", async () => {
    const runs = 50;
    const perRun = 10;
    for (let i = 0; i < runs; i++) await c.call("RunWf", { wf_spec_name: LATE, id: `we-crowd-${i}` });
    const clients = Array.from({ length: 5 }, () => ts.client());
    const heapBefore = process.memoryUsage().heapUsed;
    const pending: Promise<Msg>[] = [];
    for (let i = 0; i < runs; i++) {
      for (let k = 0; k < perRun; k++) {
        pending.push(
          awaitEvent(
            { wf_run_id: { id: `we-crowd-${i}` } },
            30_000,
            clients[(i * perRun + k) % clients.length],
          ),
        );
      }
    }
    await waitFor(
      async () => {
        let n = 0;
        for (const set of ts.server.runtime.workflowEventWaiters.values()) n += set.size;
        return n === runs * perRun ? true : undefined;
      },
      10_000,
      "500 waiters registered",
    );
    // the server stays responsive while they wait
    const t0 = Date.now();
    await c.call("RunWf", { wf_spec_name: LATE, id: "we-crowd-probe" });
    expect(Date.now() - t0).toBeLessThan(1000);
    // one closure per waiter, not a poll loop or a copy of the WfRun
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);

    await Promise.all(Array.from({ length: runs }, (_, i) => go(`we-crowd-${i}`)));
    const got = await Promise.all(pending);
    got.forEach((e, j) => {
      expect(e.id).toMatchObject(evId(`we-crowd-${Math.floor(j / perRun)}`, "we-a", 0));
    });
    expect(ts.server.runtime.workflowEventWaiters.size).toBe(0);
  });
});
