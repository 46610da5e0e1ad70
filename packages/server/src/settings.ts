import fs from "node:fs";
import { parseArgs } from "node:util";

/** Server settings. Each comes from a flag, else a PONY_* environment variable, else the config file, else its default. */
export interface ServerSettings {
  grpcPort: number;
  grpcHost: string;
  dataDir: string;
  advertisedHost: string;
  logLevel: string;
  /** seconds a PollTask request waits for a task before an empty response */
  pollWaitSeconds: number;
  /** seconds after which a silent task worker leaves its TaskWorkerGroup */
  workerHeartbeatTimeoutSeconds: number;
}

interface Option {
  key: keyof ServerSettings;
  flag: string;
  env: string;
  type: "number" | "string";
  default: string | number;
  help: string;
}

export const SERVER_OPTIONS: Option[] = [
  {
    key: "grpcPort",
    flag: "grpc-port",
    env: "PONY_GRPC_PORT",
    type: "number",
    default: 2023,
    help: "gRPC port",
  },
  {
    key: "grpcHost",
    flag: "grpc-host",
    env: "PONY_GRPC_HOST",
    type: "string",
    default: "0.0.0.0",
    help: "gRPC bind address",
  },
  {
    key: "dataDir",
    flag: "data-dir",
    env: "PONY_DATA_DIR",
    type: "string",
    default: "./.pony",
    help: "where the embedded store lives",
  },
  {
    key: "advertisedHost",
    flag: "advertised-host",
    env: "PONY_ADVERTISED_HOST",
    type: "string",
    default: "localhost",
    help: "host name task workers are told to poll",
  },
  {
    key: "logLevel",
    flag: "log-level",
    env: "PONY_LOG_LEVEL",
    type: "string",
    default: "info",
    help: "pino log level",
  },
  {
    key: "pollWaitSeconds",
    flag: "poll-wait-seconds",
    env: "PONY_POLL_WAIT_SECONDS",
    type: "number",
    default: 10,
    help: "how long a PollTask request waits for a task",
  },
  {
    key: "workerHeartbeatTimeoutSeconds",
    flag: "worker-heartbeat-timeout-seconds",
    env: "PONY_WORKER_HEARTBEAT_TIMEOUT_SECONDS",
    type: "number",
    default: 30,
    help: "silence after which a task worker leaves its group",
  },
];

export function loadSettings(argv: string[], env: NodeJS.ProcessEnv = process.env): ServerSettings {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: "string" },
      ...Object.fromEntries(SERVER_OPTIONS.map((o) => [o.flag, { type: "string" as const }])),
    },
    strict: true,
    allowPositionals: false,
  });
  const flags = values as Record<string, string | undefined>;
  const configPath = flags.config ?? env.PONY_CONFIG;
  const file: Record<string, unknown> = configPath
    ? (JSON.parse(fs.readFileSync(configPath, "utf8")) as Record<string, unknown>)
    : {};
  const out: Record<string, string | number> = {};
  for (const o of SERVER_OPTIONS) {
    const raw: unknown = flags[o.flag] ?? env[o.env] ?? file[o.key] ?? o.default;
    if (o.type === "number") {
      const n = Number(raw);
      if (!Number.isFinite(n) || n < 0)
        throw new Error(`--${o.flag} must be a non-negative number, got '${JSON.stringify(raw)}'`);
      out[o.key] = n;
    } else {
      out[o.key] = typeof raw === "string" ? raw : JSON.stringify(raw);
    }
  }
  return out as unknown as ServerSettings;
}

export function settingsHelp(): string {
  return SERVER_OPTIONS.map(
    (o) => `  --${o.flag.padEnd(34)} ${o.env.padEnd(38)} ${o.help} (default ${o.default})`,
  ).join("\n");
}
