/**
 * The WfRun state machine: creating a WfRun from a RunWf request, and applying one command to it.
 *
 * A WfRun is RUNNING from creation; its status is always its entrypoint ThreadRun's status (B-RUN-5), so it
 * becomes COMPLETED, ERROR or EXCEPTION when that thread does. Every command is applied by the thread and
 * task machines (thread.ts, task-run.ts); this file only routes commands and validates RunWf input.
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  LHStatus,
  ThreadType,
  VariableType,
  WfRunSchema,
  type RunWfRequest,
  type VariableValue,
  type WfRunId,
  type WfSpec,
} from "@pony/proto";
import { InvalidArgumentError } from "../errors";
import { VarSubError, castTo, checkValueMatchesType, isNullValue, valueType } from "../variables";
import type { WfRunCommand } from "./commands";
import { emptyChanges, type EngineContext, type WfRunState } from "./state";
import { claimTask, endTaskBackoff, reportTask, timeOutTask } from "./task-run";
import { startThread } from "./thread";

/**
 * Checks RunWf's variables against the entrypoint ThreadSpec (B-RUN-3): every required variable present,
 * no undeclared variable, every value of the declared type (INT is accepted for DOUBLE).
 */
export function validateRunWfInputs(
  wfSpec: WfSpec,
  variables: Record<string, VariableValue>,
): Map<string, VariableValue> {
  const entry = wfSpec.threadSpecs[wfSpec.entrypointThreadName];
  if (!entry)
    throw new InvalidArgumentError(`WfSpec has no entrypoint thread '${wfSpec.entrypointThreadName}'`);
  const defs = new Map(entry.variableDefs.filter((d) => d.varDef).map((d) => [d.varDef!.name, d]));
  const out = new Map<string, VariableValue>();
  for (const [name, value] of Object.entries(variables)) {
    const def = defs.get(name);
    if (!def) {
      throw new InvalidArgumentError(
        `variable '${name}' is not declared by the entrypoint thread of WfSpec '${wfSpec.id?.name}'`,
      );
    }
    const type = def.varDef!.type;
    let v = value;
    try {
      if (type === VariableType.DOUBLE && valueType(v) === VariableType.INT)
        v = castTo(v, type, `variable '${name}'`);
      if (type !== undefined) checkValueMatchesType(v, type, `variable '${name}'`);
    } catch (e) {
      if (e instanceof VarSubError) throw new InvalidArgumentError(e.message);
      throw e;
    }
    out.set(name, v);
  }
  for (const [name, def] of defs) {
    if (def.required && (!out.has(name) || isNullValue(out.get(name)))) {
      throw new InvalidArgumentError(`required variable '${name}' is missing`);
    }
  }
  return out;
}

/** Creates a WfRun and runs its entrypoint thread as far as it goes without waiting (B-RUN-4). */
export function createWfRun(
  ctx: EngineContext,
  args: { tenant: string; id: WfRunId; wfSpec: WfSpec; request: RunWfRequest },
): WfRunState {
  const inputs = validateRunWfInputs(args.wfSpec, args.request.variables);
  const wfRun = create(WfRunSchema, {
    id: args.id,
    wfSpecId: args.wfSpec.id,
    status: LHStatus.RUNNING,
    startTime: timestampFromMs(ctx.nowMs),
  });
  const state: WfRunState = {
    tenant: args.tenant,
    wfRun,
    wfSpec: args.wfSpec,
    nodeRuns: new Map(),
    taskRuns: new Map(),
    variables: new Map(),
    changes: emptyChanges(),
  };
  state.changes.wfRun = true;
  startThread(state, ctx, {
    threadSpecName: args.wfSpec.entrypointThreadName,
    type: ThreadType.ENTRYPOINT,
    inputs,
  });
  return state;
}

/** Applies one command. Returns false when the command changed nothing (late report, stale timer, …). */
export function applyCommand(state: WfRunState, ctx: EngineContext, command: WfRunCommand): boolean {
  switch (command.kind) {
    case "taskClaimed":
      return claimTask(
        state,
        ctx,
        command.taskGuid,
        command.attemptNumber,
        command.taskWorkerId,
        command.taskWorkerVersion,
      );
    case "taskReported":
      return reportTask(state, ctx, command.report);
    case "taskAttemptTimedOut":
      return timeOutTask(state, ctx, command.taskGuid, command.attemptNumber);
    case "taskBackoffElapsed":
      return endTaskBackoff(state, ctx, command.taskGuid, command.attemptNumber);
  }
}
