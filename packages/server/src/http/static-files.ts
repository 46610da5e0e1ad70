/**
 * The built dashboard (packages/dashboard/dist, made by `npm run build:dashboard`, which `npm ci` runs):
 * files by path, and index.html for every other page path, so that a page's URL can be opened directly
 * (the dashboard routes in the browser). Hashed assets are cached for good; index.html never.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { IncomingMessage, ServerResponse } from "node:http";

export const DASHBOARD_DIR = fileURLToPath(new URL("../../../dashboard/dist", import.meta.url));

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".woff2": "font/woff2",
  ".map": "application/json",
};

export function serveDashboard(root: string, req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" }).end("method not allowed\n");
    return;
  }
  const url = new URL(req.url ?? "/", "http://localhost");
  let rel: string;
  try {
    rel = decodeURIComponent(url.pathname);
  } catch {
    res.writeHead(400, { "content-type": "text/plain" }).end("bad path\n");
    return;
  }
  const file = path.join(root, path.normalize(rel));
  const inside = file.startsWith(root + path.sep);
  const asset = inside && path.extname(file) !== "" && fs.statSync(file, { throwIfNoEntry: false })?.isFile();
  if (!asset && path.extname(rel) !== "") {
    res.writeHead(404, { "content-type": "text/plain" }).end(`no such file: ${rel}\n`);
    return;
  }
  const chosen = asset ? file : path.join(root, "index.html");
  let body: Buffer;
  try {
    body = fs.readFileSync(chosen);
  } catch {
    res
      .writeHead(503, { "content-type": "text/plain; charset=utf-8" })
      .end("The dashboard is not built: run `npm run build:dashboard` (npm ci does it), then reload.\n");
    return;
  }
  res.writeHead(200, {
    "content-type": TYPES[path.extname(chosen)] ?? "application/octet-stream",
    "content-length": body.length,
    "cache-control": asset && rel.startsWith("/assets/") ? "public, max-age=31536000, immutable" : "no-cache",
    "x-content-type-options": "nosniff",
  });
  res.end(req.method === "HEAD" ? undefined : body);
}
