/**
 * The parts of the WfRun page below the graph: a node's NodeRuns (and, for a TASK node, its TaskRun with
 * every attempt), the WfRun's variables, its external events and its workflow events.
 */
import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import type { NodeRun, WfRun } from "@pony/proto";
import { LHErrorType, TaskStatus } from "@pony/proto";
import { lh } from "../api/client";
import { durationOf, formatDuration, formatTime, lhStatusName, taskStatusName } from "../api/format";
import { wfRunKey } from "../api/ids";
import { useSession } from "../api/session";
import { ErrorBox } from "../components/errors";
import { ValueView } from "../components/json";
import { StatusBadge } from "../components/status";

export function TaskRunAttempts({ wfRun, taskGuid }: { wfRun: WfRun["id"]; taskGuid: string }) {
  const { tenant } = useSession();
  const taskRun = useQuery({
    queryKey: [tenant, "taskRun", wfRunKey(wfRun), taskGuid],
    queryFn: () => lh.getTaskRun({ wfRunId: wfRun, taskGuid }),
    refetchInterval: (q) =>
      q.state.data &&
      (q.state.data.status === TaskStatus.TASK_SCHEDULED ||
        q.state.data.status === TaskStatus.TASK_RUNNING ||
        q.state.data.status === TaskStatus.TASK_PENDING)
        ? 2000
        : false,
  });
  if (taskRun.error) return <ErrorBox error={taskRun.error} what="the TaskRun" />;
  const t = taskRun.data;
  if (!t) return <div className="loading">Loading the TaskRun…</div>;
  return (
    <div className="task-run" data-testid="task-run">
      <dl className="facts">
        <dt>TaskDef</dt>
        <dd>
          <Link to={`/taskDef/${encodeURIComponent(t.taskDefId?.name ?? "")}`}>{t.taskDefId?.name}</Link>
        </dd>
        <dt>Status</dt>
        <dd>
          <StatusBadge status={taskStatusName(t.status)} />
        </dd>
        <dt>Scheduled</dt>
        <dd>{formatTime(t.scheduledAt)}</dd>
        <dt>Attempts</dt>
        <dd>
          {t.attempts.length} of {t.totalAttempts} · timeout {t.timeoutSeconds} s
        </dd>
        {t.inputVariables.length > 0 && (
          <>
            <dt>Inputs</dt>
            <dd>
              {t.inputVariables.map((v) => (
                <div key={v.varName}>
                  {v.varName}: <ValueView value={v.value} />
                </div>
              ))}
            </dd>
          </>
        )}
      </dl>
      <table data-testid="attempts">
        <thead>
          <tr>
            <th>#</th>
            <th>Status</th>
            <th>Scheduled</th>
            <th>Started</th>
            <th>Ended</th>
            <th>Worker</th>
            <th>Output or error</th>
            <th>Log output</th>
          </tr>
        </thead>
        <tbody>
          {t.attempts.map((a, i) => (
            <tr key={i} data-testid="attempt">
              <td>{i + 1}</td>
              <td>
                <StatusBadge status={taskStatusName(a.status)} />
              </td>
              <td>{formatTime(a.scheduleTime)}</td>
              <td>{formatTime(a.startTime)}</td>
              <td>
                {formatTime(a.endTime)}
                <div className="muted">{formatDuration(durationOf(a.startTime, a.endTime))}</div>
              </td>
              <td>
                {a.taskWorkerId || "–"}
                {a.taskWorkerVersion ? <div className="muted">{a.taskWorkerVersion}</div> : null}
              </td>
              <td>
                {a.result.case === "output" ? (
                  <ValueView value={a.result.value} />
                ) : a.result.case === "error" ? (
                  <span className="field-error">
                    {LHErrorType[a.result.value.type]}: {a.result.value.message}
                  </span>
                ) : a.result.case === "exception" ? (
                  <span className="field-error">
                    {a.result.value.name}: {a.result.value.message}
                  </span>
                ) : (
                  "–"
                )}
              </td>
              <td>{a.logOutput ? <ValueView value={a.logOutput} /> : "–"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function NodeRunsOfNode({
  wfRun,
  nodeName,
  nodeRuns,
}: {
  wfRun: WfRun;
  nodeName: string;
  nodeRuns: NodeRun[];
}) {
  const runs = nodeRuns.filter((n) => n.nodeName === nodeName);
  const latest = runs[runs.length - 1];
  return (
    <section className="panel" data-testid="node-runs">
      <h2>
        Node {nodeName} <span className="muted">· {runs.length} NodeRun(s)</span>
      </h2>
      {runs.length === 0 ? (
        <div className="empty">This node has not run in this thread.</div>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Position</th>
              <th>Status</th>
              <th>Arrived</th>
              <th>Ended</th>
              <th>Duration</th>
              <th>Error</th>
            </tr>
          </thead>
          <tbody>
            {runs.slice(-50).map((n) => (
              <tr key={n.id?.position}>
                <td>{n.id?.position}</td>
                <td>
                  <StatusBadge status={lhStatusName(n.status)} />
                </td>
                <td>{formatTime(n.arrivalTime)}</td>
                <td>{formatTime(n.endTime)}</td>
                <td>{formatDuration(durationOf(n.arrivalTime, n.endTime))}</td>
                <td>
                  {n.errorMessage ||
                    n.failures.map((f) => `${f.failureName}: ${f.message}`).join("; ") ||
                    "–"}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {latest?.nodeType.case === "task" && latest.nodeType.value.taskRunId && (
        <>
          <h2>TaskRun of the latest NodeRun</h2>
          <TaskRunAttempts wfRun={wfRun.id} taskGuid={latest.nodeType.value.taskRunId.taskGuid} />
        </>
      )}
      {latest?.nodeType.case === "userTask" && latest.nodeType.value.userTaskRunId && (
        <p>
          <Link to={`/userTasks?wfRun=${encodeURIComponent(wfRunKey(wfRun.id))}`}>Its user task →</Link>
        </p>
      )}
    </section>
  );
}

export function VariablesOfRun({ wfRun }: { wfRun: WfRun }) {
  const { tenant } = useSession();
  const vars = useQuery({
    queryKey: [tenant, "variables", wfRunKey(wfRun.id), wfRun.status],
    queryFn: () => lh.listVariables({ wfRunId: wfRun.id, limit: 200 }),
  });
  if (vars.error) return <ErrorBox error={vars.error} what="variables" />;
  if (!vars.data) return <div className="loading">Loading variables…</div>;
  if (vars.data.results.length === 0) return <div className="empty">No variables.</div>;
  return (
    <table data-testid="run-variables">
      <thead>
        <tr>
          <th>Thread</th>
          <th>Name</th>
          <th>Value</th>
        </tr>
      </thead>
      <tbody>
        {vars.data.results.map((v) => (
          <tr key={`${v.id?.threadRunNumber}/${v.id?.name}`}>
            <td>{v.id?.threadRunNumber}</td>
            <td>{v.id?.name}</td>
            <td>
              <ValueView value={v.value} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function ExternalEventsOfRun({ wfRun }: { wfRun: WfRun }) {
  const { tenant } = useSession();
  const events = useQuery({
    queryKey: [tenant, "externalEvents", wfRunKey(wfRun.id), wfRun.status],
    queryFn: () => lh.listExternalEvents({ wfRunId: wfRun.id, limit: 100 }),
    refetchInterval: 3000,
  });
  if (events.error) return <ErrorBox error={events.error} what="external events" />;
  if (!events.data) return <div className="loading">Loading external events…</div>;
  if (events.data.results.length === 0) return <div className="empty">No external events.</div>;
  return (
    <table data-testid="external-events">
      <thead>
        <tr>
          <th>ExternalEventDef</th>
          <th>Posted</th>
          <th>Claimed</th>
          <th>Content</th>
        </tr>
      </thead>
      <tbody>
        {events.data.results.map((e) => (
          <tr key={`${e.id?.externalEventDefId?.name}/${e.id?.guid}`}>
            <td>{e.id?.externalEventDefId?.name}</td>
            <td>{formatTime(e.createdAt)}</td>
            <td>{e.claimed ? `yes (thread ${e.threadRunNumber ?? "?"})` : "not yet"}</td>
            <td>
              <ValueView value={e.content} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Workflow events thrown by the run: its THROW_EVENT NodeRuns, each event's content read by its id. */
export function WorkflowEventsOfRun({ wfRun, nodeRuns }: { wfRun: WfRun; nodeRuns: NodeRun[] }) {
  const { tenant } = useSession();
  const thrown = nodeRuns.flatMap((n) =>
    n.nodeType.case === "throwEvent" && n.nodeType.value.workflowEventId
      ? [n.nodeType.value.workflowEventId]
      : [],
  );
  const contents = useQuery({
    queryKey: [tenant, "workflowEvents", wfRunKey(wfRun.id), thrown.length],
    enabled: thrown.length > 0,
    queryFn: async () =>
      Promise.all(
        thrown.slice(0, 20).map((id) =>
          // the event itself: every other event of its def is ignored, so the answer is immediate
          lh
            .awaitWorkflowEvent(
              {
                wfRunId: wfRun.id,
                eventDefIds: id.workflowEventDefId ? [id.workflowEventDefId] : [],
                workflowEventsToIgnore: thrown.filter(
                  (o) => o.workflowEventDefId?.name === id.workflowEventDefId?.name && o.number !== id.number,
                ),
              },
              { timeoutMs: 3000 },
            )
            .catch(() => undefined),
        ),
      ),
  });
  if (thrown.length === 0) return <div className="empty">No workflow events.</div>;
  return (
    <table data-testid="workflow-events">
      <thead>
        <tr>
          <th>WorkflowEventDef</th>
          <th>Number</th>
          <th>Thrown</th>
          <th>Content</th>
        </tr>
      </thead>
      <tbody>
        {thrown.slice(0, 20).map((id, i) => {
          const e = contents.data?.[i];
          return (
            <tr key={`${id.workflowEventDefId?.name}/${id.number}`}>
              <td>{id.workflowEventDefId?.name}</td>
              <td>{id.number}</td>
              <td>{e ? formatTime(e.createdAt) : "…"}</td>
              <td>{e ? <ValueView value={e.content} /> : "…"}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
