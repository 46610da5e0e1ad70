/** `pony delete <kind> <id…>`: deletes one object; prints `{}` (the RPC's empty answer) when done. */
import type { Command } from "commander";
import { int32, parseWfRunId } from "../args";
import type { CliContext } from "../context";

export function registerDeleteCommand(program: Command, ctx: CliContext): void {
  const del = program.command("delete").description("delete one object by its id");

  del
    .command("wfRun")
    .description("a WfRun and everything in it (DeleteWfRun)")
    .argument("<wfRunId>", "the WfRun's id (a child WfRun: <parent>_<child>)")
    .action(async (wfRunId: string) => {
      await ctx.show("deleteWfRun", { id: parseWfRunId(wfRunId) });
    });

  del
    .command("scheduledWfRun")
    .description("a scheduled WfRun: no more runs start from it (DeleteScheduledWfRun)")
    .argument("<id>", "the schedule's id")
    .action(async (id: string) => {
      await ctx.show("deleteScheduledWfRun", { id: { id } });
    });

  del
    .command("taskDef")
    .description("a TaskDef (DeleteTaskDef)")
    .argument("<name>", "the TaskDef's name")
    .action(async (name: string) => {
      await ctx.show("deleteTaskDef", { id: { name } });
    });

  del
    .command("wfSpec")
    .description("one version of a WfSpec (DeleteWfSpec)")
    .argument("<name>", "the WfSpec's name")
    .argument("<majorVersion>", "its major version", int32)
    .argument("<revision>", "its revision", int32)
    .action(async (name: string, majorVersion: number, revision: number) => {
      await ctx.show("deleteWfSpec", { id: { name, majorVersion, revision } });
    });

  del
    .command("externalEventDef")
    .description("an ExternalEventDef (DeleteExternalEventDef)")
    .argument("<name>", "the ExternalEventDef's name")
    .action(async (name: string) => {
      await ctx.show("deleteExternalEventDef", { id: { name } });
    });

  del
    .command("workflowEventDef")
    .description("a WorkflowEventDef (DeleteWorkflowEventDef)")
    .argument("<name>", "the WorkflowEventDef's name")
    .action(async (name: string) => {
      await ctx.show("deleteWorkflowEventDef", { id: { name } });
    });

  del
    .command("userTaskDef")
    .description("one version of a UserTaskDef (DeleteUserTaskDef)")
    .argument("<name>", "the UserTaskDef's name")
    .argument("<version>", "its version", int32)
    .action(async (name: string, version: number) => {
      await ctx.show("deleteUserTaskDef", { id: { name, version } });
    });

  del
    .command("principal")
    .description("a Principal (DeletePrincipal); the last admin cannot be deleted")
    .argument("<id>", "the principal's id")
    .action(async (id: string) => {
      await ctx.show("deletePrincipal", { id: { id } });
    });
}
