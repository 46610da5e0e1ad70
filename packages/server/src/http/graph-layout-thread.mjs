// The graph layout thread (graph-layouts.ts): runs elkjs on the graphs the main thread hands over, one at
// a time, off the server's event loop.
import { parentPort } from "node:worker_threads";
import ELK from "elkjs/lib/elk.bundled.js";

const elk = new ELK();

parentPort.on("message", async ({ id, graph }) => {
  try {
    parentPort.postMessage({ id, layout: await elk.layout(graph) });
  } catch (e) {
    parentPort.postMessage({ id, error: e instanceof Error ? e.message : String(e) });
  }
});
