/**
 * Metrics windows (B-SRCH-5), as lhctl reads them:
 *   pony get taskDefMetrics <taskDefName> <windowLength> [windowStart]              GetTaskDefMetricsWindow
 *   pony list taskDefMetrics <taskDefName> <windowLength> <numWindows> [--last t]   ListTaskDefMetrics
 *   pony get wfSpecMetrics <name> <major> <revision> <windowLength> [windowStart]   GetWfSpecMetricsWindow
 *   pony list wfSpecMetrics <name> <major> <revision> <windowLength> <numWindows>   ListWfSpecMetrics
 * A window length is MINUTES_5, HOURS_2 or DAYS_1; without a time, the window holding now.
 */
import { timestampNow, type Timestamp } from "@bufbuild/protobuf/wkt";
import { MetricsWindowLengthSchema } from "@pony/proto";
import type { Command } from "commander";
import { enumNames, enumValue, int32, positiveInt32, time } from "../args";
import type { CliContext } from "../context";

const WINDOW_HELP = `the window length: ${enumNames(MetricsWindowLengthSchema).join(", ")}`;
const TIME_HELP = "a time in the window (ISO 8601; UTC without an offset; default now)";

export function registerMetricsCommands(get: Command, list: Command, ctx: CliContext): void {
  const windowLength = enumValue(MetricsWindowLengthSchema);

  get
    .command("taskDefMetrics")
    .description("a TaskDef's metrics in one window (GetTaskDefMetricsWindow)")
    .argument("<taskDefName>", "the TaskDef's name")
    .argument("<windowLength>", WINDOW_HELP, windowLength)
    .argument("[windowStart]", TIME_HELP, time)
    .action(async (taskDefName: string, windowType: number, windowStart: Timestamp | undefined) => {
      await ctx.show("getTaskDefMetricsWindow", {
        taskDefName,
        windowType,
        windowStart: windowStart ?? timestampNow(),
      });
    });

  get
    .command("wfSpecMetrics")
    .description("a WfSpec version's metrics in one window (GetWfSpecMetricsWindow)")
    .argument("<name>", "the WfSpec's name")
    .argument("<majorVersion>", "its major version", int32)
    .argument("<revision>", "its revision", int32)
    .argument("<windowLength>", WINDOW_HELP, windowLength)
    .argument("[windowStart]", TIME_HELP, time)
    .action(
      async (
        name: string,
        majorVersion: number,
        revision: number,
        windowLength: number,
        windowStart: Timestamp | undefined,
      ) => {
        await ctx.show("getWfSpecMetricsWindow", {
          wfSpecId: { name, majorVersion, revision },
          windowLength,
          windowStart: windowStart ?? timestampNow(),
        });
      },
    );

  list
    .command("taskDefMetrics")
    .description("a TaskDef's last windows, oldest first (ListTaskDefMetrics)")
    .argument("<taskDefName>", "the TaskDef's name")
    .argument("<windowLength>", WINDOW_HELP, windowLength)
    .argument("<numWindows>", "how many windows", positiveInt32)
    .option("--last <time>", "a time in the last window (default now)", time)
    .action(
      async (taskDefName: string, windowLength: number, numWindows: number, opts: { last?: Timestamp }) => {
        await ctx.show("listTaskDefMetrics", {
          taskDefId: { name: taskDefName },
          windowLength,
          numWindows,
          lastWindowStart: opts.last ?? timestampNow(),
        });
      },
    );

  list
    .command("wfSpecMetrics")
    .description("a WfSpec version's last windows, oldest first (ListWfSpecMetrics)")
    .argument("<name>", "the WfSpec's name")
    .argument("<majorVersion>", "its major version", int32)
    .argument("<revision>", "its revision", int32)
    .argument("<windowLength>", WINDOW_HELP, windowLength)
    .argument("<numWindows>", "how many windows", positiveInt32)
    .option("--last <time>", "a time in the last window (default now)", time)
    .action(
      async (
        name: string,
        majorVersion: number,
        revision: number,
        windowLength: number,
        numWindows: number,
        opts: { last?: Timestamp },
      ) => {
        await ctx.show("listWfSpecMetrics", {
          wfSpecId: { name, majorVersion, revision },
          windowLength,
          numWindows,
          lastWindowStart: opts.last ?? timestampNow(),
        });
      },
    );
}
