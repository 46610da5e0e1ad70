/**
 * The dashboard's Task Runs page (B-KES-1, B-KES-2: Kestra's "Task Runs" view) in a real browser, over runs
 * made with the SDK against a real server: the TaskRuns of every WfRun with their state, times, duration and
 * attempts; the filters on state, TaskDef, WfSpec and time (kept in the URL); a row's attempts (status,
 * worker, output or error, log output); the stacked chart of states and the Kestra state mapping.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Locator, Page } from "playwright-core";
import type { WfRunId } from "@pony/proto";
import { Workflow, toVariableValue, type LHTaskWorker, type WorkerContext } from "@pony/sdk";
import { finished, startDashboardEnv, type DashboardEnv } from "../support/dashboard";

let env: DashboardEnv;
let flakyWorker: LHTaskWorker;
let boomWorker: LHTaskWorker;
let release: () => void = () => {};

const GREET = "kes-greet";
const FLAKY = "kes-flaky";
const BOOM = "kes-boom";
const SLOW = "kes-slow";
const FLOW = "kes-flow";
const BOOM_WF = "kes-boom-flow";
const SLOW_WF = "kes-slow-flow";

const FLOW_RUNS = ["kes-run-1", "kes-run-2", "kes-run-3"];
const BOOM_RUNS = ["kes-boom-1", "kes-boom-2"];
const NAMES = ["Ada", "Bob", "Cy"];

const flow = Workflow.newWorkflow(FLOW, (wf) => {
  const name = wf.declareStr("name").required();
  const greeting = wf.declareStr("greeting");
  wf.mutate(greeting, "ASSIGN", wf.execute(GREET, name));
  wf.execute(FLAKY, greeting).withRetries(2);
});

const boomFlow = Workflow.newWorkflow(BOOM_WF, (wf) => {
  wf.execute(BOOM);
});

const slowFlow = Workflow.newWorkflow(SLOW_WF, (wf) => {
  wf.execute(SLOW).timeout(120);
});

beforeAll(async () => {
  env = await startDashboardEnv();
  await env.worker(
    GREET,
    (name: string, ctx: WorkerContext) => {
      ctx.log(`greeting ${name}`);
      return `Hello, ${name}!`;
    },
    [["name", "STR"]],
  );
  flakyWorker = await env.worker(
    FLAKY,
    (text: string, ctx: WorkerContext) => {
      // the first attempt of every TaskRun fails, the retry succeeds
      if (ctx.attemptNumber === 0) throw new Error("flaky: the first attempt fails");
      return text.length;
    },
    [["text", "STR"]],
  );
  boomWorker = await env.worker(BOOM, () => {
    throw new Error("boom: always fails");
  });
  const gate = new Promise<void>((resolve) => (release = resolve));
  await env.worker(SLOW, async () => {
    await gate;
    return "slept";
  });
  await env.client.putWfSpec(flow.compile());
  await env.client.putWfSpec(boomFlow.compile());
  await env.client.putWfSpec(slowFlow.compile());
  const ids: WfRunId[] = [];
  for (const [i, id] of FLOW_RUNS.entries())
    ids.push(
      (await env.client.runWf({ wfSpecName: FLOW, id, variables: { name: toVariableValue(NAMES[i]) } })).id!,
    );
  for (const id of BOOM_RUNS) ids.push((await env.client.runWf({ wfSpecName: BOOM_WF, id })).id!);
  for (const id of ids) await env.waitFor(id, finished);
});

afterAll(async () => {
  release();
  await env?.close();
});

const rowsOf = (page: Page) => page.getByTestId("task-runs").getByTestId("task-run-row");
/**
 * An attribute of every row, in the order shown, read in one go: a row read one by one could be gone by the
 * time its turn comes (the list re-rendered), and reading it would wait for it
 */
const attrs = (rows: Locator, name: string) =>
  rows.evaluateAll((els, n) => els.map((e) => e.getAttribute(n) ?? ""), name);
const wfRunsOf = async (rows: Locator) => (await attrs(rows, "data-wf-run")).sort();
const row = (page: Page, wfRun: string, taskDef: string) =>
  page.locator(`[data-testid="task-run-row"][data-wf-run="${wfRun}"][data-task-def="${taskDef}"]`);

describe("Task Runs page", () => {
  it("B-KES-1 lists the TaskRuns of every WfRun: WfRun, TaskDef, state, start, end, duration and attempts", async () => {
    const page = await env.browser.open("/taskRuns");
    const rows = rowsOf(page);
    await expect.poll(() => rows.count()).toBe(8);
    expect(await wfRunsOf(rows)).toEqual([...BOOM_RUNS, ...FLOW_RUNS, ...FLOW_RUNS].sort());

    // a retried TaskRun: two attempts, a success in the end
    const flaky = row(page, "kes-run-1", FLAKY);
    await flaky.waitFor();
    await expect.poll(() => flaky.getByTestId("attempts-count").textContent()).toBe("2");
    expect(await flaky.locator(".status").getAttribute("data-status")).toBe("TASK_SUCCESS");
    const cells = await flaky.locator("td").allTextContents();
    expect(cells[0]).toContain("kes-run-1");
    expect(cells[1]).toBe(FLAKY);
    expect(cells[4]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/); // start: the first attempt's
    expect(cells[5]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/); // end: the last attempt's
    expect(cells[6]).toMatch(/\d+(\.\d)? (ms|s)$/);
    // a failed one, Kestra's FAILED
    const boom = row(page, "kes-boom-1", BOOM);
    await expect.poll(() => boom.locator(".status").getAttribute("data-status")).toBe("TASK_FAILED");
    expect(await boom.getAttribute("data-kestra-state")).toBe("FAILED");
    expect(await boom.getByTestId("attempts-count").textContent()).toBe("1");
    // the links: WfRun and TaskDef
    expect(await flaky.getByRole("link", { name: "kes-run-1" }).getAttribute("href")).toBe(
      "/wfRun/kes-run-1",
    );
    expect(await flaky.getByRole("link", { name: FLAKY }).getAttribute("href")).toBe(`/taskDef/${FLAKY}`);
    await page.context().close();
  });

  it("B-KES-1 a stacked chart of the states over the range and the Kestra state mapping", async () => {
    const page = await env.browser.open("/taskRuns");
    const chart = page.getByTestId("states-chart");
    await chart.getByText("TaskRun attempts by state, per 2 hours").waitFor();
    await expect.poll(() => chart.locator(".recharts-bar-rectangle").count()).toBeGreaterThan(0);
    for (const legend of ["Completed", "Errored", "Still in flight"])
      await chart.locator(".recharts-legend-wrapper").getByText(legend).waitFor();
    expect(await chart.locator(".recharts-cartesian-axis-tick").count()).toBeGreaterThan(2);
    await chart.getByText("window start (local time)").waitFor();
    // every TaskDef's attempts: 3 greet + 3 flaky retries completed; 3 flaky first attempts + 2 boom errored
    const totals = chart.getByTestId("totals");
    await expect.poll(() => totals.textContent()).toContain("6 completed");
    expect(await totals.textContent()).toContain("5 errored");
    expect(await totals.textContent()).toContain("0 still in flight");
    // only the chosen TaskDef
    await page.getByLabel("TaskDef", { exact: true }).selectOption(FLAKY);
    await expect.poll(() => totals.textContent()).toContain("3 completed");
    expect(await totals.textContent()).toContain("3 errored");

    const mapping = page.getByTestId("state-mapping");
    await mapping.waitFor();
    const kestra = await mapping.locator("tbody tr td:first-child").allTextContents();
    expect(kestra).toEqual(expect.arrayContaining(["CREATED", "RUNNING", "SUCCESS", "FAILED", "WARNING"]));
    const failed = mapping
      .locator("tbody tr")
      .filter({ has: page.getByRole("cell", { name: "FAILED", exact: true }) });
    expect(await failed.textContent()).toContain("TASK_TIMEOUT");
    const warning = mapping
      .locator("tbody tr")
      .filter({ has: page.getByRole("cell", { name: "WARNING", exact: true }) });
    expect(await warning.textContent()).toContain("TASK_EXCEPTION");
    await page.context().close();
  });

  it("B-KES-1 filters by state, TaskDef, WfSpec and time range, kept in the URL", async () => {
    const page = await env.browser.open("/taskRuns");
    const rows = rowsOf(page);
    await expect.poll(() => rows.count()).toBe(8);

    await page.getByLabel("state", { exact: true }).selectOption("TASK_FAILED");
    await expect.poll(() => wfRunsOf(rows)).toEqual(BOOM_RUNS);
    expect(new URL(page.url()).searchParams.get("status")).toBe("TASK_FAILED");

    await page.getByLabel("state", { exact: true }).selectOption("");
    await page.getByLabel("TaskDef", { exact: true }).selectOption(GREET);
    await expect.poll(() => wfRunsOf(rows)).toEqual(FLOW_RUNS);
    // each row names its TaskDef once its GetTaskRun has arrived
    await expect.poll(() => attrs(rows, "data-task-def")).toEqual([GREET, GREET, GREET]);
    expect(new URL(page.url()).searchParams.get("taskDef")).toBe(GREET);

    // a WfSpec: the TaskRuns of its WfRuns, 10 WfRuns a page
    await page.getByLabel("TaskDef", { exact: true }).selectOption("");
    await page.getByLabel("WfSpec", { exact: true }).selectOption(BOOM_WF);
    await page.getByText("the TaskRuns of the next 10 WfRuns").waitFor();
    await expect.poll(() => wfRunsOf(rows)).toEqual(BOOM_RUNS);
    await page.getByLabel("WfSpec", { exact: true }).selectOption(FLOW);
    await expect.poll(() => rows.count()).toBe(6);
    await page.getByLabel("TaskDef", { exact: true }).selectOption(FLAKY);
    await expect.poll(() => wfRunsOf(rows)).toEqual(FLOW_RUNS);
    await page.getByLabel("state", { exact: true }).selectOption("TASK_FAILED");
    await page.getByTestId("no-task-runs").waitFor();
    expect(new URL(page.url()).searchParams.get("wfSpec")).toBe(FLOW);
    await page.context().close();

    // a shared link opens the same view
    const shared = await env.browser.open(`/taskRuns?taskDef=${GREET}&wfSpec=${FLOW}`);
    await expect.poll(() => wfRunsOf(rowsOf(shared))).toEqual(FLOW_RUNS);
    expect(await shared.getByLabel("TaskDef", { exact: true }).inputValue()).toBe(GREET);
    expect(await shared.getByLabel("WfSpec", { exact: true }).inputValue()).toBe(FLOW);
    await shared.context().close();

    // a range after every TaskRun: nothing; one around them: all
    const later = await env.browser.open(`/taskRuns?from=${Date.now() + 3_600_000}`);
    await later.getByTestId("no-task-runs").waitFor();
    await later.getByRole("button", { name: "Last hour" }).click();
    await expect.poll(() => rowsOf(later).count()).toBe(8);
    await later.context().close();
  });

  it("B-KES-2 a row opens its attempts: each with its status, times, worker, output or error and log output", async () => {
    const page = await env.browser.open("/taskRuns");
    const flaky = row(page, "kes-run-1", FLAKY);
    await flaky.click();
    const attempts = page.getByTestId("attempt");
    await expect.poll(() => attempts.count()).toBe(2);
    expect(new URL(page.url()).searchParams.get("taskRun")).toMatch(/^kes-run-1\//);
    const first = attempts.nth(0);
    const second = attempts.nth(1);
    expect(await first.locator(".status").getAttribute("data-status")).toBe("TASK_FAILED");
    expect(await first.textContent()).toContain("flaky: the first attempt fails");
    expect(await first.textContent()).toContain(flakyWorker.taskWorkerId);
    expect(await second.locator(".status").getAttribute("data-status")).toBe("TASK_SUCCESS");
    expect(await second.textContent()).toContain(String("Hello, Ada!".length));
    expect(await second.textContent()).toContain(flakyWorker.taskWorkerId);
    for (const a of [first, second])
      expect((await a.locator("td").allTextContents()).slice(2, 4).join(" ")).toMatch(
        /\d\d:\d\d:\d\d.*\d\d:\d\d:\d\d/,
      );
    await env.browser.screenshot(page, "task-runs");

    // another click closes it; the greet TaskRun shows the task's log output
    await flaky.click();
    await expect.poll(() => attempts.count()).toBe(0);
    await row(page, "kes-run-2", GREET).click();
    await expect.poll(() => attempts.count()).toBe(1);
    expect(await attempts.first().textContent()).toContain("Hello, Bob!");
    expect(await attempts.first().textContent()).toContain("greeting Bob");
    await row(page, "kes-boom-2", BOOM).click();
    await page.getByTestId("attempt").getByText("boom: always fails").waitFor();
    expect(await attempts.first().textContent()).toContain(boomWorker.taskWorkerId);
    await page.context().close();
  });

  it("B-KES-1 a running TaskRun's duration ticks until it ends", async () => {
    const id = (await env.client.runWf({ wfSpecName: SLOW_WF, id: "kes-slow-1" })).id!;
    const page = await env.browser.open(`/taskRuns?taskDef=${SLOW}`);
    const slow = row(page, "kes-slow-1", SLOW);
    await expect.poll(() => slow.locator(".status").getAttribute("data-status")).toBe("TASK_RUNNING");
    expect(await slow.getAttribute("data-kestra-state")).toBe("RUNNING");
    const duration = slow.getByTestId("duration");
    await expect.poll(() => duration.textContent()).toMatch(/s$/);
    const before = await duration.textContent();
    await expect.poll(() => duration.textContent(), { timeout: 5000 }).not.toBe(before);
    expect(await slow.locator("td").nth(5).textContent()).toBe("–"); // no end yet
    release();
    await env.waitFor(id, finished);
    await expect.poll(() => slow.locator(".status").getAttribute("data-status")).toBe("TASK_SUCCESS");
    const ended = await duration.textContent();
    expect(await slow.locator("td").nth(5).textContent()).toMatch(/^\d{4}-/);
    // over: the duration no longer ticks
    await expect.poll(() => page.locator("td.live").count()).toBe(0);
    expect(await duration.textContent()).toBe(ended);
    await page.context().close();
  });
});
