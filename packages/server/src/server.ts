import type * as grpc from "@grpc/grpc-js";
import pino, { type Logger } from "pino";
import { buildHandlers } from "./api";
import { startGrpcServer } from "./grpc/server";
import { Runtime } from "./runtime/runtime";
import type { ServerSettings } from "./settings";
import { SqliteStore } from "./store/sqlite";

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
    const store = new SqliteStore(settings.dataDir);
    const runtime = new Runtime(store, logger);
    await runtime.start();
    const advertised = { host: settings.advertisedHost, port: settings.grpcPort };
    const handlers = buildHandlers(runtime, logger, {
      advertised,
      pollWaitMs: settings.pollWaitSeconds * 1000,
      workerHeartbeatTimeoutMs: settings.workerHeartbeatTimeoutSeconds * 1000,
      startedMs: Date.now(),
    });
    const { server, port } = await startGrpcServer(handlers, logger, settings.grpcHost, settings.grpcPort);
    // with port 0 (tests) the port is known only now: workers must be told the bound one
    advertised.port = port;
    settings.grpcPort = port;
    logger.info({ grpcPort: port, dataDir: settings.dataDir }, "pony server listening");
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
