/** The graph (wf-graph.tsx), loaded in the background (components/preloaded.tsx). */
import { preloaded } from "../components/preloaded";

export const WfGraph = preloaded(
  () => import("./wf-graph"),
  (m) => m.WfGraph,
  <div className="graph loading">Loading the graph…</div>,
);
