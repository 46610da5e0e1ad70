import type {
  ExternalEvent,
  NodeRun,
  TaskDef,
  TaskRun,
  UserTaskDef,
  UserTaskRun,
  Variable,
  WfRun,
  WfSpec,
  WorkflowEvent,
} from "@pony/proto";
import type { Effect } from "./effects";

/**
 * The slice of one WfRun that the engine works on. The runtime loads it (WfRun with its ThreadRuns, every
 * Variable, the current NodeRun of each ThreadRun and the TaskRuns those NodeRuns wait on), the engine
 * changes it in place and records in `changes` which rows it touched, so the runtime writes only those.
 * Finished NodeRuns and TaskRuns may be dropped from the maps once written: the engine never looks back.
 */
export interface WfRunState {
  tenant: string;
  wfRun: WfRun;
  wfSpec: WfSpec;
  /** keyed by nodeRunKey(thread, position) */
  nodeRuns: Map<string, NodeRun>;
  /** keyed by TaskRunId.taskGuid */
  taskRuns: Map<string, TaskRun>;
  /** keyed by variableKey(thread, name) */
  variables: Map<string, Variable>;
  /** ExternalEvents not claimed yet (and those claimed by this command), keyed by eventKey(def, guid) */
  externalEvents: Map<string, ExternalEvent>;
  /** UserTaskRuns of current USER_TASK NodeRuns, keyed by guid */
  userTaskRuns: Map<string, UserTaskRun>;
  /** per WorkflowEventDef name, how many WorkflowEvents this WfRun has thrown */
  workflowEventCounts: Map<string, number>;
  changes: ChangeSet;
  /**
   * What the WfRun did since it last heard from outside, for the guards against endless motion (NodeRuns per
   * thread: maxNodeRunsPerCommand; settle rounds: wf-run.ts). Kept across the turns of a WfRun that
   * continues itself (wfRunContinued, turns.ts); not stored.
   */
  loopGuard?: { nodeRuns: Map<number, number>; rounds: number };
  /**
   * How many ThreadRuns are not terminated, counted once and then kept by setThreadStatus and startThread
   * (thread.ts), so the live-thread cap is checked without scanning thousands of threads per START_THREAD.
   * Not stored.
   */
  liveThreads?: number;
}

export interface ChangeSet {
  wfRun: boolean;
  nodeRuns: Set<string>;
  taskRuns: Set<string>;
  variables: Set<string>;
  externalEvents: Set<string>;
  /** ExternalEvents removed (retention), keyed by eventKey */
  deletedExternalEvents: Set<string>;
  userTaskRuns: Set<string>;
  workflowEvents: WorkflowEvent[];
}

export function emptyChanges(): ChangeSet {
  return {
    wfRun: false,
    nodeRuns: new Set(),
    taskRuns: new Set(),
    variables: new Set(),
    externalEvents: new Set(),
    deletedExternalEvents: new Set(),
    userTaskRuns: new Set(),
    workflowEvents: [],
  };
}

export const eventKey = (defName: string, guid: string): string => `${defName}/${guid}`;

export const nodeRunKey = (thread: number, position: number): string => `${thread}/${position}`;
export const variableKey = (thread: number, name: string): string => `${thread}/${name}`;

/** What one command needs from outside the WfRun: the clock, fresh ids and metadata. */
export interface EngineContext {
  /** the command's time, in whole epoch milliseconds */
  nowMs: number;
  /** the same instant to the microsecond (nowMs ≤ preciseNowMs < nowMs + 1), when the clock has it */
  preciseNowMs?: number;
  newGuid(): string;
  taskDef(name: string): TaskDef | undefined;
  /** a UserTaskDef by name: that version, or the latest when no version is given; deleted ones are absent */
  userTaskDef(name: string, version?: number): UserTaskDef | undefined;
  /** effects for the runtime to carry out once the command is committed */
  effects: Effect[];
  /**
   * how many NodeRuns a thread may create without the WfRun hearing from outside (a task, an event, a timer,
   * a client) before the thread is failed: the guard against tight loops
   */
  maxNodeRunsPerCommand: number;
  /**
   * how many NodeRuns one command may change before the WfRun stops moving for this turn and goes on in a
   * later one (a wfRunContinued timer due at once), so one WfRun cannot hold the server; unset: no limit
   */
  maxNodeRunsPerTurn?: number;
  /** how many ThreadRuns one WfRun may have at once before starting another fails the node */
  maxThreadsPerWfRun: number;
}
