import fs from "node:fs";
import type http from "node:http";
import type * as grpc from "@grpc/grpc-js";
import pino, { type Logger } from "pino";
import { buildHandlers } from "./api";
import { RequestPipeline } from "./api/pipeline";
import { startGrpcServer, type GrpcTls } from "./grpc/server";
import { startHttpListener, stopHttpListener } from "./http/server";
import { DASHBOARD_DIR } from "./http/static-files";
import { Runtime } from "./runtime/runtime";
import type { ManualClock } from "./runtime/clock";
import { Authenticator, type AuthSettings } from "./security/authenticator";
import { ensureSecurityDefaults } from "./security/bootstrap";
import type { ServerSettings } from "./settings";
import { ClusterRouter, startInternalServer, type InternalServer } from "./cluster/forwarding";
import { LeaseKeeper } from "./cluster/lease-keeper";
import { Partitions, METADATA_PARTITION } from "./runtime/partitions";
import { PgStore } from "./store/pg";
import { SqliteStore } from "./store/sqlite";
import type { Store } from "./store/store";

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

async function openStore(s: ServerSettings): Promise<Store> {
  return s.store === "postgres" ? PgStore.open(s.databaseUrl) : new SqliteStore(s.dataDir);
}

function parseHost(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(":");
  return { host: address.slice(0, i), port: Number(address.slice(i + 1)) };
}

function shutdown(server: grpc.Server): Promise<void> {
  return new Promise<void>((resolve) => {
    const force = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, 5000);
    server.tryShutdown(() => {
      clearTimeout(force);
      resolve();
    });
  });
}

/**
 * A running Pony server: the store, the runtime, the partitions it owns (all of them with the embedded
 * store; its share of a cluster's with PostgreSQL) and the gRPC listener; on a cluster, also the
 * server-to-server port its peers forward commands to.
 */
export class PonyServer {
  private constructor(
    readonly settings: ServerSettings,
    readonly runtime: Runtime,
    private readonly grpcServer: grpc.Server,
    private readonly endStreams: () => void,
    readonly grpcPort: number,
    private readonly httpServer: http.Server,
    readonly httpPort: number,
    readonly log: Logger,
    readonly leases: LeaseKeeper,
    private readonly cluster: { internal: InternalServer; router: ClusterRouter } | undefined,
  ) {}

  static async start(
    settings: ServerSettings,
    log?: Logger,
    opts: { clock?: ManualClock } = {},
  ): Promise<PonyServer> {
    const logger = log ?? pino({ level: settings.logLevel, base: { service: "pony" } });
    // settings errors (unreadable certificates, a bad JWKS file) stop the start before the store opens
    const tls = tlsOf(settings);
    const auth = new Authenticator(authOf(settings));
    const store = await openStore(settings);
    const clustered = settings.store === "postgres";
    const count = await store.initPartitions(settings.partitions);
    const partitions = new Partitions("", count);
    const runtime = new Runtime(store, logger, {
      partitions,
      now: opts.clock?.now,
      maxNodeRunsPerTurn: settings.maxNodeRunsPerTurn,
      scheduleCatchUp: settings.scheduleCatchUp,
      admission: {
        maxMovingWfRunsPerTenant: settings.maxMovingWfRunsPerTenant,
        maxRunWfInFlight: settings.maxRunWfInFlight,
        maxHeapShare: settings.maxHeapShare,
        maxPollStreams: settings.maxPollStreams,
        maxUnclaimedEventsPerWfRun: settings.maxUnclaimedEventsPerWfRun,
      },
    });
    await runtime.start();
    const unfollowClock = opts.clock?.onAdvance(() => runtime.clockMoved());
    // the lease keeper knows the live servers; it starts once the listeners are bound
    const members: { leases?: LeaseKeeper } = {};
    const handlers = buildHandlers(runtime, logger, {
      hosts: () =>
        members.leases && clustered
          ? [...members.leases.servers().values()].map((s) => parseHost(s.address))
          : [{ host: settings.advertisedHost, port: settings.grpcPort }],
      pollWaitMs: settings.pollWaitSeconds * 1000,
      workerHeartbeatTimeoutMs: settings.workerHeartbeatTimeoutSeconds * 1000,
      authEnabled: auth.enabled,
    });
    const pipeline = new RequestPipeline(runtime, auth, handlers, logger);
    // a schedule's tick starts its WfRun as a RunWf of the server's own, routed like a client's
    runtime.startScheduledRun = (tenant, req) => pipeline.runAsServer("runWf", req, tenant);
    pipeline.ready = false;
    const { server, port } = await startGrpcServer(pipeline, settings.grpcHost, settings.grpcPort, tls);
    // with port 0 (tests) the port is known only now: workers must be told the bound one
    settings.grpcPort = port;
    const started = { done: false, stopping: false };
    const httpListener = await startHttpListener(pipeline, {
      host: settings.httpHost,
      port: settings.httpPort,
      tls,
      dashboardDir: DASHBOARD_DIR,
      healthy: async () => {
        await store.metadataVersion();
      },
      ready: async () => {
        if (!started.done) throw new Error("starting: rebuilding its state from the store");
        if (started.stopping) throw new Error("stopping");
        await store.metadataVersion();
      },
    }).catch(async (e: unknown) => {
      await shutdown(server);
      await runtime.stop();
      await store.close();
      throw new Error(
        `cannot listen on --http-port ${settings.httpPort}: ${e instanceof Error ? e.message : String(e)}`,
      );
    });
    const internal = clustered
      ? await startInternalServer(
          pipeline,
          runtime,
          settings.internalHost,
          settings.internalPort,
          settings.clusterSecret,
          settings.leaseSeconds * 1000,
          logger,
        )
      : undefined;
    // the embedded store has one server, whose restarts take its partitions back at once
    partitions.serverId = clustered ? settings.serverId || `${settings.advertisedHost}:${port}` : "embedded";
    const leases = new LeaseKeeper(
      store,
      runtime,
      {
        serverId: partitions.serverId,
        address: `${settings.advertisedHost}:${port}`,
        internalAddress: `${settings.advertisedHost}:${internal?.port ?? 0}`,
        leaseMs: settings.leaseSeconds * 1000,
      },
      logger,
    );
    members.leases = leases;
    // a refused commit means this server was cut off: see at once what else it lost
    runtime.onPartitionsLost = () => leases.tickSoon();
    let cluster: { internal: InternalServer; router: ClusterRouter } | undefined;
    if (internal) {
      const router = new ClusterRouter(
        runtime,
        leases,
        { secret: settings.clusterSecret, leaseMs: settings.leaseSeconds * 1000 },
        logger,
      );
      pipeline.router = router;
      cluster = { internal, router };
    }
    await leases.start();
    // the owner of the metadata partition makes the default tenant and first admin (once per cluster)
    if (partitions.owns(METADATA_PARTITION)) {
      await ensureSecurityDefaults(runtime, settings.bootstrapAdmin || undefined);
    } else if (settings.bootstrapAdmin) {
      logger.warn("--bootstrap-admin is applied by the server that owns partition 0; this one does not");
    }
    started.done = true;
    pipeline.ready = true;
    logger.info(
      {
        grpcPort: port,
        httpPort: httpListener.port,
        store: settings.store,
        dataDir: clustered ? undefined : settings.dataDir,
        serverId: partitions.serverId,
        internalPort: internal?.port,
        partitionsOwned: partitions.held().size,
        tls: tls ? (tls.clientCa ? "mtls" : "tls") : "off",
        oauth: settings.oauthIssuer ? settings.oauthIssuer : "off",
      },
      "pony server listening",
    );
    return new PonyServer(
      settings,
      runtime,
      server,
      () => {
        // /readyz answers 503 from now on: a load balancer stops sending calls here
        started.stopping = true;
        unfollowClock?.();
        handlers.endStreams();
      },
      port,
      httpListener.server,
      httpListener.port,
      logger,
      leases,
      cluster,
    );
  }

  /**
   * Stops taking calls, ends the workers' PollTask streams, hands its partitions over (finishing their
   * pending commits), and closes the store.
   */
  async stop(): Promise<void> {
    this.endStreams();
    await Promise.all([shutdown(this.grpcServer), stopHttpListener(this.httpServer)]);
    await this.leases.stop();
    if (this.cluster) {
      await this.cluster.internal.drain();
      await shutdown(this.cluster.internal.server);
      this.cluster.router.close();
    }
    await this.runtime.stop();
    await this.runtime.store.close();
  }
}
