/**
 * `npm run soak`: the long fuzz (issue 13). A Pony server runs as its own process; 100,000 random, mutated,
 * deeply nested and 5–50 MB requests go to every unary RPC, 16 at a time. Prints the status counts, the
 * rate, the server's RSS, and every INTERNAL / UNKNOWN / hung request; exits 1 if there was one, if the
 * server died, or if what was stored before changed.
 *
 *   npm run soak [-- --count 100000 --seed 42]
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { isDeepStrictEqual, parseArgs } from "node:util";
import { startChildServer } from "../test/support/process-server";
import { fuzz } from "../test/support/fuzz";
import { seedFuzzTargets, snapshotOf } from "../test/support/fuzz-targets";

const { values } = parseArgs({
  options: { count: { type: "string", default: "100000" }, seed: { type: "string" } },
});
const seed = Number(values.seed ?? Date.now() % 1_000_000);
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "pony-soak-"));
const server = await startChildServer(dataDir, ["--http-port", "0"]);
let failed = false;
try {
  const client = server.client();
  const targets = await seedFuzzTargets(client);
  const before = await snapshotOf(client, targets);
  const t0 = performance.now();
  const stats = await fuzz(server.address, {
    count: Number(values.count),
    concurrency: 16,
    seed,
    known: targets.names,
    bigPayloads: true,
  });
  const seconds = (performance.now() - t0) / 1000;
  console.log(
    `soak (seed ${seed}): ${stats.sent} requests in ${seconds.toFixed(1)} s (${(stats.sent / seconds).toFixed(0)}/s)`,
  );
  for (const [code, n] of Object.entries(stats.codes).sort((a, b) => b[1] - a[1]))
    console.log(`  ${code.padEnd(20)} ${n}`);
  const rss = fs.readFileSync(`/proc/${server.proc.pid}/status`, "utf8").match(/VmRSS:\s+(\d+)/)?.[1];
  if (rss) console.log(`server RSS: ${Math.round(Number(rss) / 1024)} MB`);
  for (const b of stats.bad) console.log(`  BAD ${b.code} ${b.method} (${b.kind}): ${b.details}`);
  const alive = server.proc.exitCode === null;
  const unchanged = isDeepStrictEqual(await snapshotOf(client, targets), before);
  console.log(
    `server alive: ${alive}; stored objects unchanged: ${unchanged}; bad answers: ${stats.bad.length}`,
  );
  failed = stats.bad.length > 0 || !alive || !unchanged;
} finally {
  await server.kill("SIGKILL");
  fs.rmSync(dataDir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
