/**
 * What the store offers the Search RPCs (B-SRCH-1…4): each method reads ONE page through an index, in a
 * fixed order, starting right after a sort key (`after`, from the previous page's bookmark).
 *
 * Orders (ascending, so the newest objects come last; ties broken by the object's key):
 *  - WfRuns: start time, WfRun key;
 *  - Variables: their WfRun's start time, WfRun key, thread number;
 *  - NodeRuns: arrival time, WfRun key, thread number, position;
 *  - TaskRuns: scheduled time, WfRun key, task guid;
 *  - ExternalEvents: creation time, WfRun key, guid;
 *  - WorkflowEvents: creation time, WfRun key, number;
 *  - tenants: id.
 * The sort key of an object never changes once written, so a page that starts after the last key of the
 * previous one has no duplicates and no gaps, whatever is written in between.
 */
import type { WfRunId } from "@pony/proto";

/** Time bounds of a search, inclusive, in epoch ms. */
export interface TimeRange {
  earliestMs?: number;
  latestMs?: number;
}

/** One indexed field of a variable: its name (or name + JSON path) and the index key of its value. */
export interface IndexEntry {
  field: string;
  /** index key of the value (see runtime/index-keys.ts); undefined when there is nothing to index */
  key: string | undefined;
}

/**
 * What the store needs to index a searchable variable, passed with its putVariable write: the WfRun's
 * WfSpec and start time (the index's filters and order) and the entries to (re)write.
 */
export interface VariableIndexInfo {
  wfSpecName: string;
  wfSpecMajor: number;
  wfSpecRevision: number;
  wfRunStartMs: number;
  entries: IndexEntry[];
}

export interface WfRunQuery extends TimeRange {
  tenant: string;
  /** unset: every WfSpec's WfRuns (then no version and no variables) */
  wfSpecName?: string;
  major?: number;
  revision?: number;
  status?: number;
  /** entrypoint (thread 0) variables that must have these indexed values */
  variables: { field: string; key: string }[];
  after?: { startMs: number; wfRunKey: string };
  limit: number;
}

export interface WfRunHit {
  startMs: number;
  wfRunKey: string;
  wfRunId: WfRunId;
}

export interface VariableQuery {
  tenant: string;
  wfSpecName: string;
  major?: number;
  revision?: number;
  field: string;
  key: string;
  after?: { startMs: number; wfRunKey: string; thread: number };
  limit: number;
}

export interface VariableHit {
  startMs: number;
  wfRunKey: string;
  wfRunId: WfRunId;
  thread: number;
  name: string;
}

export interface NodeRunQuery extends TimeRange {
  tenant: string;
  /** the NodeRun's node_type oneof case (task, externalEvent, …) */
  nodeType: string;
  status: number;
  after?: { arrivalMs: number; wfRunKey: string; thread: number; position: number };
  limit: number;
}

export interface NodeRunHit {
  arrivalMs: number;
  wfRunKey: string;
  wfRunId: WfRunId;
  thread: number;
  position: number;
}

export interface TaskRunQuery extends TimeRange {
  tenant: string;
  /** unset: every TaskDef's */
  taskDefName?: string;
  status?: number;
  after?: { scheduledMs: number; wfRunKey: string; taskGuid: string };
  limit: number;
}

export interface TaskRunHit {
  scheduledMs: number;
  wfRunKey: string;
  wfRunId: WfRunId;
  taskGuid: string;
}

export interface ExternalEventQuery extends TimeRange {
  tenant: string;
  defName: string;
  claimed?: boolean;
  after?: { createdMs: number; wfRunKey: string; guid: string };
  limit: number;
}

export interface ExternalEventHit {
  createdMs: number;
  wfRunKey: string;
  wfRunId: WfRunId;
  guid: string;
}

export interface WorkflowEventQuery extends TimeRange {
  tenant: string;
  defName: string;
  after?: { createdMs: number; wfRunKey: string; number: number };
  limit: number;
}

export interface WorkflowEventHit {
  createdMs: number;
  wfRunKey: string;
  wfRunId: WfRunId;
  number: number;
}

export interface SearchStore {
  searchWfRuns(q: WfRunQuery): Promise<WfRunHit[]>;
  searchVariables(q: VariableQuery): Promise<VariableHit[]>;
  searchNodeRuns(q: NodeRunQuery): Promise<NodeRunHit[]>;
  searchTaskRuns(q: TaskRunQuery): Promise<TaskRunHit[]>;
  searchExternalEvents(q: ExternalEventQuery): Promise<ExternalEventHit[]>;
  searchWorkflowEvents(q: WorkflowEventQuery): Promise<WorkflowEventHit[]>;
}
