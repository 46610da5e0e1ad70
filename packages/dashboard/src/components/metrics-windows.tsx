/**
 * Metrics windows as the dashboard shows them: their lengths, local-time labels, the window-length picker
 * (kept in the URL) and the totals line. The charts themselves are in charts.tsx (recharts, loaded lazily).
 *
 * Metrics windows are 5 minutes, 2 hours or 1 day long and aligned on the epoch, in UTC (the server's
 * runtime/metrics.ts): a day window starts at local midnight only where the local time is UTC.
 */
import { useUrlParams } from "./url-params";
import { MetricsWindowLength } from "@pony/proto";
import { formatTime } from "../api/format";

export const WINDOW_MS: Record<MetricsWindowLength, number> = {
  [MetricsWindowLength.MINUTES_5]: 5 * 60_000,
  [MetricsWindowLength.HOURS_2]: 2 * 3_600_000,
  [MetricsWindowLength.DAYS_1]: 86_400_000,
};

export const WINDOW_LABELS: Record<MetricsWindowLength, string> = {
  [MetricsWindowLength.MINUTES_5]: "5 minutes",
  [MetricsWindowLength.HOURS_2]: "2 hours",
  [MetricsWindowLength.DAYS_1]: "1 day",
};

/** how many windows a metrics page shows for each window length */
export const WINDOW_COUNTS: Record<MetricsWindowLength, number> = {
  [MetricsWindowLength.MINUTES_5]: 36, // 3 hours
  [MetricsWindowLength.HOURS_2]: 24, // 2 days
  [MetricsWindowLength.DAYS_1]: 30, // 30 days
};

const WINDOW_PARAM: Record<string, MetricsWindowLength> = {
  MINUTES_5: MetricsWindowLength.MINUTES_5,
  HOURS_2: MetricsWindowLength.HOURS_2,
  DAYS_1: MetricsWindowLength.DAYS_1,
};

/** the start of the window of this length that holds `ms` (as the server aligns it) */
export const windowStartOf = (ms: number, length: MetricsWindowLength): number =>
  Math.floor(ms / WINDOW_MS[length]) * WINDOW_MS[length];

/** the windows that cover [from, to]: the start of the last one and how many there are (at most 1000) */
export function windowsCovering(from: number, to: number, length: MetricsWindowLength) {
  const last = windowStartOf(Math.max(from, to), length);
  const first = windowStartOf(Math.min(from, to), length);
  return { last, count: Math.min(1000, Math.round((last - first) / WINDOW_MS[length]) + 1) };
}

const pad = (n: number) => String(n).padStart(2, "0");

/** a window's start as a short local time: the date for a window starting at midnight, else date and time */
export function windowLabel(ms: number, length: MetricsWindowLength): string {
  const d = new Date(ms);
  const day = `${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  if (length === MetricsWindowLength.DAYS_1 && time === "00:00") return `${d.getFullYear()}-${day}`;
  return length === MetricsWindowLength.MINUTES_5 ? time : `${day} ${time}`;
}

/** "from – to" in local time, for a tooltip */
export function windowRange(ms: number, length: MetricsWindowLength): string {
  return `${formatTime(ms)} – ${formatTime(ms + WINDOW_MS[length])}`;
}

/** The window length in the URL (`window`: MINUTES_5, HOURS_2 or DAYS_1), HOURS_2 by default. */
export function useWindowParam(): [MetricsWindowLength, (w: MetricsWindowLength) => void] {
  const [params, update] = useUrlParams();
  const value = WINDOW_PARAM[params.get("window") ?? ""] ?? MetricsWindowLength.HOURS_2;
  const set = (w: MetricsWindowLength) => {
    update({ window: MetricsWindowLength[w] });
  };
  return [value, set];
}

export function WindowPicker({
  value,
  onChange,
}: {
  value: MetricsWindowLength;
  onChange: (w: MetricsWindowLength) => void;
}) {
  return (
    <div className="window-picker" role="radiogroup" aria-label="window length">
      <span className="muted">Window length</span>
      {[MetricsWindowLength.MINUTES_5, MetricsWindowLength.HOURS_2, MetricsWindowLength.DAYS_1].map((w) => (
        <button
          key={w}
          type="button"
          role="radio"
          aria-checked={w === value}
          className={w === value ? "primary" : undefined}
          onClick={() => onChange(w)}
        >
          {WINDOW_LABELS[w]}
        </button>
      ))}
    </div>
  );
}

export const COLORS = {
  scheduled: "#98a2b3",
  started: "#2e90fa",
  completed: "#12b76a",
  errored: "#f04438",
  inFlight: "#f79009",
  avg: "#4f46e5",
  max: "#f79009",
};

export interface Series {
  key: string;
  name: string;
  color: string;
}

/** One row per window: its start (epoch ms), its label and a number per series (null: nothing to show). */
export type WindowRow = { start: number; label: string } & Record<string, number | string | null>;

/** Sums of some series over all windows, e.g. "12 started · 10 completed · 1 errored". */
export function Totals({ data, series }: { data: WindowRow[]; series: Series[] }) {
  return (
    <div className="chart-totals" data-testid="totals">
      {series.map((s) => (
        <span key={s.key}>
          <span className="swatch" style={{ background: s.color }} />
          {data.reduce((n, r) => n + Number(r[s.key] ?? 0), 0)} {s.name.toLowerCase()}
        </span>
      ))}
    </div>
  );
}
