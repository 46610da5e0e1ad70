/**
 * `npm run bench:flood`: fairness under a flood (issue 13). A Pony server runs as its own process; one tenant
 * keeps 16 RunWfs of a self-spawning WfSpec in flight (each WfRun starts thousands of threads) while another
 * tenant calls GetServerVersion and RunWf; prints their latency percentiles without and with the flood, and
 * how many of the flood's RunWfs were refused with RESOURCE_EXHAUSTED.
 *
 *   npm run bench:flood [-- --seconds 20 --concurrency 16 --max-node-runs-per-turn 500]
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { startChildServer } from "../test/support/process-server";
import { percentile, prepareFlood, runFlood, type FloodFigures } from "../test/support/flood";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "20" },
    concurrency: { type: "string", default: "16" },
    "max-node-runs-per-turn": { type: "string" },
  },
});

const fmt = (ms: number) => ms.toFixed(1).padStart(7);
function row(name: string, sorted: number[]): string {
  return `${name.padEnd(34)} n=${String(sorted.length).padStart(5)}  p50 ${fmt(percentile(sorted, 50))}  p95 ${fmt(
    percentile(sorted, 95),
  )}  p99 ${fmt(percentile(sorted, 99))}  max ${fmt(sorted.at(-1) ?? NaN)} ms`;
}
function report(title: string, f: FloodFigures): void {
  console.log(`\n${title}`);
  console.log(row("  bystander GetServerVersion", f.versionMs));
  console.log(row("  bystander RunWf", f.runWfMs));
  if (f.floodRuns + f.floodRefused > 0) {
    console.log(
      `  flooder RunWf: ${f.floodRuns} answered, ${f.floodRefused} RESOURCE_EXHAUSTED, other errors ${JSON.stringify(
        f.floodErrors,
      )}`,
    );
  }
}

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "pony-bench-flood-"));
const extra = values["max-node-runs-per-turn"]
  ? ["--max-node-runs-per-turn", values["max-node-runs-per-turn"]]
  : [];
const server = await startChildServer(dataDir, ["--http-port", "0", ...extra]);
try {
  await prepareFlood(server.address);
  const seconds = Number(values.seconds);
  report(
    "baseline (no flood), 3 s",
    await runFlood(server.address, { durationMs: 3000, concurrency: 0, intervalMs: 5 }),
  );
  const flood = await runFlood(server.address, {
    durationMs: seconds * 1000,
    concurrency: Number(values.concurrency),
    intervalMs: 5,
  });
  report(`flood: ${values.concurrency} self-spawning RunWfs in flight, ${seconds} s`, flood);
  const rss = fs.readFileSync(`/proc/${server.proc.pid}/status`, "utf8").match(/VmRSS:\s+(\d+)/)?.[1];
  if (rss) console.log(`\nserver RSS after the flood: ${Math.round(Number(rss) / 1024)} MB`);
} finally {
  await server.kill("SIGTERM");
  fs.rmSync(dataDir, { recursive: true, force: true });
}
