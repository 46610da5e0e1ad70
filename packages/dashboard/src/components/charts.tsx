/**
 * Charts of metrics windows (recharts): counts per window as bars (stacked or side by side) and latencies
 * as lines, each with a title, labelled axes, a legend and window starts in local time. Charts have a fixed
 * height (ResponsiveContainer needs a sized parent) and no animation, so they show at once. Pages use them
 * through lazy-charts.tsx, so that recharts loads only where a chart is drawn.
 */
import type { ReactNode } from "react";
import {
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import type { MetricsWindowLength } from "@pony/proto";
import { formatDuration } from "../api/format";
import { windowRange, type Series, type WindowRow } from "./metrics-windows";

const CHART_HEIGHT = 260;

function ChartFrame({
  title,
  testId,
  note,
  children,
}: {
  title: string;
  testId?: string;
  note?: ReactNode;
  children: ReactNode;
}) {
  return (
    <figure className="chart-frame" data-testid={testId}>
      <figcaption>
        <strong>{title}</strong>
        {note ? <span className="muted"> · {note}</span> : null}
      </figcaption>
      <div className="chart-box" style={{ height: CHART_HEIGHT }}>
        <ResponsiveContainer
          width="100%"
          height={CHART_HEIGHT}
          initialDimension={{ width: 600, height: CHART_HEIGHT }}
        >
          {children as React.ReactElement}
        </ResponsiveContainer>
      </div>
    </figure>
  );
}

const axisLabel = (value: string, vertical = false) =>
  vertical
    ? {
        value,
        angle: -90,
        position: "insideLeft" as const,
        style: { textAnchor: "middle" as const },
        fill: "#667085",
        fontSize: 12,
      }
    : { value, position: "insideBottom" as const, offset: -2, fill: "#667085", fontSize: 12 };

function tooltipLabel(length: MetricsWindowLength) {
  return (_label: unknown, payload: readonly { payload?: { start?: number } }[]) => {
    const start = payload?.[0]?.payload?.start;
    return typeof start === "number" ? windowRange(start, length) : "";
  };
}

/** Counts per window as bars: stacked (one bar per window) or side by side. */
export function CountsChart({
  title,
  data,
  series,
  length,
  yLabel,
  stacked = false,
  testId,
  note,
}: {
  title: string;
  data: WindowRow[];
  series: Series[];
  length: MetricsWindowLength;
  yLabel: string;
  stacked?: boolean;
  testId?: string;
  note?: ReactNode;
}) {
  return (
    <ChartFrame title={title} testId={testId} note={note}>
      <BarChart data={data} margin={{ top: 8, right: 16, bottom: 22, left: 8 }}>
        <CartesianGrid strokeDasharray="3 3" vertical={false} />
        <XAxis dataKey="label" fontSize={11} minTickGap={12} label={axisLabel("window start (local time)")} />
        <YAxis allowDecimals={false} fontSize={11} width={52} label={axisLabel(yLabel, true)} />
        <Tooltip labelFormatter={tooltipLabel(length)} />
        <Legend verticalAlign="top" height={28} itemSorter={null} />
        {series.map((s) => (
          <Bar
            key={s.key}
            dataKey={s.key}
            name={s.name}
            fill={s.color}
            stackId={stacked ? "stack" : undefined}
            isAnimationActive={false}
            maxBarSize={48}
          />
        ))}
      </BarChart>
    </ChartFrame>
  );
}

/**
 * Durations (ms) per window as lines, the axis and tooltip in readable durations. A window where nothing
 * was measured is null: a gap, not a zero.
 */
export function LatencyChart({
  title,
  data,
  series,
  length,
  testId,
  note,
}: {
  title: string;
  data: WindowRow[];
  series: Series[];
  length: MetricsWindowLength;
  testId?: string;
  note?: ReactNode;
}) {
  return (
    <ChartFrame title={title} testId={testId} note={note}>
      <LineChart data={data} margin={{ top: 8, right: 16, bottom: 22, left: 8 }}>
        <CartesianGrid strokeDasharray="3 3" vertical={false} />
        <XAxis
          padding={{ left: 8, right: 8 }}
          dataKey="label"
          fontSize={11}
          minTickGap={12}
          label={axisLabel("window start (local time)")}
        />
        <YAxis
          fontSize={11}
          width={72}
          tickFormatter={(v: number) => formatDuration(v)}
          label={axisLabel("duration", true)}
        />
        <Tooltip labelFormatter={tooltipLabel(length)} formatter={(v) => formatDuration(Number(v))} />
        <Legend verticalAlign="top" height={28} itemSorter={null} />
        {series.map((s) => (
          <Line
            key={s.key}
            type="linear"
            dataKey={s.key}
            name={s.name}
            stroke={s.color}
            strokeWidth={2}
            dot={{ r: 3 }}
            connectNulls={false}
            isAnimationActive={false}
          />
        ))}
      </LineChart>
    </ChartFrame>
  );
}
