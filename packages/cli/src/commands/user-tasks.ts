/** UserTaskRuns: `assign`, `execute` (asks for each field of the UserTaskDef) and `cancel`. */
import { UserTaskRunStatus } from "@pony/proto";
import type { Command } from "commander";
import { parseWfRunId } from "../args";
import { CliUsageError, type CliContext } from "../context";
import { LineReader, promptForFields, promptText } from "../prompt";

const WF_RUN_ID_HELP = "the WfRun's id (a child WfRun: <parent>_<child>)";
const GUID_HELP = "the UserTaskRun's guid (see `pony list userTaskRun <wfRunId>`)";

export function registerUserTaskCommands(program: Command, ctx: CliContext): void {
  program
    .command("assign")
    .description("assign a UserTaskRun to a user and/or a group (AssignUserTaskRun)")
    .argument("<wfRunId>", WF_RUN_ID_HELP)
    .argument("<userTaskGuid>", GUID_HELP)
    .option("--userId <id>", "the user")
    .option("--userGroup <group>", "the group")
    .option("--overrideClaim", "take it from the user who has it", false)
    .action(
      async (
        wfRunId: string,
        userTaskGuid: string,
        opts: { userId?: string; userGroup?: string; overrideClaim: boolean },
      ) => {
        if (opts.userId === undefined && opts.userGroup === undefined) {
          throw new CliUsageError("give --userId, --userGroup or both");
        }
        await ctx.show("assignUserTaskRun", {
          userTaskRunId: { wfRunId: parseWfRunId(wfRunId), userTaskGuid },
          userId: opts.userId,
          userGroup: opts.userGroup,
          overrideClaim: opts.overrideClaim,
        });
      },
    );

  program
    .command("execute")
    .description(
      "complete a UserTaskRun: asks on stdin for each field of its UserTaskDef (CompleteUserTaskRun)",
    )
    .argument("<wfRunId>", WF_RUN_ID_HELP)
    .argument("<userTaskGuid>", GUID_HELP)
    .option("--userId <id>", "who completes it (default: the user it is assigned to, else asked)")
    .addHelpText(
      "after",
      `
Questions go to stderr, the answer of the server to stdout. Answers may be piped, one line per question:
  printf 'true\\nlooks good\\n' | pony execute my-run 3f2a… --userId ada`,
    )
    .action(async (wfRunId: string, userTaskGuid: string, opts: { userId?: string }) => {
      const id = { wfRunId: parseWfRunId(wfRunId), userTaskGuid };
      const run = await ctx.call("getUserTaskRun", id);
      if (run.status === UserTaskRunStatus.DONE || run.status === UserTaskRunStatus.CANCELLED) {
        throw new Error(
          `UserTaskRun ${wfRunId} ${userTaskGuid} is ${UserTaskRunStatus[run.status]}: nothing to execute`,
        );
      }
      const def = await ctx.call("getUserTaskDef", {
        name: run.userTaskDefId?.name ?? "",
        version: run.userTaskDefId?.version ?? 0,
      });
      ctx.note(
        `UserTaskRun ${wfRunId} ${userTaskGuid}: ${def.name} (version ${def.version})` +
          (def.description ? ` - ${def.description}` : ""),
      );
      const reader = new LineReader(ctx.io.stdin, ctx.io.stderr);
      try {
        const userId = opts.userId ?? run.userId ?? (await promptText(reader, "User id: ", "the user id"));
        const results = await promptForFields(def.fields, reader, (t) => ctx.note(t));
        await ctx.show("completeUserTaskRun", { userTaskRunId: id, results, userId });
      } finally {
        reader.close();
      }
    });

  program
    .command("cancel")
    .description("cancel a UserTaskRun (CancelUserTaskRun)")
    .argument("<wfRunId>", WF_RUN_ID_HELP)
    .argument("<userTaskGuid>", GUID_HELP)
    .action(async (wfRunId: string, userTaskGuid: string) => {
      await ctx.show("cancelUserTaskRun", {
        userTaskRunId: { wfRunId: parseWfRunId(wfRunId), userTaskGuid },
      });
    });
}
