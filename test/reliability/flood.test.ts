/**
 * Issue 13, "one tenant stalls the server": fairness under a flood, and WfRuns that move in turns.
 * The server runs as its own process (the test's client must not share its event loop).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startChildServer, type ChildServer } from "../support/process-server";
import { percentile, prepareFlood, putSpawner, runFlood } from "../support/flood";
import type { TestClient } from "../support/client";
import { TestClient as Client } from "../support/client";
import { waitFor } from "../support/wait";

let dataDir: string;
let server: ChildServer;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "pony-flood-"));
  server = await startChildServer(dataDir, ["--http-port", "0"]);
  await prepareFlood(server.address);
}, 60_000);

afterAll(async () => {
  await server?.kill("SIGKILL");
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("one tenant cannot stall the server", () => {
  it("one tenant stalls the server: with 16 self-spawning RunWfs in flight, another tenant's GetServerVersion and RunWf are answered throughout, and the flood is refused with RESOURCE_EXHAUSTED", async () => {
    const f = await runFlood(server.address, { durationMs: 8_000, concurrency: 16, intervalMs: 5 });
    console.log(
      `flood: GetServerVersion p50 ${percentile(f.versionMs, 50).toFixed(1)} p99 ${percentile(f.versionMs, 99).toFixed(1)} ms, ` +
        `RunWf p50 ${percentile(f.runWfMs, 50).toFixed(1)} p99 ${percentile(f.runWfMs, 99).toFixed(1)} ms, ` +
        `flooder ${f.floodRuns} answered / ${f.floodRefused} refused`,
    );
    expect(f.floodErrors).toEqual({}); // nothing but answers and RESOURCE_EXHAUSTED
    expect(f.floodRefused).toBeGreaterThan(0);
    expect(f.floodRuns).toBeGreaterThanOrEqual(16);
    // before: every call waited 9-11 s. The figures to reach (p99 < 100 ms) are measured by `npm run
    // bench:flood` on a quiet machine; here the bound is loose enough for a loaded CI machine and still
    // far below a stall.
    expect(f.versionMs.length).toBeGreaterThan(20);
    expect(f.versionMs.at(-1)!).toBeLessThan(1_500);
    expect(f.runWfMs.at(-1)!).toBeLessThan(3_000);
  }, 60_000);

  it("a RunWf that starts thousands of threads answers after its first turn, and the WfRun goes on to its end across a kill -9", async () => {
    const admin = new Client(server.address);
    await admin.call("PutTenant", { id: "turns" });
    admin.close();
    const c: TestClient = new Client(server.address, "turns");
    try {
      await putSpawner(c);
      const started = await c.call("RunWf", { wf_spec_name: "flood-spawner" });
      // answered with the first turn done: the WfRun is still starting threads
      expect(started.status).toBe("RUNNING");
      expect(started.thread_runs.length).toBeLessThan(5_000);
      await server.kill("SIGKILL");
      server = await startChildServer(dataDir, ["--http-port", "0"]);
      const after = new Client(server.address, "turns");
      try {
        // the turn timer is durable: after the restart the WfRun goes on until the 5,000-thread limit
        const run = await waitFor(
          async () => {
            const r = await after.call("GetWfRun", started.id);
            return r.thread_runs.length >= 5_000 ? r : undefined;
          },
          60_000,
          "the WfRun to reach 5,000 threads after the restart",
        );
        expect(run.thread_runs.length).toBeGreaterThanOrEqual(5_000);
      } finally {
        after.close();
      }
    } finally {
      c.close();
    }
  }, 120_000);
});
