/**
 * Starts a real Pony server for a test: in this process, on a free loopback port, with a fresh data dir.
 *
 * With `store: "postgres"` (or PONY_TEST_STORE=postgres, see use-postgres.ts) it runs on PostgreSQL: a
 * throwaway cluster started once per test file (stopped when the file's last server closes) and a fresh
 * database per server; `databaseUrl` reopens one (a restart).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { PonyServer, loadSettings, type ManualClock } from "@pony/server";
import { TestClient, type TestClientOptions } from "./client";
import { startThrowawayPostgres, type ThrowawayPostgres } from "./postgres";

let cluster: Promise<ThrowawayPostgres> | undefined;
let clusterUsers = 0;
/** a restart (the same data dir) reopens the same database */
const databaseOfDataDir = new Map<string, string>();

async function postgresDatabase(): Promise<string> {
  cluster ??= startThrowawayPostgres({ fsync: false });
  return (await cluster).createDatabase();
}

async function releasePostgres(): Promise<void> {
  if (--clusterUsers > 0 || !cluster) return;
  const c = cluster;
  cluster = undefined;
  await (await c).stop();
}

export interface TestServer {
  server: PonyServer;
  address: string;
  dataDir: string;
  /** the PostgreSQL database (store "postgres") */
  databaseUrl?: string;
  client(tenant?: string, opts?: TestClientOptions): TestClient;
  /** stops the server, keeping the data dir (for restart tests) */
  stop(): Promise<void>;
  /** stops the server and removes its data */
  close(): Promise<void>;
}

export async function startTestServer(
  opts: {
    dataDir?: string;
    extraArgs?: string[];
    store?: "sqlite" | "postgres";
    databaseUrl?: string;
    /** a clock the test moves forward by hand (timers and scheduled ticks that come due fire at once) */
    clock?: ManualClock;
  } = {},
): Promise<TestServer> {
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "pony-test-"));
  const postgres =
    (opts.store ?? process.env.PONY_TEST_STORE) === "postgres" || opts.databaseUrl !== undefined;
  let databaseUrl = opts.databaseUrl;
  if (postgres) {
    clusterUsers++;
    databaseUrl ??= databaseOfDataDir.get(dataDir) ?? (await postgresDatabase());
    databaseOfDataDir.set(dataDir, databaseUrl);
  }
  const storeArgs = databaseUrl
    ? ["--store", "postgres", "--database-url", databaseUrl, "--internal-port", "0"]
    : [];
  const settings = loadSettings(
    [
      "--grpc-port",
      "0",
      "--grpc-host",
      "127.0.0.1",
      "--http-port",
      "0",
      "--http-host",
      "127.0.0.1",
      "--data-dir",
      dataDir,
      ...storeArgs,
      ...(opts.extraArgs ?? []),
    ],
    {},
  );
  const server = await PonyServer.start(settings, pino({ level: process.env.PONY_TEST_LOG ?? "silent" }), {
    clock: opts.clock,
  });
  const address = `127.0.0.1:${server.grpcPort}`;
  const clients: TestClient[] = [];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const c of clients) c.close();
    await server.stop();
  };
  return {
    server,
    address,
    dataDir,
    databaseUrl,
    client(tenant?: string, opts?: TestClientOptions) {
      const c = new TestClient(address, tenant, opts);
      clients.push(c);
      return c;
    },
    stop,
    async close() {
      await stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
      if (postgres) await releasePostgres();
    },
  };
}
