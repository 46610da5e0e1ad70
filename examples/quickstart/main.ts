/**
 * Quick start: registers the TaskDef `greet` and the WfSpec `quickstart`, starts a worker for `greet`, runs
 * one WfRun, waits for it to complete, prints its result and stops the worker.
 *
 *   npm start                          # terminal 1: a Pony server on localhost:2023
 *   npm run quickstart                 # terminal 2 (or: npm run quickstart -- Ada)
 *
 * The server comes from LittleHorse's client settings (LHC_API_HOST, LHC_API_PORT, … or
 * ~/.config/littlehorse.config), localhost:2023 by default. Exits 0 when the WfRun completed.
 *
 * With `--no-worker` it starts no worker of its own: the task waits for one started elsewhere
 * (`npx tsx examples/quickstart/run-worker.ts`, perhaps under another principal).
 */
import { LHStatus, type WfRun, type WfRunId } from "@pony/proto";
import { fromVariableValue, LHApiError, LHConfig, toVariableValue, type LHClient } from "@pony/sdk";
import { createGreetWorker } from "./worker";
import { GREET_TASK, quickstartWorkflow, WF_SPEC_NAME } from "./workflow";

const TERMINAL = new Set([LHStatus.COMPLETED, LHStatus.ERROR, LHStatus.EXCEPTION, LHStatus.HALTED]);

/** Polls GetWfRun until the WfRun has finished (or `timeoutMs` has passed). */
async function waitForWfRun(client: LHClient, id: WfRunId, timeoutMs = 30_000): Promise<WfRun> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const wfRun = await client.getWfRun(id);
    if (TERMINAL.has(wfRun.status)) return wfRun;
    if (Date.now() > deadline) throw new Error(`WfRun ${id.id} is still ${LHStatus[wfRun.status]}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const ownWorker = !args.includes("--no-worker");
  const name = args.find((a) => !a.startsWith("--")) ?? "World";
  const config = new LHConfig();
  const client = config.getClient();
  console.log(`Pony server: ${config.apiAddress}`);

  const worker = createGreetWorker(config);
  try {
    // 1. metadata: the TaskDef (from the worker's inputVars) and the WfSpec (from the builder)
    await worker.registerTaskDef();
    const wfSpec = await client.putWfSpec(quickstartWorkflow.compile());
    console.log(
      `Registered TaskDef '${GREET_TASK}' and WfSpec '${WF_SPEC_NAME}' ` +
        `(version ${wfSpec.id?.majorVersion}.${wfSpec.id?.revision})`,
    );

    // 2. the worker polls for `greet` tasks (unless one runs elsewhere)
    if (ownWorker) {
      await worker.start();
      console.log(`Worker ${worker.taskWorkerId} is polling '${GREET_TASK}'`);
    } else {
      console.log(`Leaving '${GREET_TASK}' to a worker started elsewhere`);
    }

    // 3. run the workflow and wait for it
    const started = await client.runWf({
      wfSpecName: WF_SPEC_NAME,
      variables: { name: toVariableValue(name) },
    });
    const id = started.id!;
    console.log(`Started WfRun ${id.id} with name=${JSON.stringify(name)}`);
    const wfRun = await waitForWfRun(client, id);
    console.log(`WfRun ${id.id} is ${LHStatus[wfRun.status]}`);

    // 4. its result: the variables, and the task's output
    for (const v of (await client.listVariables({ wfRunId: id })).results) {
      console.log(`  variable ${v.id?.name} = ${JSON.stringify(fromVariableValue(v.value))}`);
    }
    for (const taskRun of (await client.listTaskRuns({ wfRunId: id })).results) {
      const last = taskRun.attempts.at(-1);
      const output = last?.result.case === "output" ? fromVariableValue(last.result.value) : null;
      console.log(`  task ${taskRun.taskDefId?.name} output = ${JSON.stringify(output)}`);
    }
    if (wfRun.status !== LHStatus.COMPLETED) {
      const why = wfRun.threadRuns.map((t) => t.errorMessage).filter(Boolean);
      console.error(`The WfRun did not complete${why.length ? `: ${why.join("; ")}` : ""}`);
      return 1;
    }
    console.log(`Inspect it with: npx pony get wfRun ${id.id}`);
    return 0;
  } catch (e) {
    if (e instanceof LHApiError && e.code === "UNAVAILABLE") {
      console.error(
        `No Pony server at ${config.apiAddress}: start one with \`npm start\` (or set LHC_API_PORT)`,
      );
    } else {
      console.error(e instanceof Error ? e.message : String(e));
    }
    return 1;
  } finally {
    await worker.close();
    config.close();
  }
}

process.exitCode = await main();
