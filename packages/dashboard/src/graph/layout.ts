/**
 * Lays out one ThreadSpec with elkjs (layered, left to right, in a Web Worker): every node a box of the same size, every
 * edge routed between them. The result is what the graph component draws.
 */
import ELK from "elkjs/lib/elk-api.js";
import elkWorkerUrl from "elkjs/lib/elk-worker.min.js?url";
import type { ThreadSpec } from "@pony/proto";
import { edgeCondition, nodeOrder } from "./describe";

export const NODE_WIDTH = 200;
export const NODE_HEIGHT = 62;

export interface PlacedNode {
  name: string;
  x: number;
  y: number;
}

export interface PlacedEdge {
  id: string;
  source: string;
  target: string;
  condition: string;
}

export interface ThreadLayout {
  nodes: PlacedNode[];
  edges: PlacedEdge[];
}

// elkjs runs in a Web Worker: its code (1.5 MB) is parsed and its layouts computed off the page's thread
const elk = new ELK({ workerFactory: () => new Worker(elkWorkerUrl) });

/** Lays the thread out; the time it took is a performance measure `pony:layout` (read by bench/dashboard.ts). */
export async function layoutThread(thread: ThreadSpec): Promise<ThreadLayout> {
  const started = performance.now();
  const names = Object.keys(thread.nodes).sort(nodeOrder);
  const edges: PlacedEdge[] = [];
  for (const name of names) {
    thread.nodes[name]!.outgoingEdges.forEach((e, i) => {
      if (thread.nodes[e.sinkNodeName] === undefined) return;
      edges.push({
        id: `${name}->${e.sinkNodeName}#${i}`,
        source: name,
        target: e.sinkNodeName,
        condition: edgeCondition(e),
      });
    });
  }
  const graph = await elk.layout({
    id: "thread",
    layoutOptions: {
      "elk.algorithm": "layered",
      "elk.direction": "RIGHT",
      "elk.layered.spacing.nodeNodeBetweenLayers": "70",
      "elk.spacing.nodeNode": "36",
      "elk.layered.nodePlacement.strategy": "BRANDES_KOEPF",
      "elk.layered.considerModelOrder.strategy": "NODES_AND_EDGES",
    },
    children: names.map((id) => ({ id, width: NODE_WIDTH, height: NODE_HEIGHT })),
    edges: edges.map((e) => ({ id: e.id, sources: [e.source], targets: [e.target] })),
  });
  performance.measure("pony:layout", { start: started, detail: { nodes: names.length } });
  return {
    nodes: (graph.children ?? []).map((c) => ({ name: c.id, x: c.x ?? 0, y: c.y ?? 0 })),
    edges,
  };
}
