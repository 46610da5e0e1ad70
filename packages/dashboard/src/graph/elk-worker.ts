/**
 * elkjs's Web Worker, started once. A page with a graph starts it at boot (main.tsx), before the graph's own
 * code has loaded, so that the worker is parsing elkjs's 1.5 MB of code while the page fetches its data;
 * otherwise the first layout (layout.ts) starts it.
 */
import elkWorkerUrl from "elkjs/lib/elk-worker.min.js?url";

let worker: Worker | undefined;

export function elkWorker(): Worker {
  worker ??= new Worker(elkWorkerUrl);
  return worker;
}
