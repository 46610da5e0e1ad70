/** `pony get <kind> <id…>`: one object by its id, printed as protobuf JSON. */
import type { Command } from "commander";
import { int32, parseWfRunId, seconds } from "../args";
import { watchWfRun } from "./watch";
import { CliUsageError, type CliContext } from "../context";

const WF_RUN_ID_HELP = "the WfRun's id (a child WfRun: <parent>_<child>)";

export function registerGetCommand(program: Command, ctx: CliContext): void {
  const get = program.command("get").description("print one object by its id");

  get
    .command("wfRun")
    .description("a WfRun (GetWfRun): as a table, its thread tree and each thread's current node")
    .argument("<wfRunId>", WF_RUN_ID_HELP)
    .option("-w, --watch", "follow the WfRun, printing it again each time it changes, until it ends")
    .option("--interval <seconds>", "with --watch, how often to look (default 1)", seconds, 1)
    .action(async (wfRunId: string, opts: { watch?: boolean; interval: number }) => {
      if (opts.watch) await watchWfRun(ctx, parseWfRunId(wfRunId), opts.interval);
      else await ctx.show("getWfRun", parseWfRunId(wfRunId));
    });

  get
    .command("nodeRun")
    .description("a NodeRun (GetNodeRun)")
    .argument("<wfRunId>", WF_RUN_ID_HELP)
    .argument("<threadRunNumber>", "the ThreadRun's number (0 is the entrypoint thread)", int32)
    .argument("<position>", "the NodeRun's position in its thread", int32)
    .action(async (wfRunId: string, threadRunNumber: number, position: number) => {
      await ctx.show("getNodeRun", { wfRunId: parseWfRunId(wfRunId), threadRunNumber, position });
    });

  get
    .command("taskRun")
    .description("a TaskRun (GetTaskRun)")
    .argument("<wfRunId>", WF_RUN_ID_HELP)
    .argument("<taskGuid>", "the TaskRun's guid (see `pony list taskRun <wfRunId>`)")
    .action(async (wfRunId: string, taskGuid: string) => {
      await ctx.show("getTaskRun", { wfRunId: parseWfRunId(wfRunId), taskGuid });
    });

  get
    .command("variable")
    .description("a Variable of a ThreadRun (GetVariable)")
    .argument("<wfRunId>", WF_RUN_ID_HELP)
    .argument("<threadRunNumber>", "the ThreadRun's number (0 is the entrypoint thread)", int32)
    .argument("<name>", "the variable's name")
    .action(async (wfRunId: string, threadRunNumber: number, name: string) => {
      await ctx.show("getVariable", { wfRunId: parseWfRunId(wfRunId), threadRunNumber, name });
    });

  get
    .command("wfSpec")
    .description(
      "a WfSpec: the latest version, the latest of a major version (GetLatestWfSpec), or one version (GetWfSpec)",
    )
    .argument("<name>", "the WfSpec's name")
    .argument("[majorVersion]", "a major version", int32)
    .argument("[revision]", "a revision of that major version", int32)
    .action(async (name: string, majorVersion: number | undefined, revision: number | undefined) => {
      if (majorVersion !== undefined && revision !== undefined) {
        await ctx.show("getWfSpec", { name, majorVersion, revision });
      } else {
        await ctx.show("getLatestWfSpec", { name, majorVersion });
      }
    });

  get
    .command("taskDef")
    .description("a TaskDef (GetTaskDef)")
    .argument("<name>", "the TaskDef's name")
    .action(async (name: string) => {
      await ctx.show("getTaskDef", { name });
    });

  get
    .command("externalEventDef")
    .description("an ExternalEventDef (GetExternalEventDef)")
    .argument("<name>", "the ExternalEventDef's name")
    .action(async (name: string) => {
      await ctx.show("getExternalEventDef", { name });
    });

  get
    .command("workflowEventDef")
    .description("a WorkflowEventDef (GetWorkflowEventDef)")
    .argument("<name>", "the WorkflowEventDef's name")
    .action(async (name: string) => {
      await ctx.show("getWorkflowEventDef", { name });
    });

  get
    .command("userTaskDef")
    .description("a UserTaskDef: the latest version (GetLatestUserTaskDef) or one version (GetUserTaskDef)")
    .argument("<name>", "the UserTaskDef's name")
    .argument("[version]", "a version", int32)
    .action(async (name: string, version: number | undefined) => {
      if (version !== undefined) await ctx.show("getUserTaskDef", { name, version });
      else await ctx.show("getLatestUserTaskDef", { name });
    });

  get
    .command("externalEvent")
    .description("an ExternalEvent (GetExternalEvent)")
    .argument("<wfRunId>", WF_RUN_ID_HELP)
    .argument("<externalEventDefName>", "the ExternalEventDef's name")
    .argument("<guid>", "the ExternalEvent's guid")
    .action(async (wfRunId: string, externalEventDefName: string, guid: string) => {
      await ctx.show("getExternalEvent", {
        wfRunId: parseWfRunId(wfRunId),
        externalEventDefId: { name: externalEventDefName },
        guid,
      });
    });

  get
    .command("workflowEvent")
    .description(
      "a WorkflowEvent a WfRun threw (GetWorkflowEvent); the id also as one argument <wfRunId>/<defName>/<number>",
    )
    .argument("<wfRunId>", WF_RUN_ID_HELP)
    .argument("[workflowEventDefName]", "the WorkflowEventDef's name")
    .argument("[number]", "the event's number (from 0, per WorkflowEventDef in the WfRun)", int32)
    .action(async (wfRunId: string, defName: string | undefined, number: number | undefined) => {
      await ctx.show("getWorkflowEvent", workflowEventId(wfRunId, defName, number));
    });

  get
    .command("userTaskRun")
    .description("a UserTaskRun (GetUserTaskRun)")
    .argument("<wfRunId>", WF_RUN_ID_HELP)
    .argument("<userTaskGuid>", "the UserTaskRun's guid")
    .action(async (wfRunId: string, userTaskGuid: string) => {
      await ctx.show("getUserTaskRun", { wfRunId: parseWfRunId(wfRunId), userTaskGuid });
    });

  get
    .command("taskWorkerGroup")
    .description("the task workers polling a TaskDef (GetTaskWorkerGroup)")
    .argument("<taskDefName>", "the TaskDef's name")
    .action(async (taskDefName: string) => {
      await ctx.show("getTaskWorkerGroup", { name: taskDefName });
    });

  get
    .command("scheduledWfRun")
    .description("a scheduled WfRun: its WfSpec, cron expression and variables (GetScheduledWfRun)")
    .argument("<id>", "the schedule's id")
    .action(async (id: string) => {
      await ctx.show("getScheduledWfRun", { id });
    });

  get
    .command("tenant")
    .description("a Tenant (GetTenant)")
    .argument("<id>", "the tenant's id")
    .action(async (id: string) => {
      await ctx.show("getTenant", { id });
    });

  get
    .command("principal")
    .description("a Principal and its ACLs (GetPrincipal); `pony whoami` shows your own as a table")
    .argument("<id>", "the principal's id")
    .action(async (id: string) => {
      await ctx.show("getPrincipal", { id });
    });
}

/**
 * A WorkflowEventId from its three arguments, or from one argument in the form lhctl also takes:
 * `<wfRunId>/<workflowEventDefName>/<number>`.
 */
function workflowEventId(first: string, defName: string | undefined, number: number | undefined) {
  const id = (wfRunId: string, name: string, n: number) => ({
    wfRunId: parseWfRunId(wfRunId),
    workflowEventDefId: { name },
    number: n,
  });
  const parts = first.split("/");
  if (defName !== undefined && number !== undefined && parts.length === 1) return id(first, defName, number);
  if (defName === undefined && parts.length === 3 && parts[0] && parts[1]) {
    try {
      return id(parts[0], parts[1], int32(parts[2]!));
    } catch (e) {
      throw new CliUsageError(
        `command-argument value '${parts[2]}' is invalid for argument 'number'. ${(e as Error).message}`,
      );
    }
  }
  throw new CliUsageError(
    "give the WorkflowEvent's id as <wfRunId> <workflowEventDefName> <number>, or as one argument <wfRunId>/<workflowEventDefName>/<number>",
  );
}
