/** The charts (charts.tsx), loaded in the background (preloaded.tsx): recharts is a large part of the code. */
import { preloaded } from "./preloaded";

const placeholder = <div className="chart-box loading">Loading the chart…</div>;

export const CountsChart = preloaded(
  () => import("./charts"),
  (m) => m.CountsChart,
  placeholder,
);

export const LatencyChart = preloaded(
  () => import("./charts"),
  (m) => m.LatencyChart,
  placeholder,
);
