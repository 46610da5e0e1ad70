// The graph layout thread (graph-layouts.ts): runs elkjs on the graphs the main thread hands over, one at
// a time, off the server's event loop.
import { setImmediate } from "node:timers/promises";
import { parentPort } from "node:worker_threads";
import ELK from "elkjs/lib/elk.bundled.js";

const elk = new ELK();

/** how many made-up graphs warm elkjs's code up, and their size: V8 compiles elkjs's hot code fully only after
 * a few seconds of layouts (a 200-node graph then takes ~0.1 s instead of 0.4-0.7 s) */
const WARM_UP_LAYOUTS = 24;
const WARM_UP_NODES = 60;

/**
 * A made-up workflow-like graph: a chain of nodes, every seventh branching past the next two on a labelled
 * edge, laid out left to right with orthogonal edges (as the dashboard asks). Laying a few of these out
 * compiles the code paths a real workflow graph takes: elkjs's first layouts run several times slower.
 */
function warmUpGraph() {
  const children = [];
  const edges = [];
  for (let i = 0; i < WARM_UP_NODES; i++) children.push({ id: `n${i}`, width: 200, height: 62 });
  for (let i = 0; i + 1 < WARM_UP_NODES; i++) {
    const label = (id, text) => ({ id, text, width: 8 + text.length * 6.6, height: 16 });
    edges.push({
      id: `e${i}`,
      sources: [`n${i}`],
      targets: [`n${i + 1}`],
      labels: i % 5 ? [] : [label(`l${i}`, "x > 3")],
    });
    if (i % 7 === 0 && i + 3 < WARM_UP_NODES)
      edges.push({
        id: `b${i}`,
        sources: [`n${i}`],
        targets: [`n${i + 3}`],
        labels: [label(`m${i}`, "else")],
      });
  }
  return {
    id: "warm-up",
    layoutOptions: {
      "elk.algorithm": "layered",
      "elk.direction": "RIGHT",
      "elk.layered.nodePlacement.strategy": "BRANDES_KOEPF",
      "elk.layered.considerModelOrder.strategy": "NODES_AND_EDGES",
      "elk.edgeRouting": "ORTHOGONAL",
    },
    children,
    edges,
  };
}

/** Lays made-up graphs out, one per turn of the event loop, so a real layout asked meanwhile goes first. */
async function warmUp() {
  for (let i = 0; i < WARM_UP_LAYOUTS; i++) {
    await setImmediate();
    await elk.layout(warmUpGraph()).catch(() => undefined);
  }
}

parentPort.on("message", async ({ id, graph, warm }) => {
  if (warm) return void warmUp();
  try {
    parentPort.postMessage({ id, layout: await elk.layout(graph) });
  } catch (e) {
    parentPort.postMessage({ id, error: e instanceof Error ? e.message : String(e) });
  }
});
