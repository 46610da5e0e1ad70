/** Commands that act on a running WfRun: `postEvent`, `stop`, `resume`, `rescue`. */
import { create } from "@bufbuild/protobuf";
import { VariableTypeSchema, VariableValueSchema, type VariableValue } from "@pony/proto";
import type { Command } from "commander";
import { int32, parseWfRunId } from "../args";
import { CliUsageError, type CliContext } from "../context";
import { parseTypeName, parseValue, ValueError } from "../values";

const WF_RUN_ID_HELP = "the WfRun's id (a child WfRun: <parent>_<child>)";
const TYPES = [...VariableTypeSchema.values.map((v) => v.name), "NULL"].join(", ");

/** The content of an ExternalEvent from `<type> <value>` (none, or NULL: an empty value). */
export function eventContent(type: string | undefined, value: string | undefined): VariableValue {
  if (type === undefined || type.toUpperCase() === "NULL") {
    if (value !== undefined) throw new CliUsageError("a NULL event has no value");
    return create(VariableValueSchema, {});
  }
  const t = parseTypeName(type);
  if (t === undefined) throw new CliUsageError(`unknown type '${type}': use one of ${TYPES}`);
  if (value === undefined) throw new CliUsageError(`give the ${type.toUpperCase()} value after its type`);
  try {
    return parseValue(value, t);
  } catch (e) {
    if (e instanceof ValueError) throw new CliUsageError(`the event's content: ${e.message}`);
    throw e;
  }
}

export function registerWfRunCommands(program: Command, ctx: CliContext): void {
  program
    .command("postEvent")
    .description("post an ExternalEvent to a WfRun (PutExternalEvent)")
    .argument("<wfRunId>", WF_RUN_ID_HELP)
    .argument("<externalEventDefName>", "the ExternalEventDef's name")
    .argument("[type]", `the content's type: ${TYPES} (default: no content)`)
    .argument("[value]", "the content, read as <type> (JSON text for JSON_OBJ / JSON_ARR, base64 for BYTES)")
    .option("--guid <guid>", "the event's guid (posting the same guid twice is idempotent)")
    .option("--threadRunNumber <n>", "deliver to this ThreadRun", int32)
    .option("--nodeRunPosition <n>", "deliver to the EXTERNAL_EVENT NodeRun at this position", int32)
    .addHelpText("after", `\nExample:\n  pony postEvent my-run payment-received JSON_OBJ '{"amount": 12.5}'`)
    .action(
      async (
        wfRunId: string,
        externalEventDefName: string,
        type: string | undefined,
        value: string | undefined,
        opts: { guid?: string; threadRunNumber?: number; nodeRunPosition?: number },
      ) => {
        const content = eventContent(type, value);
        await ctx.show("putExternalEvent", {
          wfRunId: parseWfRunId(wfRunId),
          externalEventDefId: { name: externalEventDefName },
          content,
          guid: opts.guid,
          threadRunNumber: opts.threadRunNumber,
          nodeRunPosition: opts.nodeRunPosition,
        });
      },
    );

  program
    .command("stop")
    .description("halt a WfRun, or one of its ThreadRuns (StopWfRun)")
    .argument("<wfRunId>", WF_RUN_ID_HELP)
    .option("--threadRunNumber <n>", "stop only this ThreadRun (default: 0, the whole WfRun)", int32, 0)
    .action(async (wfRunId: string, opts: { threadRunNumber: number }) => {
      await ctx.show("stopWfRun", { wfRunId: parseWfRunId(wfRunId), threadRunNumber: opts.threadRunNumber });
    });

  program
    .command("resume")
    .description("resume a halted WfRun, or one of its ThreadRuns (ResumeWfRun)")
    .argument("<wfRunId>", WF_RUN_ID_HELP)
    .option("--threadRunNumber <n>", "resume only this ThreadRun (default: 0, the whole WfRun)", int32, 0)
    .action(async (wfRunId: string, opts: { threadRunNumber: number }) => {
      await ctx.show("resumeWfRun", {
        wfRunId: parseWfRunId(wfRunId),
        threadRunNumber: opts.threadRunNumber,
      });
    });

  program
    .command("rescue")
    .description("restart a failed ThreadRun at its failed node (RescueThreadRun)")
    .argument("<wfRunId>", WF_RUN_ID_HELP)
    .argument("<threadRunNumber>", "the failed ThreadRun", int32)
    .option("--skipCurrentNode", "move past the failed node instead of running it again", false)
    .action(async (wfRunId: string, threadRunNumber: number, opts: { skipCurrentNode: boolean }) => {
      await ctx.show("rescueThreadRun", {
        wfRunId: parseWfRunId(wfRunId),
        threadRunNumber,
        skipCurrentNode: opts.skipCurrentNode,
      });
    });
}
