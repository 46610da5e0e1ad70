/**
 * Child threads: an order is charged and its stock reserved at the same time. `spawnThread` starts one
 * child ThreadRun per job, each running its own task with its own input variable; `waitForThreads` waits
 * for both, and `spawnThreadForEach` starts one child per element of a JSON_ARR (one label per item).
 *
 * Needs a server that runs child threads (START_THREAD, START_MULTIPLE_THREADS and WAIT_FOR_THREADS nodes,
 * new in Pony's server). An older server registers the WfSpec but ends the WfRun in ERROR ("… node, which
 * this server does not run yet"); this script prints each thread's status and error, and exits 1 unless
 * the WfRun completed.
 *
 *   npm start                                      # a Pony server on localhost:2023
 *   npx tsx examples/child-threads/main.ts
 */
import { LHStatus, type WfRun, type WfRunId } from "@pony/proto";
import {
  fromVariableValue,
  HANDLER_INPUT_VAR,
  LHConfig,
  LHTaskWorker,
  toVariableValue,
  Workflow,
  type LHClient,
} from "@pony/sdk";

const workflow = Workflow.newWorkflow("example-child-threads", (wf) => {
  const orderId = wf.declareStr("order-id").required();
  const items = wf.declareJsonArr("items").required();

  // two children in parallel, each with its own variable set from the parent's
  const charge = wf.spawnThread(
    (t) => {
      const order = t.declareStr("order");
      t.execute("charge-card", order);
    },
    "charge",
    { order: orderId },
  );
  const reserve = wf.spawnThread(
    (t) => {
      const order = t.declareStr("order");
      t.execute("reserve-stock", order);
    },
    "reserve",
    { order: orderId },
  );
  wf.waitForThreads(charge, reserve);

  // one child per item: each receives its element as the variable INPUT
  const labels = wf.spawnThreadForEach(items, "print-label", (t) => {
    const item = t.declareStr(HANDLER_INPUT_VAR);
    t.execute("print-label", item);
  });
  wf.waitForThreads(labels);
});

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
  const task = (name: string, fn: (arg: string) => Promise<string>) =>
    new LHTaskWorker(fn, name, config, { inputVars: [["arg", "STR"]] });
  const workers = [
    task("charge-card", async (order) => `charged ${order}`),
    task("reserve-stock", async (order) => `reserved stock for ${order}`),
    task("print-label", async (item) => `label for ${item}`),
  ];
  try {
    for (const w of workers) await w.registerTaskDef();
    await client.putWfSpec(workflow.compile());
    for (const w of workers) await w.start();

    const started = await client.runWf({
      wfSpecName: workflow.name,
      variables: {
        "order-id": toVariableValue("order-17"),
        items: toVariableValue(["teapot", "cups"]),
      },
    });
    const wfRun = await waitForWfRun(client, started.id!);
    console.log(`WfRun ${started.id?.id} is ${LHStatus[wfRun.status]}`);
    for (const thread of wfRun.threadRuns) {
      const error = thread.errorMessage ? ` (${thread.errorMessage})` : "";
      console.log(`  thread ${thread.number} ${thread.threadSpecName}: ${LHStatus[thread.status]}${error}`);
    }
    for (const taskRun of (await client.listTaskRuns({ wfRunId: started.id })).results) {
      const last = taskRun.attempts.at(-1);
      if (last?.result.case === "output") {
        console.log(`  ${taskRun.taskDefId?.name}: ${JSON.stringify(fromVariableValue(last.result.value))}`);
      }
    }
    return wfRun.status === LHStatus.COMPLETED ? 0 : 1;
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    return 1;
  } finally {
    for (const w of workers) await w.close();
    config.close();
  }
}

process.exitCode = await main();
