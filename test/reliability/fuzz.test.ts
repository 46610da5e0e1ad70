/**
 * Issue 13, the fuzz test: ≥ 10,000 random and mutated requests over every unary RPC, plus deeply nested and
 * 5–50 MB payloads, against a server running as its own process. No answer may be INTERNAL or UNKNOWN, none
 * may hang, the server must stay up, and what was stored before is still there, unchanged.
 * `npm run soak` runs the same with ≥ 100,000 requests.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startChildServer, type ChildServer } from "../support/process-server";
import { fuzz } from "../support/fuzz";
import { seedFuzzTargets, snapshotOf } from "../support/fuzz-targets";

let dataDir: string;
let server: ChildServer;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "pony-fuzz-"));
  server = await startChildServer(dataDir, ["--http-port", "0"]);
}, 60_000);

afterAll(async () => {
  await server?.kill("SIGKILL");
  fs.rmSync(dataDir, { recursive: true, force: true });
});

it("fuzz: 10,000 random, mutated, deeply nested and 5-50 MB requests over every RPC answer no INTERNAL or UNKNOWN, never hang, and change nothing stored", async () => {
  const client = server.client();
  const targets = await seedFuzzTargets(client);
  const before = await snapshotOf(client, targets);
  const seed = Number(process.env.PONY_FUZZ_SEED ?? Date.now() % 1_000_000);
  const stats = await fuzz(server.address, {
    count: Number(process.env.PONY_FUZZ_COUNT ?? 10_000),
    concurrency: 16,
    seed,
    known: targets.names,
    bigPayloads: true,
  });
  console.log(`fuzz (seed ${seed}): ${stats.sent} requests, status counts ${JSON.stringify(stats.codes)}`);
  expect(stats.bad, `seed ${seed}`).toEqual([]);
  expect(server.proc.exitCode).toBeNull();
  expect(await snapshotOf(client, targets)).toEqual(before);
}, 600_000);
