/**
 * External events: the workflow waits (`waitForEvent`, with a timeout) until a `payment-received`
 * ExternalEvent is posted to its WfRun, keeps the event's content in a variable, and ships the order with a
 * task that reads the amount with a JSON path. This script posts the event itself with PutExternalEvent;
 * from a shell it would be:
 *
 *   npx pony postEvent <wfRunId> payment-received JSON_OBJ '{"amount": 42.5}'
 *
 * Needs a server that runs EXTERNAL_EVENT nodes and PutExternalEvent (new in Pony's server). On an older
 * server the post answers UNIMPLEMENTED or the WfRun ends in ERROR; this script prints which, and exits 1
 * unless the WfRun completed.
 *
 *   npm start                                      # a Pony server on localhost:2023
 *   npx tsx examples/external-events/main.ts
 */
import { LHStatus, type WfRun, type WfRunId } from "@pony/proto";
import {
  fromVariableValue,
  LHApiError,
  LHConfig,
  LHTaskWorker,
  toVariableValue,
  type LHClient,
} from "@pony/sdk";

import { EVENT, workflow } from "./workflow";

const TERMINAL = new Set([LHStatus.COMPLETED, LHStatus.ERROR, LHStatus.EXCEPTION, LHStatus.HALTED]);

async function waitForWfRun(client: LHClient, id: WfRunId): Promise<WfRun> {
  for (const deadline = Date.now() + 30_000; ;) {
    const wfRun = await client.getWfRun(id);
    if (TERMINAL.has(wfRun.status) || Date.now() > deadline) return wfRun;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function main(): Promise<number> {
  const config = new LHConfig();
  const client = config.getClient();
  const worker = new LHTaskWorker(
    async (orderId: string, amount: number) => `shipped ${orderId}, paid ${amount}`,
    "ship-order",
    config,
    {
      inputVars: [
        ["order-id", "STR"],
        ["amount", "DOUBLE"],
      ],
    },
  );
  try {
    await client.putExternalEventDef({ name: EVENT });
    await worker.registerTaskDef();
    await client.putWfSpec(workflow.compile());
    await worker.start();

    const started = await client.runWf({
      wfSpecName: workflow.name,
      variables: { "order-id": toVariableValue("order-42") },
    });
    const wfRunId = started.id!;
    console.log(`WfRun ${wfRunId.id} is waiting for '${EVENT}'`);

    // the outside world pays: post the event (an idempotent call thanks to the guid)
    try {
      const event = await client.putExternalEvent({
        wfRunId,
        externalEventDefId: { name: EVENT },
        guid: `payment-${wfRunId.id}`,
        content: toVariableValue({ amount: 42.5, currency: "EUR" }),
      });
      console.log(`Posted ${EVENT} (guid ${event.id?.guid})`);
    } catch (e) {
      if (!(e instanceof LHApiError && e.code === "UNIMPLEMENTED")) throw e;
      console.error(`This server cannot post events yet: ${e.details}`);
      return 1;
    }

    const wfRun = await waitForWfRun(client, wfRunId);
    console.log(`WfRun ${wfRunId.id} is ${LHStatus[wfRun.status]}`);
    for (const v of (await client.listVariables({ wfRunId })).results) {
      console.log(`  ${v.id?.name} = ${JSON.stringify(fromVariableValue(v.value))}`);
    }
    for (const t of wfRun.threadRuns) if (t.errorMessage) console.log(`  error: ${t.errorMessage}`);
    return wfRun.status === LHStatus.COMPLETED ? 0 : 1;
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    return 1;
  } finally {
    await worker.close();
    config.close();
  }
}

process.exitCode = await main();
