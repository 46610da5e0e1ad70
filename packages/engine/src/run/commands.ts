import type { ExternalEvent, ReportTaskRun, VariableValue } from "@pony/proto";

/** Commands fired by durable timers. They are stored with the timer, so they are plain JSON. */
export type TimerCommand =
  | { kind: "taskAttemptTimedOut"; taskGuid: string; attemptNumber: number }
  | { kind: "taskBackoffElapsed"; taskGuid: string; attemptNumber: number }
  | { kind: "sleepMatured"; threadRunNumber: number; nodeRunPosition: number }
  | { kind: "externalEventTimedOut"; threadRunNumber: number; nodeRunPosition: number }
  /** ExternalEventRetentionPolicy: drop the event if it is still unclaimed */
  | { kind: "externalEventExpired"; defName: string; guid: string }
  /** ThreadRetentionPolicy: drop a terminated ThreadRun */
  | { kind: "threadExpired"; threadRunNumber: number }
  /** WorkflowRetentionPolicy: carried out by the runtime (it deletes the WfRun) */
  | { kind: "wfRunExpired" }
  /** the WfRun used up its turn's budget before it came to rest: it goes on moving (state.ts, maxNodeRunsPerTurn) */
  | { kind: "wfRunContinued" }
  /**
   * An action trigger of a USER_TASK node came due: action `actionIndex` of the node, armed when the
   * UserTaskRun's ownership epoch was `epoch` (a trigger of an older epoch does nothing)
   */
  | { kind: "userTaskTriggerFired"; userTaskGuid: string; actionIndex: number; epoch: number };

/** Every change to an existing WfRun is one of these, applied one at a time in arrival order. */
export type WfRunCommand =
  | TimerCommand
  | {
      kind: "taskClaimed";
      taskGuid: string;
      attemptNumber: number;
      taskWorkerId: string;
      taskWorkerVersion?: string;
    }
  /**
   * The claimed attempt never reached its worker (the stream closed before the task was written to it): it
   * goes back on the queue for another worker
   */
  | { kind: "taskUndelivered"; taskGuid: string; attemptNumber: number; taskWorkerId: string }
  | { kind: "taskReported"; report: ReportTaskRun }
  /** PutExternalEvent: the runtime built the event (id, guid, time); the engine decides who claims it */
  | { kind: "externalEventPosted"; event: ExternalEvent; retentionSeconds?: number }
  | { kind: "stopThread"; threadRunNumber: number }
  | { kind: "resumeThread"; threadRunNumber: number }
  | { kind: "rescueThread"; threadRunNumber: number; skipCurrentNode: boolean }
  /** AssignUserTaskRun: the new owner is exactly the user id and / or group given */
  | {
      kind: "userTaskAssigned";
      userTaskGuid: string;
      userId?: string;
      userGroup?: string;
      overrideClaim: boolean;
    }
  /** CompleteUserTaskRun, by `userId` (the run's own user when empty) */
  | {
      kind: "userTaskCompleted";
      userTaskGuid: string;
      userId?: string;
      results: Record<string, VariableValue>;
    }
  /** CancelUserTaskRun */
  | { kind: "userTaskCancelled"; userTaskGuid: string };
