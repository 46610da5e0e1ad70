/**
 * Black-box tests of EXTERNAL_EVENT nodes and the ExternalEvent RPCs through gRPC (B-EVT-1…3): waiting for
 * an event, events posted early and claimed oldest first, the content as node output, guid idempotency,
 * thread / node targeting, NOT_FOUND cases, `timeout_seconds`, events arriving while the thread is HALTED and
 * events of a def nobody waits on.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server";
import type { Msg, TestClient } from "../support/client";
import {
  entry,
  exit,
  int,
  lit,
  nop,
  str,
  thread,
  varDef,
  varRef,
  wfSpec,
  type NodeDef,
} from "../support/specs";
import { waitFor } from "../support/wait";

let ts: TestServer;
let c: TestClient;

const tsMs = (t: Msg | undefined | null): number => Number(t!.seconds) * 1000 + Math.floor(t!.nanos / 1e6);

/** An EXTERNAL_EVENT node; with `assignTo`, its single edge assigns the node output to that variable. */
function eventNode(
  name: string,
  defName: string,
  opts: { timeout?: Msg; assignTo?: string; next?: string } = {},
): NodeDef {
  const node: NodeDef = {
    name,
    node: {
      external_event: {
        external_event_def_id: { name: defName },
        ...(opts.timeout ? { timeout_seconds: opts.timeout } : {}),
      },
    },
  };
  if (opts.assignTo) {
    node.edges = [
      {
        sink_node_name: opts.next,
        variable_mutations: [{ lhs_name: opts.assignTo, operation: "ASSIGN", node_output: {} }],
      },
    ];
  }
  return node;
}

const put = (id: string, defName: string, extra: Msg = {}) =>
  c.call("PutExternalEvent", { wf_run_id: { id }, external_event_def_id: { name: defName }, ...extra });

const getEvent = (id: string, defName: string, guid: string) =>
  c.call("GetExternalEvent", { wf_run_id: { id }, external_event_def_id: { name: defName }, guid });

async function nodeRun(id: string, thread: number, position: number): Promise<Msg> {
  return c.call("GetNodeRun", { wf_run_id: { id }, thread_run_number: thread, position });
}

async function variable(id: string, name: string, threadNumber = 0): Promise<Msg> {
  return (await c.call("GetVariable", { wf_run_id: { id }, thread_run_number: threadNumber, name })).value;
}

async function waitStatus(id: string, status: string, timeoutMs = 10_000): Promise<Msg> {
  return waitFor(
    async () => {
      const r = await c.call("GetWfRun", { id });
      return r.status === status ? r : undefined;
    },
    timeoutMs,
    `WfRun ${id} to be ${status}`,
  );
}

// ENTRYPOINT → EXTERNAL_EVENT(ee-go, content → got) → EXIT
const SIMPLE = "ee-simple";
// ENTRYPOINT → EXTERNAL_EVENT(ee-gate) → EXTERNAL_EVENT(ee-item → first) → EXTERNAL_EVENT(ee-item → second) → EXIT
const TWO_ITEMS = "ee-two-items";
// thread 0: START_THREAD(child) → EXTERNAL_EVENT(ee-go → got) → WAIT_FOR_THREADS(child) → EXIT;
// thread 1 (child): EXTERNAL_EVENT(ee-go → got) → EXIT
const TWO_THREADS = "ee-two-threads";
// ENTRYPOINT → EXTERNAL_EVENT(ee-go, timeout_seconds = the `timeout` variable) → EXIT
const TIMEOUT = "ee-timeout";
// the same with a failure handler catching TIMEOUT, which goes on to NOP → EXIT
const TIMEOUT_HANDLED = "ee-timeout-handled";
// ENTRYPOINT → EXTERNAL_EVENT(ee-gate) → EXTERNAL_EVENT(ee-item, timeout 1 s) → EXIT
const GATED_TIMEOUT = "ee-gated-timeout";

beforeAll(async () => {
  ts = await startTestServer();
  c = ts.client();
  for (const name of ["ee-go", "ee-gate", "ee-item", "ee-unrelated"]) {
    await c.call("PutExternalEventDef", { name });
  }
  await c.call(
    "PutWfSpec",
    wfSpec(
      SIMPLE,
      thread(
        [
          entry(),
          eventNode("1-go-EXTERNAL_EVENT", "ee-go", { assignTo: "got", next: "2-exit-EXIT" }),
          exit("2-exit-EXIT"),
        ],
        [varDef("got", "STR")],
      ),
    ),
  );
  await c.call(
    "PutWfSpec",
    wfSpec(
      TWO_ITEMS,
      thread(
        [
          entry(),
          eventNode("1-gate-EXTERNAL_EVENT", "ee-gate"),
          eventNode("2-first-EXTERNAL_EVENT", "ee-item", {
            assignTo: "first",
            next: "3-second-EXTERNAL_EVENT",
          }),
          eventNode("3-second-EXTERNAL_EVENT", "ee-item", { assignTo: "second", next: "4-exit-EXIT" }),
          exit("4-exit-EXIT"),
        ],
        [varDef("first", "STR"), varDef("second", "STR")],
      ),
    ),
  );
  const childThread = thread(
    [
      entry(),
      eventNode("1-go-EXTERNAL_EVENT", "ee-go", { assignTo: "got", next: "2-exit-EXIT" }),
      exit("2-exit-EXIT"),
    ],
    [varDef("got", "STR")],
  );
  await c.call("PutWfSpec", {
    name: TWO_THREADS,
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
                sink_node_name: "2-go-EXTERNAL_EVENT",
                variable_mutations: [{ lhs_name: "child", operation: "ASSIGN", node_output: {} }],
              },
            ],
          },
          eventNode("2-go-EXTERNAL_EVENT", "ee-go", {
            assignTo: "parent-got",
            next: "3-wait-WAIT_FOR_THREADS",
          }),
          {
            name: "3-wait-WAIT_FOR_THREADS",
            node: { wait_for_threads: { threads: { threads: [{ thread_run_number: varRef("child") }] } } },
          },
          exit("4-exit-EXIT"),
        ],
        [varDef("child", "INT"), varDef("parent-got", "STR")],
      ),
      child: childThread,
    },
  });
  await c.call(
    "PutWfSpec",
    wfSpec(
      TIMEOUT,
      thread(
        [
          entry(),
          eventNode("1-go-EXTERNAL_EVENT", "ee-go", { timeout: varRef("timeout") }),
          exit("2-exit-EXIT"),
        ],
        [varDef("timeout", "INT", { default_value: int(1) })],
      ),
    ),
  );
  await c.call(
    "PutWfSpec",
    wfSpec(
      GATED_TIMEOUT,
      thread([
        entry(),
        eventNode("1-gate-EXTERNAL_EVENT", "ee-gate"),
        eventNode("2-item-EXTERNAL_EVENT", "ee-item", { timeout: lit(int(1)) }),
        exit("3-exit-EXIT"),
      ]),
    ),
  );
  const handled = eventNode("1-go-EXTERNAL_EVENT", "ee-go", { timeout: lit(int(1)) });
  await c.call("PutWfSpec", {
    name: TIMEOUT_HANDLED,
    entrypoint_thread_name: "entrypoint",
    thread_specs: {
      entrypoint: thread([
        entry(),
        {
          ...handled,
          node: {
            ...handled.node,
            failure_handlers: [{ handler_spec_name: "on-timeout", specific_failure: "TIMEOUT" }],
          },
        },
        nop("2-nop-NOP"),
        exit("3-exit-EXIT"),
      ]),
      "on-timeout": thread([entry(), exit("1-exit-EXIT")]),
    },
  });
});

afterAll(async () => {
  await ts.close();
});

describe("EXTERNAL_EVENT nodes", () => {
  it("B-EVT-1 the node waits RUNNING until an event of its def arrives, then completes with the content as output", async () => {
    const run = await c.call("RunWf", { wf_spec_name: SIMPLE, id: "ee-basic" });
    expect(run.status).toBe("RUNNING");
    const waiting = await nodeRun("ee-basic", 0, 1);
    expect(waiting.status).toBe("RUNNING");
    expect(waiting.external_event).toMatchObject({
      external_event_def_id: { name: "ee-go" },
      timed_out: false,
    });
    expect(waiting.external_event.external_event_id ?? null).toBeNull();

    const posted = await put("ee-basic", "ee-go", { guid: "basic-1", content: str("hello") });
    expect(posted.id).toMatchObject({
      wf_run_id: { id: "ee-basic" },
      external_event_def_id: { name: "ee-go" },
      guid: "basic-1",
    });
    expect(posted.created_at).toBeTruthy();
    // the PutExternalEvent answer comes after the claim and the rest of the WfRun are committed
    const done = await c.call("GetWfRun", { id: "ee-basic" });
    expect(done.status).toBe("COMPLETED");
    expect(await variable("ee-basic", "got")).toMatchObject({ str: "hello" });

    const claimedBy = await nodeRun("ee-basic", 0, 1);
    expect(claimedBy.status).toBe("COMPLETED");
    expect(claimedBy.external_event.external_event_id).toMatchObject({
      wf_run_id: { id: "ee-basic" },
      external_event_def_id: { name: "ee-go" },
      guid: "basic-1",
    });
    expect(tsMs(claimedBy.external_event.event_time)).toBe(tsMs(posted.created_at));

    const stored = await getEvent("ee-basic", "ee-go", "basic-1");
    expect(stored).toMatchObject({ claimed: true, thread_run_number: 0, node_run_position: 1 });
    expect(stored.content).toMatchObject({ str: "hello" });
  });

  it("B-EVT-1 events posted before the node is reached are kept unclaimed and claimed on arrival, oldest first", async () => {
    await c.call("RunWf", { wf_spec_name: TWO_ITEMS, id: "ee-early" });
    // guids sort the other way round from the posting order, so the order cannot come from the guid
    await put("ee-early", "ee-item", { guid: "z-older", content: str("older") });
    await put("ee-early", "ee-item", { guid: "a-newer", content: str("newer") });
    for (const guid of ["z-older", "a-newer"]) {
      const e = await getEvent("ee-early", "ee-item", guid);
      expect(e.claimed).toBe(false);
      expect(e.thread_run_number ?? null).toBeNull();
      expect(e.node_run_position ?? null).toBeNull();
    }
    expect((await c.call("GetWfRun", { id: "ee-early" })).status).toBe("RUNNING");

    await put("ee-early", "ee-gate", { content: str("open") });
    expect((await c.call("GetWfRun", { id: "ee-early" })).status).toBe("COMPLETED");
    expect(await variable("ee-early", "first")).toMatchObject({ str: "older" });
    expect(await variable("ee-early", "second")).toMatchObject({ str: "newer" });
    expect(await getEvent("ee-early", "ee-item", "z-older")).toMatchObject({
      claimed: true,
      thread_run_number: 0,
      node_run_position: 2,
    });
    expect(await getEvent("ee-early", "ee-item", "a-newer")).toMatchObject({
      claimed: true,
      thread_run_number: 0,
      node_run_position: 3,
    });
  });

  it("B-EVT-1 an early event is claimed oldest first after the WfRun was reloaded from the store", async () => {
    await c.call("RunWf", { wf_spec_name: TWO_ITEMS, id: "ee-early-restart" });
    await put("ee-early-restart", "ee-item", { guid: "z-older", content: str("older") });
    await put("ee-early-restart", "ee-item", { guid: "a-newer", content: str("newer") });
    // a restart on the same data dir drops every in-memory copy: the claim works from stored rows alone
    await ts.stop();
    ts = await startTestServer({ dataDir: ts.dataDir });
    c = ts.client();
    await put("ee-early-restart", "ee-gate");
    expect((await c.call("GetWfRun", { id: "ee-early-restart" })).status).toBe("COMPLETED");
    expect(await variable("ee-early-restart", "first")).toMatchObject({ str: "older" });
    expect(await variable("ee-early-restart", "second")).toMatchObject({ str: "newer" });
  });

  it("B-EVT-1 events posted together keep the order they were posted in, also after a restart", async () => {
    await c.call("RunWf", { wf_spec_name: TWO_ITEMS, id: "ee-burst" });
    // sent back to back on one channel: they reach the server in this order, often in one millisecond
    const guids = ["e5", "e4", "e3", "e2", "e1"];
    await Promise.all(guids.map((guid, i) => put("ee-burst", "ee-item", { guid, content: str(`${i + 1}`) })));
    await ts.stop();
    ts = await startTestServer({ dataDir: ts.dataDir });
    c = ts.client();
    const listed = (await c.call("ListExternalEvents", { wf_run_id: { id: "ee-burst" } })).results as Msg[];
    expect(listed.map((e) => e.id.guid)).toEqual(guids);
    await put("ee-burst", "ee-gate");
    expect(await variable("ee-burst", "first")).toMatchObject({ str: "1" });
    expect(await variable("ee-burst", "second")).toMatchObject({ str: "2" });
  });

  it("B-EVT-1 the content can be any type, and an event without content gives the node a null output", async () => {
    await c.call("RunWf", { wf_spec_name: TWO_ITEMS, id: "ee-null" });
    await put("ee-null", "ee-gate");
    await put("ee-null", "ee-item");
    const e = (await c.call("ListExternalEvents", { wf_run_id: { id: "ee-null" } })).results.find(
      (x: Msg) => x.id.external_event_def_id.name === "ee-item",
    );
    expect(e.claimed).toBe(true);
    expect(e.id.guid).toMatch(/^[a-zA-Z0-9._-]+$/);
    expect((await variable("ee-null", "first")).value ?? null).toBeNull();
  });

  it("B-EVT-1 ListExternalEvents lists a WfRun's events, claimed or not, in the order they were posted", async () => {
    await c.call("RunWf", { wf_spec_name: SIMPLE, id: "ee-list" });
    await put("ee-list", "ee-unrelated", { guid: "u-1", content: str("x") });
    await put("ee-list", "ee-go", { guid: "g-1", content: str("y") });
    await put("ee-list", "ee-unrelated", { guid: "b-2", content: str("z") });
    const list = (await c.call("ListExternalEvents", { wf_run_id: { id: "ee-list" } })).results as Msg[];
    expect(list.map((e) => [e.id.external_event_def_id.name, e.id.guid, e.claimed])).toEqual([
      ["ee-unrelated", "u-1", false],
      ["ee-go", "g-1", true],
      ["ee-unrelated", "b-2", false],
    ]);
    expect((await c.fail("ListExternalEvents", { wf_run_id: { id: "ee-no-such-run" } })).code).toBe(
      "NOT_FOUND",
    );
  });

  it("B-EVT-1 GetExternalEvent of an unknown event is NOT_FOUND", async () => {
    await c.call("RunWf", { wf_spec_name: SIMPLE, id: "ee-get-missing" });
    const err = await c.fail("GetExternalEvent", {
      wf_run_id: { id: "ee-get-missing" },
      external_event_def_id: { name: "ee-go" },
      guid: "nope",
    });
    expect(err.code).toBe("NOT_FOUND");
  });

  it("B-EVT-1 an event that arrives while the thread is HALTED is kept and claimed after ResumeWfRun", async () => {
    await c.call("RunWf", { wf_spec_name: SIMPLE, id: "ee-halted" });
    await c.call("StopWfRun", { wf_run_id: { id: "ee-halted" }, thread_run_number: 0 });
    expect((await c.call("GetWfRun", { id: "ee-halted" })).status).toBe("HALTED");

    await put("ee-halted", "ee-go", { guid: "while-halted", content: str("late") });
    expect((await c.call("GetWfRun", { id: "ee-halted" })).status).toBe("HALTED");
    expect((await getEvent("ee-halted", "ee-go", "while-halted")).claimed).toBe(false);
    expect((await nodeRun("ee-halted", 0, 1)).status).toBe("RUNNING");

    await c.call("ResumeWfRun", { wf_run_id: { id: "ee-halted" }, thread_run_number: 0 });
    expect((await c.call("GetWfRun", { id: "ee-halted" })).status).toBe("COMPLETED");
    expect(await getEvent("ee-halted", "ee-go", "while-halted")).toMatchObject({
      claimed: true,
      thread_run_number: 0,
      node_run_position: 1,
    });
    expect(await variable("ee-halted", "got")).toMatchObject({ str: "late" });
  });

  it("B-EVT-1 an event of a def the WfSpec does not wait on is kept, never claimed, and does not move the run", async () => {
    await c.call("RunWf", { wf_spec_name: SIMPLE, id: "ee-unrelated-run" });
    await put("ee-unrelated-run", "ee-unrelated", { guid: "stray", content: str("ignored") });
    expect((await c.call("GetWfRun", { id: "ee-unrelated-run" })).status).toBe("RUNNING");
    expect((await nodeRun("ee-unrelated-run", 0, 1)).status).toBe("RUNNING");
    await put("ee-unrelated-run", "ee-go", { content: str("real") });
    expect((await c.call("GetWfRun", { id: "ee-unrelated-run" })).status).toBe("COMPLETED");
    expect(await variable("ee-unrelated-run", "got")).toMatchObject({ str: "real" });
    const stray = await getEvent("ee-unrelated-run", "ee-unrelated", "stray");
    expect(stray.claimed).toBe(false);
    expect(stray.content).toMatchObject({ str: "ignored" });
    // events can still be posted to a terminated WfRun; they are kept unclaimed
    await put("ee-unrelated-run", "ee-go", { guid: "after-end" });
    expect((await getEvent("ee-unrelated-run", "ee-go", "after-end")).claimed).toBe(false);
  });
});

describe("PutExternalEvent", () => {
  it("B-EVT-2 a repeated PutExternalEvent with the same guid returns the first event and changes nothing", async () => {
    await c.call("RunWf", { wf_spec_name: TWO_ITEMS, id: "ee-idem" });
    const first = await put("ee-idem", "ee-item", { guid: "once", content: str("one") });
    const again = await put("ee-idem", "ee-item", { guid: "once", content: str("two") });
    expect(again.content).toMatchObject({ str: "one" });
    expect(again.created_at).toEqual(first.created_at);
    const items = async () =>
      ((await c.call("ListExternalEvents", { wf_run_id: { id: "ee-idem" } })).results as Msg[]).filter(
        (e) => e.id.external_event_def_id.name === "ee-item",
      );
    expect(await items()).toHaveLength(1);

    await put("ee-idem", "ee-gate");
    // only one event exists: the first EXTERNAL_EVENT node took it, the second still waits
    expect((await c.call("GetWfRun", { id: "ee-idem" })).status).toBe("RUNNING");
    expect((await nodeRun("ee-idem", 0, 3)).status).toBe("RUNNING");
    // still idempotent once claimed, and after a restart (nothing cached)
    const claimedAgain = await put("ee-idem", "ee-item", { guid: "once", content: str("three") });
    expect(claimedAgain).toMatchObject({ claimed: true, content: { str: "one" } });
    await ts.stop();
    ts = await startTestServer({ dataDir: ts.dataDir });
    c = ts.client();
    const afterRestart = await put("ee-idem", "ee-item", { guid: "once", content: str("four") });
    expect(afterRestart).toMatchObject({ claimed: true, content: { str: "one" } });
    expect(afterRestart.created_at).toEqual(first.created_at);
    expect((await nodeRun("ee-idem", 0, 3)).status).toBe("RUNNING");
    expect(await items()).toHaveLength(1);
  });

  it("B-EVT-2 the same guid under another def or another WfRun is a different event", async () => {
    await c.call("RunWf", { wf_spec_name: SIMPLE, id: "ee-guid-a" });
    await c.call("RunWf", { wf_spec_name: SIMPLE, id: "ee-guid-b" });
    await put("ee-guid-a", "ee-unrelated", { guid: "shared", content: str("unrelated") });
    await put("ee-guid-a", "ee-go", { guid: "shared", content: str("a") });
    await put("ee-guid-b", "ee-go", { guid: "shared", content: str("b") });
    expect(await variable("ee-guid-a", "got")).toMatchObject({ str: "a" });
    expect(await variable("ee-guid-b", "got")).toMatchObject({ str: "b" });
  });

  it("B-EVT-2 thread_run_number limits which thread may claim the event", async () => {
    await c.call("RunWf", { wf_spec_name: TWO_THREADS, id: "ee-target-thread" });
    // both threads now wait on ee-go: thread 0 at position 2, the child (thread 1) at position 1
    await put("ee-target-thread", "ee-go", {
      guid: "for-child",
      thread_run_number: 1,
      content: str("child"),
    });
    expect(await getEvent("ee-target-thread", "ee-go", "for-child")).toMatchObject({
      claimed: true,
      thread_run_number: 1,
      node_run_position: 1,
    });
    expect(await variable("ee-target-thread", "got", 1)).toMatchObject({ str: "child" });
    expect((await nodeRun("ee-target-thread", 0, 2)).status).toBe("RUNNING");

    // targeted at a thread that waits on nothing (it is not there): kept unclaimed
    await put("ee-target-thread", "ee-go", { guid: "for-nobody", thread_run_number: 7, content: str("x") });
    expect((await getEvent("ee-target-thread", "ee-go", "for-nobody")).claimed).toBe(false);
    expect((await nodeRun("ee-target-thread", 0, 2)).status).toBe("RUNNING");

    await put("ee-target-thread", "ee-go", {
      guid: "for-parent",
      thread_run_number: 0,
      content: str("parent"),
    });
    expect((await c.call("GetWfRun", { id: "ee-target-thread" })).status).toBe("COMPLETED");
    expect(await variable("ee-target-thread", "parent-got")).toMatchObject({ str: "parent" });
    expect(await getEvent("ee-target-thread", "ee-go", "for-parent")).toMatchObject({
      claimed: true,
      thread_run_number: 0,
      node_run_position: 2,
    });
    expect((await getEvent("ee-target-thread", "ee-go", "for-nobody")).claimed).toBe(false);
  });

  it("B-EVT-2 node_run_position limits which NodeRun may claim the event, and it waits for that node", async () => {
    await c.call("RunWf", { wf_spec_name: TWO_ITEMS, id: "ee-target-node" });
    await put("ee-target-node", "ee-gate");
    // thread 0 waits at position 2; this event is for position 3 only
    await put("ee-target-node", "ee-item", {
      guid: "for-3",
      thread_run_number: 0,
      node_run_position: 3,
      content: str("third"),
    });
    expect((await getEvent("ee-target-node", "ee-item", "for-3")).claimed).toBe(false);
    expect((await nodeRun("ee-target-node", 0, 2)).status).toBe("RUNNING");

    // an untargeted, newer event goes to position 2; the thread moves on and position 3 takes its own
    await put("ee-target-node", "ee-item", { guid: "any", content: str("second") });
    expect((await c.call("GetWfRun", { id: "ee-target-node" })).status).toBe("COMPLETED");
    expect(await variable("ee-target-node", "first")).toMatchObject({ str: "second" });
    expect(await variable("ee-target-node", "second")).toMatchObject({ str: "third" });
    expect(await getEvent("ee-target-node", "ee-item", "for-3")).toMatchObject({
      claimed: true,
      thread_run_number: 0,
      node_run_position: 3,
    });
  });

  it("B-EVT-2 posting to an unknown WfRun or an unknown ExternalEventDef is NOT_FOUND and stores nothing", async () => {
    const noRun = await c.fail("PutExternalEvent", {
      wf_run_id: { id: "ee-no-such-run" },
      external_event_def_id: { name: "ee-go" },
      guid: "g",
    });
    expect(noRun.code).toBe("NOT_FOUND");
    expect(noRun.message).toContain("ee-no-such-run");

    await c.call("RunWf", { wf_spec_name: SIMPLE, id: "ee-no-def" });
    const noDef = await c.fail("PutExternalEvent", {
      wf_run_id: { id: "ee-no-def" },
      external_event_def_id: { name: "ee-no-such-def" },
      guid: "g",
    });
    expect(noDef.code).toBe("NOT_FOUND");
    expect(noDef.message).toContain("ee-no-such-def");
    expect((await c.call("ListExternalEvents", { wf_run_id: { id: "ee-no-def" } })).results).toEqual([]);
    expect(
      (
        await c.fail("GetExternalEvent", {
          wf_run_id: { id: "ee-no-such-run" },
          external_event_def_id: { name: "ee-go" },
          guid: "g",
        })
      ).code,
    ).toBe("NOT_FOUND");
  });

  it("B-EVT-2 node_run_position without thread_run_number is INVALID_ARGUMENT", async () => {
    await c.call("RunWf", { wf_spec_name: SIMPLE, id: "ee-pos-only" });
    const err = await c.fail("PutExternalEvent", {
      wf_run_id: { id: "ee-pos-only" },
      external_event_def_id: { name: "ee-go" },
      node_run_position: 1,
    });
    expect(err.code).toBe("INVALID_ARGUMENT");
    expect(err.message).toContain("thread_run_number");
    expect((await c.call("GetWfRun", { id: "ee-pos-only" })).status).toBe("RUNNING");
  });
});

describe("EXTERNAL_EVENT timeout_seconds", () => {
  it("B-EVT-3 no event within timeout_seconds fails the node with TIMEOUT and timed_out = true", async () => {
    await c.call("RunWf", { wf_spec_name: TIMEOUT, id: "ee-timeout" });
    const failed = await waitStatus("ee-timeout", "ERROR");
    const n = await nodeRun("ee-timeout", 0, 1);
    expect(n.status).toBe("ERROR");
    expect(n.external_event.timed_out).toBe(true);
    expect(n.external_event.external_event_id ?? null).toBeNull();
    expect(n.failures).toHaveLength(1);
    expect(n.failures[0].failure_name).toBe("TIMEOUT");
    // server clock: the timer fired one second after arrival (slack for a loaded machine)
    const waited = tsMs(n.end_time) - tsMs(n.arrival_time);
    expect(waited).toBeGreaterThanOrEqual(1000);
    expect(waited).toBeLessThan(1000 + 1000);
    expect(tsMs(failed.end_time)).toBe(tsMs(n.end_time));
    // an event arriving after the timeout is kept, unclaimed
    await put("ee-timeout", "ee-go", { guid: "too-late" });
    expect((await getEvent("ee-timeout", "ee-go", "too-late")).claimed).toBe(false);
  });

  it("B-EVT-3 an event that arrives in time cancels the timeout", async () => {
    await c.call("RunWf", { wf_spec_name: TIMEOUT, id: "ee-in-time", variables: { timeout: int(1) } });
    await put("ee-in-time", "ee-go", { guid: "in-time" });
    const done = await c.call("GetWfRun", { id: "ee-in-time" });
    expect(done.status).toBe("COMPLETED");
    await new Promise((r) => setTimeout(r, 1300));
    const after = await c.call("GetWfRun", { id: "ee-in-time" });
    expect(after.status).toBe("COMPLETED");
    expect(after.end_time).toEqual(done.end_time);
    const n = await nodeRun("ee-in-time", 0, 1);
    expect(n.status).toBe("COMPLETED");
    expect(n.external_event.timed_out).toBe(false);
  });

  it("B-EVT-3 an event posted before the node arrives is claimed on arrival, and its timeout never fires", async () => {
    await c.call("RunWf", { wf_spec_name: GATED_TIMEOUT, id: "ee-early-no-timeout" });
    await put("ee-early-no-timeout", "ee-item", { guid: "early", content: str("early") });
    await put("ee-early-no-timeout", "ee-gate");
    const done = await c.call("GetWfRun", { id: "ee-early-no-timeout" });
    expect(done.status).toBe("COMPLETED");
    await new Promise((r) => setTimeout(r, 1300));
    const after = await c.call("GetWfRun", { id: "ee-early-no-timeout" });
    expect(after.status).toBe("COMPLETED");
    expect(after.end_time).toEqual(done.end_time);
    const n = await nodeRun("ee-early-no-timeout", 0, 2);
    expect(n.status).toBe("COMPLETED");
    expect(n.external_event.timed_out).toBe(false);
    expect(n.external_event.external_event_id.guid).toBe("early");
  });

  it("B-EVT-3 a TIMEOUT is an ERROR that a failure handler can catch; the thread then goes on", async () => {
    await c.call("RunWf", { wf_spec_name: TIMEOUT_HANDLED, id: "ee-timeout-handled" });
    const done = await waitStatus("ee-timeout-handled", "COMPLETED");
    expect(done.thread_runs.map((t: Msg) => [t.thread_spec_name, t.status])).toEqual([
      ["entrypoint", "COMPLETED"],
      ["on-timeout", "COMPLETED"],
    ]);
    const n = await nodeRun("ee-timeout-handled", 0, 1);
    expect(n.external_event.timed_out).toBe(true);
    expect(n.failures[0]).toMatchObject({ failure_name: "TIMEOUT", was_properly_handled: true });
  });

  it("B-EVT-3 a timeout_seconds that is not an INT fails the node with VAR_SUB_ERROR", async () => {
    await c.call(
      "PutWfSpec",
      wfSpec(
        "ee-bad-timeout",
        thread(
          [entry(), eventNode("1-go-EXTERNAL_EVENT", "ee-go", { timeout: varRef("t") }), exit("2-exit-EXIT")],
          [varDef("t", "STR", { default_value: str("soon") })],
        ),
      ),
    );
    const run = await c.call("RunWf", { wf_spec_name: "ee-bad-timeout", id: "ee-bad-timeout" });
    expect(run.status).toBe("ERROR");
    const n = await nodeRun("ee-bad-timeout", 0, 1);
    expect(n.failures[0].failure_name).toBe("VAR_SUB_ERROR");
  });
});
