/**
 * User tasks: an expense waits for a person in the `finance` group to approve it (a UserTaskDef with a
 * form of two fields), then the workflow pays it or tells the requester it was rejected, depending on the
 * form's `approved` field (read with a JSON path).
 *
 *   npm start                                             # a Pony server on localhost:2023
 *   npx tsx examples/user-tasks/main.ts                   # approves the task itself (CompleteUserTaskRun)
 *   npx tsx examples/user-tasks/main.ts --interactive     # waits for you to fill in the form with the CLI:
 *       npx pony execute <wfRunId> <userTaskGuid> --userId alice
 *
 * Needs a server that runs USER_TASK nodes and the UserTaskRun RPCs (new in Pony's server). On an older
 * server ListUserTaskRuns answers UNIMPLEMENTED (or the WfRun ends in ERROR); this script prints that and
 * exits 1.
 */
import { LHStatus, VariableType, type UserTaskRunId, type WfRun, type WfRunId } from "@pony/proto";
import {
  fromVariableValue,
  LHApiError,
  LHConfig,
  LHTaskWorker,
  toVariableValue,
  Workflow,
  type LHClient,
} from "@pony/sdk";

const FORM = "approve-expense";

const workflow = Workflow.newWorkflow("example-user-tasks", (wf) => {
  const requester = wf.declareStr("requester").required();
  const amount = wf.declareDouble("amount").required();
  const decision = wf.declareJsonObj("decision");
  const outcome = wf.declareStr("outcome");

  // the form goes to the group `finance`; its output is the filled-in fields as a JSON object
  wf.mutate(decision, "ASSIGN", wf.assignUserTask(FORM, undefined, "finance"));

  wf.doIf(wf.condition(decision.jsonPath("$.approved"), "==", true), (t) => {
    t.mutate(outcome, "ASSIGN", t.execute("pay-expense", requester, amount));
  }).doElse((t) => {
    t.mutate(outcome, "ASSIGN", t.execute("notify-rejection", requester));
  });
});

const TERMINAL = new Set([LHStatus.COMPLETED, LHStatus.ERROR, LHStatus.EXCEPTION, LHStatus.HALTED]);

async function waitForWfRun(client: LHClient, id: WfRunId, timeoutMs: number): Promise<WfRun> {
  for (const deadline = Date.now() + timeoutMs; ;) {
    const wfRun = await client.getWfRun(id);
    if (TERMINAL.has(wfRun.status) || Date.now() > deadline) return wfRun;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Waits until the WfRun has a UserTaskRun (the USER_TASK node was reached). */
async function waitForUserTask(client: LHClient, wfRunId: WfRunId): Promise<UserTaskRunId | undefined> {
  for (const deadline = Date.now() + 10_000; Date.now() < deadline;) {
    const [first] = (await client.listUserTaskRuns({ wfRunId })).results;
    if (first?.id) return first.id;
    const wfRun = await client.getWfRun(wfRunId);
    if (TERMINAL.has(wfRun.status)) return undefined;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return undefined;
}

async function main(): Promise<number> {
  const interactive = process.argv.includes("--interactive");
  const config = new LHConfig();
  const client = config.getClient();
  const workers = [
    new LHTaskWorker(
      async (who: string, amount: number) => `paid ${amount.toFixed(2)} to ${who}`,
      "pay-expense",
      config,
      {
        inputVars: [
          ["requester", "STR"],
          ["amount", "DOUBLE"],
        ],
      },
    ),
    new LHTaskWorker(async (who: string) => `told ${who}: rejected`, "notify-rejection", config, {
      inputVars: [["requester", "STR"]],
    }),
  ];
  try {
    await client.putUserTaskDef({
      name: FORM,
      description: "Approve an expense",
      fields: [
        { name: "approved", type: VariableType.BOOL, displayName: "Approve?", required: true },
        { name: "comment", type: VariableType.STR, displayName: "Comment" },
      ],
    });
    for (const w of workers) await w.registerTaskDef();
    await client.putWfSpec(workflow.compile());
    for (const w of workers) await w.start();

    const started = await client.runWf({
      wfSpecName: workflow.name,
      variables: { requester: toVariableValue("bob"), amount: toVariableValue(120.5) },
    });
    const wfRunId = started.id!;
    const userTask = await waitForUserTask(client, wfRunId);
    if (!userTask) {
      const wfRun = await client.getWfRun(wfRunId);
      console.error(`WfRun ${wfRunId.id} is ${LHStatus[wfRun.status]} without a UserTaskRun`);
      for (const t of wfRun.threadRuns) if (t.errorMessage) console.error(`  error: ${t.errorMessage}`);
      return 1;
    }

    if (interactive) {
      console.log(`Fill in the form: npx pony execute ${wfRunId.id} ${userTask.userTaskGuid} --userId alice`);
    } else {
      await client.completeUserTaskRun({
        userTaskRunId: userTask,
        userId: "alice",
        results: { approved: toVariableValue(true), comment: toVariableValue("fine by me") },
      });
      console.log(`alice approved UserTaskRun ${userTask.userTaskGuid}`);
    }

    const wfRun = await waitForWfRun(client, wfRunId, interactive ? 10 * 60_000 : 30_000);
    console.log(`WfRun ${wfRunId.id} is ${LHStatus[wfRun.status]}`);
    for (const v of (await client.listVariables({ wfRunId })).results) {
      console.log(`  ${v.id?.name} = ${JSON.stringify(fromVariableValue(v.value))}`);
    }
    return wfRun.status === LHStatus.COMPLETED ? 0 : 1;
  } catch (e) {
    if (e instanceof LHApiError && e.code === "UNIMPLEMENTED") {
      console.error(`This server does not run user tasks yet: ${e.details}`);
    } else {
      console.error(e instanceof Error ? e.message : String(e));
    }
    return 1;
  } finally {
    for (const w of workers) await w.close();
    config.close();
  }
}

process.exitCode = await main();
