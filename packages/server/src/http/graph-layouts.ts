/**
 * `POST /layout` on the dashboard's listener: the elkjs layout of a workflow graph, computed once per graph
 * and kept. A WfSpec never changes, so neither does its graph's layout. The dashboard posts each graph here
 * and lays it out in its own Web Worker only when no answer came quickly: in a fresh page elkjs spends most
 * of a second parsing and warming up before its first layout, while the thread here is warmed up once
 * (`warm`, when the dashboard's page is first served). A graph anyone has opened since the server started
 * is answered in a few milliseconds, and a new 200-node one in about 0.1-0.3 s.
 * `?kept` only answers a kept layout (404 when there is none), and never starts one.
 *
 * The body is elkjs's input graph as JSON, and the answer elkjs's output. Layouts run in one worker thread
 * (graph-layout-thread.mjs), one at a time, with a few waiting at most; the graph's size and the time a
 * layout may take are bounded, and the kept layouts are the most recently used ones, within a count and a
 * total size. A graph is only a function of what the caller sends, so no stored data is read and no
 * tenant's data can be seen here.
 */
import { createHash } from "node:crypto";
import type http from "node:http";
import { Worker } from "node:worker_threads";

/** the largest body taken (a 2,000-node graph with its edges and labels is well under) */
const MAX_BODY_BYTES = 2 * 2 ** 20;
const MAX_NODES = 2000;
const MAX_EDGES = 10_000;
/** layouts kept: the most recently used, within a count and a size (a layout's JSON is about 40 KB) */
const MAX_KEPT = 256;
const MAX_KEPT_CHARS = 64 * 2 ** 20;
/** layouts waiting for the thread at most; later ones are refused (the page lays the graph out itself) */
const MAX_WAITING = 8;
/** a layout that takes longer is abandoned (the thread is restarted) */
const LAYOUT_TIMEOUT_MS = 10_000;

class RefusedError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class GraphLayouts {
  /** key → the layout's JSON text, or the layout being computed */
  private readonly kept = new Map<string, string | Promise<string>>();
  /** the characters of the kept layouts' JSON, summed */
  private keptChars = 0;
  private worker: Worker | undefined;
  /** layouts handed to a thread, by id, with the thread */
  private readonly waiting = new Map<
    number,
    { worker: Worker; resolve(json: string): void; reject(e: Error): void }
  >();
  private stopped = false;
  private nextId = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private queued = 0;

  /** Answers one `POST /layout`. */
  handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const reply = (status: number, body: string): void => {
      res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" }).end(body);
    };
    if (req.method !== "POST") {
      res.setHeader("allow", "POST");
      return reply(405, JSON.stringify({ error: "POST an elkjs graph (JSON) to /layout" }));
    }
    const keptOnly = new URL(req.url ?? "/", "http://x").searchParams.has("kept");
    readBody(req)
      .then((text) => (keptOnly ? this.keptLayout(text) : this.layout(text)))
      .then(
        (json) => reply(200, json),
        (e: unknown) =>
          reply(e instanceof RefusedError ? e.status : 500, JSON.stringify({ error: (e as Error).message })),
      );
  }

  /** The layout of the graph if one is kept (made, not being made); refused with 404 otherwise. */
  keptLayout(text: string): Promise<string> {
    const kept = this.kept.get(keyOf(text));
    if (typeof kept === "string") return this.layout(text);
    return Promise.reject(new RefusedError(404, "no layout of this graph is kept: POST it without ?kept"));
  }

  /** The layout of the graph (elkjs's input as JSON text), kept or computed. */
  layout(text: string): Promise<string> {
    const key = keyOf(text);
    const kept = this.kept.get(key);
    if (kept !== undefined) {
      // most recently used last
      this.kept.delete(key);
      this.kept.set(key, kept);
      return Promise.resolve(kept);
    }
    if (this.queued >= MAX_WAITING) {
      return Promise.reject(
        new RefusedError(503, "too many layouts are waiting: lay the graph out yourself"),
      );
    }
    let graph: unknown;
    try {
      graph = JSON.parse(text);
    } catch {
      return Promise.reject(new RefusedError(400, "the body is not JSON: send an elkjs graph"));
    }
    const problem = checkGraph(graph);
    if (problem) return Promise.reject(new RefusedError(400, problem));
    const computing = this.compute(graph).then(
      (json) => {
        if (this.kept.get(key) !== computing) return json;
        // a layout too large to keep is answered, not kept; the oldest go while the kept ones are too many
        if (json.length > MAX_KEPT_CHARS / 16) this.kept.delete(key);
        else {
          this.kept.set(key, json);
          this.keptChars += json.length;
        }
        for (const [k, v] of this.kept) {
          if (this.kept.size <= MAX_KEPT && this.keptChars <= MAX_KEPT_CHARS) break;
          if (typeof v !== "string") continue;
          this.kept.delete(k);
          this.keptChars -= v.length;
        }
        return json;
      },
      (e: unknown) => {
        this.kept.delete(key);
        throw e;
      },
    );
    this.kept.set(key, computing);
    return computing;
  }

  /**
   * Starts the layout thread and has it lay a few made-up graphs out, once (layouts asked meanwhile go
   * first): elkjs's first layouts run several times slower than later ones. Called when the dashboard's page
   * is served, so the thread is warm by the time a person opens a graph.
   */
  warm(): void {
    if (this.stopped || this.worker) return;
    this.thread().postMessage({ warm: true });
  }

  /** Ends the layout thread (the server is stopping). */
  stop(): void {
    this.stopped = true;
    this.dropThread();
  }

  private dropThread(): void {
    void this.worker?.terminate();
    this.worker = undefined;
  }

  /** Runs one layout on the thread, after the ones before it. */
  private compute(graph: unknown): Promise<string> {
    this.queued++;
    const run = this.chain.then(() => this.onThread(graph));
    this.chain = run.catch(() => undefined);
    return run.finally(() => this.queued--);
  }

  private onThread(graph: unknown): Promise<string> {
    if (this.stopped) return Promise.reject(new RefusedError(503, "the server is stopping"));
    const worker = this.thread();
    const id = ++this.nextId;
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        // a graph elkjs takes too long over: the thread is replaced, the page keeps its own layout
        this.waiting.delete(id);
        if (this.worker === worker) this.dropThread();
        reject(new RefusedError(503, `the layout took longer than ${LAYOUT_TIMEOUT_MS} ms`));
      }, LAYOUT_TIMEOUT_MS);
      this.waiting.set(id, {
        worker,
        resolve: (json) => (clearTimeout(timer), resolve(json)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      worker.postMessage({ id, graph });
    });
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL("./graph-layout-thread.mjs", import.meta.url));
    worker.unref();
    worker.on("message", (msg: { id: number; layout?: unknown; error?: string }) => {
      const w = this.waiting.get(msg.id);
      if (!w) return;
      this.waiting.delete(msg.id);
      if (msg.error !== undefined)
        w.reject(new RefusedError(400, `elkjs could not lay the graph out: ${msg.error}`));
      else w.resolve(JSON.stringify(msg.layout));
    });
    // the layouts this thread had fail; those handed to its replacement since go on
    const failAll = (why: string) => {
      if (this.worker === worker) this.worker = undefined;
      for (const [id, w] of this.waiting) {
        if (w.worker !== worker) continue;
        this.waiting.delete(id);
        w.reject(new Error(why));
      }
    };
    worker.on("error", (e) => failAll(`the layout thread failed: ${e.message}`));
    worker.on("exit", () => failAll("the layout thread stopped"));
    this.worker = worker;
    return worker;
  }
}

const keyOf = (text: string) => createHash("sha256").update(text).digest("base64url");

/** What is wrong with the graph, if anything (the shape elkjs takes, within the limits). */
function checkGraph(graph: unknown): string | undefined {
  if (typeof graph !== "object" || graph === null || Array.isArray(graph))
    return "the body must be a JSON object";
  const g = graph as { children?: unknown; edges?: unknown };
  if (!Array.isArray(g.children)) return "the graph must have a 'children' array of nodes";
  if (g.children.length > MAX_NODES)
    return `the graph has ${g.children.length} nodes; at most ${MAX_NODES} are laid out`;
  if (g.edges !== undefined && !Array.isArray(g.edges)) return "'edges' must be an array";
  if (Array.isArray(g.edges) && g.edges.length > MAX_EDGES)
    return `the graph has ${g.edges.length} edges; at most ${MAX_EDGES} are laid out`;
  for (const c of g.children) {
    if (typeof c !== "object" || c === null || (c as { children?: unknown }).children !== undefined)
      return "each node must be an object without nested nodes";
  }
  return undefined;
}

/** The body as text; one over the limit is read to its end (so the answer reaches the client) and refused. */
function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on("end", () => {
      if (size > MAX_BODY_BYTES)
        reject(new RefusedError(413, `the graph is ${size} bytes, larger than ${MAX_BODY_BYTES} bytes`));
      else resolve(Buffer.concat(chunks).toString("utf8"));
    });
    req.on("error", reject);
  });
}
