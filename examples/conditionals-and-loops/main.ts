/**
 * Conditionals and loops: `doWhile` runs a task once per round and adds its output to a total with
 * `mutate`; `doIf` / `doElseIf` / `doElse` then pick a verdict from the total. Runs on today's server.
 *
 *   npm start                                                     # a Pony server on localhost:2023
 *   npx tsx examples/conditionals-and-loops/main.ts [rounds]      # default 3 rounds
 *
 * What the server runs: ENTRYPOINT → NOP ⟲ score-round TASK (while i < rounds) → NOP → one of three
 * announce TASKs → NOP → EXIT. See it with `npx pony list nodeRun <wfRunId>`.
 */
import { LHStatus, type WfRun, type WfRunId } from "@pony/proto";
import {
  fromVariableValue,
  LHConfig,
  LHTaskWorker,
  toVariableValue,
  Workflow,
  type LHClient,
} from "@pony/sdk";

const workflow = Workflow.newWorkflow("example-conditionals-and-loops", (wf) => {
  const rounds = wf.declareInt("rounds").required();
  const i = wf.declareInt("i", 0);
  const total = wf.declareInt("total", 0);
  const verdict = wf.declareStr("verdict");

  // while (i < rounds) { total += score-round(i); i += 1 }
  wf.doWhile(wf.condition(i, "<", rounds), (t) => {
    t.mutate(total, "ADD", t.execute("score-round", i));
    t.mutate(i, "ADD", 1);
  });

  // if (total >= 10) … else if (total > 0) … else …
  wf.doIf(wf.condition(total, ">=", 10), (t) => {
    t.mutate(verdict, "ASSIGN", t.execute("announce", t.format("high score: {0}", total)));
  })
    .doElseIf(wf.condition(total, ">", 0), (t) => {
      t.mutate(verdict, "ASSIGN", t.execute("announce", t.format("some points: {0}", total)));
    })
    .doElse((t) => {
      t.mutate(verdict, "ASSIGN", t.execute("announce", "no points"));
    });
}).withTaskDefs({ "score-round": ["INT"], announce: ["STR"] });

const TERMINAL = new Set([LHStatus.COMPLETED, LHStatus.ERROR, LHStatus.EXCEPTION, LHStatus.HALTED]);

async function waitForWfRun(client: LHClient, id: WfRunId): Promise<WfRun> {
  for (const deadline = Date.now() + 30_000; ;) {
    const wfRun = await client.getWfRun(id);
    if (TERMINAL.has(wfRun.status) || Date.now() > deadline) return wfRun;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function main(): Promise<number> {
  const rounds = Number(process.argv[2] ?? 3);
  const config = new LHConfig();
  const client = config.getClient();
  const workers = [
    // round i scores (i + 1) * 2 points
    new LHTaskWorker(async (i: number) => (i + 1) * 2, "score-round", config, { inputVars: [["i", "INT"]] }),
    new LHTaskWorker(async (text: string) => `*** ${text} ***`, "announce", config, {
      inputVars: [["text", "STR"]],
    }),
  ];
  try {
    for (const w of workers) await w.registerTaskDef();
    await client.putWfSpec(workflow.compile());
    for (const w of workers) await w.start();

    const started = await client.runWf({
      wfSpecName: workflow.name,
      variables: { rounds: toVariableValue(rounds) },
    });
    const wfRun = await waitForWfRun(client, started.id!);
    console.log(`WfRun ${started.id?.id} is ${LHStatus[wfRun.status]}`);
    for (const v of (await client.listVariables({ wfRunId: started.id })).results) {
      console.log(`  ${v.id?.name} = ${JSON.stringify(fromVariableValue(v.value))}`);
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
