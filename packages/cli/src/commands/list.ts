/** `pony list <kind> <wfRunId>`: every object of a kind that belongs to one WfRun. */
import type { Command } from "commander";
import { int32, paged, parseWfRunId, type Paging } from "../args";
import type { CliContext } from "../context";

const WF_RUN_ID_HELP = "the WfRun's id (a child WfRun: <parent>_<child>)";

export function registerListCommand(program: Command, ctx: CliContext): void {
  const list = program.command("list").description("print every object of a kind in one WfRun");

  paged(
    list
      .command("nodeRun")
      .description("the NodeRuns of a WfRun (ListNodeRuns)")
      .argument("<wfRunId>", WF_RUN_ID_HELP)
      .option("--threadRunNumber <number>", "only this ThreadRun's NodeRuns", int32),
  ).action(async (wfRunId: string, opts: Paging & { threadRunNumber?: number }) => {
    await ctx.show("listNodeRuns", {
      wfRunId: parseWfRunId(wfRunId),
      threadRunNumber: opts.threadRunNumber,
      limit: opts.limit,
      bookmark: opts.bookmark,
    });
  });

  list
    .command("taskRun")
    .description("the TaskRuns of a WfRun (ListTaskRuns)")
    .argument("<wfRunId>", WF_RUN_ID_HELP)
    .action(async (wfRunId: string) => {
      await ctx.show("listTaskRuns", { wfRunId: parseWfRunId(wfRunId) });
    });

  list
    .command("variable")
    .description("the Variables of a WfRun, of every thread (ListVariables)")
    .argument("<wfRunId>", WF_RUN_ID_HELP)
    .action(async (wfRunId: string) => {
      await ctx.show("listVariables", { wfRunId: parseWfRunId(wfRunId) });
    });

  list
    .command("externalEvent")
    .description("the ExternalEvents posted to a WfRun (ListExternalEvents)")
    .argument("<wfRunId>", WF_RUN_ID_HELP)
    .action(async (wfRunId: string) => {
      await ctx.show("listExternalEvents", { wfRunId: parseWfRunId(wfRunId) });
    });

  paged(
    list
      .command("workflowEvent")
      .description("the WorkflowEvents a WfRun threw (ListWorkflowEvents)")
      .argument("<wfRunId>", WF_RUN_ID_HELP),
  ).action(async (wfRunId: string, opts: Paging) => {
    await ctx.show("listWorkflowEvents", {
      wfRunId: parseWfRunId(wfRunId),
      limit: opts.limit,
      bookmark: opts.bookmark,
    });
  });

  list
    .command("userTaskRun")
    .description("the UserTaskRuns of a WfRun (ListUserTaskRuns)")
    .argument("<wfRunId>", WF_RUN_ID_HELP)
    .action(async (wfRunId: string) => {
      await ctx.show("listUserTaskRuns", { wfRunId: parseWfRunId(wfRunId) });
    });
}
