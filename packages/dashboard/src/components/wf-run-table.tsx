/** WfRuns as rows: id, WfSpec, status, start, end and duration (each WfRun read by its id). */
import { useQueries } from "@tanstack/react-query";
import { Link } from "react-router";
import type { WfRunId } from "@pony/proto";
import { lh } from "../api/client";
import { durationOf, formatDuration, formatTime, lhStatusName } from "../api/format";
import { wfRunKey, wfRunPath, wfSpecLabel, wfSpecPath } from "../api/ids";
import { useSession } from "../api/session";
import { StatusBadge } from "./status";

export function WfRunTable({ ids, showSpec = true }: { ids: WfRunId[]; showSpec?: boolean }) {
  const { tenant } = useSession();
  const runs = useQueries({
    queries: ids.map((id) => ({
      queryKey: [tenant, "wfRun", wfRunKey(id)],
      queryFn: () => lh.getWfRun(id),
    })),
  });
  if (ids.length === 0) return <div className="empty">No WfRuns.</div>;
  return (
    <table data-testid="wf-runs">
      <thead>
        <tr>
          <th>WfRun</th>
          {showSpec && <th>WfSpec</th>}
          <th>Status</th>
          <th>Started</th>
          <th>Ended</th>
          <th>Duration</th>
        </tr>
      </thead>
      <tbody>
        {ids.map((id, i) => {
          const run = runs[i]?.data;
          return (
            <tr key={wfRunKey(id)}>
              <td>
                <Link to={wfRunPath(id)}>{wfRunKey(id)}</Link>
              </td>
              {showSpec && (
                <td>{run ? <Link to={wfSpecPath(run.wfSpecId)}>{wfSpecLabel(run.wfSpecId)}</Link> : "…"}</td>
              )}
              <td>{run ? <StatusBadge status={lhStatusName(run.status)} /> : "…"}</td>
              <td>{run ? formatTime(run.startTime) : "…"}</td>
              <td>{run ? formatTime(run.endTime) : "…"}</td>
              <td>{run ? formatDuration(durationOf(run.startTime, run.endTime)) : "…"}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
