/**
 * What a dashboard test needs: a real Pony server (its HTTP listener serves the built dashboard), the SDK's
 * client and workers against it (runs are made as a user makes them), and a real browser.
 */
import fs from "node:fs";
import path from "node:path";
import { LHStatus, type WfRun, type WfRunId } from "@pony/proto";
import {
  LHConfig,
  LHTaskWorker,
  silentLogger,
  type LHClient,
  type LHTaskFunction,
  type LHTaskWorkerOptions,
} from "@pony/sdk";
import { DASHBOARD_DIR } from "../../packages/server/src/http/static-files";
import { startBrowser, type TestBrowser } from "./browser";
import { startTestServer, type TestServer } from "./server";

export interface DashboardEnv {
  server: TestServer;
  /** the dashboard's address, http://127.0.0.1:<port> */
  url: string;
  config: LHConfig;
  client: LHClient;
  browser: TestBrowser;
  /** an SDK worker for `taskDefName`, registered and started; closed by close() */
  worker(
    taskDefName: string,
    fn: LHTaskFunction,
    inputVars?: LHTaskWorkerOptions["inputVars"],
  ): Promise<LHTaskWorker>;
  /** polls GetWfRun until `done` holds */
  waitFor(id: WfRunId, done: (r: WfRun) => boolean, timeoutMs?: number): Promise<WfRun>;
  close(): Promise<void>;
}

export const finished = (r: WfRun) =>
  r.status === LHStatus.COMPLETED || r.status === LHStatus.ERROR || r.status === LHStatus.EXCEPTION;

export async function startDashboardEnv(opts: { extraArgs?: string[] } = {}): Promise<DashboardEnv> {
  if (!fs.existsSync(path.join(DASHBOARD_DIR, "index.html")))
    throw new Error(`the dashboard is not built (${DASHBOARD_DIR}): run npm run build:dashboard`);
  const server = await startTestServer({
    extraArgs: ["--advertised-host", "127.0.0.1", ...(opts.extraArgs ?? [])],
  });
  const config = new LHConfig({
    apiHost: "127.0.0.1",
    apiPort: server.server.grpcPort,
    configFile: null,
    env: {},
  });
  const client = config.getClient();
  const url = `http://127.0.0.1:${server.server.httpPort}`;
  const browser = await startBrowser(url);
  const workers: LHTaskWorker[] = [];
  return {
    server,
    url,
    config,
    client,
    browser,
    async worker(taskDefName, fn, inputVars) {
      const w = new LHTaskWorker(fn, taskDefName, config, { inputVars, logger: silentLogger });
      await w.registerTaskDef();
      await w.start();
      workers.push(w);
      return w;
    },
    async waitFor(id, done, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const r = await client.getWfRun(id);
        if (done(r)) return r;
        if (Date.now() > deadline) throw new Error(`WfRun ${id.id} is still ${LHStatus[r.status]}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async close() {
      await Promise.all(workers.map((w) => w.close()));
      await browser.close();
      config.close();
      await server.close();
    },
  };
}
