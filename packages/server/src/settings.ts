import fs from "node:fs";
import { parseArgs } from "node:util";
import { DEFAULT_LIMITS } from "./runtime/admission";
import { MAX_CATCH_UP } from "./runtime/scheduler";

/** Server settings. Each comes from a flag, else a PONY_* environment variable, else the config file, else its default. */
export interface ServerSettings {
  grpcPort: number;
  grpcHost: string;
  /** the HTTP/1.1 port: the dashboard, /healthz, and the service over Connect and gRPC-Web */
  httpPort: number;
  /** bind address of the HTTP port */
  httpHost: string;
  dataDir: string;
  advertisedHost: string;
  logLevel: string;
  /** seconds a PollTask request waits for a task before an empty response */
  pollWaitSeconds: number;
  /** seconds after which a silent task worker leaves its TaskWorkerGroup */
  workerHeartbeatTimeoutSeconds: number;
  /** PEM certificate chain and key of the gRPC listener; both set → TLS ("" = plaintext) */
  tlsCert: string;
  tlsKey: string;
  /** PEM CA bundle: clients must present a certificate it signed, whose subject CN names the principal */
  tlsClientCa: string;
  /** OAuth: the issuer (`iss`) tokens must come from; set → every call needs a bearer token */
  oauthIssuer: string;
  /** OAuth: the audience (`aud`) tokens must be meant for */
  oauthAudience: string;
  /** OAuth: where the issuer's signing keys are, a JWKS URL or a local JWKS file */
  oauthJwksUrl: string;
  oauthJwksFile: string;
  /** a principal made an admin at start if it does not exist (the first admin of a secured server) */
  bootstrapAdmin: string;
  /** "sqlite" (embedded, one server) or "postgres" (a cluster of servers sharing one database) */
  store: string;
  /** PostgreSQL connection URL (--store postgres) */
  databaseUrl: string;
  /** partitions of a new cluster (fixed once the cluster's store is created) */
  partitions: number;
  /** seconds a partition lease lasts: a dead server's partitions move after at most this long */
  leaseSeconds: number;
  /** this server's id in the cluster ("" = advertised host:port; the embedded store: "embedded") */
  serverId: string;
  /** the server-to-server port (--store postgres): commands are forwarded to their partition's owner */
  internalPort: number;
  /** bind address of the server-to-server port */
  internalHost: string;
  /** a secret every server of the cluster shares: forwarded calls must carry it ("" = none) */
  clusterSecret: string;
  /** NodeRuns one command may change before its WfRun goes on in a later turn */
  maxNodeRunsPerTurn: number;
  /** per tenant, WfRuns still moving in later turns, beyond which RunWf is refused */
  maxMovingWfRunsPerTenant: number;
  /** RunWf calls in flight on the server, beyond which RunWf is refused */
  maxRunWfInFlight: number;
  /** share of the JavaScript heap limit above which RunWf is refused */
  maxHeapShare: number;
  /** PollTask streams open at once, beyond which a new one is refused */
  maxPollStreams: number;
  /** ExternalEvents no node has claimed, per WfRun, beyond which PutExternalEvent is refused */
  maxUnclaimedEventsPerWfRun: number;
  /** missed ticks of each scheduled WfRun run after a downtime (0: none) */
  scheduleCatchUp: number;
  /** seconds a SIGTERM / SIGINT drain may take before the process exits anyway */
  shutdownTimeoutSeconds: number;
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
    key: "httpPort",
    flag: "http-port",
    env: "PONY_HTTP_PORT",
    type: "number",
    default: 8080,
    help: "HTTP port: the dashboard, /healthz, Connect and gRPC-Web",
  },
  {
    key: "httpHost",
    flag: "http-host",
    env: "PONY_HTTP_HOST",
    type: "string",
    default: "0.0.0.0",
    help: "HTTP bind address",
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
  {
    key: "tlsCert",
    flag: "tls-cert",
    env: "PONY_TLS_CERT",
    type: "string",
    default: "",
    help: "PEM certificate (chain) of the gRPC listener: serve TLS",
  },
  {
    key: "tlsKey",
    flag: "tls-key",
    env: "PONY_TLS_KEY",
    type: "string",
    default: "",
    help: "PEM private key of --tls-cert",
  },
  {
    key: "tlsClientCa",
    flag: "tls-client-ca",
    env: "PONY_TLS_CLIENT_CA",
    type: "string",
    default: "",
    help: "PEM CA of client certificates: require mTLS, principal = subject CN",
  },
  {
    key: "oauthIssuer",
    flag: "oauth-issuer",
    env: "PONY_OAUTH_ISSUER",
    type: "string",
    default: "",
    help: "require OAuth bearer tokens (JWT) from this issuer",
  },
  {
    key: "oauthAudience",
    flag: "oauth-audience",
    env: "PONY_OAUTH_AUDIENCE",
    type: "string",
    default: "",
    help: "the audience OAuth tokens must name",
  },
  {
    key: "oauthJwksUrl",
    flag: "oauth-jwks-url",
    env: "PONY_OAUTH_JWKS_URL",
    type: "string",
    default: "",
    help: "URL of the issuer's JWKS (signing keys)",
  },
  {
    key: "oauthJwksFile",
    flag: "oauth-jwks-file",
    env: "PONY_OAUTH_JWKS_FILE",
    type: "string",
    default: "",
    help: "local JWKS file (read again when it changes)",
  },
  {
    key: "bootstrapAdmin",
    flag: "bootstrap-admin",
    env: "PONY_BOOTSTRAP_ADMIN",
    type: "string",
    default: "",
    help: "principal id made an admin at start while the cluster has no admin but anonymous",
  },
  {
    key: "store",
    flag: "store",
    env: "PONY_STORE",
    type: "string",
    default: "sqlite",
    help: "sqlite (embedded) or postgres (a cluster sharing one database)",
  },
  {
    key: "databaseUrl",
    flag: "database-url",
    env: "PONY_DATABASE_URL",
    type: "string",
    default: "",
    help: "PostgreSQL URL, e.g. postgres://user:pass@host:5432/pony (--store postgres)",
  },
  {
    key: "partitions",
    flag: "partitions",
    env: "PONY_PARTITIONS",
    type: "number",
    default: 12,
    help: "partitions of a new cluster (fixed at creation)",
  },
  {
    key: "leaseSeconds",
    flag: "lease-seconds",
    env: "PONY_LEASE_SECONDS",
    type: "number",
    default: 5,
    help: "partition lease time: a dead server's partitions move after at most this long",
  },
  {
    key: "serverId",
    flag: "server-id",
    env: "PONY_SERVER_ID",
    type: "string",
    default: "",
    help: "this server's id in the cluster (default: advertised host:port)",
  },
  {
    key: "internalPort",
    flag: "internal-port",
    env: "PONY_INTERNAL_PORT",
    type: "number",
    default: 2024,
    help: "server-to-server port of a cluster (--store postgres)",
  },
  {
    key: "internalHost",
    flag: "internal-host",
    env: "PONY_INTERNAL_HOST",
    type: "string",
    default: "0.0.0.0",
    help: "bind address of the server-to-server port",
  },
  {
    key: "clusterSecret",
    flag: "cluster-secret",
    env: "PONY_CLUSTER_SECRET",
    type: "string",
    default: "",
    help: "secret the servers of a cluster share: the server-to-server port requires it",
  },
  {
    key: "maxNodeRunsPerTurn",
    flag: "max-node-runs-per-turn",
    env: "PONY_MAX_NODE_RUNS_PER_TURN",
    type: "number",
    default: DEFAULT_LIMITS.maxNodeRunsPerTurn,
    help: "NodeRuns one command may change before its WfRun goes on in a later turn (fairness)",
  },
  {
    key: "maxUnclaimedEventsPerWfRun",
    flag: "max-unclaimed-events-per-wf-run",
    env: "PONY_MAX_UNCLAIMED_EVENTS_PER_WF_RUN",
    type: "number",
    default: DEFAULT_LIMITS.maxUnclaimedEventsPerWfRun,
    help: "ExternalEvents no node has claimed that one WfRun may hold; beyond, PutExternalEvent is refused",
  },
  {
    key: "scheduleCatchUp",
    flag: "schedule-catch-up",
    env: "PONY_SCHEDULE_CATCH_UP",
    type: "number",
    default: 1,
    help:
      "ticks of a scheduled WfRun missed while no server ran (a downtime) that are run when it comes back: " +
      "the newest ones, up to this many (0 skips them)",
  },
  {
    key: "maxMovingWfRunsPerTenant",
    flag: "max-moving-wf-runs-per-tenant",
    env: "PONY_MAX_MOVING_WF_RUNS_PER_TENANT",
    type: "number",
    default: DEFAULT_LIMITS.maxMovingWfRunsPerTenant,
    help: "per tenant, WfRuns still moving in later turns; beyond, RunWf is RESOURCE_EXHAUSTED",
  },
  {
    key: "maxRunWfInFlight",
    flag: "max-run-wf-in-flight",
    env: "PONY_MAX_RUN_WF_IN_FLIGHT",
    type: "number",
    default: DEFAULT_LIMITS.maxRunWfInFlight,
    help: "RunWf calls in flight on the server; beyond, RunWf is RESOURCE_EXHAUSTED",
  },
  {
    key: "maxHeapShare",
    flag: "max-heap-share",
    env: "PONY_MAX_HEAP_SHARE",
    type: "number",
    default: DEFAULT_LIMITS.maxHeapShare,
    help: "share of the heap limit (0-1) above which RunWf is RESOURCE_EXHAUSTED",
  },
  {
    key: "maxPollStreams",
    flag: "max-poll-streams",
    env: "PONY_MAX_POLL_STREAMS",
    type: "number",
    default: DEFAULT_LIMITS.maxPollStreams,
    help: "PollTask streams open at once; beyond, a new one is RESOURCE_EXHAUSTED",
  },
  {
    key: "shutdownTimeoutSeconds",
    flag: "shutdown-timeout-seconds",
    env: "PONY_SHUTDOWN_TIMEOUT_SECONDS",
    type: "number",
    default: 15,
    help: "seconds a SIGTERM drain may take before the process exits anyway",
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
  const settings = out as unknown as ServerSettings;
  checkSecuritySettings(settings);
  checkStoreSettings(settings);
  return settings;
}

function checkStoreSettings(s: ServerSettings): void {
  if (s.store !== "sqlite" && s.store !== "postgres")
    throw new Error(`--store must be sqlite or postgres, not '${s.store}'`);
  if (s.store === "postgres" && s.databaseUrl === "")
    throw new Error("--store postgres needs --database-url (or PONY_DATABASE_URL)");
  if (!Number.isInteger(s.partitions) || s.partitions < 1 || s.partitions > 4096)
    throw new Error(`--partitions must be a whole number from 1 to 4096, not ${s.partitions}`);
  if (s.leaseSeconds < 0.2) throw new Error(`--lease-seconds must be at least 0.2, not ${s.leaseSeconds}`);
  for (const [flag, v] of [
    ["max-node-runs-per-turn", s.maxNodeRunsPerTurn],
    ["max-moving-wf-runs-per-tenant", s.maxMovingWfRunsPerTenant],
    ["max-run-wf-in-flight", s.maxRunWfInFlight],
    ["max-poll-streams", s.maxPollStreams],
    ["max-unclaimed-events-per-wf-run", s.maxUnclaimedEventsPerWfRun],
  ] as const) {
    if (!Number.isInteger(v) || v < 1)
      throw new Error(`--${flag} must be a whole number of at least 1, not ${v}`);
  }
  if (!Number.isInteger(s.scheduleCatchUp) || s.scheduleCatchUp < 0 || s.scheduleCatchUp > MAX_CATCH_UP)
    throw new Error(
      `--schedule-catch-up must be a whole number from 0 to ${MAX_CATCH_UP}, not ${s.scheduleCatchUp}`,
    );
  if (!(s.shutdownTimeoutSeconds > 0))
    throw new Error(`--shutdown-timeout-seconds must be above 0, not ${s.shutdownTimeoutSeconds}`);
  if (!(s.maxHeapShare > 0 && s.maxHeapShare <= 1))
    throw new Error(`--max-heap-share must be above 0 and at most 1, not ${s.maxHeapShare}`);
}

/** Settings that only work together, refused at start with what is missing. */
function checkSecuritySettings(s: ServerSettings): void {
  if ((s.tlsCert === "") !== (s.tlsKey === ""))
    throw new Error("--tls-cert and --tls-key go together: set both to serve TLS");
  if (s.tlsClientCa !== "" && s.tlsCert === "")
    throw new Error("--tls-client-ca (mTLS) needs TLS: set --tls-cert and --tls-key too");
  const oauth =
    s.oauthIssuer !== "" || s.oauthAudience !== "" || s.oauthJwksUrl !== "" || s.oauthJwksFile !== "";
  if (oauth) {
    if (s.oauthIssuer === "" || s.oauthAudience === "")
      throw new Error("OAuth needs both --oauth-issuer and --oauth-audience");
    if ((s.oauthJwksUrl === "") === (s.oauthJwksFile === ""))
      throw new Error("OAuth needs exactly one of --oauth-jwks-url and --oauth-jwks-file");
  }
}

export function settingsHelp(): string {
  return SERVER_OPTIONS.map(
    (o) =>
      `  --${o.flag.padEnd(34)} ${o.env.padEnd(38)} ${o.help}${o.default === "" ? "" : ` (default ${o.default})`}`,
  ).join("\n");
}
