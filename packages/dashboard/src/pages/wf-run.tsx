/**
 * A WfRun: status and times, actions, a ThreadRun selector (each thread's status and error), the graph of
 * the selected thread's ThreadSpec coloured by its NodeRuns, the NodeRuns (and TaskRun attempts) of the node
 * clicked, variables, external events and workflow events. It refreshes itself until the run has finished.
 */
import { useMemo, useState, useEffect } from "react";
import { Link, useParams } from "react-router";
import { useQuery } from "@tanstack/react-query";
import { LHStatus, type NodeRun, type WfRun } from "@pony/proto";
import { lh } from "../api/client";
import { durationOf, formatDuration, formatTime, lhStatusName } from "../api/format";
import { wfRunIdOf, wfRunKey, wfRunPath, wfSpecLabel, wfSpecPath } from "../api/ids";
import { useSession } from "../api/session";
import { ErrorBox, Loaded } from "../components/errors";
import { StatusBadge } from "../components/status";
import { WfGraph } from "../graph/lazy-graph";
import type { NodeState } from "../graph/wf-graph";
import { ThreadRunsTable } from "./thread-runs-table";
import { WfRunActions } from "./wf-run-actions";
import { ExternalEventsOfRun, NodeRunsOfNode, VariablesOfRun, WorkflowEventsOfRun } from "./wf-run-details";

/**
 * The NodeRuns the graph is coloured by: the first page of the thread's NodeRuns and, when there are more
 * (a long loop), its latest TAIL NodeRuns, read by position up to the thread's current one — so each node
 * shows its latest state, and a count read so far with a "+".
 */
const PAGE = 1000;
const TAIL = 20;

const isFinished = (s: LHStatus) =>
  s === LHStatus.COMPLETED || s === LHStatus.ERROR || s === LHStatus.EXCEPTION;

async function nodeRunsOf(wfRun: WfRun, thread: number): Promise<{ runs: NodeRun[]; more: boolean }> {
  // the first page and the latest TAIL NodeRuns are read at once (one round trip, not two)
  const current = wfRun.threadRuns.find((t) => t.number === thread)?.currentNodePosition ?? 0;
  const positions: number[] = [];
  for (let p = Math.max(0, current - TAIL + 1); p <= current; p++) positions.push(p);
  const [page, tail] = await Promise.all([
    lh.listNodeRuns({ wfRunId: wfRun.id, threadRunNumber: thread, limit: PAGE }),
    Promise.all(
      positions.map((position) =>
        lh.getNodeRun({ wfRunId: wfRun.id, threadRunNumber: thread, position }).catch(() => undefined),
      ),
    ),
  ]);
  const runs = page.results;
  if (!page.bookmark || page.bookmark.length === 0) return { runs, more: false };
  const after = runs[runs.length - 1]?.id?.position ?? 0;
  const later = tail.filter((n): n is NodeRun => n !== undefined && (n.id?.position ?? 0) > after);
  return { runs: [...runs, ...later], more: true };
}

function statesOf(runs: NodeRun[], more: boolean): Map<string, NodeState> {
  const states = new Map<string, NodeState>();
  for (const n of runs) {
    const s = states.get(n.nodeName);
    states.set(n.nodeName, { status: lhStatusName(n.status), count: (s?.count ?? 0) + 1, more });
  }
  return states;
}

function WfRunView({ wfRun }: { wfRun: WfRun }) {
  const { tenant } = useSession();
  const [thread, setThread] = useState(0);
  const [node, setNode] = useState<string | undefined>();
  const spec = useQuery({
    queryKey: [tenant, "wfSpec", wfSpecLabel(wfRun.wfSpecId)],
    queryFn: () => lh.getWfSpec(wfRun.wfSpecId!),
    staleTime: Infinity,
  });
  const threadRun = wfRun.threadRuns.find((t) => t.number === thread) ?? wfRun.threadRuns[0];
  const nodeRuns = useQuery({
    queryKey: [
      tenant,
      "nodeRuns",
      wfRunKey(wfRun.id),
      threadRun?.number,
      wfRun.status,
      threadRun?.currentNodePosition,
      threadRun?.status,
    ],
    queryFn: () => nodeRunsOf(wfRun, threadRun!.number),
    enabled: threadRun !== undefined,
  });
  const states = useMemo(
    () => (nodeRuns.data ? statesOf(nodeRuns.data.runs, nodeRuns.data.more) : undefined),
    [nodeRuns.data],
  );
  const threadSpec = threadRun ? spec.data?.threadSpecs[threadRun.threadSpecName] : undefined;
  const id = wfRun.id!;
  return (
    <>
      <div className="actions">
        <h1>
          WfRun {wfRunKey(id)} <StatusBadge status={lhStatusName(wfRun.status)} />
        </h1>
      </div>
      <section className="panel">
        <dl className="facts">
          <dt>WfSpec</dt>
          <dd>
            <Link to={wfSpecPath(wfRun.wfSpecId)}>{wfSpecLabel(wfRun.wfSpecId)}</Link>
          </dd>
          {id.parentWfRunId && (
            <>
              <dt>Parent</dt>
              <dd>
                <Link to={wfRunPath(id.parentWfRunId)}>{wfRunKey(id.parentWfRunId)}</Link>
              </dd>
            </>
          )}
          <dt>Started</dt>
          <dd>{formatTime(wfRun.startTime)}</dd>
          <dt>Ended</dt>
          <dd>{formatTime(wfRun.endTime)}</dd>
          <dt>Duration</dt>
          <dd>{formatDuration(durationOf(wfRun.startTime, wfRun.endTime))}</dd>
        </dl>
        <div style={{ marginTop: 12 }}>
          <WfRunActions wfRun={wfRun} />
        </div>
      </section>
      <section className="panel">
        <h2>ThreadRuns</h2>
        <ThreadRunsTable
          wfRun={wfRun}
          selected={threadRun?.number}
          onSelect={(n) => {
            setThread(n);
            setNode(undefined);
          }}
        />
      </section>
      <section className="panel">
        <h2>
          Thread {threadRun?.number} · {threadRun?.threadSpecName}
          {nodeRuns.data && (
            <span className="muted">
              {" "}
              · {nodeRuns.data.runs.length}
              {nodeRuns.data.more ? "+" : ""} NodeRuns
            </span>
          )}
        </h2>
        {spec.error ? (
          <ErrorBox error={spec.error} what="the WfSpec" />
        ) : nodeRuns.error ? (
          <ErrorBox error={nodeRuns.error} what="NodeRuns" />
        ) : threadSpec ? (
          <WfGraph thread={threadSpec} states={states} selected={node} onSelect={setNode} />
        ) : (
          <div className="loading">Loading the graph…</div>
        )}
        <p className="muted">Click a node to see its NodeRuns.</p>
      </section>
      {node && nodeRuns.data && (
        <NodeRunsOfNode wfRun={wfRun} nodeName={node} nodeRuns={nodeRuns.data.runs} />
      )}
      <div className="row">
        <section className="panel grow">
          <h2>Variables</h2>
          <VariablesOfRun wfRun={wfRun} />
        </section>
        <section className="panel grow">
          <h2>External events</h2>
          <ExternalEventsOfRun wfRun={wfRun} />
          <h2>Workflow events</h2>
          <WorkflowEventsOfRun wfRun={wfRun} nodeRuns={nodeRuns.data?.runs ?? []} />
        </section>
      </div>
    </>
  );
}

export function WfRunPage() {
  // the graph code starts loading while the page asks for its data
  useEffect(() => void WfGraph.preload(), []);
  const { id = "" } = useParams();
  const { tenant } = useSession();
  const wfRun = useQuery({
    queryKey: [tenant, "wfRun", id],
    queryFn: () => lh.getWfRun(wfRunIdOf(id)),
    refetchInterval: (q) => (q.state.data && isFinished(q.state.data.status) ? false : 1500),
  });
  return (
    <Loaded query={wfRun} what={`WfRun '${id}'`}>
      {(r) => <WfRunView wfRun={r} />}
    </Loaded>
  );
}
