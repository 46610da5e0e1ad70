/**
 * `pony schedule <wfSpecName> <cron> [<var> <value>]…`: runs a WfSpec on a cron schedule (ScheduleWf). The
 * values are typed by the WfSpec's entrypoint variables, as `pony run` types them. The schedule's other
 * verbs are `pony get|search|delete scheduledWfRun`.
 */
import type { Command } from "commander";
import { int32, parseWfRunId } from "../args";
import { CliUsageError, type CliContext } from "../context";
import { wfSpecVariables } from "./run";

export function registerScheduleCommand(program: Command, ctx: CliContext): void {
  program
    .command("schedule")
    .description("run a WfSpec on a cron schedule (ScheduleWf): one WfRun at each matching time, in UTC")
    .argument("<wfSpecName>", "the WfSpec to run")
    .argument("<cron>", "a five-field cron expression (minute hour day-of-month month day-of-week), quoted")
    .argument("[variables...]", "<name> <value> pairs, as for `pony run`")
    .option("--id <id>", "the schedule's id (default: a random id)")
    .option("--major <n>", "run this major version (default: the latest now)", int32)
    .option("--revision <n>", "run this revision of --major (default: its latest now)", int32)
    .option("--parent <wfRunId>", "start each run as a child of this WfRun")
    .addHelpText(
      "after",
      `
Each run's id is the schedule's id and the tick's UTC time: nightly-202601010300.
Example:
  pony schedule report '0 3 * * 1-5' region emea --id nightly-report`,
    )
    .action(
      async (
        wfSpecName: string,
        cron: string,
        vars: string[],
        opts: { id?: string; major?: number; revision?: number; parent?: string },
      ) => {
        if (opts.revision !== undefined && opts.major === undefined) {
          throw new CliUsageError("--revision needs --major");
        }
        const variables = await wfSpecVariables(ctx, wfSpecName, opts.major, opts.revision, vars);
        await ctx.show("scheduleWf", {
          id: opts.id,
          wfSpecName,
          majorVersion: opts.major,
          revision: opts.revision,
          variables,
          parentWfRunId: opts.parent === undefined ? undefined : parseWfRunId(opts.parent),
          cronExpression: cron,
        });
      },
    );
}
