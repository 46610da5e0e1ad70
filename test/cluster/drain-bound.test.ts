/**
 * Issue 11, a bounded drain: a server that stops gracefully first ends its own waiting calls, hands its
 * partitions over, then waits for the commands its peers forwarded to it. A forwarded AwaitWorkflowEvent that
 * reaches it after it ended its waits would hold that last step until the call's deadline; the drain is cut
 * after 5 s instead, the call fails (the caller may call again), and the server stops.
 */
import { afterAll, describe, expect, it } from "vitest";
import { statusOf, type TestClient } from "../support/client";
import { startTestServer, type TestServer } from "../support/server";
import { entry, exit, thread, wfSpec } from "../support/specs";
import { waitFor } from "../support/wait";

const ARGS = ["--lease-seconds", "2", "--partitions", "6"];

let a: TestServer | undefined;
let b: TestServer | undefined;

afterAll(async () => {
  await b?.close().catch(() => undefined);
  await a?.close();
});

describe("stopping with a forwarded call still running", () => {
  it("B-EVT-6 a forwarded AwaitWorkflowEvent that arrives while its server stops holds the stop at most about 5 s, and fails UNAVAILABLE", async () => {
    a = await startTestServer({ store: "postgres", extraArgs: ARGS });
    const ca: TestClient = a.client();
    await ca.call("PutWorkflowEventDef", { name: "db-ev", type: "STR" });
    await ca.call("PutExternalEventDef", { name: "db-go" });
    await ca.call(
      "PutWfSpec",
      wfSpec(
        "db-wait",
        thread([
          entry(),
          {
            name: "1-wait-EXTERNAL_EVENT",
            node: { external_event: { external_event_def_id: { name: "db-go" } } },
          },
          exit("2-exit-EXIT"),
        ]),
      ),
    );
    b = await startTestServer({ databaseUrl: a.databaseUrl, extraArgs: ARGS });
    const [ra, rb] = [a.server.runtime, b.server.runtime];
    await waitFor(
      async () => (ra.partitions.held().size === 3 && rb.partitions.held().size === 3 ? true : undefined),
      15_000,
      "the partitions to be shared",
    );
    // a waiting WfRun in one of B's partitions
    const held = new Set(rb.partitions.held().keys());
    let id = "";
    for (let i = 0; !id; i++) if (held.has(ra.partitionOf("default", `db-${i}`))) id = `db-${i}`;
    await ca.call("RunWf", { wf_spec_name: "db-wait", id });

    // B stops; the call reaches it after it ended its own waits and before it hands its partitions over
    const leases = b.server.leases as unknown as { stop(): Promise<void> };
    const handOver = leases.stop.bind(leases);
    let letGo: () => void = () => undefined;
    const reached = new Promise<void>((resolve) => {
      leases.stop = async () => {
        resolve();
        await new Promise<void>((r) => (letGo = r));
        return handOver();
      };
    });
    const t0 = performance.now();
    const stopped = b.server.stop();
    await reached;
    const awaited = statusOf(
      ca.call(
        "AwaitWorkflowEvent",
        { wf_run_id: { id }, event_def_ids: [{ name: "db-ev" }] },
        { deadlineMs: 120_000 },
      ),
    );
    // the call is running at B, forwarded by A
    await new Promise((r) => setTimeout(r, 500));
    letGo();
    await stopped;
    const stopMs = performance.now() - t0;
    const outcome = await awaited;
    const callMs = performance.now() - t0;
    expect(outcome.code).toBe("UNAVAILABLE");
    // the drain's 5 s, the hand-over and the listener's close: far from the call's two minutes
    expect(stopMs).toBeLessThan(15_000);
    expect(callMs).toBeLessThan(16_000);
    b = undefined;
    // the WfRun waits on at its new owner, untouched
    await waitFor(
      async () => (ra.partitions.held().size === 6 ? true : undefined),
      15_000,
      "A to own every partition",
    );
    expect((await ca.call("GetWfRun", { id })).status).toBe("RUNNING");
    ca.close();
  }, 90_000);
});
