import type { LHStatus, WorkflowEvent } from "@pony/proto";
import type { TimerCommand } from "./commands";

/** What the engine asks the runtime to do once a command's changes are committed. */
export type Effect =
  /**
   * put a scheduled TaskAttempt on its TaskDef's queue; `again`: an attempt already counted as scheduled,
   * back on the queue because it never reached the worker that claimed it
   */
  | { kind: "dispatchTask"; taskDefName: string; taskGuid: string; attemptNumber: number; again?: boolean }
  /** arm a durable timer; `key` is unique within the WfRun, so arming again replaces it */
  | { kind: "armTimer"; key: string; dueMs: number; command: TimerCommand }
  | { kind: "cancelTimer"; key: string }
  /** the WfRun reached a terminal status */
  | { kind: "wfRunEnded"; status: LHStatus }
  /** a THROW_EVENT node created a WorkflowEvent: wake AwaitWorkflowEvent callers */
  | { kind: "workflowEventThrown"; event: WorkflowEvent };
