/**
 * Child process: a real Pony server (PonyServer with its default SQLite store, WAL + synchronous=FULL) on a
 * free loopback port, in the data dir given as argv[2]. This is what `npm start` runs, minus the CLI: started
 * from here so that the parent can read the processor's batch statistics over IPC and stop it cleanly (a
 * clean exit is what writes a `--cpu-prof` profile).
 *
 * Diagnostics only (no behaviour change): the store's commit is wrapped to time each group commit, from the
 * batch handed in (encoding included) to its commit answered: statements + COMMIT with its fsync, any WAL
 * checkpoint, and the wait behind batches written before it. A loaded server writes on the writer thread, so
 * the summed time is how long a commit was in flight, not time the event loop was blocked.
 */
import fs from "node:fs";
import { PonyServer, loadSettings } from "@pony/server";
import { monoMs, serveParent, sendToParent } from "./common";

const dataDir = process.argv[2];
if (!dataDir) throw new Error("usage: server-child.ts DATA_DIR [SERVER FLAGS…]");
// the data dir is a fresh temp dir of this run: gone with the server, even if the orchestrator died
process.on("exit", () => fs.rmSync(dataDir, { recursive: true, force: true }));

// further arguments are server flags (the OAuth case passes --oauth-*)
const settings = loadSettings(
  [
    "--grpc-port",
    "0",
    "--grpc-host",
    "127.0.0.1",
    "--http-port",
    "0",
    "--data-dir",
    dataDir,
    "--log-level",
    "warn",
    ...process.argv.slice(3),
  ],
  {},
);
const server = await PonyServer.start(settings);

const store = server.runtime.store;
const commit = store.commit.bind(store);
/** durations (ms) and sizes (write ops) of the commits since the last `stats` call */
let commitMs: number[] = [];
let commitOps = 0;
store.commit = async (ops, fence) => {
  const t0 = monoMs();
  try {
    await commit(ops, fence);
  } finally {
    commitMs.push(monoMs() - t0);
    commitOps += ops.length;
  }
};

serveParent({
  /** the processor's cumulative batch counters, and the commit timings since the previous call */
  stats: () => {
    const out = { ...server.runtime.processor.stats, commitMs, commitOps };
    commitMs = [];
    commitOps = 0;
    return out;
  },
  stop: async () => {
    await server.stop();
    setImmediate(() => process.exit(0));
    return true;
  },
});
sendToParent({ ev: "ready", address: `127.0.0.1:${server.grpcPort}`, httpPort: server.httpPort });
