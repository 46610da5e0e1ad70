/** Runs a Pony server as a child process (for crash tests: it can be killed with SIGKILL). */
import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { TestClient } from "./client";
import { waitFor } from "./wait";

const here = path.dirname(fileURLToPath(import.meta.url));
const MAIN = path.resolve(here, "../../packages/server/src/main.ts");

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

export interface ChildServer {
  proc: ChildProcess;
  address: string;
  client(): TestClient;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function startChildServer(
  dataDir: string,
  extraArgs: string[] = [],
  fixedPort?: number,
): Promise<ChildServer> {
  const port = fixedPort ?? (await freePort());
  const proc = spawn(
    process.execPath,
    [
      // PONY_CHILD_NODE_ARGS: extra node flags for the server process (e.g. "--cpu-prof --cpu-prof-dir=/tmp/p")
      ...(process.env.PONY_CHILD_NODE_ARGS?.split(" ").filter(Boolean) ?? []),
      "--import",
      "tsx",
      MAIN,
      "--grpc-port",
      String(port),
      "--grpc-host",
      "127.0.0.1",
      "--data-dir",
      dataDir,
      ...extraArgs,
    ],
    {
      // PONY_TEST_CHILD_LOGS=1 shows the servers' logs (warnings and errors) on stderr
      stdio: ["ignore", process.env.PONY_TEST_CHILD_LOGS ? 2 : "ignore", "inherit"],
      env: { ...process.env, PONY_LOG_LEVEL: "warn" },
    },
  );
  const address = `127.0.0.1:${port}`;
  const clients: TestClient[] = [];
  const probe = new TestClient(address);
  try {
    await waitFor(
      async () => (await probe.call("GetServerVersion", {}, { deadlineMs: 500 })) ?? undefined,
      30_000,
      "server start",
    );
  } finally {
    probe.close();
  }
  return {
    proc,
    address,
    client() {
      const c = new TestClient(address);
      clients.push(c);
      return c;
    },
    async kill(signal: NodeJS.Signals = "SIGKILL") {
      for (const c of clients) c.close();
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once("exit", r));
      proc.kill(signal);
      await exited;
    },
  };
}
