/** Helpers for the SDK's tests: a real Pony server in this process, one-task WfSpecs, waiting. */
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { create } from "@bufbuild/protobuf";
import {
  LHStatus,
  PutWfSpecRequestSchema,
  VariableType,
  type PutWfSpecRequest,
  type TaskRun,
  type WfRun,
} from "@pony/proto";
import { PonyServer, loadSettings } from "@pony/server";
import pino from "pino";
import { LHConfig, silentLogger, type LHClient, type LHConfigOptions } from "../src/index";

export interface SdkTestServer {
  server: PonyServer;
  port: number;
  dataDir: string;
  /** an LHConfig pointing at this server (no config file, an empty environment) */
  config(options?: LHConfigOptions): LHConfig;
  stop(): Promise<void>;
}

/** Starts a Pony server on 127.0.0.1 (a free port unless `port` is given), advertising 127.0.0.1. */
export async function startServer(opts: { port?: number; dataDir?: string; extraArgs?: string[] } = {}) {
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "pony-sdk-test-"));
  const settings = loadSettings(
    [
      "--grpc-port",
      String(opts.port ?? 0),
      "--grpc-host",
      "127.0.0.1",
      "--http-port",
      "0",
      "--advertised-host",
      "127.0.0.1",
      "--data-dir",
      dataDir,
      ...(opts.extraArgs ?? []),
    ],
    {},
  );
  const server = await PonyServer.start(settings, pino({ level: process.env.PONY_TEST_LOG ?? "silent" }));
  const configs: LHConfig[] = [];
  const out: SdkTestServer = {
    server,
    port: server.grpcPort,
    dataDir,
    config(options: LHConfigOptions = {}) {
      const c = new LHConfig({
        apiHost: "127.0.0.1",
        apiPort: server.grpcPort,
        configFile: null,
        env: {},
        ...options,
      });
      configs.push(c);
      return c;
    },
    async stop() {
      for (const c of configs) c.close();
      await server.stop();
    },
  };
  return out;
}

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

/** A quiet logger for workers under test. */
export const quiet = silentLogger;

let counter = 0;
/** A name no other test uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${++counter}-${Math.random().toString(36).slice(2, 7)}`;
}

/**
 * A WfSpec with one TASK node: "0-entrypoint-ENTRYPOINT" → "1-task-TASK" → "2-exit-EXIT". The WfSpec has
 * one variable per task input, with the same name and type, passed to the task in order.
 */
export function oneTaskWfSpec(
  name: string,
  taskDefName: string,
  inputs: [string, VariableType][] = [],
  task: { retries?: number; timeoutSeconds?: number } = {},
): PutWfSpecRequest {
  return create(PutWfSpecRequestSchema, {
    name,
    entrypointThreadName: "entrypoint",
    threadSpecs: {
      entrypoint: {
        variableDefs: inputs.map(([n, type]) => ({ varDef: { name: n, type } })),
        nodes: {
          "0-entrypoint-ENTRYPOINT": {
            node: { case: "entrypoint", value: {} },
            outgoingEdges: [{ sinkNodeName: "1-task-TASK" }],
          },
          "1-task-TASK": {
            node: {
              case: "task",
              value: {
                taskToExecute: { case: "taskDefId", value: { name: taskDefName } },
                variables: inputs.map(([n]) => ({ source: { case: "variableName" as const, value: n } })),
                retries: task.retries ?? 0,
                timeoutSeconds: task.timeoutSeconds ?? 0,
              },
            },
            outgoingEdges: [{ sinkNodeName: "2-exit-EXIT" }],
          },
          "2-exit-EXIT": { node: { case: "exit", value: {} } },
        },
      },
    },
  });
}

export async function waitFor<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 10_000,
  what = "condition",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ""}`);
    }
    await sleep(20);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const ENDED = new Set([LHStatus.COMPLETED, LHStatus.ERROR, LHStatus.EXCEPTION, LHStatus.HALTED]);

/** Waits until the WfRun has ended (COMPLETED, ERROR, EXCEPTION or HALTED) and returns it. */
export async function waitForWfRunEnd(client: LHClient, id: string, timeoutMs = 10_000): Promise<WfRun> {
  return waitFor(
    async () => {
      const wfRun = await client.getWfRun({ id });
      return ENDED.has(wfRun.status) ? wfRun : undefined;
    },
    timeoutMs,
    `WfRun ${id} to end`,
  );
}

/** The TaskRun of the "1-task-TASK" node of a one-task WfRun. */
export async function theTaskRun(client: LHClient, wfRunId: string): Promise<TaskRun> {
  const nodeRun = await client.getNodeRun({ wfRunId: { id: wfRunId }, threadRunNumber: 0, position: 1 });
  if (nodeRun.nodeType.case !== "task") throw new Error(`node 1 of ${wfRunId} is not a TASK node`);
  return client.getTaskRun(nodeRun.nodeType.value.taskRunId);
}

const SERVER_MAIN = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../server/src/main.ts");

export interface ChildServer {
  port: number;
  /** resolves when the process has exited */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Runs `pony server` as a child process (so it can be killed with SIGKILL) and waits until it answers. */
export async function startChildServer(port: number, dataDir: string): Promise<ChildServer> {
  const proc = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      SERVER_MAIN,
      "--grpc-port",
      String(port),
      "--grpc-host",
      "127.0.0.1",
      "--advertised-host",
      "127.0.0.1",
      "--data-dir",
      dataDir,
      "--poll-wait-seconds",
      "1",
    ],
    { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, PONY_LOG_LEVEL: "warn" } },
  );
  const probe = new LHConfig({ apiHost: "127.0.0.1", apiPort: port, configFile: null, env: {} });
  try {
    await waitFor(
      async () => {
        if (proc.exitCode !== null) throw new Error(`the server exited with ${proc.exitCode}`);
        return probe.getClient().getServerVersion({}, { timeoutMs: 500 });
      },
      30_000,
      "the server to start",
    );
  } finally {
    probe.close();
  }
  return {
    port,
    async kill(signal: NodeJS.Signals = "SIGKILL") {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once("exit", r));
      proc.kill(signal);
      await exited;
    },
  };
}
