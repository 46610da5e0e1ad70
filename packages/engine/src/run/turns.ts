/**
 * Turns: one command may change at most `maxNodeRunsPerTurn` NodeRuns (EngineContext; a WfRun with more
 * ThreadRuns than sixteen times that may change a sixteenth as many NodeRuns as it has ThreadRuns). A WfRun with more to
 * do (thousands of threads starting each other, a long loop of NOP nodes) stops moving when the turn's budget
 * is spent, is committed as it stands (a consistent state: threads rest between nodes), and goes on in a
 * later turn, which the runtime queues behind every command already waiting. So no single WfRun holds the
 * server for long, and other callers are answered in between.
 */
import type { EngineContext, WfRunState } from "./state";

/** the durable timer that carries a WfRun into its next turn */
export const CONTINUE_TIMER_KEY = "continue";

/** Whether this command changed as many NodeRuns as one turn may. */
export function turnSpent(state: WfRunState, ctx: EngineContext): boolean {
  if (ctx.maxNodeRunsPerTurn === undefined) return false;
  // Committing a turn writes the WfRun, whose size grows with its ThreadRuns: a big WfRun gets a turn in
  // proportion, so the work of a turn is never small beside the cost of committing it. Unchanged ThreadRuns
  // cost little to write again (their encoding is reused: server protobuf/to-binary.ts), hence a sixteenth.
  const budget = Math.max(ctx.maxNodeRunsPerTurn, state.wfRun.threadRuns.length >> 4);
  return state.changes.nodeRuns.size >= budget;
}

/** The WfRun goes on moving in a later turn: a timer due now, durable, so a restart does not strand it. */
export function continueLater(ctx: EngineContext): void {
  ctx.effects.push({
    kind: "armTimer",
    key: CONTINUE_TIMER_KEY,
    dueMs: ctx.nowMs,
    command: { kind: "wfRunContinued" },
  });
}
