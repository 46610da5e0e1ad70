/**
 * The HTTP/1.1 listener on --http-port (default 8080): the dashboard's files, `/healthz` (the store
 * answers), `/readyz` (and the server has rebuilt its state and takes calls), `/layout` (workflow graph
 * layouts for the dashboard, graph-layouts.ts), and the
 * `littlehorse.LittleHorse` service over the Connect and gRPC-Web protocols (connect.ts), through the same
 * request pipeline as gRPC. With --tls-cert it serves HTTPS with the same certificate, and with
 * --tls-client-ca it asks for client certificates as the gRPC listener does.
 */
import http from "node:http";
import https from "node:https";
import type { TLSSocket } from "node:tls";
import { createContextValues } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { RequestPipeline } from "../api/pipeline";
import type { GrpcTls } from "../grpc/server";
import { connectRoutes, kCertificateCommonName, refuseStream } from "./connect";
import { GraphLayouts } from "./graph-layouts";
import { serveDashboard } from "./static-files";

export interface HttpListenerOptions {
  host: string;
  port: number;
  tls?: GrpcTls;
  /** where the built dashboard is */
  dashboardDir: string;
  /** resolves when the store answers; rejects otherwise */
  healthy: () => Promise<void>;
  /** resolves when the server can take calls (store answers, its state rebuilt); rejects saying why not */
  ready: () => Promise<void>;
}

const HEALTH_TIMEOUT_MS = 2000;

function peerCommonName(req: http.IncomingMessage): string | undefined {
  const socket = req.socket as Partial<TLSSocket>;
  if (!socket.authorized || !socket.getPeerCertificate) return undefined;
  const cn = socket.getPeerCertificate().subject?.CN;
  return (Array.isArray(cn) ? cn[0] : cn) || undefined;
}

async function probe(check: () => Promise<void>, res: http.ServerResponse): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer in ${HEALTH_TIMEOUT_MS} ms`)),
          HEALTH_TIMEOUT_MS,
        );
      }),
    ]);
    res.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}\n');
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    res
      .writeHead(503, { "content-type": "application/json" })
      .end(JSON.stringify({ status: "unavailable", reason: message }) + "\n");
  } finally {
    clearTimeout(timer);
  }
}

export async function startHttpListener(
  pipeline: RequestPipeline,
  opts: HttpListenerOptions,
): Promise<{ server: http.Server; port: number }> {
  const layouts = new GraphLayouts();
  const adapter = connectNodeAdapter({
    routes: connectRoutes(pipeline),
    connect: true,
    grpcWeb: true,
    grpc: false,
    contextValues: (req) =>
      createContextValues().set(kCertificateCommonName, peerCommonName(req as http.IncomingMessage)),
    fallback: (req, res) => {
      const r = req as http.IncomingMessage;
      const w = res as http.ServerResponse;
      const path = (r.url ?? "").split("?")[0];
      if (path === "/healthz") void probe(opts.healthy, w);
      else if (path === "/readyz") void probe(opts.ready, w);
      else if (path === "/layout") layouts.handle(r, w);
      else {
        // a page of the dashboard (not one of its files): a person is there, and may open a graph soon
        if (!/\.[^/]*$/.test(path ?? "")) layouts.warm();
        serveDashboard(opts.dashboardDir, r, w);
      }
    },
  });
  const connect = (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (!refuseStream(req, res)) adapter(req, res);
  };
  const server = opts.tls
    ? https.createServer(
        {
          cert: opts.tls.cert,
          key: opts.tls.key,
          ca: opts.tls.clientCa,
          requestCert: opts.tls.clientCa !== undefined,
          rejectUnauthorized: opts.tls.clientCa !== undefined,
        },
        connect,
      )
    : http.createServer(connect);
  server.on("close", () => layouts.stop());
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  return { server, port: typeof address === "object" && address ? address.port : opts.port };
}

/** Stops taking connections; open ones are closed after `graceMs`. */
export function stopHttpListener(server: http.Server, graceMs = 2000): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}
