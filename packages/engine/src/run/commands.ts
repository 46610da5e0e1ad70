import type { ReportTaskRun } from "@pony/proto";

/** Commands fired by durable timers. They are stored with the timer, so they are plain JSON. */
export type TimerCommand =
  | { kind: "taskAttemptTimedOut"; taskGuid: string; attemptNumber: number }
  | { kind: "taskBackoffElapsed"; taskGuid: string; attemptNumber: number };

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
  | { kind: "taskReported"; report: ReportTaskRun };
