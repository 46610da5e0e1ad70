import fs from "node:fs";
import type * as grpc from "@grpc/grpc-js";
import pino, { type Logger } from "pino";
import { buildHandlers } from "./api";
import { RequestPipeline } from "./api/pipeline";
import { startGrpcServer, type GrpcTls } from "./grpc/server";
import { Runtime } from "./runtime/runtime";
import { Authenticator, type AuthSettings } from "./security/authenticator";
import { ensureSecurityDefaults } from "./security/bootstrap";
import type { ServerSettings } from "./settings";
import { SqliteStore } from "./store/sqlite";

function readPem(what: string, file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new Error(`cannot read ${what} ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function tlsOf(s: ServerSettings): GrpcTls | undefined {
  if (!s.tlsCert) return undefined;
  return {
    cert: readPem("--tls-cert", s.tlsCert),
    key: readPem("--tls-key", s.tlsKey),
    clientCa: s.tlsClientCa ? readPem("--tls-client-ca", s.tlsClientCa) : undefined,
  };
}

function authOf(s: ServerSettings): AuthSettings {
  return {
    mtls: s.tlsClientCa !== "",
    oauth: s.oauthIssuer
      ? {
          issuer: s.oauthIssuer,
          audience: s.oauthAudience,
          jwksUrl: s.oauthJwksUrl || undefined,
          jwksFile: s.oauthJwksFile || undefined,
        }
      : undefined,
  };
}

/** A running Pony server: the store, the runtime and the gRPC listener. */
export class PonyServer {
  private constructor(
    readonly settings: ServerSettings,
    readonly runtime: Runtime,
    private readonly grpcServer: grpc.Server,
    private readonly endStreams: () => void,
    readonly grpcPort: number,
    readonly log: Logger,
  ) {}

  static async start(settings: ServerSettings, log?: Logger): Promise<PonyServer> {
    const logger = log ?? pino({ level: settings.logLevel, base: { service: "pony" } });
    // settings errors (unreadable certificates, a bad JWKS file) stop the start before the store opens
    const tls = tlsOf(settings);
    const auth = new Authenticator(authOf(settings));
    const store = new SqliteStore(settings.dataDir);
    const runtime = new Runtime(store, logger);
    await runtime.start();
    await ensureSecurityDefaults(runtime, settings.bootstrapAdmin || undefined);
    const advertised = { host: settings.advertisedHost, port: settings.grpcPort };
    const handlers = buildHandlers(runtime, logger, {
      advertised,
      pollWaitMs: settings.pollWaitSeconds * 1000,
      workerHeartbeatTimeoutMs: settings.workerHeartbeatTimeoutSeconds * 1000,
      authEnabled: auth.enabled,
    });
    const pipeline = new RequestPipeline(runtime, auth, handlers, logger);
    const { server, port } = await startGrpcServer(pipeline, settings.grpcHost, settings.grpcPort, tls);
    // with port 0 (tests) the port is known only now: workers must be told the bound one
    advertised.port = port;
    settings.grpcPort = port;
    logger.info(
      {
        grpcPort: port,
        dataDir: settings.dataDir,
        tls: tls ? (tls.clientCa ? "mtls" : "tls") : "off",
        oauth: settings.oauthIssuer ? settings.oauthIssuer : "off",
      },
      "pony server listening",
    );
    return new PonyServer(settings, runtime, server, () => handlers.endStreams(), port, logger);
  }

  /** Stops taking calls, ends the workers' PollTask streams, finishes pending commits and closes the store. */
  async stop(): Promise<void> {
    this.endStreams();
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        this.grpcServer.forceShutdown();
        resolve();
      }, 5000);
      this.grpcServer.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
    await this.runtime.stop();
    await this.runtime.store.close();
  }
}
