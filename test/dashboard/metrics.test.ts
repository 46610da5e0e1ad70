/**
 * The dashboard's TaskDef page and WfSpec metrics page in a real browser, over runs made with the SDK
 * against a real server: a TaskDef's input variables, the WfSpecs that use it, its metrics windows as charts
 * (B-SRCH-5) with a window length picker, its latest TaskRuns and the link to its Task Runs view (B-KES-1);
 * a WfSpec version's metrics charts; the not-found pages.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import type { WfRunId } from "@pony/proto";
import { Workflow, toVariableValue, type WorkerContext } from "@pony/sdk";
import { finished, startDashboardEnv, type DashboardEnv } from "../support/dashboard";

let env: DashboardEnv;

const GREET = "met-greet";
const NAP = "met-nap";
const BROKEN = "met-broken";
const FLOW = "met-flow";
const FAILS = "met-fails";
const RUNS = ["met-run-1", "met-run-2", "met-run-3"];

const flow = Workflow.newWorkflow(FLOW, (wf) => {
  const name = wf.declareStr("name").required();
  const times = wf.declareInt("times", 2);
  wf.execute(GREET, name, times);
  wf.execute(NAP);
});

const failing = Workflow.newWorkflow(FAILS, (wf) => {
  wf.execute(BROKEN);
});

beforeAll(async () => {
  env = await startDashboardEnv();
  await env.worker(
    GREET,
    (name: string, times: number, ctx: WorkerContext) => {
      ctx.log(`greeting ${name} ${times} times`);
      return `Hello, ${name}!`.repeat(times);
    },
    [
      ["name", "STR"],
      ["times", "INT"],
    ],
  );
  await env.worker(NAP, async () => {
    await new Promise((resolve) => setTimeout(resolve, 40));
    return true;
  });
  await env.worker(BROKEN, () => {
    throw new Error("out of order");
  });
  await env.client.putWfSpec(flow.compile());
  await env.client.putWfSpec(failing.compile());
  const ids: WfRunId[] = [];
  for (const id of RUNS)
    ids.push(
      (await env.client.runWf({ wfSpecName: FLOW, id, variables: { name: toVariableValue(id) } })).id!,
    );
  ids.push((await env.client.runWf({ wfSpecName: FAILS, id: "met-fail-1" })).id!);
  for (const id of ids) await env.waitFor(id, finished);
});

afterAll(async () => {
  await env?.close();
});

const notFound = async (page: Page, what: string) => {
  await page.getByRole("heading", { name: "Not found" }).waitFor();
  await page.getByText(`${what} does not exist in this tenant.`).waitFor();
};

describe("TaskDef page", () => {
  it("B-SRCH-5 shows its input variables, the WfSpecs that use it and its metrics windows as charts", async () => {
    const page = await env.browser.open(`/taskDef/${GREET}`);
    await page.getByRole("heading", { name: `TaskDef ${GREET}` }).waitFor();
    const inputs = page.getByTestId("input-vars").locator("tbody tr");
    await expect.poll(() => inputs.count()).toBe(2);
    expect(await inputs.nth(0).locator("td").allTextContents()).toEqual(["1", "name", "STR"]);
    expect(await inputs.nth(1).locator("td").allTextContents()).toEqual(["2", "times", "INT"]);

    const specs = page.getByTestId("wf-specs-using");
    const link = specs.getByRole("link", { name: `${FLOW} v0.0` });
    await link.waitFor();
    expect(await link.getAttribute("href")).toBe(`/wfSpec/${FLOW}/0/0`);
    expect(await specs.getByText(FAILS).count()).toBe(0);

    const metrics = page.getByTestId("task-def-metrics");
    const counts = metrics.getByTestId("counts-chart");
    await expect.poll(() => counts.locator(".recharts-bar-rectangle").count()).toBeGreaterThan(0);
    for (const legend of ["Scheduled", "Started", "Completed", "Errored"])
      await counts.locator(".recharts-legend-wrapper").getByText(legend).waitFor();
    await expect.poll(() => metrics.getByTestId("totals").textContent()).toContain("3 scheduled");
    expect(await metrics.getByTestId("totals").textContent()).toContain("3 completed");
    for (const chart of ["schedule-to-start-chart", "start-to-complete-chart"]) {
      const c = metrics.getByTestId(chart);
      await expect.poll(() => c.locator(".recharts-line-curve").count()).toBe(2);
      for (const legend of ["Average", "Maximum"])
        await c.locator(".recharts-legend-wrapper").getByText(legend).waitFor();
      // the duration axis reads as durations
      await expect
        .poll(() => c.locator(".recharts-cartesian-axis-tick-value").allTextContents())
        .toContain("0 ms");
    }
    expect(await page.getByRole("radio", { name: "2 hours" }).getAttribute("aria-checked")).toBe("true");
    await env.browser.screenshot(page, "task-def");

    // another window length: the URL keeps it, the charts follow
    await page.getByRole("radio", { name: "5 minutes" }).click();
    await page.getByText("Attempts per 5 minutes").waitFor();
    expect(new URL(page.url()).searchParams.get("window")).toBe("MINUTES_5");
    await expect.poll(() => counts.locator(".recharts-bar-rectangle").count()).toBeGreaterThan(0);
    await page.getByRole("radio", { name: "1 day" }).click();
    await page.getByText("Attempts per 1 day").waitFor();
    await expect.poll(() => metrics.getByTestId("totals").textContent()).toContain("3 completed");
    await page.context().close();
  });

  it("B-SRCH-5 a slow task's start-to-complete latency shows in its charts", async () => {
    const page = await env.browser.open(`/taskDef/${NAP}?window=MINUTES_5`);
    const chart = page.getByTestId("start-to-complete-chart");
    await expect.poll(() => chart.locator(".recharts-line-curve").count()).toBe(2);
    // the maximum is at least the 40 ms the task sleeps
    const text = await page.getByTestId("task-def-metrics").locator("p").first().textContent();
    const max = /start to complete at most (\d+) ms/.exec(text ?? "");
    expect(max, text ?? "").not.toBeNull();
    expect(Number(max![1])).toBeGreaterThanOrEqual(40);
    await page.context().close();
  });

  it("B-KES-1 embeds its latest TaskRuns (a row opens the attempts) and links to its Task Runs view", async () => {
    const page = await env.browser.open(`/taskDef/${GREET}`);
    const latest = page.getByTestId("latest-task-runs");
    const rows = latest.getByTestId("task-run-row");
    await expect.poll(() => rows.count()).toBe(3);
    // newest first
    const shown = await rows.evaluateAll((els) => els.map((e) => e.getAttribute("data-wf-run")));
    expect(shown).toEqual([...RUNS].reverse());
    await rows.first().click();
    const attempt = latest.getByTestId("attempt");
    await attempt.getByText("greeting met-run-3 2 times").waitFor();
    expect(await attempt.locator(".status").getAttribute("data-status")).toBe("TASK_SUCCESS");

    const link = page.getByTestId("task-runs-link");
    expect(await link.getAttribute("href")).toBe(`/taskRuns?taskDef=${GREET}`);
    await link.click();
    await page.getByRole("heading", { name: "Task Runs" }).waitFor();
    expect(await page.getByLabel("TaskDef", { exact: true }).inputValue()).toBe(GREET);
    const listed = page.getByTestId("task-runs").getByTestId("task-run-row");
    await expect.poll(() => listed.count()).toBe(3);
    await page.context().close();
  });

  it("an unknown TaskDef shows the not-found page", async () => {
    const page = await env.browser.open("/taskDef/no-such-task");
    await notFound(page, "TaskDef 'no-such-task'");
    await page.context().close();
  });
});

describe("WfSpec metrics page", () => {
  it("B-SRCH-5 charts started, completed and errored WfRuns and their latency per window", async () => {
    const page = await env.browser.open(`/wfSpec/${FLOW}/0/0/metrics`);
    await page.getByRole("heading", { name: `Metrics of WfSpec ${FLOW} v0.0` }).waitFor();
    const counts = page.getByTestId("counts-chart");
    await expect.poll(() => counts.locator(".recharts-bar-rectangle").count()).toBeGreaterThan(0);
    for (const legend of ["Started", "Completed", "Errored"])
      await counts.locator(".recharts-legend-wrapper").getByText(legend).waitFor();
    const totals = page.getByTestId("totals");
    await expect.poll(() => totals.textContent()).toContain("3 started");
    expect(await totals.textContent()).toContain("3 completed");
    expect(await totals.textContent()).toContain("0 errored");
    const latency = page.getByTestId("latency-chart");
    await expect.poll(() => latency.locator(".recharts-line-curve").count()).toBe(2);
    await latency.getByText("Start to complete").waitFor();
    const back = page.getByTestId("back-to-wf-spec");
    expect(await back.getAttribute("href")).toBe(`/wfSpec/${FLOW}/0/0`);
    await env.browser.screenshot(page, "wf-spec-metrics");

    await page.getByRole("radio", { name: "1 day" }).click();
    await counts.getByText("WfRuns per 1 day").waitFor();
    expect(new URL(page.url()).searchParams.get("window")).toBe("DAYS_1");
    await expect.poll(() => totals.textContent()).toContain("3 started");
    await back.click();
    await page.getByRole("heading", { name: new RegExp(`^WfSpec ${FLOW}`) }).waitFor();
    await page.context().close();
  });

  it("B-SRCH-5 a WfSpec whose WfRuns fail counts them as errored", async () => {
    const page = await env.browser.open(`/wfSpec/${FAILS}/0/0/metrics?window=MINUTES_5`);
    const totals = page.getByTestId("totals");
    await expect.poll(() => totals.textContent()).toContain("1 errored");
    expect(await totals.textContent()).toContain("1 started");
    await expect.poll(() => page.locator(".recharts-bar-rectangle").count()).toBeGreaterThan(0);
    await page.context().close();
  });

  it("an unknown WfSpec version shows the not-found page", async () => {
    const page = await env.browser.open(`/wfSpec/${FLOW}/7/0/metrics`);
    await notFound(page, `WfSpec '${FLOW}' v7.0`);
    await page.context().close();
  });
});
