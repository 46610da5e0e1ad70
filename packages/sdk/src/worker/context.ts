import { format } from "node:util";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import type {
  NodeRunId,
  ScheduledTask,
  TaskRunId,
  TaskRunSource,
  VarNameAndVal,
  VariableValue,
  WfRunId,
} from "@pony/proto";
import { create } from "@bufbuild/protobuf";
import { VariableValueSchema } from "@pony/proto";
import type { LHClient } from "../client";
import { LHApiError } from "../errors";
import { fromVariableValue } from "../values";

/** The variable in which a for-each child thread (spawnThreadForEach) receives its item. */
export const FOR_EACH_ITEM_VARIABLE = "INPUT";

/** LittleHorse's string form of a WfRunId: the ids of its parents and its own, joined by "_". */
export function wfRunIdToString(id: WfRunId | undefined): string {
  if (!id) return "";
  return id.parentWfRunId ? `${wfRunIdToString(id.parentWfRunId)}_${id.id}` : id.id;
}

/**
 * What a task function knows about the attempt it runs, passed as its last argument.
 *
 * `idempotencyKey` is `<wfRunId>/<taskGuid>`: the TaskRun's id, the same for every attempt of the TaskRun,
 * so a retry after a failure or timeout presents the same key to the system the task calls, which can then
 * do the side effect once.
 */
export class WorkerContext {
  readonly taskRunId: TaskRunId;
  readonly wfRunId: WfRunId;
  /** the TASK NodeRun that runs this task (undefined for a task started by a user-task trigger) */
  readonly nodeRunId: NodeRunId | undefined;
  /** 0 for the first attempt, 1 for the first retry, … */
  readonly attemptNumber: number;
  /** when the server scheduled the TaskRun */
  readonly scheduledTime: Date;
  /** when this worker received the attempt (the server's claim time is a few milliseconds earlier) */
  readonly startTime: Date;
  /** the TaskRun id as a string, stable across attempts (see the class comment) */
  readonly idempotencyKey: string;
  /** the id this worker registers and polls with (LHW_TASK_WORKER_ID) */
  readonly taskWorkerId: string;
  /** the input variables as the server sent them, in TaskDef order */
  readonly variables: readonly VarNameAndVal[];
  /** where the TaskRun comes from (a TASK node or a user-task trigger), with the WfSpec id */
  readonly source: TaskRunSource | undefined;

  private readonly logLines: string[] = [];

  constructor(
    readonly scheduledTask: ScheduledTask,
    taskWorkerId: string,
    private readonly client: LHClient,
  ) {
    const taskRunId = scheduledTask.taskRunId;
    if (!taskRunId?.wfRunId) throw new Error("the ScheduledTask has no task_run_id.wf_run_id");
    this.taskRunId = taskRunId;
    this.wfRunId = taskRunId.wfRunId;
    this.source = scheduledTask.source;
    const src = scheduledTask.source?.taskRunSource;
    this.nodeRunId = src?.case === "taskNode" ? src.value.nodeRunId : undefined;
    this.attemptNumber = scheduledTask.attemptNumber;
    this.scheduledTime = scheduledTask.createdAt ? dateOf(scheduledTask.createdAt) : new Date();
    this.startTime = new Date();
    this.idempotencyKey = `${wfRunIdToString(this.wfRunId)}/${taskRunId.taskGuid}`;
    this.taskWorkerId = taskWorkerId;
    this.variables = scheduledTask.variables;
  }

  /** the WfRun id as a string (parents first, joined by "_") */
  get wfRunIdString(): string {
    return wfRunIdToString(this.wfRunId);
  }

  /** the ThreadRun of the TASK node (undefined for a user-task trigger) */
  get threadRunNumber(): number | undefined {
    return this.nodeRunId?.threadRunNumber;
  }

  /**
   * Adds a line (formatted like console.log) to the attempt's log, which the server stores as the
   * TaskAttempt's `log_output`.
   */
  log(...args: unknown[]): void {
    this.logLines.push(format(...args));
  }

  /** The log so far, as the STR value reported in `log_output` (undefined when nothing was logged). */
  get logOutput(): VariableValue | undefined {
    if (this.logLines.length === 0) return undefined;
    return create(VariableValueSchema, { value: { case: "str", value: this.logLines.join("\n") } });
  }

  /**
   * Inside a for-each child thread (spawnThreadForEach), the item this thread was started for: the
   * thread's `INPUT` variable, read from the server. Undefined in the entrypoint thread, for a user-task
   * trigger, or when the thread has no such variable.
   */
  async forEachItem(): Promise<unknown> {
    const thread = this.threadRunNumber;
    if (thread === undefined || thread === 0) return undefined;
    try {
      const variable = await this.client.getVariable({
        wfRunId: this.wfRunId,
        threadRunNumber: thread,
        name: FOR_EACH_ITEM_VARIABLE,
      });
      return fromVariableValue(variable.value);
    } catch (e) {
      if (e instanceof LHApiError && e.code === "NOT_FOUND") return undefined;
      throw e;
    }
  }
}

/**
 * A Timestamp as a Date, to the millisecond it falls in: the server keeps an attempt's times to the
 * microsecond, and its other timestamps of the same instant are that whole millisecond.
 */
function dateOf(t: Timestamp): Date {
  return new Date(Number(t.seconds) * 1000 + Math.floor(t.nanos / 1e6));
}
