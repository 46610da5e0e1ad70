/** Starts a real Pony server for a test: in this process, on a free loopback port, with a fresh data dir. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { PonyServer, loadSettings } from "@pony/server";
import { TestClient, type TestClientOptions } from "./client";

export interface TestServer {
  server: PonyServer;
  address: string;
  dataDir: string;
  client(tenant?: string, opts?: TestClientOptions): TestClient;
  /** stops the server, keeping the data dir (for restart tests) */
  stop(): Promise<void>;
  /** stops the server and removes its data */
  close(): Promise<void>;
}

export async function startTestServer(
  opts: { dataDir?: string; extraArgs?: string[] } = {},
): Promise<TestServer> {
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "pony-test-"));
  const settings = loadSettings(
    ["--grpc-port", "0", "--grpc-host", "127.0.0.1", "--data-dir", dataDir, ...(opts.extraArgs ?? [])],
    {},
  );
  const server = await PonyServer.start(settings, pino({ level: process.env.PONY_TEST_LOG ?? "silent" }));
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
    client(tenant?: string, opts?: TestClientOptions) {
      const c = new TestClient(address, tenant, opts);
      clients.push(c);
      return c;
    },
    stop,
    async close() {
      await stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
