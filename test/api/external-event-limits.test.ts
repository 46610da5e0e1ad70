/**
 * Issue 15: a WfRun holds a bounded number of ExternalEvents no node has claimed. They live in memory with
 * the WfRun and are read whenever it is loaded, so PutExternalEvent beyond `--max-unclaimed-events-per-wf-run`
 * is RESOURCE_EXHAUSTED and stores nothing; an event a waiting node claims at once is always taken.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestClient } from "../support/client";
import { startTestServer, type TestServer } from "../support/server";
import { entry, exit, str, thread, wfSpec } from "../support/specs";
import { waitFor } from "../support/wait";

let ts: TestServer;
let c: TestClient;

beforeAll(async () => {
  ts = await startTestServer({ extraArgs: ["--max-unclaimed-events-per-wf-run", "3"] });
  c = ts.client();
  for (const name of ["lim-wanted", "lim-noise"]) await c.call("PutExternalEventDef", { name });
  await c.call(
    "PutWfSpec",
    wfSpec(
      "lim-waits",
      thread([
        entry(),
        { name: "1-wanted", node: { external_event: { external_event_def_id: { name: "lim-wanted" } } } },
        exit("2-exit-EXIT"),
      ]),
    ),
  );
});
afterAll(async () => {
  await ts.close();
});

const post = (defName: string, guid?: string) =>
  c.call("PutExternalEvent", {
    wf_run_id: { id: "lim-1" },
    external_event_def_id: { name: defName },
    content: str("x"),
    ...(guid ? { guid } : {}),
  });

describe("unclaimed ExternalEvents per WfRun", () => {
  it("beyond the limit PutExternalEvent is RESOURCE_EXHAUSTED and stores nothing; an event claimed at once still goes in", async () => {
    await c.call("RunWf", { wf_spec_name: "lim-waits", id: "lim-1" });
    for (let i = 0; i < 3; i++) await post("lim-noise");
    const refused = await c.fail("PutExternalEvent", {
      wf_run_id: { id: "lim-1" },
      external_event_def_id: { name: "lim-noise" },
      guid: "one-too-many",
    });
    expect(refused.code).toBe("RESOURCE_EXHAUSTED");
    expect(refused.message).toBe(
      "WfRun 'lim-1' already holds 3 ExternalEvents that no node has claimed " +
        "(--max-unclaimed-events-per-wf-run): post more once it has claimed some",
    );
    expect(
      (
        await c.fail("GetExternalEvent", {
          wf_run_id: { id: "lim-1" },
          external_event_def_id: { name: "lim-noise" },
          guid: "one-too-many",
        })
      ).code,
    ).toBe("NOT_FOUND");
    expect((await c.call("ListExternalEvents", { wf_run_id: { id: "lim-1" } })).results).toHaveLength(3);
    // the event its node waits for is claimed at once: the limit does not stand in its way
    const wanted = await post("lim-wanted");
    expect(wanted.claimed).toBe(true);
    await waitFor(async () => {
      const r = await c.call("GetWfRun", { id: "lim-1" });
      return r.status === "COMPLETED" ? r : undefined;
    });
  });
});
