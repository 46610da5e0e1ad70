/**
 * A ThreadSpec drawn with @xyflow/react at the positions elkjs chose (layout.ts). Each node type has its own
 * icon and colour; edges carry their conditions. On a WfRun page each node is coloured by the state of its
 * latest NodeRun, with the count of its NodeRuns when it ran more than once (a loop).
 */
import { memo, useEffect, useMemo, useState } from "react";
import {
  Background,
  BaseEdge,
  Controls,
  EdgeLabelRenderer,
  Handle,
  MarkerType,
  Position,
  ReactFlow,
  type Edge as FlowEdge,
  type EdgeProps,
  type Node as FlowNode,
  type NodeProps,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import type { Node, ThreadSpec } from "@pony/proto";
import { statusTone } from "../api/format";
import { KIND_LABELS, nodeDetail, type NodeKind } from "./describe";
import { layoutThread, quickLayout, NODE_HEIGHT, NODE_WIDTH, type Point, type ThreadLayout } from "./layout";

/** what a WfRun did at a node: its latest NodeRun's status and how many NodeRuns it had */
export interface NodeState {
  status: string;
  count: number;
  /** more NodeRuns than were read */
  more?: boolean;
}

const ICONS: Record<NodeKind, string> = {
  entrypoint: "▶",
  exit: "■",
  task: "⚙",
  externalEvent: "✉",
  startThread: "⑂",
  waitForThreads: "⧖",
  nop: "◇",
  sleep: "⏱",
  userTask: "👤",
  startMultipleThreads: "⋔",
  throwEvent: "📣",
};

interface WfNodeData extends Record<string, unknown> {
  name: string;
  node: Node;
  state?: NodeState;
  selected: boolean;
}

const WfNode = memo(function WfNode({ data }: NodeProps<FlowNode<WfNodeData>>) {
  const kind = data.node.node.case ?? "nop";
  const tone = data.state ? statusTone(data.state.status) : undefined;
  return (
    <div
      className={`wf-node kind-${kind}${tone ? ` tone-${tone}` : ""}${data.selected ? " selected" : ""}`}
      data-node-name={data.name}
      data-node-kind={kind}
      data-node-status={data.state?.status}
      title={`${KIND_LABELS[kind]}: ${data.name}`}
      style={{ width: NODE_WIDTH, height: NODE_HEIGHT }}
    >
      <Handle type="target" position={Position.Left} />
      <span className="wf-node-icon">{ICONS[kind]}</span>
      <span className="wf-node-text">
        <span className="wf-node-kind">{KIND_LABELS[kind]}</span>
        <span className="wf-node-name">{nodeDetail(data.node) || data.name}</span>
      </span>
      {data.state && data.state.count > 1 && (
        <span className="wf-node-count" title="NodeRuns of this node">
          ×{data.state.count}
          {data.state.more ? "+" : ""}
        </span>
      )}
      <Handle type="source" position={Position.Right} />
    </div>
  );
});

interface RoutedEdgeData extends Record<string, unknown> {
  points: Point[];
  condition: string;
  labelAt?: Point;
}

/** An edge along the route elkjs chose, its condition where elkjs put the label (clear of the others). */
function RoutedEdge({
  id,
  data,
  markerEnd,
  sourceX,
  sourceY,
  targetX,
  targetY,
}: EdgeProps<FlowEdge<RoutedEdgeData>>) {
  const points =
    data && data.points.length >= 2
      ? data.points
      : [
          { x: sourceX, y: sourceY },
          { x: targetX, y: targetY },
        ];
  const path = points.map((p, i) => `${i === 0 ? "M" : "L"} ${p.x} ${p.y}`).join(" ");
  return (
    <>
      <BaseEdge
        id={id}
        path={path}
        markerEnd={markerEnd}
        className={data?.condition ? "conditional" : undefined}
      />
      {data?.condition && data.labelAt && (
        <EdgeLabelRenderer>
          <div
            className="wf-edge-label nodrag nopan"
            style={{ transform: `translate(-50%, -50%) translate(${data.labelAt.x}px, ${data.labelAt.y}px)` }}
          >
            {data.condition}
          </div>
        </EdgeLabelRenderer>
      )}
    </>
  );
}

const nodeTypes = { wf: WfNode };
const edgeTypes = { routed: RoutedEdge };

export function WfGraph({
  thread,
  states,
  selected,
  onSelect,
}: {
  thread: ThreadSpec;
  states?: Map<string, NodeState>;
  selected?: string;
  onSelect?: (nodeName: string) => void;
}) {
  // the quick layout at once, elkjs's when it is ready
  const quick = useMemo(() => quickLayout(thread), [thread]);
  const [elkLayout, setLayout] = useState<ThreadLayout | undefined>();
  const [error, setError] = useState<string | undefined>();
  const layout = elkLayout ?? quick;
  useEffect(() => {
    let live = true;
    setLayout(undefined);
    layoutThread(thread).then(
      (l) => live && setLayout(l),
      (e: unknown) => live && setError(String(e)),
    );
    return () => {
      live = false;
    };
  }, [thread]);
  const { nodes, edges } = useMemo(() => {
    const nodes: FlowNode<WfNodeData>[] = layout.nodes.map((p) => ({
      id: p.name,
      type: "wf",
      position: { x: p.x, y: p.y },
      data: {
        name: p.name,
        node: thread.nodes[p.name]!,
        state: states?.get(p.name),
        selected: p.name === selected,
      },
      draggable: false,
      connectable: false,
    }));
    const edges: FlowEdge<RoutedEdgeData>[] = layout.edges.map((e) => ({
      id: e.id,
      source: e.source,
      target: e.target,
      type: "routed",
      data: { points: e.points, condition: e.condition, labelAt: e.labelAt },
      markerEnd: { type: MarkerType.ArrowClosed },
    }));
    return { nodes, edges };
  }, [layout, thread, states, selected]);
  if (error) return <div className="error-box">Could not lay out the graph: {error}</div>;
  return (
    <div className="graph" data-testid="wf-graph" data-node-count={nodes.length} data-layout={layout.kind}>
      <ReactFlow
        // a new layout is fitted to the view anew
        key={layout.kind}
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        edgeTypes={edgeTypes}
        fitView
        minZoom={0.1}
        nodesDraggable={false}
        nodesConnectable={false}
        onNodeClick={(_, n) => onSelect?.(n.id)}
        proOptions={{ hideAttribution: true }}
      >
        <Background />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}
