import type { ExternalEvent, ReportTaskRun } from "@pony/proto";

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
  | { kind: "wfRunExpired" };

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
  | { kind: "taskReported"; report: ReportTaskRun }
  /** PutExternalEvent: the runtime built the event (id, guid, time); the engine decides who claims it */
  | { kind: "externalEventPosted"; event: ExternalEvent; retentionSeconds?: number }
  | { kind: "stopThread"; threadRunNumber: number }
  | { kind: "resumeThread"; threadRunNumber: number }
  | { kind: "rescueThread"; threadRunNumber: number; skipCurrentNode: boolean };
