/**
 * A throwaway PostgreSQL cluster for tests and benchmarks: Debian's `postgresql` binaries (installed by
 * `.ci/run`), a fresh data directory under the system temp dir, a free loopback port, trust authentication
 * for the `pony` user. `stop()` stops the server and removes the directory.
 *
 * PostgreSQL refuses to run as root: when the tests run as root the cluster belongs to the `postgres` user
 * the Debian package creates, and its commands run through `runuser`.
 */
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { freePort } from "./process-server";

export interface ThrowawayPostgres {
  /** a URL of the cluster's `postgres` database */
  url: string;
  port: number;
  /** creates an empty database and returns its URL */
  createDatabase(name?: string): Promise<string>;
  /** stops the server at once (as a crash would) and removes its files */
  stop(): Promise<void>;
}

function binDir(): string {
  const root = "/usr/lib/postgresql";
  const versions = fs.existsSync(root)
    ? fs
        .readdirSync(root)
        .filter((v) => fs.existsSync(path.join(root, v, "bin", "initdb")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) {
    throw new Error(
      "PostgreSQL server binaries not found under /usr/lib/postgresql: install Debian's `postgresql` package (`.ci/run` does)",
    );
  }
  return path.join(root, versions[0]!, "bin");
}

const asRoot = process.getuid?.() === 0;

/** Runs a PostgreSQL command as the cluster's owner. */
function run_(bin: string, args: string[]): void {
  const [cmd, argv] = asRoot ? ["runuser", ["-u", "postgres", "--", bin, ...args]] : [bin, args];
  execFileSync(cmd, argv, { stdio: ["ignore", "ignore", "pipe"] });
}

let counter = 0;

/** Throwaway clusters live in `<tmp>/pony-pg-<run>-…`, where run is the test run's (vitest's) process id. */
export const CLUSTER_DIR_PREFIX = "pony-pg-";
/** vitest runs test files in child processes: their parent is the run */
const runId = () => (process.env.VITEST ? process.ppid : process.pid);

/**
 * Stops every throwaway cluster of a test run that a test file left behind (its process ended without
 * stopping it): vitest's global teardown calls this (postgres-teardown.ts).
 */
export function stopLeftoverClusters(run: number): void {
  const tmp = os.tmpdir();
  for (const name of fs.readdirSync(tmp)) {
    if (!name.startsWith(`${CLUSTER_DIR_PREFIX}${run}-`)) continue;
    const data = path.join(tmp, name, "data");
    if (fs.existsSync(path.join(data, "postmaster.pid"))) {
      try {
        run_(path.join(binDir(), "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"]);
      } catch {
        // already stopped
      }
    }
    fs.rmSync(path.join(tmp, name), { recursive: true, force: true });
  }
}

export async function startThrowawayPostgres(
  opts: { fsync?: boolean; maxConnections?: number } = {},
): Promise<ThrowawayPostgres> {
  const bin = binDir();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${CLUSTER_DIR_PREFIX}${runId()}-`));
  if (asRoot) execFileSync("chown", ["postgres", dir]);
  const data = path.join(dir, "data");
  run_(path.join(bin, "initdb"), ["-D", data, "-U", "pony", "--auth=trust", "-E", "UTF8", "--no-sync"]);
  const port = await freePort();
  const settings = [
    `port=${port}`,
    `listen_addresses='127.0.0.1'`,
    `unix_socket_directories='${dir}'`,
    `fsync=${opts.fsync === false ? "off" : "on"}`,
    `max_connections=${opts.maxConnections ?? 100}`,
    "log_min_messages=warning",
  ];
  fs.appendFileSync(path.join(data, "postgresql.conf"), settings.join("\n") + "\n");
  const postgres = path.join(bin, "postgres");
  const [cmd, argv] = asRoot
    ? ["runuser", ["-u", "postgres", "--", postgres, "-D", data]]
    : [postgres, ["-D", data]];
  const child = spawn(cmd, argv, { stdio: ["ignore", "ignore", "pipe"], detached: false });
  let log = "";
  child.stderr.on("data", (d: Buffer) => {
    log = (log + d.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = `postgres://pony@127.0.0.1:${port}/postgres`;
  for (let i = 0; ; i++) {
    const c = new pg.Client({ connectionString: url });
    try {
      await c.connect();
      await c.end();
      break;
    } catch (e) {
      await c.end().catch(() => undefined);
      if (i > 200 || child.exitCode !== null) {
        child.kill("SIGKILL");
        fs.rmSync(dir, { recursive: true, force: true });
        throw new Error(`the throwaway PostgreSQL did not start: ${String(e)}\n${log}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  let stopped = false;
  return {
    url,
    port,
    async createDatabase(name?: string) {
      const db = name ?? `pony_${process.pid}_${++counter}`;
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        await c.query(`CREATE DATABASE "${db}"`);
      } finally {
        await c.end();
      }
      return `postgres://pony@127.0.0.1:${port}/${db}`;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        run_(path.join(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"]);
      } catch {
        child.kill("SIGKILL");
      }
      const timeout = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timeout);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
