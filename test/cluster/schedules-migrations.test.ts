/**
 * Scheduled WfRuns and MigrateWfSpec on a cluster: two servers in this process on one throwaway PostgreSQL,
 * sharing a ManualClock. A schedule's tick is fired by the owner of the metadata partition and each run is
 * started where its partition is owned (forwarded as the server's own principal); a migration moves the
 * WfRuns of every server's partitions.
 */
import { ManualClock } from "@pony/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Msg } from "../support/client";
import { startTestServer, type TestServer } from "../support/server";
import { entry, entrypointMigration, exit, str, thread, varDef, wfSpec } from "../support/specs";
import { waitFor } from "../support/wait";

const clock = new ManualClock();
let a: TestServer;
let b: TestServer;

beforeAll(async () => {
  a = await startTestServer({ store: "postgres", clock, extraArgs: ["--lease-seconds", "1"] });
  b = await startTestServer({ databaseUrl: a.databaseUrl, clock, extraArgs: ["--lease-seconds", "1"] });
  // both servers own partitions before the tests start
  await waitFor(
    async () =>
      a.server.runtime.partitions.held().size > 0 && b.server.runtime.partitions.held().size > 0
        ? true
        : undefined,
    30_000,
    "both servers to own partitions",
  );
});
afterAll(async () => {
  await b?.close();
  await a?.close();
});

const waitWf = (name: string) =>
  wfSpec(
    name,
    thread(
      [
        entry(),
        { name: "1-wait", node: { external_event: { external_event_def_id: { name: "cl-go" } } } },
        exit("2-exit-EXIT"),
      ],
      [varDef("who", "STR")],
    ),
  );

/** the next version of `waitWf(name)`: its waiting node renamed '1-wait-v1' */
function renamedWait(name: string): Msg {
  const v1 = waitWf(name);
  const nodes = (v1.thread_specs as Record<string, Msg>).entrypoint!.nodes as Record<string, Msg>;
  nodes["1-wait-v1"] = nodes["1-wait"]!;
  delete nodes["1-wait"];
  (nodes["0-entrypoint-ENTRYPOINT"]!.outgoing_edges as Msg[])[0]!.sink_node_name = "1-wait-v1";
  return v1;
}

describe("a cluster of two servers", () => {
  it("each tick of 12 schedules made through either server starts its WfRun, whichever server owns it", async () => {
    const ca = a.client();
    const cb = b.client();
    await ca.call("PutWfSpec", wfSpec("cl-sched", thread([entry(), exit()], [varDef("who", "STR")])));
    await waitFor(() =>
      cb.call("GetWfSpec", { name: "cl-sched", major_version: 0, revision: 0 }).catch(() => undefined),
    );
    const ids = Array.from({ length: 12 }, (_, i) => `cl-s${i}`);
    for (const [i, id] of ids.entries()) {
      await (i % 2 === 0 ? ca : cb).call("ScheduleWf", {
        id,
        wf_spec_name: "cl-sched",
        variables: { who: str(id) },
        cron_expression: "*/15 * * * *",
      });
    }
    const tick = Math.floor(clock.now() / 900_000) * 900_000 + 900_000;
    clock.advance(tick - clock.now() + 5);
    const minute = new Date(tick).toISOString().replace(/[-:T]/g, "").slice(0, 12);
    const owners = new Set<number>();
    for (const id of ids) {
      const runId = `${id}-${minute}`;
      const run = await waitFor(
        () => cb.call("GetWfRun", { id: runId }).catch(() => undefined),
        15_000,
        runId,
      );
      expect(run.status).toBe("COMPLETED");
      owners.add(a.server.runtime.partitions.owns(a.server.runtime.partitionOf("default", runId)) ? 0 : 1);
    }
    // the runs were spread over both servers' partitions: some were forwarded
    expect(owners.size).toBe(2);
  });

  it("MigrateWfSpec through one server moves the WfRuns of both servers' partitions", async () => {
    const ca = a.client();
    await ca.call("PutExternalEventDef", { name: "cl-go" });
    const from = (await ca.call("PutWfSpec", waitWf("cl-mig"))).id as Msg;
    const to = (await ca.call("PutWfSpec", renamedWait("cl-mig"))).id as Msg;
    const ids = Array.from({ length: 12 }, (_, i) => `cl-m${i}`);
    for (const id of ids)
      await ca.call("RunWf", { wf_spec_name: "cl-mig", id, major_version: 0, revision: 0 });
    await ca.call("MigrateWfSpec", {
      old_wf_spec: from,
      migration: entrypointMigration(to, { "1-wait": "1-wait-v1" }),
    });
    // the other server moves its own when it sees the migration
    for (const id of ids) {
      const run = await waitFor(
        async () => {
          const r = await ca.call("GetWfRun", { id });
          return r.wf_spec_id.revision === to.revision ? r : undefined;
        },
        15_000,
        `${id} on the new version`,
      );
      expect(run.old_wf_spec_versions).toEqual([from]);
    }
  });
  it("MigrateWfSpec's answer names the WfRuns that cannot move in every server's partitions, and moves none", async () => {
    const ca = a.client();
    const from = (await ca.call("PutWfSpec", waitWf("cl-mig-refused"))).id as Msg;
    const to = (await ca.call("PutWfSpec", renamedWait("cl-mig-refused"))).id as Msg;
    const ids = Array.from({ length: 12 }, (_, i) => `cl-r${i}`);
    for (const id of ids)
      await ca.call("RunWf", { wf_spec_name: "cl-mig-refused", id, major_version: 0, revision: 0 });
    // the runs live in both servers' partitions
    const ownedBy = (s: TestServer) =>
      ids.filter((id) => s.server.runtime.partitions.owns(s.server.runtime.partitionOf("default", id)));
    expect(ownedBy(a).length).toBeGreaterThan(0);
    expect(ownedBy(b).length).toBeGreaterThan(0);
    // their current node '1-wait' is not mapped
    const refused = await ca
      .call("MigrateWfSpec", {
        old_wf_spec: from,
        migration: entrypointMigration(to, {}),
      })
      .then(
        () => undefined,
        (e: { code?: number; details?: string }) => e,
      );
    expect(refused?.code).toBe(9); // FAILED_PRECONDITION
    expect(refused?.details).toContain("left 12 unchanged");
    for (const id of ids) expect(refused?.details).toContain(`'${id}'`);
    expect(refused?.details).toMatch(/1-wait/);
    // neither server moved any of them
    await new Promise((r) => setTimeout(r, 500));
    for (const id of ids) expect((await ca.call("GetWfRun", { id })).wf_spec_id.revision).toBe(0);
  });
});
