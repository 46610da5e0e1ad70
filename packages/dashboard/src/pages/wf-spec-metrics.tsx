/**
 * A WfSpec version's metrics windows: WfRuns started, completed and errored per window, and the
 * start-to-complete latency (average and maximum) of the WfRuns that ended, with a window length picker.
 */
import { useEffect } from "react";
import { Link, useParams } from "react-router";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import type { WfSpec } from "@pony/proto";
import { lh } from "../api/client";
import { formatDuration, ms } from "../api/format";
import { wfSpecLabel, wfSpecPath } from "../api/ids";
import { useSession } from "../api/session";
import { CountsChart, LatencyChart } from "../components/lazy-charts";
import {
  COLORS,
  Totals,
  useWindowParam,
  WINDOW_COUNTS,
  WINDOW_LABELS,
  windowLabel,
  WindowPicker,
  type WindowRow,
} from "../components/metrics-windows";
import { ErrorBox, Loaded } from "../components/errors";

const COUNT_SERIES = [
  { key: "started", name: "Started", color: COLORS.started },
  { key: "completed", name: "Completed", color: COLORS.completed },
  { key: "errored", name: "Errored", color: COLORS.errored },
];
const LATENCY_SERIES = [
  { key: "startToCompleteAvg", name: "Average", color: COLORS.avg },
  { key: "startToCompleteMax", name: "Maximum", color: COLORS.max },
];

function MetricsView({ spec }: { spec: WfSpec }) {
  const { tenant } = useSession();
  const id = spec.id!;
  const [length, setLength] = useWindowParam();
  const count = WINDOW_COUNTS[length];
  const metrics = useQuery({
    queryKey: [tenant, "wfSpecMetrics", wfSpecLabel(id), length, count],
    queryFn: () =>
      lh.listWfSpecMetrics({
        wfSpecId: { name: id.name, majorVersion: id.majorVersion, revision: id.revision },
        windowLength: length,
        numWindows: count,
      }),
    placeholderData: keepPreviousData,
    refetchInterval: 10_000,
  });
  const rows: WindowRow[] = (metrics.data?.results ?? []).map((w) => {
    const start = ms(w.windowStart) ?? 0;
    const ended = w.totalCompleted + w.totalErrored;
    return {
      start,
      label: windowLabel(start, length),
      started: Number(w.totalStarted),
      completed: Number(w.totalCompleted),
      errored: Number(w.totalErrored),
      // only where WfRuns ended: a gap in the line, not a zero
      startToCompleteAvg: ended > 0n ? Number(w.startToCompleteAvg) : null,
      startToCompleteMax: ended > 0n ? Number(w.startToCompleteMax) : null,
    };
  });
  const measured = rows.map((r) => r.startToCompleteMax).filter((v): v is number => typeof v === "number");
  const worst = measured.length > 0 ? Math.max(...measured) : undefined;
  return (
    <>
      <div className="actions">
        <h1>Metrics of WfSpec {wfSpecLabel(id)}</h1>
        <div className="grow" />
        <Link to={wfSpecPath(id)} data-testid="back-to-wf-spec">
          ← Back to WfSpec {wfSpecLabel(id)}
        </Link>
      </div>
      <section className="panel" data-testid="wf-spec-metrics">
        <div className="actions">
          <h2>WfRuns of this version</h2>
          <div className="grow" />
          <WindowPicker value={length} onChange={setLength} />
        </div>
        {metrics.error ? (
          <ErrorBox error={metrics.error} what="the metrics" />
        ) : !metrics.data ? (
          <div className="loading">Loading the metrics…</div>
        ) : (
          <>
            <p className="muted">
              The last {count} windows of {WINDOW_LABELS[length]} of this version: a WfRun counts as started
              when it is created, completed when it ends COMPLETED, errored when it ends ERROR or EXCEPTION.
              Slowest WfRun over these windows: {formatDuration(worst)}.
            </p>
            <Totals data={rows} series={COUNT_SERIES} />
            <div className="charts-grid">
              <CountsChart
                title={`WfRuns per ${WINDOW_LABELS[length]}`}
                data={rows}
                series={COUNT_SERIES}
                length={length}
                yLabel="WfRuns"
                testId="counts-chart"
              />
              <LatencyChart
                title="Start to complete"
                note="WfRuns that ended in the window"
                data={rows}
                series={LATENCY_SERIES}
                length={length}
                testId="latency-chart"
              />
            </div>
          </>
        )}
      </section>
    </>
  );
}

export function WfSpecMetricsPage() {
  // the charts code starts loading while the page asks for its data
  useEffect(() => void CountsChart.preload(), []);
  const { name = "", major = "", revision = "" } = useParams();
  const { tenant } = useSession();
  const spec = useQuery({
    queryKey: [tenant, "wfSpec", name, major, revision],
    queryFn: () => lh.getWfSpec({ name, majorVersion: Number(major), revision: Number(revision) }),
  });
  return (
    <Loaded query={spec} what={`WfSpec '${name}' v${major}.${revision}`}>
      {(s) => <MetricsView key={wfSpecLabel(s.id)} spec={s} />}
    </Loaded>
  );
}
