/**
 * Issue 13, a slow disk: the server runs with every fsync / fdatasync delayed by 300 ms (an LD_PRELOAD shim,
 * test/support/native/slow-fsync.c, compiled here with the system's C compiler). Writes get slower but are
 * grouped (one fsync carries many commands), nothing fails or is lost, and calls that need no disk are
 * answered at once meanwhile.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startChildServer, type ChildServer } from "../support/process-server";
import { entry, exit, str, thread, varDef, wfSpec } from "../support/specs";

const here = path.dirname(fileURLToPath(import.meta.url));
const FSYNC_MS = 300;
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "pony-slow-disk-"));
let server: ChildServer | undefined;

beforeAll(async () => {
  const shim = path.join(workDir, "slow-fsync.so");
  execFileSync("cc", [
    "-shared",
    "-fPIC",
    "-O2",
    "-o",
    shim,
    path.join(here, "../support/native/slow-fsync.c"),
    "-ldl",
  ]);
  // the child takes the environment as it is when spawned
  const saved = { preload: process.env.LD_PRELOAD, ms: process.env.PONY_SLOW_FSYNC_MS };
  process.env.LD_PRELOAD = shim;
  process.env.PONY_SLOW_FSYNC_MS = String(FSYNC_MS);
  try {
    server = await startChildServer(path.join(workDir, "data"), ["--http-port", "0"]);
  } finally {
    if (saved.preload === undefined) delete process.env.LD_PRELOAD;
    else process.env.LD_PRELOAD = saved.preload;
    if (saved.ms === undefined) delete process.env.PONY_SLOW_FSYNC_MS;
    else process.env.PONY_SLOW_FSYNC_MS = saved.ms;
  }
}, 60_000);

afterAll(async () => {
  await server?.kill("SIGKILL");
  fs.rmSync(workDir, { recursive: true, force: true });
});

it("slow disk: with fsync delayed 300 ms, 200 concurrent RunWfs all commit in grouped batches, nothing is lost, and GetServerVersion is answered meanwhile", async () => {
  const c = server!.client();
  const t0 = performance.now();
  await c.call("PutWfSpec", wfSpec("slow-wf", thread([entry(), exit("1-exit-EXIT")], [varDef("v", "STR")])));
  // the disk really is slow: one write waits for at least one delayed fsync
  expect(performance.now() - t0).toBeGreaterThanOrEqual(FSYNC_MS);

  // warm up (the first calls compile code): then what the probe sees is the disk's doing, or not
  await Promise.all(
    Array.from({ length: 20 }, (_, i) => c.call("RunWf", { wf_spec_name: "slow-wf", id: `warm-${i}` })),
  );
  const N = 200;
  const versionMs: number[] = [];
  let writing = true;
  const probe = (async () => {
    while (writing) {
      const t = performance.now();
      await c.call("GetServerVersion");
      versionMs.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const t1 = performance.now();
  const runs = await Promise.all(
    Array.from({ length: N }, (_, i) =>
      c.call("RunWf", { wf_spec_name: "slow-wf", id: `slow-${i}`, variables: { v: str(String(i)) } }),
    ),
  );
  const elapsed = performance.now() - t1;
  writing = false;
  await probe;
  versionMs.sort((a, b) => a - b);
  console.log(
    `slow disk: ${N} RunWfs in ${elapsed.toFixed(0)} ms (one by one would take ≥ ${(N * FSYNC_MS) / 1000} s); ` +
      `GetServerVersion max ${versionMs.at(-1)?.toFixed(1)} ms over ${versionMs.length} calls`,
  );
  expect(runs.every((r) => r.status === "COMPLETED")).toBe(true);
  // grouped: far fewer fsyncs than commands
  expect(elapsed).toBeLessThan((N * FSYNC_MS) / 5);
  // GetServerVersion touches no disk: a slow fsync (on the writer) must not hold it
  expect(versionMs.at(-1)!).toBeLessThan(FSYNC_MS);
  for (let i = 0; i < N; i += 37)
    expect((await c.call("GetWfRun", { id: `slow-${i}` })).status).toBe("COMPLETED");
}, 120_000);
