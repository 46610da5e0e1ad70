/**
 * Client and worker settings, with LittleHorse's names so existing `littlehorse.config` files and LHC_* /
 * LHW_* environments work unchanged. Each setting comes from an explicit option, else the environment, else
 * the properties file, else its default:
 *
 *   LHC_API_HOST (localhost)  LHC_API_PORT (2023)  LHC_API_PROTOCOL (PLAINTEXT | TLS)  LHC_TENANT_ID (default)
 *   LHC_CA_CERT  LHC_CLIENT_CERT  LHC_CLIENT_KEY                         PEM file paths (TLS, mTLS)
 *   LHC_OAUTH_CLIENT_ID  LHC_OAUTH_CLIENT_SECRET  LHC_OAUTH_ACCESS_TOKEN_URL   OAuth2 client credentials
 *   LHW_TASK_WORKER_ID (random)  LHW_TASK_WORKER_VERSION  LHW_NUM_WORKER_THREADS (2)
 *
 * The file is `configFile` when given, else `~/.config/littlehorse.config` when it exists (lhctl's place).
 * As in LittleHorse, the certificate settings are used only with LHC_API_PROTOCOL=TLS.
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { createLHClient, type LHClient } from "./client";
import { LHConfigError } from "./errors";
import { OAuthTokenSource } from "./oauth";
import { parseProperties } from "./properties";

export type LHApiProtocol = "PLAINTEXT" | "TLS";

export interface LHConfigOptions {
  apiHost?: string;
  apiPort?: number;
  apiProtocol?: LHApiProtocol;
  tenantId?: string;
  /** path of the PEM file of the CA that signed the server's certificate (TLS) */
  caCert?: string;
  /** path of the client's PEM certificate (mTLS, with clientKey) */
  clientCert?: string;
  /** path of the client's PEM private key (mTLS, with clientCert) */
  clientKey?: string;
  oauthClientId?: string;
  oauthClientSecret?: string;
  oauthAccessTokenUrl?: string;
  taskWorkerId?: string;
  taskWorkerVersion?: string;
  numWorkerThreads?: number;
  /** the properties file to read; `null` reads none. Default: ~/.config/littlehorse.config if it exists */
  configFile?: string | null;
  /** the environment to read; default process.env */
  env?: Record<string, string | undefined>;
}

type SettingKey = Exclude<keyof LHConfigOptions, "configFile" | "env">;

/** LittleHorse's property name for each setting. */
export const LH_SETTING_NAMES: Readonly<Record<SettingKey, string>> = {
  apiHost: "LHC_API_HOST",
  apiPort: "LHC_API_PORT",
  apiProtocol: "LHC_API_PROTOCOL",
  tenantId: "LHC_TENANT_ID",
  caCert: "LHC_CA_CERT",
  clientCert: "LHC_CLIENT_CERT",
  clientKey: "LHC_CLIENT_KEY",
  oauthClientId: "LHC_OAUTH_CLIENT_ID",
  oauthClientSecret: "LHC_OAUTH_CLIENT_SECRET",
  oauthAccessTokenUrl: "LHC_OAUTH_ACCESS_TOKEN_URL",
  taskWorkerId: "LHW_TASK_WORKER_ID",
  taskWorkerVersion: "LHW_TASK_WORKER_VERSION",
  numWorkerThreads: "LHW_NUM_WORKER_THREADS",
};

const SECRET_SETTINGS = new Set<SettingKey>(["oauthClientSecret"]);

export const DEFAULT_CONFIG_FILE = path.join(os.homedir(), ".config", "littlehorse.config");

/** Where a setting's value came from. */
export type LHSettingSource = "option" | "environment" | "file" | "default";

interface Raw {
  value: string | number | undefined;
  source: LHSettingSource;
}

export class LHConfig {
  readonly apiHost: string;
  readonly apiPort: number;
  readonly apiProtocol: LHApiProtocol;
  readonly tenantId: string;
  readonly caCert: string | undefined;
  readonly clientCert: string | undefined;
  readonly clientKey: string | undefined;
  readonly oauthClientId: string | undefined;
  readonly oauthAccessTokenUrl: string | undefined;
  readonly taskWorkerId: string;
  readonly taskWorkerVersion: string | undefined;
  readonly numWorkerThreads: number;
  /** the properties file that was read, if any */
  readonly configFile: string | undefined;

  private readonly sources = new Map<SettingKey, LHSettingSource>();
  private readonly oauthClientSecret: string | undefined;
  private readonly tokens: OAuthTokenSource | undefined;
  private readonly clients = new Map<string, LHClient>();
  private credentialsCache: grpc.ChannelCredentials | undefined;

  constructor(options: LHConfigOptions = {}) {
    const env = options.env ?? process.env;
    const { file, fileName } = readConfigFile(options.configFile);
    this.configFile = fileName;
    const raw = (key: SettingKey): Raw => {
      const name = LH_SETTING_NAMES[key];
      const explicit = options[key];
      let r: Raw;
      if (explicit !== undefined) r = { value: explicit, source: "option" };
      else if (nonEmpty(env[name]) !== undefined) r = { value: nonEmpty(env[name]), source: "environment" };
      else if (nonEmpty(file[name]) !== undefined) r = { value: nonEmpty(file[name]), source: "file" };
      else r = { value: undefined, source: "default" };
      this.sources.set(key, r.source);
      return r;
    };
    const where = (key: SettingKey, r: Raw) =>
      `${LH_SETTING_NAMES[key]} (${r.source === "file" ? `from ${fileName}` : `from the ${r.source}`})`;
    const str = (key: SettingKey): string | undefined => {
      const r = raw(key);
      return r.value === undefined ? undefined : String(r.value).trim();
    };
    const int = (key: SettingKey, dflt: number, min: number, max: number): number => {
      const r = raw(key);
      if (r.value === undefined) return dflt;
      const n = typeof r.value === "number" ? r.value : Number(r.value.trim());
      if (!Number.isInteger(n) || n < min || n > max) {
        throw new LHConfigError(
          `${where(key, r)} must be a whole number from ${min} to ${max}, got '${String(r.value)}'`,
        );
      }
      return n;
    };

    this.apiHost = str("apiHost") ?? "localhost";
    this.apiPort = int("apiPort", 2023, 1, 65535);
    const protocolRaw = raw("apiProtocol");
    const protocol =
      protocolRaw.value === undefined ? "PLAINTEXT" : String(protocolRaw.value).trim().toUpperCase();
    if (protocol !== "PLAINTEXT" && protocol !== "TLS") {
      throw new LHConfigError(
        `${where("apiProtocol", protocolRaw)} must be PLAINTEXT or TLS, got '${String(protocolRaw.value)}'`,
      );
    }
    this.apiProtocol = protocol;
    this.tenantId = str("tenantId") ?? "default";
    this.caCert = str("caCert");
    this.clientCert = str("clientCert");
    this.clientKey = str("clientKey");
    this.oauthClientId = str("oauthClientId");
    this.oauthClientSecret = str("oauthClientSecret");
    this.oauthAccessTokenUrl = str("oauthAccessTokenUrl");
    this.taskWorkerId = str("taskWorkerId") ?? `worker-${randomUUID().replaceAll("-", "")}`;
    this.taskWorkerVersion = str("taskWorkerVersion");
    this.numWorkerThreads = int("numWorkerThreads", 2, 1, 10_000);

    if ((this.clientCert === undefined) !== (this.clientKey === undefined)) {
      throw new LHConfigError("LHC_CLIENT_CERT and LHC_CLIENT_KEY go together (mTLS): set both or neither");
    }
    const oauth = [this.oauthClientId, this.oauthClientSecret, this.oauthAccessTokenUrl];
    if (oauth.some((v) => v !== undefined)) {
      if (oauth.some((v) => v === undefined)) {
        throw new LHConfigError(
          "OAuth needs all of LHC_OAUTH_CLIENT_ID, LHC_OAUTH_CLIENT_SECRET and LHC_OAUTH_ACCESS_TOKEN_URL",
        );
      }
      this.tokens = new OAuthTokenSource({
        clientId: this.oauthClientId!,
        clientSecret: this.oauthClientSecret!,
        accessTokenUrl: this.oauthAccessTokenUrl!,
      });
    }
  }

  /** Whether calls carry an OAuth bearer token. */
  get isOAuth(): boolean {
    return this.tokens !== undefined;
  }

  /** `host:port` of the configured server. */
  get apiAddress(): string {
    return formatAddress(this.apiHost, this.apiPort);
  }

  /** Where each setting came from. */
  sourceOf(key: SettingKey): LHSettingSource {
    return this.sources.get(key) ?? "default";
  }

  /** The effective settings by their LittleHorse names, secrets masked (for printing). */
  describe(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [key, name] of Object.entries(LH_SETTING_NAMES) as [SettingKey, string][]) {
      const v = key === "oauthClientSecret" ? this.oauthClientSecret : this[key];
      if (v === undefined) continue;
      out[name] = SECRET_SETTINGS.has(key) ? "****" : String(v);
    }
    return out;
  }

  /** A fresh OAuth access token (cached until shortly before it expires); undefined without OAuth. */
  async accessToken(): Promise<string | undefined> {
    return this.tokens?.accessToken();
  }

  /** The client of the configured server (one per LHConfig, reused). */
  getClient(): LHClient {
    return this.getClientFor(this.apiHost, this.apiPort);
  }

  /** A client of another server of the cluster (e.g. a host from RegisterTaskWorker's `your_hosts`). */
  getClientFor(host: string, port: number): LHClient {
    const address = formatAddress(host, port);
    let client = this.clients.get(address);
    if (!client) {
      const tokens = this.tokens;
      client = createLHClient({
        address,
        credentials: this.channelCredentials(),
        tenantId: this.tenantId,
        accessToken: tokens ? () => tokens.accessToken() : undefined,
      });
      this.clients.set(address, client);
    }
    return client;
  }

  /** Closes every client made by this config. */
  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }

  private channelCredentials(): grpc.ChannelCredentials {
    if (this.credentialsCache) return this.credentialsCache;
    if (this.apiProtocol === "PLAINTEXT") {
      this.credentialsCache = grpc.credentials.createInsecure();
    } else {
      const ca = this.caCert === undefined ? null : readPem("LHC_CA_CERT", this.caCert);
      const key = this.clientKey === undefined ? null : readPem("LHC_CLIENT_KEY", this.clientKey);
      const cert = this.clientCert === undefined ? null : readPem("LHC_CLIENT_CERT", this.clientCert);
      this.credentialsCache = grpc.credentials.createSsl(ca, key, cert);
    }
    return this.credentialsCache;
  }
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === "" ? undefined : v;
}

function formatAddress(host: string, port: number): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]:${port}` : `${host}:${port}`;
}

function readConfigFile(configFile: string | null | undefined): {
  file: Record<string, string>;
  fileName: string | undefined;
} {
  if (configFile === null) return { file: {}, fileName: undefined };
  const fileName = configFile ?? DEFAULT_CONFIG_FILE;
  let text: string;
  try {
    text = fs.readFileSync(fileName, "utf8");
  } catch (e) {
    // the default file is optional; a file the caller named must exist
    if (configFile === undefined) return { file: {}, fileName: undefined };
    throw new LHConfigError(
      `cannot read the config file ${fileName}: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  return { file: parseProperties(text), fileName };
}

function readPem(setting: string, file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new LHConfigError(`${setting}: cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
