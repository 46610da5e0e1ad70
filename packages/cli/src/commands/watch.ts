/**
 * `pony get wfRun <id> --watch`: follows a WfRun until it ends. It is read again every `--interval`
 * seconds and printed each time it changed (status, a thread's status or current node): on a terminal the
 * table is redrawn in place; piped, each new state is one more JSON document. The command exits 0 when the
 * WfRun COMPLETED and 1 when it ended ERROR or EXCEPTION, so a script can wait on it.
 */
import { equals } from "@bufbuild/protobuf";
import { LHStatus, WfRunSchema, type WfRun } from "@pony/proto";
import type { WfRunIdInit } from "../args";
import type { CliContext } from "../context";

const ENDED = new Set([LHStatus.COMPLETED, LHStatus.ERROR, LHStatus.EXCEPTION]);

/** clears a terminal and puts the cursor home (the table is redrawn in place) */
const CLEAR = "\u001b[H\u001b[2J";

export class WfRunEndedBadly extends Error {
  override readonly name = "WfRunEndedBadly";
}

export async function watchWfRun(ctx: CliContext, id: WfRunIdInit, intervalSeconds: number): Promise<void> {
  let last: WfRun | undefined;
  for (;;) {
    const wfRun = await ctx.call("getWfRun", id);
    if (!last || !equals(WfRunSchema, last, wfRun)) {
      last = wfRun;
      if (ctx.format() === "table") {
        const view = await ctx.tableOf(WfRunSchema, wfRun);
        ctx.io.stdout.write(ctx.isTerminal() ? CLEAR + view : `${view}\n`);
      } else {
        ctx.printMessage(WfRunSchema, wfRun);
      }
    }
    if (ENDED.has(wfRun.status)) {
      if (wfRun.status !== LHStatus.COMPLETED)
        throw new WfRunEndedBadly(`WfRun '${wfRun.id?.id}' ended ${LHStatus[wfRun.status]}`);
      return;
    }
    await new Promise((r) => setTimeout(r, intervalSeconds * 1000));
  }
}
