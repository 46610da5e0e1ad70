/**
 * The WfRun page's ThreadRun selector: each thread's number, ThreadSpec, type, status, times and error, a
 * rescue button on a failed one. A WfRun may have thousands of threads: they are shown a page at a time
 * (drawing them all took most of the page's first second), the page holding the selected thread first.
 */
import { useState } from "react";
import { LHStatus, ThreadType, type ThreadRun, type WfRun } from "@pony/proto";
import { formatTime, lhStatusName } from "../api/format";
import { PagerButtons } from "../components/pager";
import { StatusBadge } from "../components/status";
import { RescueButton } from "./wf-run-actions";

export const THREADS_PER_PAGE = 50;

export function ThreadRunsTable({
  wfRun,
  selected,
  onSelect,
}: {
  wfRun: WfRun;
  selected: number | undefined;
  onSelect: (thread: number) => void;
}) {
  const threads = wfRun.threadRuns;
  const pages = Math.max(1, Math.ceil(threads.length / THREADS_PER_PAGE));
  const selectedAt = threads.findIndex((t) => t.number === selected);
  const [page, setPage] = useState(() => (selectedAt > 0 ? Math.floor(selectedAt / THREADS_PER_PAGE) : 0));
  const shown = Math.min(page, pages - 1);
  const first = shown * THREADS_PER_PAGE;
  const rows: ThreadRun[] = threads.slice(first, first + THREADS_PER_PAGE);
  return (
    <>
      <table data-testid="thread-runs">
        <thead>
          <tr>
            <th>#</th>
            <th>ThreadSpec</th>
            <th>Type</th>
            <th>Status</th>
            <th>Started</th>
            <th>Ended</th>
            <th>Error</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {rows.map((t) => (
            <tr
              key={t.number}
              className={`clickable${t.number === selected ? " selected" : ""}`}
              onClick={() => onSelect(t.number)}
            >
              <td>{t.number}</td>
              <td>{t.threadSpecName}</td>
              <td>{ThreadType[t.type]}</td>
              <td>
                <StatusBadge status={lhStatusName(t.status)} />
              </td>
              <td>{formatTime(t.startTime)}</td>
              <td>{formatTime(t.endTime)}</td>
              <td className="field-error">{t.errorMessage ?? ""}</td>
              <td onClick={(e) => e.stopPropagation()}>
                {(t.status === LHStatus.ERROR || t.status === LHStatus.EXCEPTION) && (
                  <RescueButton wfRun={wfRun} thread={t.number} />
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {pages > 1 && (
        <PagerButtons
          testId="thread-runs-pager"
          label={`Threads ${first + 1}–${first + rows.length} of ${threads.length}`}
          previous={shown > 0 ? () => setPage(shown - 1) : undefined}
          next={shown < pages - 1 ? () => setPage(shown + 1) : undefined}
        />
      )}
    </>
  );
}
