/**
 * The dashboard's Home, WfSpec and WfRun pages in a real browser, over runs made with the SDK against a real
 * server: what a person sees (lists, the graph with node states and loop counts, NodeRuns, TaskRun attempts,
 * variables, events), what they can do (post an external event, stop, resume, rescue, run again), and the
 * not-found and error pages.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { LHStatus, type WfRunId } from "@pony/proto";
import { Workflow, toVariableValue, type WorkerContext } from "@pony/sdk";
import { finished, startDashboardEnv, type DashboardEnv } from "../support/dashboard";
import { TestIssuer } from "../support/oauth";

let env: DashboardEnv;
let looping: WfRunId;
let failing: WfRunId;

const GREET = "dash-greet";
const BROKEN = "dash-broken";
const APPROVE = "dash-approve";
const ORDER_WF = "dash-order";
const FAILS_WF = "dash-fails";

const orderWorkflow = Workflow.newWorkflow(ORDER_WF, (wf) => {
  const name = wf.declareStr("name").required();
  const count = wf.declareInt("count", 0);
  const greeting = wf.declareStr("greeting");
  wf.doWhile(wf.condition(count, "<", 3), (body) => {
    body.mutate(greeting, "ASSIGN", body.execute(GREET, name));
    body.mutate(count, "ADD", 1);
  });
  wf.waitForEvent(APPROVE);
});

const failsWorkflow = Workflow.newWorkflow(FAILS_WF, (wf) => {
  wf.execute(BROKEN);
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
  await env.worker(BROKEN, () => {
    throw new Error("the printer is on fire");
  });
  await env.client.putExternalEventDef({ name: APPROVE });
  await env.client.putWfSpec(orderWorkflow.compile());
  await env.client.putWfSpec(failsWorkflow.compile());
  looping = (
    await env.client.runWf({
      wfSpecName: ORDER_WF,
      id: "dash-loop-1",
      variables: { name: toVariableValue("Ada") },
    })
  ).id!;
  failing = (await env.client.runWf({ wfSpecName: FAILS_WF, id: "dash-fail-1" })).id!;
  await env.waitFor(looping, (r) => r.threadRuns[0]!.currentNodePosition > 7);
  await env.waitFor(failing, finished);
});

afterAll(async () => {
  await env?.close();
});

const text = (page: Page, s: string | RegExp) => page.getByText(s).first().waitFor();

describe("Home", () => {
  it("lists WfSpecs, TaskDefs and ExternalEventDefs by prefix, and the most recent WfRuns", async () => {
    const page = await env.browser.open("/");
    const results = page.getByTestId("metadata-results");
    await results.getByText(`${ORDER_WF} v0.0`).waitFor();
    await results.getByText(`${FAILS_WF} v0.0`).waitFor();
    await page.getByLabel("name prefix").fill("dash-f");
    await expect.poll(() => results.locator("tbody tr").count()).toBe(1);
    await page.getByRole("tab", { name: "TaskDefs", exact: true }).click();
    await page.getByLabel("name prefix").fill("");
    await results.getByText(GREET).waitFor();
    await results.getByText(BROKEN).waitFor();
    await page.getByRole("tab", { name: "ExternalEventDefs" }).click();
    await results.getByText(APPROVE).waitFor();
    // the newest first
    const recent = page.getByTestId("wf-runs");
    await recent.getByText("dash-fail-1").waitFor();
    const ids = await recent.locator("tbody tr td:first-child").allTextContents();
    expect(ids.indexOf("dash-fail-1")).toBeLessThan(ids.indexOf("dash-loop-1"));
    await page.getByRole("tab", { name: "WfSpecs" }).click();
    await env.browser.screenshot(page, "home");
    await page.context().close();
  });
});

describe("WfSpec page", () => {
  it("draws every node of the graph by its type, edges with their conditions, variables, TaskDefs and WfRuns", async () => {
    const page = await env.browser.open(`/wfSpec/${ORDER_WF}`);
    const graph = page.getByTestId("wf-graph");
    await graph.waitFor();
    // the quick layout first, then elkjs's, with the conditions' labels
    await page.locator('[data-testid=wf-graph][data-layout="elk"]').waitFor();
    const spec = await env.client.getLatestWfSpec({ name: ORDER_WF });
    const nodeCount = Object.keys(spec.threadSpecs[spec.entrypointThreadName]!.nodes).length;
    await expect.poll(() => graph.locator(".wf-node").count()).toBe(nodeCount);
    for (const kind of ["entrypoint", "task", "externalEvent", "nop", "exit"])
      expect(await graph.locator(`[data-node-kind="${kind}"]`).count()).toBeGreaterThan(0);
    await graph.getByText(GREET).waitFor();
    await graph.getByText("count < 3").first().waitFor();
    await graph.getByText("count ≥ 3").first().waitFor();
    // the page asks the server for the layout while it lays the graph out itself (whichever comes first is
    // drawn); the server keeps its layout for the next page: `?kept`, which never starts one, answers it
    const answered = page.waitForResponse((r) => r.url().endsWith("/layout"));
    await page.reload();
    const laid = await answered;
    expect(laid.status()).toBe(200);
    const layout = (await laid.json()) as { children: unknown[] };
    expect(layout.children).toHaveLength(nodeCount);
    await page.locator('[data-testid=wf-graph][data-layout="elk"]').waitFor();
    const kept = await fetch(`${env.url}/layout?kept`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: laid.request().postData()!,
    });
    expect(kept.status).toBe(200);
    expect(await kept.json()).toEqual(layout);
    await expect.poll(() => graph.locator(".wf-node").count()).toBe(nodeCount);
    const vars = page.getByTestId("variables");
    const row = (name: string) =>
      vars.locator("tbody tr").filter({ has: page.getByRole("cell", { name, exact: true }) });
    await row("count").waitFor();
    expect(await row("count").locator("td").allTextContents()).toEqual([
      "count",
      "INT",
      "no",
      "no",
      "PUBLIC_VAR",
      "0",
    ]);
    expect(await row("name").locator("td").allTextContents()).toEqual([
      "name",
      "STR",
      "yes",
      "no",
      "PUBLIC_VAR",
      "–",
    ]);
    await page.getByTestId("task-defs").getByText(GREET).waitFor();
    const runs = page.getByTestId("wf-runs");
    await runs.getByText("dash-loop-1").waitFor();
    await page.getByLabel("status").selectOption("COMPLETED");
    await page.getByText("No WfRuns.").waitFor();
    await page.getByLabel("status").selectOption("RUNNING");
    await runs.getByText("dash-loop-1").waitFor();
    await env.browser.screenshot(page, "wf-spec");
    await page.context().close();
  });

  it("lays the graph out in the page itself when the server cannot (its /layout answers 503)", async () => {
    const page = await env.browser.open("about:blank");
    const asked: string[] = [];
    await page.route("**/layout*", (route) => {
      asked.push(route.request().url());
      return route.fulfill({ status: 503, contentType: "application/json", body: '{"error":"busy"}' });
    });
    await page.goto(`/wfSpec/${ORDER_WF}`);
    const graph = page.locator('[data-testid=wf-graph][data-layout="elk"]');
    await graph.waitFor();
    const spec = await env.client.getLatestWfSpec({ name: ORDER_WF });
    const nodeCount = Object.keys(spec.threadSpecs[spec.entrypointThreadName]!.nodes).length;
    await expect.poll(() => graph.locator(".wf-node").count()).toBe(nodeCount);
    await graph.getByText("count < 3").first().waitFor();
    expect(asked.length).toBeGreaterThan(0);
  });

  it("an unknown WfSpec shows the not-found page", async () => {
    const page = await env.browser.open("/wfSpec/no-such-spec");
    await text(page, "Not found");
    await text(page, "WfSpec 'no-such-spec' does not exist in this tenant.");
    await page.context().close();
  });
});

describe("WfRun page", () => {
  it("colours nodes by their NodeRuns with loop counts; a node shows its NodeRuns and TaskRun attempts", async () => {
    const page = await env.browser.open(`/wfRun/${looping.id}`);
    const graph = page.getByTestId("wf-graph");
    await page.locator('[data-testid=wf-graph][data-layout="elk"]').waitFor();
    const task = graph.locator('[data-node-kind="task"]');
    await expect.poll(() => task.getAttribute("data-node-status")).toBe("COMPLETED");
    await task.getByText("×3").waitFor();
    expect(await graph.locator('[data-node-kind="externalEvent"]').getAttribute("data-node-status")).toBe(
      "RUNNING",
    );
    expect(await graph.locator('[data-node-kind="entrypoint"]').getAttribute("data-node-status")).toBe(
      "COMPLETED",
    );
    await task.click();
    const nodeRuns = page.getByTestId("node-runs");
    await expect.poll(() => nodeRuns.locator("table").first().locator("tbody tr").count()).toBe(3);
    const attempt = page.getByTestId("attempt");
    await attempt.getByText("Hello, Ada!").waitFor();
    await attempt.getByText("greeting Ada").waitFor();
    expect(await attempt.textContent()).toContain(env.config.taskWorkerId);
    const vars = page.getByTestId("run-variables");
    await vars.locator("tr", { hasText: "count" }).getByText("3").waitFor();
    await vars.locator("tr", { hasText: "greeting" }).getByText("Hello, Ada!").waitFor();
    await env.browser.screenshot(page, "wf-run");
    await page.context().close();
  });

  it("posting an external event from the page completes the run, and the page follows it", async () => {
    const page = await env.browser.open(`/wfRun/${looping.id}`);
    await page.getByRole("button", { name: "Post external event" }).click();
    await page.getByLabel("external event def").selectOption(APPROVE);
    await page.getByLabel("content type").selectOption({ label: "JSON_OBJ" });
    await page.getByLabel("content", { exact: true }).fill("{not json");
    await page.getByRole("button", { name: "Post", exact: true }).click();
    await text(page, /The content is not JSON/);
    expect((await env.client.getWfRun(looping)).status).toBe(LHStatus.RUNNING);
    await page.getByLabel("content", { exact: true }).fill('{"approved": true, "by": "ada"}');
    await page.getByRole("button", { name: "Post", exact: true }).click();
    // the page refreshes itself until the run has finished
    await page.locator("h1 [data-status=COMPLETED]").waitFor();
    const events = page.getByTestId("external-events");
    await events.getByText(APPROVE).waitFor();
    await events.getByText(/"approved": true/).waitFor();
    expect((await env.client.getWfRun(looping)).status).toBe(LHStatus.COMPLETED);
    await page.context().close();
  });

  it("a failed thread shows its error and can be rescued; run again starts a new WfRun with the same inputs", async () => {
    const page = await env.browser.open(`/wfRun/${failing.id}`);
    const threads = page.getByTestId("thread-runs");
    await threads.getByText(/the printer is on fire/).waitFor();
    await threads.getByRole("button", { name: "Rescue thread 0" }).waitFor();
    await page.locator("h1 [data-status=ERROR]").waitFor();
    await page.getByRole("button", { name: "Run again" }).click();
    await page.getByRole("button", { name: "Run", exact: true }).click();
    await page.waitForURL((u) => !u.pathname.endsWith(failing.id));
    const newId = decodeURIComponent(new URL(page.url()).pathname.split("/").pop()!);
    const again = await env.client.getWfRun({ id: newId });
    expect(again.wfSpecId?.name).toBe(FAILS_WF);
    await page.context().close();

    const loop = await env.browser.open(`/wfRun/${looping.id}`);
    await loop.locator("h1 [data-status=COMPLETED]").waitFor();
    await loop.getByRole("button", { name: "Run again" }).click();
    await loop.getByLabel(/^name/).waitFor();
    expect(await loop.getByLabel(/^name/).inputValue()).toBe("Ada");
    await loop.getByLabel(/^count/).fill("two");
    await loop.getByRole("button", { name: "Run", exact: true }).click();
    await text(loop, "count must be a whole number");
    await loop.getByLabel(/^count/).fill("0");
    await loop.getByRole("button", { name: "Run", exact: true }).click();
    await loop.waitForURL((u) => !u.pathname.endsWith(looping.id));
    const copyId = decodeURIComponent(new URL(loop.url()).pathname.split("/").pop()!);
    const vars = await env.client.listVariables({ wfRunId: { id: copyId } });
    const name = vars.results.find((v) => v.id?.name === "name");
    expect(name?.value?.value).toEqual({ case: "str", value: "Ada" });
    await loop.context().close();
  });

  it("stop halts a running WfRun and resume lets it go on", async () => {
    const id = (
      await env.client.runWf({
        wfSpecName: ORDER_WF,
        id: "dash-stop-1",
        variables: { name: toVariableValue("Bo") },
      })
    ).id!;
    await env.waitFor(id, (r) => r.threadRuns[0]!.currentNodePosition > 7);
    const page = await env.browser.open(`/wfRun/${id.id}`);
    await page.getByRole("button", { name: "Stop" }).click();
    await page.locator("h1 [data-status=HALTED]").waitFor();
    expect((await env.client.getWfRun(id)).status).toBe(LHStatus.HALTED);
    await page.getByRole("button", { name: "Resume" }).click();
    await page.locator("h1 [data-status=RUNNING]").waitFor();
    expect((await env.client.getWfRun(id)).status).toBe(LHStatus.RUNNING);
    await page.context().close();
  });

  it("a WfRun with many threads lists them 50 at a time, with a pager", async () => {
    const manyWorkflow = Workflow.newWorkflow("dash-many-threads", (wf) => {
      const items = wf.declareJsonArr("items").required();
      wf.waitForThreads(wf.spawnThreadForEach(items, "item", () => undefined));
    });
    await env.client.putWfSpec(manyWorkflow.compile());
    const run = await env.client.runWf({
      wfSpecName: "dash-many-threads",
      id: "dash-many-1",
      variables: { items: toVariableValue(Array.from({ length: 60 }, (_, i) => i)) },
    });
    await env.waitFor(run.id!, finished);
    const page = await env.browser.open("/wfRun/dash-many-1");
    const threads = page.getByTestId("thread-runs");
    const pager = page.getByTestId("thread-runs-pager");
    await pager.getByText("Threads 1–50 of 61").waitFor();
    expect(await threads.locator("tbody tr").count()).toBe(50);
    await pager.getByRole("button", { name: "Next →" }).click();
    await pager.getByText("Threads 51–61 of 61").waitFor();
    await env.browser.screenshot(page, "wf-run-many-threads");
    expect(await threads.locator("tbody tr td:first-child").allInnerTexts()).toEqual(
      Array.from({ length: 11 }, (_, i) => String(50 + i)),
    );
    await pager.getByRole("button", { name: "← Previous" }).click();
    await pager.getByText("Threads 1–50 of 61").waitFor();
    await page.context().close();
  });

  it("an unknown WfRun shows the not-found page", async () => {
    const page = await env.browser.open("/wfRun/no-such-run");
    await text(page, "WfRun 'no-such-run' does not exist in this tenant.");
    await page.context().close();
  });
});

describe("tenants", () => {
  it("the tenant switcher shows another tenant's objects", async () => {
    await env.client.putTenant({ id: "dash-other" });
    const page = await env.browser.open("/?tab=WfSpecs");
    await page.getByTestId("metadata-results").getByText(`${ORDER_WF} v0.0`).waitFor();
    await page.getByLabel("tenant").fill("dash-other");
    await page.getByLabel("tenant").press("Enter");
    await text(page, "No WfSpecs.");
    await page.context().close();
  });
});

describe("with OAuth", () => {
  let issuer: TestIssuer;
  let secured: DashboardEnv;

  beforeAll(async () => {
    issuer = await TestIssuer.create();
    secured = await startDashboardEnv({ extraArgs: [...issuer.serverArgs(), "--bootstrap-admin", "admin"] });
  });

  afterAll(async () => {
    await secured?.close();
    issuer?.close();
  });

  it("B-SEC-3 without a token the page shows UNAUTHENTICATED and why; with the token pasted it shows the data", async () => {
    const page = await secured.browser.open("/");
    const alert = page.getByRole("alert").first();
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/^UNAUTHENTICATED while loading WfSpecs: .*Bearer/);
    await page.getByRole("button", { name: "Token" }).click();
    await page.getByLabel("bearer token").fill(`Bearer ${await issuer.token("admin")}`);
    await page.getByRole("button", { name: "Use" }).click();
    await text(page, "No WfSpecs.");
    await page.getByRole("button", { name: "Token ✓" }).waitFor();
    await page.context().close();
  });
});
