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

// elkjs runs in a Web Worker: its code (1.5 MB) is parsed and its layouts computed off the page's thread
const elk = new ELK({ workerFactory: elkWorker });

// a first, tiny layout as soon as this module loads (a page with a graph loads it while it asks for its
// data): the worker parses elkjs and warms its code meanwhile, so the page's own layout does not wait for it
void elk
  .layout({
    id: "warm-up",
    layoutOptions: { "elk.algorithm": "layered", "elk.edgeRouting": "ORTHOGONAL" },
    children: ["a", "b", "c"].map((id) => ({ id, width: NODE_WIDTH, height: NODE_HEIGHT })),
    edges: [
      { id: "ab", sources: ["a"], targets: ["b"], labels: [{ id: "l", text: "x", width: 10, height: 10 }] },
      { id: "bc", sources: ["b"], targets: ["c"] },
    ],
  })
  .catch(() => undefined);

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
 * Lays the thread out with elkjs, here in this page's worker and at the server at once, and takes the
 * layout that comes first (the same graph, so the same layout); the server keeps its own for the next page.
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
  const graph = await Promise.any([serverLayout(body), elk.layout(input)]);
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
