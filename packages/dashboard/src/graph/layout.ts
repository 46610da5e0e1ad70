/**
 * Lays out one ThreadSpec with elkjs (layered, left to right, in a Web Worker): every node a box of the same size, every
 * edge routed between them. The result is what the graph component draws.
 */
import ELK, { type ElkNode } from "elkjs/lib/elk-api.js";
import type { ThreadSpec } from "@pony/proto";
import { edgeCondition, nodeOrder } from "./describe";
import { elkWorker } from "./elk-worker";

export const NODE_WIDTH = 200;
export const NODE_HEIGHT = 62;

export interface PlacedNode {
  name: string;
  x: number;
  y: number;
}

export interface Point {
  x: number;
  y: number;
}

export interface PlacedEdge {
  id: string;
  source: string;
  target: string;
  condition: string;
  /** the route elkjs chose: start, bends, end */
  points: Point[];
  /** where elkjs put the condition's label (its centre), if there is one */
  labelAt?: Point;
}

/**
 * How long the page waits for the server's layout before it lays the graph out itself too. Both at once
 * share the machine's cores when the browser runs next to the server; the server's warm thread usually
 * answers first (a kept layout in milliseconds, a new 200-node one in about 0.1-0.3 s).
 */
const LOCAL_AFTER_MS = 400;

/** a label's size as elkjs must know it to keep labels apart (12 px text) */
const labelSize = (text: string) => ({ width: Math.min(260, 8 + text.length * 6.6), height: 16 });

export interface ThreadLayout {
  nodes: PlacedNode[];
  edges: PlacedEdge[];
  /** "quick": placed at once on the page's thread, until elkjs's layout ("elk") is ready */
  kind: "quick" | "elk";
}

/** The thread's edges between nodes it has, in node order, not routed yet. */
function edgesOf(thread: ThreadSpec, names: readonly string[]): PlacedEdge[] {
  const edges: PlacedEdge[] = [];
  for (const name of names) {
    thread.nodes[name]!.outgoingEdges.forEach((e, i) => {
      if (thread.nodes[e.sinkNodeName] === undefined) return;
      edges.push({
        id: `${name}->${e.sinkNodeName}#${i}`,
        source: name,
        target: e.sinkNodeName,
        condition: edgeCondition(e),
        points: [],
      });
    });
  }
  return edges;
}

/**
 * A first layout, computed at once while elkjs starts in its worker (in a fresh page that takes most of a
 * second): each node in the column of its longest path from the entrypoint (edges back to an earlier node
 * ignored), stacked in node order; edges drawn straight, without their labels. The page shows the graph
 * with it, then moves the nodes to elkjs's places.
 */
export function quickLayout(thread: ThreadSpec): ThreadLayout {
  const names = Object.keys(thread.nodes).sort(nodeOrder);
  const order = new Map(names.map((n, i) => [n, i]));
  const column = new Map<string, number>(names.map((n) => [n, 0]));
  // longest path over forward edges (to a node later in node order): node order is a topological order of them
  for (const name of names) {
    for (const e of thread.nodes[name]!.outgoingEdges) {
      const to = e.sinkNodeName;
      if ((order.get(to) ?? -1) <= order.get(name)!) continue;
      column.set(to, Math.max(column.get(to)!, column.get(name)! + 1));
    }
  }
  const rows = new Map<number, number>();
  const nodes = names.map((name) => {
    const col = column.get(name)!;
    const row = rows.get(col) ?? 0;
    rows.set(col, row + 1);
    return { name, x: col * (NODE_WIDTH + 70), y: row * (NODE_HEIGHT + 36) };
  });
  const edges = edgesOf(thread, names);
  return { nodes, edges, kind: "quick" };
}

/**
 * elkjs in a Web Worker of this page, started the first time the page lays a graph out itself: its code
 * (1.5 MB) is parsed and its layouts computed off the page's thread. Not before, as the server usually
 * answers first, and parsing elkjs would take the CPU the server's layout needs when both share a machine.
 */
let pageElk: InstanceType<typeof ELK> | undefined;
const localElk = () => (pageElk ??= new ELK({ workerFactory: elkWorker }));

/** POSTs the graph to the server's /layout (packages/server/src/http/graph-layouts.ts). */
const postLayout = (body: string) =>
  fetch(`${window.location.origin}/layout`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });

/**
 * The server's layout of the graph: kept (a graph anyone opened before is answered at once), or made on
 * its warm layout thread, while elkjs in a fresh page takes most of a second to warm up. Rejects when the
 * server cannot make it (busy, too large): this page's own layout is used.
 */
async function serverLayout(body: string): Promise<ElkNode> {
  const res = await postLayout(body);
  if (!res.ok) throw new Error(`the server did not lay the graph out (${res.status})`);
  return (await res.json()) as ElkNode;
}

/**
 * Lays the thread out with elkjs at the server, and in this page's worker too when the server fails or is
 * slow (LOCAL_AFTER_MS); the layout that comes first is drawn (the same graph, so the same layout). The
 * server keeps its own for the next page.
 * The time it took is a performance measure `pony:layout` (read by bench/dashboard.ts).
 */
export async function layoutThread(thread: ThreadSpec): Promise<ThreadLayout> {
  const started = performance.now();
  const names = Object.keys(thread.nodes).sort(nodeOrder);
  const edges = edgesOf(thread, names);
  const input: ElkNode = {
    id: "thread",
    layoutOptions: {
      "elk.algorithm": "layered",
      "elk.direction": "RIGHT",
      "elk.layered.spacing.nodeNodeBetweenLayers": "70",
      "elk.spacing.nodeNode": "36",
      "elk.layered.nodePlacement.strategy": "BRANDES_KOEPF",
      "elk.layered.considerModelOrder.strategy": "NODES_AND_EDGES",
      "elk.edgeRouting": "ORTHOGONAL",
      "elk.edgeLabels.inline": "false",
      "elk.spacing.edgeLabel": "4",
    },
    children: names.map((id) => ({ id, width: NODE_WIDTH, height: NODE_HEIGHT })),
    edges: edges.map((e) => ({
      id: e.id,
      sources: [e.source],
      targets: [e.target],
      labels: e.condition ? [{ id: `${e.id}:label`, text: e.condition, ...labelSize(e.condition) }] : [],
    })),
  };
  const body = JSON.stringify(input);
  const server = serverLayout(body);
  let answered = false;
  void server.then(
    () => (answered = true),
    () => undefined,
  );
  // this page's own layout starts if the server fails, or has not answered in LOCAL_AFTER_MS
  const local = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, LOCAL_AFTER_MS);
    server.catch(() => (clearTimeout(timer), resolve()));
  }).then(() => {
    if (answered) throw new Error("the server answered first");
    return localElk().layout(input);
  });
  const graph = await Promise.any([server, local]);
  const routed = new Map((graph.edges ?? []).map((e) => [e.id, e]));
  for (const e of edges) {
    const r = routed.get(e.id);
    const section = r?.sections?.[0];
    if (section) e.points = [section.startPoint, ...(section.bendPoints ?? []), section.endPoint];
    const label = r?.labels?.[0];
    if (label?.x !== undefined && label.y !== undefined)
      e.labelAt = { x: label.x + (label.width ?? 0) / 2, y: label.y + (label.height ?? 0) / 2 };
  }
  performance.measure("pony:layout", { start: started, detail: { nodes: names.length } });
  return {
    nodes: (graph.children ?? []).map((c) => ({ name: c.id, x: c.x ?? 0, y: c.y ?? 0 })),
    edges,
    kind: "elk",
  };
}
