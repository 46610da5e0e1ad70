/**
 * Issue 13, shutdown: SIGTERM under load drains — what was acknowledged is committed, open PollTask streams
 * end with UNAVAILABLE so workers reconnect — and the process exits within a bounded time. Three SIGTERMs in
 * a row under load; the measured drain times are printed; afterwards every acknowledged RunWf completes.
 * (That streams and waiting calls end with UNAVAILABLE is test/api/shutdown.test.ts.)
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, expect, it } from "vitest";
import { freePort, startChildServer, type ChildServer } from "../support/process-server";
import type { TestClient } from "../support/client";
import { entry, exit, str, taskDef, taskNode, thread, varDef, varRef, wfSpec } from "../support/specs";
import { startRawWorker } from "../support/worker";
import { waitFor } from "../support/wait";

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "pony-sigterm-"));
let server: ChildServer | undefined;

afterAll(async () => {
  await server?.kill("SIGKILL");
  fs.rmSync(dataDir, { recursive: true, force: true });
});

it("SIGTERM under load drains and exits within 10 s, three times in a row, and every acknowledged RunWf completes", async () => {
  const port = await freePort();
  server = await startChildServer(dataDir, ["--http-port", "0"], port);
  let c: TestClient = server.client();
  await c.call("PutTaskDef", taskDef("term-task", [["input", "STR"]]));
  await c.call(
    "PutWfSpec",
    wfSpec(
      "term-wf",
      thread(
        [
          entry(),
          taskNode("1-t-TASK", "term-task", [varRef("input")], { timeout_seconds: 2, retries: 5 }),
          exit("2-exit-EXIT"),
        ],
        [varDef("input", "STR")],
      ),
    ),
  );
  const acked = new Set<string>();
  const drains: number[] = [];
  let n = 0;
  for (let round = 0; round < 3; round++) {
    const worker = startRawWorker(c, "term-task", () => ({ status: "TASK_SUCCESS", output: str("ok") }), {
      concurrency: 8,
    });
    let stopping = false;
    const client = c;
    const loaders = Array.from({ length: 16 }, async () => {
      while (!stopping) {
        const id = `term-${n++}`;
        try {
          await client.call("RunWf", { wf_spec_name: "term-wf", id, variables: { input: str(id) } });
          acked.add(id);
        } catch {
          return;
        }
      }
    });
    await new Promise((r) => setTimeout(r, 1500));
    stopping = true;
    const t0 = performance.now();
    await server.kill("SIGTERM");
    drains.push(performance.now() - t0);
    await Promise.allSettled(loaders);
    worker.stop();
    // restart on the same port, for the next round (and the end)
    server = await startChildServer(dataDir, ["--http-port", "0"], port);
    c = server.client();
  }
  console.log(
    `SIGTERM drain times: ${drains.map((d) => d.toFixed(0)).join(", ")} ms; ${acked.size} RunWfs acknowledged`,
  );
  for (const d of drains) expect(d).toBeLessThan(10_000);
  const worker = startRawWorker(c, "term-task", () => ({ status: "TASK_SUCCESS", output: str("ok") }), {
    concurrency: 16,
  });
  try {
    for (const id of acked) {
      await waitFor(
        async () => ((await c.call("GetWfRun", { id })).status === "COMPLETED" ? true : undefined),
        30_000,
        `WfRun ${id} to complete`,
      );
    }
  } finally {
    worker.stop();
  }
}, 180_000);
