/**
 * The quick start's task worker: the function behind the TaskDef `greet`, run by an LHTaskWorker for every
 * TaskRun the server schedules.
 */
import { LHTaskWorker, type LHConfig, type WorkerContext } from "@pony/sdk";
import { GREET_TASK } from "./workflow";

/** The task: its inputs arrive converted (here one STR), then the WorkerContext. */
export async function greet(name: string, ctx: WorkerContext): Promise<string> {
  ctx.log(`greeting ${name} (attempt ${ctx.attemptNumber})`); // kept in the TaskRun's log_output
  return `Hello, ${name}! Welcome to Pony.`;
}

/** A worker for `greet`; `registerTaskDef()` creates the TaskDef from `inputVars`. */
export function createGreetWorker(config: LHConfig): LHTaskWorker {
  return new LHTaskWorker(greet, GREET_TASK, config, { inputVars: [["name", "STR"]] });
}
