// The README's worked test ("Testing your workflows"), run by `npm test` as written there.
import { LHStatus } from "@pony/proto";
import { toVariableValue, Workflow } from "@pony/sdk";
import { PonyTestEnv } from "@pony/sdk/testing";
import { afterAll, beforeAll, expect, it } from "vitest";

const reminder = Workflow.newWorkflow("renewal-reminder", (wf) => {
  const customer = wf.declareStr("customer").required();
  wf.sleepSeconds(30 * 86_400); // a month before the renewal
  wf.execute("send-reminder", customer);
});

let env: PonyTestEnv;
beforeAll(async () => {
  env = await PonyTestEnv.start(); // an in-process server on a throwaway store
  await env.startWorker(async (customer: string) => `mailed ${customer}`, "send-reminder", {
    inputVars: [["customer", "STR"]],
  });
  await env.client.putWfSpec(reminder.compile());
});
afterAll(() => env.close());

it("reminds the customer after 30 days", async () => {
  const run = await env.client.runWf({
    wfSpecName: "renewal-reminder",
    variables: { customer: toVariableValue("ada@example.com") },
  });
  const done = await env.waitForWfRun(run.id!); // the 30 days pass in milliseconds
  expect(done.status).toBe(LHStatus.COMPLETED);
});
