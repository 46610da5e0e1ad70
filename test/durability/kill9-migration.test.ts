/**
 * MigrateWfSpec across a real crash: the server is killed with SIGKILL while its sweep is moving WfRuns to
 * the new version (some moved, most not, the call unanswered). Started again, it finishes the stored
 * migration: every WfRun ends on the new version, each moved exactly once, and each goes on along the new
 * version's nodes.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startChildServer, type ChildServer } from "../support/process-server";
import type { Msg, TestClient } from "../support/client";
import { entry, entrypointMigration, exit, str, thread, wfSpec } from "../support/specs";
import { waitFor } from "../support/wait";

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "pony-kill9-migration-"));
let server: ChildServer | undefined;

afterAll(async () => {
  await server?.kill();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const RUNS = 1500;

/** waits at `waitNode` for the event `km-go`, then exits */
const waitWf = (waitNode: string) =>
  wfSpec(
    "km-wf",
    thread([
      entry(),
      { name: waitNode, node: { external_event: { external_event_def_id: { name: "km-go" } } } },
      exit("2-exit-EXIT"),
    ]),
  );

describe("MigrateWfSpec and SIGKILL", () => {
  it("a server killed midway through a migration's sweep finishes it when started again, moving each WfRun once", async () => {
    server = await startChildServer(dataDir);
    let c: TestClient = server.client();
    await c.call("PutExternalEventDef", { name: "km-go" });
    const from = (await c.call("PutWfSpec", waitWf("1-wait"))).id as Msg;
    const to = (await c.call("PutWfSpec", waitWf("1-wait-v1"))).id as Msg;
    expect(to.revision).toBe((from.revision as number) + 1);
    const ids = Array.from({ length: RUNS }, (_, i) => `km-${i}`);
    for (let i = 0; i < RUNS; i += 50) {
      await Promise.all(
        ids
          .slice(i, i + 50)
          .map((id) => c.call("RunWf", { wf_spec_name: "km-wf", id, major_version: 0, revision: 0 })),
      );
    }

    // the migration, on a client of its own; the sweep moves the oldest WfRuns first
    const caller = server.client();
    const answer = caller
      .call("MigrateWfSpec", {
        old_wf_spec: from,
        migration: entrypointMigration(to, { "1-wait": "1-wait-v1" }),
      })
      .then(
        () => "answered",
        () => "failed",
      );
    await waitFor(
      async () =>
        (await c.call("GetWfRun", { id: ids[0] })).wf_spec_id.revision === to.revision ? true : undefined,
      30_000,
      "the first WfRun to move",
    );
    await server.kill("SIGKILL");
    // the call never got its answer: the server died during the sweep
    expect(await answer).toBe("failed");

    server = await startChildServer(dataDir);
    c = server.client();
    // the stored migration resumes at start: every WfRun moves, each once
    await waitFor(
      async () => {
        const page = await c.call("SearchWfRun", {
          wf_spec_name: "km-wf",
          wf_spec_major_version: 0,
          wf_spec_revision: 0,
          limit: 1,
        });
        return (page.results ?? []).length === 0 ? true : undefined;
      },
      60_000,
      "no WfRun left on the old version",
    );
    const moved = await c.call("SearchWfRun", {
      wf_spec_name: "km-wf",
      wf_spec_major_version: to.major_version,
      wf_spec_revision: to.revision,
      limit: 1000,
    });
    expect(moved.results.length).toBe(1000);
    for (let i = 0; i < RUNS; i += 50) {
      const runs = await Promise.all(ids.slice(i, i + 50).map((id) => c.call("GetWfRun", { id })));
      for (const run of runs) {
        expect(run.wf_spec_id.revision).toBe(to.revision);
        // moved once: the old version listed once
        expect(run.old_wf_spec_versions).toEqual([from]);
      }
    }
    // they go on along the new version's nodes
    for (const id of [ids[0]!, ids[RUNS - 1]!]) {
      await c.call("PutExternalEvent", {
        wf_run_id: { id },
        external_event_def_id: { name: "km-go" },
        content: str("go"),
      });
      const done = await waitFor(async () => {
        const r = await c.call("GetWfRun", { id });
        return r.status === "COMPLETED" ? r : undefined;
      });
      const waited = await c.call("GetNodeRun", { wf_run_id: { id }, thread_run_number: 0, position: 1 });
      expect(waited.node_name).toBe("1-wait-v1");
      expect(done.status).toBe("COMPLETED");
    }
  }, 180_000);
});
