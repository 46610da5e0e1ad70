/**
 * The WfRun state machine: creating a WfRun from a RunWf request, and applying one command to it.
 *
 * A WfRun is RUNNING from creation; its status is always its entrypoint ThreadRun's status (B-RUN-5): it is
 * HALTING / HALTED while that thread is, and becomes COMPLETED, ERROR or EXCEPTION when it ends. Each command
 * is applied by the machine it concerns (task-run.ts, event-nodes.ts, interrupts.ts, halting.ts, rescue.ts),
 * then the WfRun settles: every thread moves as far as it can. This file routes commands, validates RunWf
 * input and runs the settle loop, in turns (turns.ts), with its guard: a WfRun still moving after
 * MAX_SETTLE_ROUNDS rounds without hearing from outside has the threads still moving fail.
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  LHErrorType,
  LHStatus,
  ThreadType,
  VariableType,
  WfRunSchema,
  WfRunVariableAccessLevel,
  type RunWfRequest,
  type ThreadRun,
  type Variable,
  type VariableValue,
  type WfRunId,
  type WfSpec,
} from "@pony/proto";
import { InvalidArgumentError } from "../errors";
import { VarSubError, castTo, checkValueMatchesType, isNullValue, valueType } from "../variables";
import type { WfRunCommand } from "./commands";
import { matureSleepNode, timeOutExternalEventNode } from "./event-nodes";
import { haltedFromAbove, isTerminal, resumeThread, stopThread, syncHalts } from "./halting";
import { postExternalEvent, startPendingInterrupts } from "./interrupts";
import { rescueThread } from "./rescue";
import { emptyChanges, eventKey, type EngineContext, type WfRunState } from "./state";
import { continueLater, turnSpent } from "./turns";
import { claimTask, endTaskBackoff, reportTask, timeOutTask, unclaimTask } from "./task-run";
import { errorFailure } from "./failures";
import { advanceThread, failThread, findThread, startPendingFailureHandlers, startThread } from "./thread";
import { assignUserTaskRun, cancelUserTaskRun, completeUserTaskRun } from "./user-task-run";
import { fireUserTaskTrigger } from "./user-task-triggers";

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
    if (def?.accessLevel === WfRunVariableAccessLevel.INHERITED_VAR) {
      throw new InvalidArgumentError(
        `variable '${name}' is inherited from the parent WfRun and cannot be given to RunWf`,
      );
    }
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
    if (def.accessLevel === WfRunVariableAccessLevel.INHERITED_VAR) continue;
    if (def.required && (!out.has(name) || isNullValue(out.get(name)))) {
      throw new InvalidArgumentError(`required variable '${name}' is missing`);
    }
  }
  return out;
}

/** Creates a WfRun and runs its entrypoint thread as far as it goes without waiting (B-RUN-4). */
export function createWfRun(
  ctx: EngineContext,
  args: {
    tenant: string;
    id: WfRunId;
    wfSpec: WfSpec;
    request: RunWfRequest;
    /** a child WfRun's view of its parent's variables (scope.ts, INHERITED_PREFIX keys) */
    inheritedVariables?: Map<string, Variable>;
  },
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
    variables: new Map(args.inheritedVariables ?? []),
    externalEvents: new Map(),
    userTaskRuns: new Map(),
    workflowEventCounts: new Map(),
    changes: emptyChanges(),
  };
  state.changes.wfRun = true;
  startThread(state, ctx, {
    threadSpecName: args.wfSpec.entrypointThreadName,
    type: ThreadType.ENTRYPOINT,
    inputs,
  });
  settle(state, ctx);
  return state;
}

/**
 * Lets every thread move as far as it can: halt reasons and statuses are brought in step, pending interrupts
 * and failure handlers start their threads, and every RUNNING thread advances (which also re-checks nodes
 * waiting on other threads or on events), except those an ancestor halted or failed since the round began.
 * Threads started during a round take their first steps in the same round, so a chain of threads starting
 * threads costs one round, not one per generation. Repeats until nothing changes; each round is bounded by
 * the threads' own guards (NodeRuns per command, live threads per WfRun).
 */
export function settle(state: WfRunState, ctx: EngineContext): void {
  const guard = (state.loopGuard ??= { nodeRuns: new Map<number, number>(), rounds: 0 });
  const created = guard.nodeRuns;
  // The threads not terminated, in start order. Within a command a terminated thread stays terminated and new
  // threads are appended, so each round looks only at these (a WfRun may have thousands of ended threads).
  const threads = state.wfRun.threadRuns;
  let live: ThreadRun[] = [];
  let seen = 0;
  const catchUp = () => {
    for (; seen < threads.length; seen++) live.push(threads[seen]!);
  };
  for (;;) {
    if (state.wfRun.threadRuns !== threads) throw new Error("thread_runs was replaced while settling");
    live = live.filter((t) => !isTerminal(t.status));
    catchUp();
    let changed = syncHalts(state, live);
    changed = startPendingInterrupts(state, ctx) || changed;
    changed = startPendingFailureHandlers(state, ctx) || changed;
    const greatest = state.wfRun.greatestThreadrunNumber;
    const memo = new Map<number, boolean>();
    const moved: ThreadRun[] = [];
    catchUp();
    for (let i = 0; i < live.length; i++) {
      if (turnSpent(state, ctx)) {
        continueLater(ctx);
        return;
      }
      const thread = live[i]!;
      if (thread.status === LHStatus.RUNNING && thread.haltReasons.length === 0) {
        if (!haltedFromAbove(state, thread, memo) && advanceThread(state, ctx, thread.number, created)) {
          moved.push(thread);
        }
      }
      catchUp();
    }
    // a thread started by a waiting node (a per-thread failure handler) is a change too
    if (moved.length > 0 || state.wfRun.greatestThreadrunNumber !== greatest) changed = true;
    if (changed && turnSpent(state, ctx)) {
      continueLater(ctx);
      return;
    }
    if (!changed) return;
    if (++guard.rounds >= MAX_SETTLE_ROUNDS) {
      stopRunawayThreads(state, ctx, moved);
      return;
    }
  }
}

/** Threads passing work to each other can keep a WfRun moving without any one of them hitting its guard. */
const MAX_SETTLE_ROUNDS = 10_000;

/**
 * The WfRun did not come to rest in one command (a guard, like the loops'): the threads still moving fail,
 * and so do their ancestors up to the entrypoint, so the WfRun ends ERROR instead of waiting on them.
 */
function stopRunawayThreads(state: WfRunState, ctx: EngineContext, moved: ThreadRun[]): void {
  if (moved.length === 0) throw new Error("the WfRun did not settle");
  for (const thread of moved) {
    for (let t = findThread(state, thread.number); t;) {
      failThread(
        state,
        ctx,
        t,
        errorFailure(
          LHErrorType.INTERNAL_ERROR,
          `the WfRun was still moving after ${MAX_SETTLE_ROUNDS} rounds without hearing from outside; thread ${thread.number} ` +
            `kept it going and is stopped here`,
        ),
      );
      t = t.parentThreadId === undefined ? undefined : findThread(state, t.parentThreadId);
    }
  }
  syncHalts(state);
}

/** Applies one command, then lets the WfRun settle. Returns false when the command changed nothing. */
export function applyCommand(state: WfRunState, ctx: EngineContext, command: WfRunCommand): boolean {
  if (command.kind !== "wfRunContinued") state.loopGuard = undefined;
  const changed = route(state, ctx, command);
  if (changed) settle(state, ctx);
  return changed;
}

function route(state: WfRunState, ctx: EngineContext, command: WfRunCommand): boolean {
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
    case "wfRunContinued":
      return true; // settle picks up where the last turn stopped
    case "taskUndelivered":
      return unclaimTask(state, ctx, command.taskGuid, command.attemptNumber, command.taskWorkerId);
    case "taskReported":
      return reportTask(state, ctx, command.report);
    case "taskAttemptTimedOut":
      return timeOutTask(state, ctx, command.taskGuid, command.attemptNumber);
    case "taskBackoffElapsed":
      return endTaskBackoff(state, ctx, command.taskGuid, command.attemptNumber);
    case "externalEventPosted":
      postExternalEvent(state, ctx, command.event, command.retentionSeconds);
      return true;
    case "externalEventTimedOut":
      return timeOutExternalEventNode(state, ctx, command.threadRunNumber, command.nodeRunPosition);
    case "externalEventExpired": {
      const key = eventKey(command.defName, command.guid);
      const event = state.externalEvents.get(key);
      if (!event || event.claimed) return false;
      state.externalEvents.delete(key);
      state.changes.deletedExternalEvents.add(key);
      return true;
    }
    case "sleepMatured":
      return matureSleepNode(state, ctx, command.threadRunNumber, command.nodeRunPosition);
    case "threadExpired":
      return expireThread(state, command.threadRunNumber);
    case "wfRunExpired":
      return false; // the runtime deletes the WfRun
    case "stopThread":
      return stopThread(state, ctx, requireThread(state, command.threadRunNumber));
    case "resumeThread":
      return resumeThread(state, ctx, requireThread(state, command.threadRunNumber));
    case "rescueThread":
      rescueThread(state, ctx, command.threadRunNumber, command.skipCurrentNode);
      return true;
    case "userTaskAssigned":
      return assignUserTaskRun(
        state,
        ctx,
        command.userTaskGuid,
        { userId: command.userId, userGroup: command.userGroup },
        command.overrideClaim,
      );
    case "userTaskCompleted":
      return completeUserTaskRun(state, ctx, command.userTaskGuid, command.userId, command.results);
    case "userTaskCancelled":
      return cancelUserTaskRun(state, ctx, command.userTaskGuid);
    case "userTaskTriggerFired":
      return fireUserTaskTrigger(state, ctx, command.userTaskGuid, command.actionIndex, command.epoch);
  }
}

/** StopWfRun / ResumeWfRun name a thread of the WfRun; any other number is INVALID_ARGUMENT. */
function requireThread(state: WfRunState, number: number): ThreadRun {
  const thread = findThread(state, number);
  if (!thread) throw new InvalidArgumentError(`WfRun '${state.wfRun.id?.id}' has no thread ${number}`);
  return thread;
}

/** ThreadRetentionPolicy (B-THR-12): a terminated thread leaves the WfRun; numbers are never reused. */
function expireThread(state: WfRunState, number: number): boolean {
  const thread = findThread(state, number);
  if (!thread || !isTerminal(thread.status) || thread.type === ThreadType.ENTRYPOINT) return false;
  state.wfRun.threadRuns = state.wfRun.threadRuns.filter((t) => t.number !== number);
  for (const t of state.wfRun.threadRuns) t.childThreadIds = t.childThreadIds.filter((n) => n !== number);
  state.changes.wfRun = true;
  return true;
}
