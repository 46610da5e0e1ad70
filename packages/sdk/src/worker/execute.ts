/**
 * Runs one ScheduledTask through the user's function and turns what happened into the ReportTaskRun:
 *
 *   inputs do not convert to the declared types (or their count differs) → TASK_INPUT_VAR_SUB_ERROR, and the
 *                                                                          function is not called
 *   the function returns (resolves) a value                              → TASK_SUCCESS, output = the value
 *                                                                          (none for undefined / null)
 *   … a value with no VariableValue form                                 → TASK_OUTPUT_SERIALIZING_ERROR
 *   it throws an LHTaskException                                         → TASK_EXCEPTION (name, message,
 *                                                                          content)
 *   it throws anything else                                              → TASK_FAILED, error TASK_FAILURE
 *                                                                          with the error's message
 *
 * The attempt's `log_output` is whatever the function passed to `ctx.log()`.
 */
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import {
  LHErrorType,
  ReportTaskRunSchema,
  TaskStatus,
  VariableType,
  type ReportTaskRun,
  type VarNameAndVal,
} from "@pony/proto";
import { fromVariableValueAs, toVariableValue } from "../values";
import type { WorkerContext } from "./context";
import { LHTaskException } from "./exception";

/** One declared input of a task function: its name and type. */
export interface TaskInput {
  name: string;
  type: VariableType;
}

// Task functions take any arguments the user declares; the worker passes converted inputs and a context.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type LHTaskFunction = (...args: any[]) => unknown;

type ReportResult = MessageInitShape<typeof ReportTaskRunSchema>["result"];

/** Thrown inside convertInputs: an input that does not fit the declared inputs. */
class InputError extends Error {}

/** The function's arguments (without the context), in TaskDef order. */
export function convertInputs(variables: readonly VarNameAndVal[], inputs: readonly TaskInput[]): unknown[] {
  if (variables.length !== inputs.length) {
    throw new InputError(
      `the task has ${variables.length} input variable(s) (${variables.map((v) => v.varName).join(", ")}) but the worker declares ${inputs.length} (${inputs.map((i) => i.name).join(", ")})`,
    );
  }
  return inputs.map((input, i) => {
    const variable = variables[i]!;
    try {
      return fromVariableValueAs(variable.value, input.type);
    } catch (e) {
      throw new InputError(
        `input '${variable.varName}' (declared ${VariableType[input.type]}): ${errorMessage(e)}`,
      );
    }
  });
}

export async function executeTask(
  fn: LHTaskFunction,
  inputs: readonly TaskInput[],
  ctx: WorkerContext,
): Promise<ReportTaskRun> {
  const { status, result } = await outcome(fn, inputs, ctx);
  return create(ReportTaskRunSchema, {
    taskRunId: ctx.taskRunId,
    attemptNumber: ctx.attemptNumber,
    time: timestampNow(),
    status,
    result,
    logOutput: ctx.logOutput,
  });
}

async function outcome(
  fn: LHTaskFunction,
  inputs: readonly TaskInput[],
  ctx: WorkerContext,
): Promise<{ status: TaskStatus; result: ReportResult }> {
  let args: unknown[];
  try {
    args = convertInputs(ctx.variables, inputs);
  } catch (e) {
    return failure(TaskStatus.TASK_INPUT_VAR_SUB_ERROR, LHErrorType.VAR_SUB_ERROR, errorMessage(e));
  }

  let returned: unknown;
  try {
    returned = await fn(...args, ctx);
  } catch (e) {
    if (e instanceof LHTaskException) {
      let content;
      try {
        content = e.content === undefined ? undefined : toVariableValue(e.content);
      } catch (se) {
        return failure(
          TaskStatus.TASK_OUTPUT_SERIALIZING_ERROR,
          LHErrorType.VAR_MUTATION_ERROR,
          `the content of LHTaskException '${e.exceptionName}' cannot be serialized: ${errorMessage(se)}`,
        );
      }
      return {
        status: TaskStatus.TASK_EXCEPTION,
        result: { case: "exception", value: { name: e.exceptionName, message: e.message, content } },
      };
    }
    return failure(TaskStatus.TASK_FAILED, LHErrorType.TASK_FAILURE, errorMessage(e));
  }

  if (returned === undefined || returned === null)
    return { status: TaskStatus.TASK_SUCCESS, result: undefined };
  try {
    return { status: TaskStatus.TASK_SUCCESS, result: { case: "output", value: toVariableValue(returned) } };
  } catch (e) {
    return failure(
      TaskStatus.TASK_OUTPUT_SERIALIZING_ERROR,
      LHErrorType.VAR_MUTATION_ERROR,
      `the task's output cannot be serialized: ${errorMessage(e)}`,
    );
  }
}

function failure(status: TaskStatus, type: LHErrorType, message: string) {
  return { status, result: { case: "error" as const, value: { type, message } } };
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
