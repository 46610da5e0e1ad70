/**
 * `@pony/sdk/testing`: the in-process server, its client and workers, and time skipping — a 30-day sleep in
 * well under a second, an external event's timeout, a retry's backoff, a cron schedule's tick — with the
 * examples' workflows where they fit.
 */
import { LHStatus, TaskStatus, VariableType } from "@pony/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fromVariableValue, toVariableValue, Workflow, type WorkerContext } from "../src/index";
import { PonyTestEnv } from "../src/testing";
import { greet } from "../../../examples/quickstart/worker";
import { quickstartWorkflow } from "../../../examples/quickstart/workflow";
import { workflow as paymentWorkflow } from "../../../examples/external-events/workflow";

const DAY = 86_400_000;

let env: PonyTestEnv;

beforeAll(async () => {
  env = await PonyTestEnv.start();
  await env.startWorker(greet, "greet", { inputVars: [["name", "STR"]] });
});
afterAll(async () => {
  await env.close();
});

async function variables(id: string): Promise<Record<string, unknown>> {
  const list = await env.client.listVariables({ wfRunId: { id } });
  return Object.fromEntries(list.results.map((v) => [v.id!.name, fromVariableValue(v.value)]));
}

describe("PonyTestEnv", () => {
  it("runs the quick start's workflow with its worker against an in-process server", async () => {
    await env.client.putWfSpec(quickstartWorkflow.compile());
    const run = await env.client.runWf({
      wfSpecName: "quickstart",
      id: "qs-1",
      variables: { name: toVariableValue("Ada") },
    });
    const done = await env.waitForWfRun(run.id!);
    expect(done.status).toBe(LHStatus.COMPLETED);
    expect(await variables("qs-1")).toEqual({ name: "Ada", greeting: "Hello, Ada! Welcome to Pony." });
  });

  it("a workflow that sleeps for 30 days finishes in under a second: time skips while nothing runs", async () => {
    const sleepy = Workflow.newWorkflow("sleeps-30-days", (wf) => {
      const name = wf.declareStr("name").required();
      const greeting = wf.declareStr("greeting");
      wf.sleepSeconds(30 * 86_400);
      wf.mutate(greeting, "ASSIGN", wf.execute("greet", name));
    });
    await env.client.putWfSpec(sleepy.compile());
    const skippedBefore = env.skippedMs;
    const started = Date.now();
    const run = await env.client.runWf({
      wfSpecName: "sleeps-30-days",
      id: "sleepy-1",
      variables: { name: toVariableValue("Bo") },
    });
    const done = await env.waitForWfRun(run.id!);
    const realMs = Date.now() - started;
    expect(done.status).toBe(LHStatus.COMPLETED);
    expect(realMs).toBeLessThan(1000);
    expect(env.skippedMs - skippedBefore).toBeGreaterThanOrEqual(30 * DAY - 1000);
    const sleep = await env.client.getNodeRun({
      wfRunId: { id: "sleepy-1" },
      threadRunNumber: 0,
      position: 1,
    });
    const ms = (t: { seconds: bigint; nanos: number } | undefined) =>
      Number(t!.seconds) * 1000 + t!.nanos / 1e6;
    expect(ms(sleep.endTime) - ms(sleep.arrivalTime)).toBeGreaterThanOrEqual(30 * DAY);
    expect(await variables("sleepy-1")).toMatchObject({ greeting: "Hello, Bo! Welcome to Pony." });
  });

  it("the external-events example's one-minute timeout fires at once when no event comes", async () => {
    await env.client.putExternalEventDef({ name: "payment-received" });
    await env.startWorker(
      async (orderId: string, amount: number) => `shipped ${orderId}, paid ${amount}`,
      "ship-order",
      {
        inputVars: [
          ["order-id", "STR"],
          ["amount", "DOUBLE"],
        ],
      },
    );
    await env.client.putWfSpec(paymentWorkflow.compile());
    const started = Date.now();
    const run = await env.client.runWf({
      wfSpecName: "example-external-events",
      id: "unpaid-1",
      variables: { "order-id": toVariableValue("o-1") },
    });
    const done = await env.waitForWfRun(run.id!);
    expect(done.status).toBe(LHStatus.ERROR);
    expect(Date.now() - started).toBeLessThan(1000);
    const node = await env.client.getNodeRun({
      wfRunId: { id: "unpaid-1" },
      threadRunNumber: 0,
      position: 1,
    });
    expect(node.failures[0]?.failureName).toBe("TIMEOUT");

    // with the event posted, the same workflow completes
    const paid = await env.client.runWf({
      wfSpecName: "example-external-events",
      id: "paid-1",
      variables: { "order-id": toVariableValue("o-2") },
    });
    await env.client.putExternalEvent({
      wfRunId: paid.id,
      externalEventDefId: { name: "payment-received" },
      content: toVariableValue({ amount: 42.5 }),
    });
    expect((await env.waitForWfRun(paid.id!)).status).toBe(LHStatus.COMPLETED);
  });

  it("a failed task's retry waits out its exponential backoff (an hour) at once", async () => {
    let calls = 0;
    await env.startWorker(
      async (ctx: WorkerContext) => {
        calls++;
        if (ctx.attemptNumber < 2) throw new Error(`attempt ${ctx.attemptNumber} fails`);
        return "third time lucky";
      },
      "flaky",
      { inputVars: [] },
    );
    const flaky = Workflow.newWorkflow("retries-with-backoff", (wf) => {
      const out = wf.declareStr("out");
      wf.mutate(
        out,
        "ASSIGN",
        wf
          .execute("flaky")
          .withRetries(2)
          .withExponentialBackoff({ baseIntervalMs: 3_600_000, multiplier: 2, maxDelayMs: 4 * 3_600_000 }),
      );
    });
    await env.client.putWfSpec(flaky.compile());
    const started = Date.now();
    const run = await env.client.runWf({ wfSpecName: "retries-with-backoff", id: "flaky-1" });
    const done = await env.waitForWfRun(run.id!);
    expect(done.status).toBe(LHStatus.COMPLETED);
    expect(calls).toBe(3);
    expect(Date.now() - started).toBeLessThan(2000);
    const task = (await env.client.listTaskRuns({ wfRunId: { id: "flaky-1" } })).results[0]!;
    const scheduled = task.attempts.map((a) => Number(a.scheduleTime!.seconds));
    // the second attempt an hour after the first, the third two hours after the second
    expect(scheduled[1]! - scheduled[0]!).toBeGreaterThanOrEqual(3600);
    expect(scheduled[2]! - scheduled[1]!).toBeGreaterThanOrEqual(7200);
  });

  it("B-TASK-7 a worker that hangs meets its task's one-hour timeout at once, and the retry times out too", async () => {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let calls = 0;
    await env.startWorker(
      async () => {
        calls++;
        await released; // never answers while the test runs
        return "too late";
      },
      "hangs",
      { inputVars: [] },
    );
    const hangs = Workflow.newWorkflow("task-times-out", (wf) => {
      wf.execute("hangs").timeout(3600).withRetries(1);
    });
    await env.client.putWfSpec(hangs.compile());
    try {
      const skippedBefore = env.skippedMs;
      const started = Date.now();
      const run = await env.client.runWf({ wfSpecName: "task-times-out", id: "hangs-1" });
      const done = await env.waitForWfRun(run.id!);
      const realMs = Date.now() - started;
      expect(done.status).toBe(LHStatus.ERROR);
      expect(done.threadRuns[0]!.errorMessage).toMatch(/TIMEOUT|timed out/i);
      const task = (await env.client.listTaskRuns({ wfRunId: { id: "hangs-1" } })).results[0]!;
      expect(task.attempts.map((a) => TaskStatus[a.status])).toEqual(["TASK_TIMEOUT", "TASK_TIMEOUT"]);
      expect(calls).toBe(2);
      // two hours of timeouts passed, skipped but for the stuck-task waits of real time
      expect(realMs).toBeLessThan(3000);
      expect(env.skippedMs - skippedBefore).toBeGreaterThanOrEqual(2 * 3_600_000 - realMs);
      for (const a of task.attempts) {
        const ran = Number(a.endTime!.seconds) - Number(a.startTime!.seconds);
        expect(ran).toBeGreaterThanOrEqual(3600);
      }
    } finally {
      release();
    }
  });

  it("a cron schedule's next tick comes at once, and skip() moves the clock to a chosen time", async () => {
    const nightly = Workflow.newWorkflow("nightly", (wf) => {
      wf.declareStr("name").required();
    });
    await env.client.putWfSpec(nightly.compile());
    await env.client.scheduleWf({
      id: "every-midnight",
      wfSpecName: "nightly",
      cronExpression: "0 0 * * *",
      variables: { name: toVariableValue("night") },
    });
    const midnight = Math.floor(env.now() / DAY) * DAY + DAY;
    const iso = new Date(midnight).toISOString().replace(/[-:T]/g, "").slice(0, 12);
    const first = await env.waitForWfRun(`every-midnight-${iso}`);
    expect(first.status).toBe(LHStatus.COMPLETED);
    expect(env.now()).toBeGreaterThanOrEqual(midnight);

    // skip() moves to a time of the test's choosing, firing what is due on the way
    await env.skip(DAY);
    const next = new Date(midnight + DAY).toISOString().replace(/[-:T]/g, "").slice(0, 12);
    const second = await env.client.getWfRun({ id: `every-midnight-${next}` });
    expect(second.wfSpecId?.name).toBe("nightly");
    await env.client.deleteScheduledWfRun({ id: { id: "every-midnight" } });
  });

  it("a user task's reminder two days after it arrives runs at once when the test skips three days", async () => {
    await env.client.putUserTaskDef({
      name: "approve-expense",
      fields: [{ name: "ok", type: VariableType.BOOL }],
    });
    const reminded: string[] = [];
    await env.startWorker(
      async (who: string) => {
        reminded.push(who);
        return "reminded";
      },
      "remind",
      { inputVars: [["who", "STR"]] },
    );
    const approval = Workflow.newWorkflow("expense-approval", (wf) => {
      const task = wf.assignUserTask("approve-expense", "ada");
      wf.scheduleReminderTask(task, 2 * 86_400, "remind", "ada");
    });
    await env.client.putWfSpec(approval.compile());
    await env.client.runWf({ wfSpecName: "expense-approval", id: "expense-1" });
    await env.skip(DAY);
    expect(reminded).toEqual([]);
    await env.skip(2 * DAY);
    const tasks = await env.client.listTaskRuns({ wfRunId: { id: "expense-1" } });
    expect(reminded).toEqual(["ada"]);
    expect(tasks.results.map((t) => t.taskDefId?.name)).toEqual(["remind"]);
    // the user task itself still waits for Ada
    expect((await env.client.getWfRun({ id: "expense-1" })).status).toBe(LHStatus.RUNNING);
  });

  it("waitForWfRun gives up, saying why, when the WfRun waits for something no timer brings", async () => {
    const waits = Workflow.newWorkflow("waits-forever", (wf) => {
      wf.waitForEvent("never-posted");
    });
    await env.client.putExternalEventDef({ name: "never-posted" });
    await env.client.putWfSpec(waits.compile());
    const run = await env.client.runWf({ wfSpecName: "waits-forever", id: "forever-1" });
    await expect(env.waitForWfRun(run.id!, { timeoutMs: 300 })).rejects.toThrow(
      /WfRun 'forever-1' is RUNNING after 300 ms .* it waits for something no timer brings/,
    );
  });
  // last: its queued task stays pending, so later waits here would each take a stuck-task wait
  it("a task no worker polls stops neither the clock nor other WfRuns' sleeps", async () => {
    await env.client.putTaskDef({ name: "nobody-polls" });
    const orphan = Workflow.newWorkflow("waits-for-a-worker", (wf) => {
      wf.execute("nobody-polls");
    });
    const naps = Workflow.newWorkflow("naps-a-week", (wf) => {
      wf.sleepSeconds(7 * 86_400);
    });
    await env.client.putWfSpec(orphan.compile());
    await env.client.putWfSpec(naps.compile());
    await env.client.runWf({ wfSpecName: "waits-for-a-worker", id: "orphan-1" });
    const nap = await env.client.runWf({ wfSpecName: "naps-a-week", id: "nap-1" });
    expect((await env.waitForWfRun(nap.id!)).status).toBe(LHStatus.COMPLETED);
    // the orphan's task is still queued, waiting for a worker of its TaskDef
    const orphanTask = (await env.client.listTaskRuns({ wfRunId: { id: "orphan-1" } })).results[0]!;
    expect(orphanTask.status).toBe(TaskStatus.TASK_SCHEDULED);
  });
});
