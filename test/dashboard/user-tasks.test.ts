/**
 * The User Tasks page (/userTasks) in a real browser against a real server: the inbox and its filters (in
 * the URL), bookmark paging, and what a person does to a UserTaskRun — claim, assign, cancel and complete it
 * through the form built from its UserTaskDef — checked through the SDK client as well as on the page.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Locator, Page, Request } from "playwright-core";
import { create } from "@bufbuild/protobuf";
import { LHStatus, UserTaskRunStatus, VariableType, WfRunIdSchema, type UserTaskRun } from "@pony/proto";
import { Workflow, fromVariableValue, toVariableValue } from "@pony/sdk";
import { startDashboardEnv, type DashboardEnv } from "../support/dashboard";
import { waitFor } from "../support/wait";

let env: DashboardEnv;
let page: Page;
/** CompleteUserTaskRun calls the page made */
const completions: Request[] = [];

const DEF = "approve-expense";
const OTHER_DEF = "review-doc";

/** the WfRuns made: id → owner */
const RUNS: Record<string, { approver?: string; group?: string; requester: string; spec: string }> = {
  "exp-alice": { approver: "alice", group: "finance", requester: "Ann", spec: "expense" },
  "exp-bob": { approver: "bob", group: "finance", requester: "Ben", spec: "expense" },
  "exp-pool": { group: "finance", requester: "Cid", spec: "expense" },
  "exp-legal": { group: "legal", requester: "Dee", spec: "expense" },
  "doc-alice": { approver: "alice", requester: "Eve", spec: "doc-review" },
};

async function userTaskOf(wfRunId: string): Promise<UserTaskRun> {
  const list = await env.client.listUserTaskRuns({ wfRunId: { id: wfRunId } });
  expect(list.results).toHaveLength(1);
  return list.results[0]!;
}

const inbox = () => page.getByTestId("user-task-runs");
const rows = () => inbox().locator("tbody tr");
const row = (wfRunId: string) =>
  rows().filter({ has: page.getByRole("link", { name: wfRunId, exact: true }) });
const detail = () => page.getByTestId("user-task-run");
const statusOf = (l: Locator) => l.locator("[data-status]").first().getAttribute("data-status");
const detailStatus = () => detail().locator("h2 [data-status]").getAttribute("data-status");
const form = () => page.getByRole("form", { name: "complete the user task" });

async function expectRows(n: number) {
  await expect.poll(() => rows().count(), { timeout: 10_000 }).toBe(n);
}

async function open(pathname: string) {
  await page.goto(pathname);
  await page.getByRole("heading", { name: "User tasks" }).waitFor();
}

/** opens the inbox and selects the UserTaskRun of WfRun `wfRunId` */
async function select(wfRunId: string) {
  await open("/userTasks");
  await row(wfRunId).waitFor();
  // a click on the row (on its status, not on a link) selects it
  await row(wfRunId).locator("td").nth(2).click();
  const task = await userTaskOf(wfRunId);
  await expect
    .poll(() => new URL(page.url()).searchParams.get("task"))
    .toBe(`${wfRunId}/${task.id!.userTaskGuid}`);
  await detail().getByRole("link", { name: wfRunId, exact: true }).waitFor();
  return task;
}

beforeAll(async () => {
  env = await startDashboardEnv();
  await env.client.putUserTaskDef({
    name: DEF,
    description: "Approve or reject an expense report.",
    fields: [
      {
        name: "amount",
        displayName: "Amount",
        type: VariableType.INT,
        required: true,
        description: "in euros",
      },
      { name: "approved", displayName: "Approved", type: VariableType.BOOL, required: true },
      { name: "reason", displayName: "Reason", type: VariableType.STR, required: true },
      { name: "vat", displayName: "VAT rate", type: VariableType.DOUBLE, required: false },
    ],
  });
  await env.client.putUserTaskDef({
    name: OTHER_DEF,
    fields: [{ name: "verdict", displayName: "Verdict", type: VariableType.STR, required: true }],
  });
  const expense = Workflow.newWorkflow("expense", (wf) => {
    const requester = wf.declareStr("requester");
    const approver = wf.declareStr("approver");
    const group = wf.declareStr("group");
    const approvedAmount = wf.declareInt("approved-amount");
    const ut = wf
      .assignUserTask(DEF, approver, group)
      .withNotes(wf.format("expense report of {0}", requester));
    wf.mutate(approvedAmount, "ASSIGN", ut.jsonPath("$.amount"));
  });
  const review = Workflow.newWorkflow("doc-review", (wf) => {
    const requester = wf.declareStr("requester");
    const approver = wf.declareStr("approver");
    wf.assignUserTask(OTHER_DEF, approver).withNotes(wf.format("document of {0}", requester));
  });
  await env.client.putWfSpec(expense.compile());
  await env.client.putWfSpec(review.compile());
  for (const [id, r] of Object.entries(RUNS)) {
    const variables: Record<string, ReturnType<typeof toVariableValue>> = {
      requester: toVariableValue(r.requester),
    };
    if (r.approver) variables.approver = toVariableValue(r.approver);
    if (r.group) variables.group = toVariableValue(r.group);
    await env.client.runWf({ wfSpecName: r.spec, id, variables });
  }
  await waitFor(
    async () => {
      const found = await env.client.searchUserTaskRun({ limit: 100 });
      return found.results.length === Object.keys(RUNS).length ? true : undefined;
    },
    10_000,
    "the UserTaskRuns",
  );
  page = await env.browser.open("/userTasks");
  page.on("request", (r) => {
    if (r.url().endsWith("/littlehorse.LittleHorse/CompleteUserTaskRun")) completions.push(r);
  });
});

afterAll(async () => {
  await env?.close();
});

describe("the User Tasks page", () => {
  it("B-UT-1 B-UT-6 the inbox shows every UserTaskRun with its def, WfRun, status, owner, time and notes", async () => {
    await open("/userTasks");
    await expectRows(5);
    const head = await inbox().locator("thead").innerText();
    for (const h of ["UserTaskDef", "WfRun", "Status", "User", "Group", "Scheduled", "Notes"])
      expect(head).toContain(h);

    const alice = row("exp-alice");
    // each row is read with GetUserTaskRun: wait until it has arrived (no "…" left)
    await expect
      .poll(() => alice.innerText())
      .toMatch(/approve-expense[\s\S]*exp-alice[\s\S]*alice[\s\S]*finance/);
    expect(await alice.innerText()).toContain("expense report of Ann");
    expect(await alice.innerText()).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
    expect(await statusOf(alice)).toBe("ASSIGNED");
    await expect.poll(() => statusOf(row("exp-pool"))).toBe("UNASSIGNED");
    await expect.poll(() => row("doc-alice").innerText()).toContain(OTHER_DEF);
    // the WfRun cell links to the WfRun's page
    expect(await alice.getByRole("link", { name: "exp-alice", exact: true }).getAttribute("href")).toBe(
      "/wfRun/exp-alice",
    );
  });

  it("B-UT-6 filters by user, group, status and UserTaskDef, kept in the URL (a shareable link)", async () => {
    await open("/userTasks");
    await expectRows(5);
    await page.getByLabel("user id", { exact: true }).fill("alice");
    await expectRows(2);
    await row("exp-alice").waitFor();
    await row("doc-alice").waitFor();
    expect(new URL(page.url()).searchParams.get("user")).toBe("alice");

    await page.getByLabel("user id", { exact: true }).fill("");
    await page.getByLabel("user group").fill("finance");
    await expectRows(3);
    expect(await rows().allInnerTexts()).not.toContainEqual(expect.stringContaining("exp-legal"));
    await page.getByLabel("status").selectOption("UNASSIGNED");
    await expectRows(1);
    await row("exp-pool").waitFor();
    const url = new URL(page.url());
    expect(url.searchParams.get("group")).toBe("finance");
    expect(url.searchParams.get("status")).toBe("UNASSIGNED");

    // the same link in a fresh browser context shows the same inbox
    const shared = await env.browser.open(`/userTasks${url.search}`);
    try {
      await shared.getByTestId("user-task-runs").locator("tbody tr").first().waitFor();
      await expect.poll(() => shared.getByTestId("user-task-runs").locator("tbody tr").count()).toBe(1);
      expect(await shared.getByLabel("user group").inputValue()).toBe("finance");
      expect(await shared.getByLabel("status").inputValue()).toBe("UNASSIGNED");
    } finally {
      await shared.context().close();
    }

    await open(`/userTasks?def=${OTHER_DEF}`);
    await expectRows(1);
    await row("doc-alice").waitFor();
    await open(`/userTasks?def=${DEF}&user=alice`);
    await expectRows(1);
    await row("exp-alice").waitFor();
  });

  it("B-UT-6 two filter changes made before the page renders again both land in the URL and the inbox", async () => {
    await open("/userTasks?user=alice");
    await expectRows(2);
    // clear the user id and type a group in one browser task, as a fast typist or an autofill does, so React
    // has no chance to render between the two changes
    // (a script string: the tests are compiled without the DOM's types)
    await page.evaluate(`{
      const value = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value");
      for (const [label, text] of [["user id", ""], ["user group", "finance"]]) {
        const input = document.querySelector('input[aria-label="' + label + '"]');
        value.set.call(input, text);
        input.dispatchEvent(new Event("input", { bubbles: true }));
      }
    }`);
    await expectRows(3);
    const url = new URL(page.url());
    expect(url.searchParams.get("user")).toBeNull();
    expect(url.searchParams.get("group")).toBe("finance");
  });

  it("B-SRCH-1 lists one WfRun's user tasks (ListUserTaskRuns) when `wfRun` is set", async () => {
    await open("/userTasks?wfRun=exp-bob");
    await expectRows(1);
    await row("exp-bob").waitFor();
    await page.getByText("The user tasks of WfRun").waitFor();
    await page.getByLabel("wf run").fill("exp-legal");
    await expectRows(1);
    await row("exp-legal").waitFor();
  });

  it("B-SRCH-1 pages with the server's bookmarks: no duplicates, no gaps, Previous goes back", async () => {
    await open("/userTasks?size=2");
    const keys = async () => rows().evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-key")));
    await expectRows(2);
    await page.getByText("Page 1", { exact: true }).waitFor();
    const first = await keys();
    await page.getByRole("button", { name: "Next →" }).click();
    await page.getByText("Page 2", { exact: true }).waitFor();
    await expect.poll(keys).not.toEqual(first);
    const second = await keys();
    expect(second).toHaveLength(2);
    await page.getByRole("button", { name: "Next →" }).click();
    await page.getByText("Page 3", { exact: true }).waitFor();
    await expectRows(1);
    const third = await keys();
    expect(await page.getByRole("button", { name: "Next →" }).isDisabled()).toBe(true);
    expect(new Set([...first, ...second, ...third]).size).toBe(5);
    await page.getByRole("button", { name: "← Previous" }).click();
    await page.getByText("Page 2", { exact: true }).waitFor();
    await expect.poll(keys).toEqual(second);
  });

  it("shows a clear message when nothing matches, and the server's error (status and message) when it fails", async () => {
    await open("/userTasks?user=nobody");
    await page.getByText("No user tasks match these filters.").waitFor();
    expect(await rows().count()).toBe(0);

    // a WfRun that does not exist is the server's NOT_FOUND, not an empty inbox
    await open("/userTasks?wfRun=no-such-run");
    const missing = page.getByRole("alert").first();
    await missing.waitFor();
    expect(await missing.innerText()).toMatch(/NOT_FOUND.*WfRun 'no-such-run' not found/s);

    const other = await env.browser.open("/userTasks", { tenant: "no-such-tenant" });
    try {
      const alert = other.getByRole("alert");
      await alert.waitFor();
      const text = await alert.innerText();
      expect(text).toContain("NOT_FOUND");
      expect(text).toContain("tenant 'no-such-tenant' does not exist");
    } finally {
      await other.context().close();
    }
  });

  it("B-UT-2 claims a group's task, refuses a second claim, and assigns it over the claim (override_claim)", async () => {
    const task = await select("exp-pool");
    expect(await detailStatus()).toBe("UNASSIGNED");
    expect(await detail().getByTestId("user-task-group").innerText()).toBe("finance");

    await page.getByLabel("claim as user id").fill("carol");
    await page.getByRole("button", { name: "Claim", exact: true }).click();
    await expect.poll(() => detail().getByTestId("user-task-user").innerText()).toBe("carol");
    expect(await detailStatus()).toBe("ASSIGNED");
    let now = await env.client.getUserTaskRun(task.id);
    expect(now.status).toBe(UserTaskRunStatus.ASSIGNED);
    expect(now.userId).toBe("carol");
    expect(now.userGroup).toBe("finance");
    // the inbox row follows
    await expect.poll(() => row("exp-pool").innerText()).toContain("carol");

    // someone else's claim is refused: FAILED_PRECONDITION, shown with the server's message
    await page.getByLabel("claim as user id").fill("dave");
    await page.getByRole("button", { name: "Claim", exact: true }).click();
    const refusal = page.getByRole("form", { name: "claim" }).getByRole("alert");
    await refusal.waitFor();
    expect(await refusal.innerText()).toMatch(/FAILED_PRECONDITION.*already claimed by user 'carol'/);
    expect((await env.client.getUserTaskRun(task.id)).userId).toBe("carol");

    // assign to dave and the managers, over carol's claim
    await page.getByLabel("assign to user id").fill("dave");
    await page.getByLabel("assign to user group").fill("managers");
    await page.getByLabel("override claim").check();
    await page.getByRole("button", { name: "Assign", exact: true }).click();
    await expect.poll(() => detail().getByTestId("user-task-user").innerText()).toBe("dave");
    expect(await detail().getByTestId("user-task-group").innerText()).toBe("managers");
    now = await env.client.getUserTaskRun(task.id);
    expect([now.userId, now.userGroup, now.status]).toEqual(["dave", "managers", UserTaskRunStatus.ASSIGNED]);
    expect(now.events.filter((e) => e.event.case === "assigned")).toHaveLength(3);
    // the audit log: scheduled for the group, claimed by carol, reassigned to dave
    const events = detail().getByTestId("user-task-events").locator("tbody tr");
    await expect.poll(() => events.count()).toBe(3);
    const log = (await events.allInnerTexts()).join("\n");
    expect(log).toMatch(/Scheduled\s+for group finance/);
    expect(log).toMatch(/Assigned\s+group finance → carol \(group finance\)/);
    expect(log).toMatch(/Assigned\s+carol \(group finance\) → dave \(group managers\)/);
  });

  it("B-UT-4 cancels a task: CANCELLED, no more actions, and the WfRun fails", async () => {
    const task = await select("exp-legal");
    await page.getByRole("button", { name: "Cancel user task…" }).click();
    await page.getByRole("button", { name: "Yes, cancel it" }).click();
    await expect.poll(detailStatus).toBe("CANCELLED");
    await detail()
      .getByTestId("user-task-events")
      .getByRole("cell", { name: "Cancelled", exact: true })
      .waitFor();
    expect(await form().count()).toBe(0);
    expect(await page.getByRole("button", { name: "Claim", exact: true }).count()).toBe(0);
    expect((await env.client.getUserTaskRun(task.id)).status).toBe(UserTaskRunStatus.CANCELLED);
    const wfRun = await env.waitFor(
      create(WfRunIdSchema, { id: "exp-legal" }),
      (r) => r.status === LHStatus.ERROR,
    );
    expect(wfRun.status).toBe(LHStatus.ERROR);
    await expect.poll(() => statusOf(row("exp-legal"))).toBe("CANCELLED");
  });

  it("B-UT-3 completes through the form: a missing required field and a wrong-typed INT are caught before sending", async () => {
    const task = await select("exp-alice");
    await form().waitFor();
    expect(await page.getByLabel("Complete as user").inputValue()).toBe("alice");
    expect(await page.getByLabel("Approved").getAttribute("type")).toBe("checkbox");
    expect(await page.getByLabel("VAT rate").getAttribute("inputmode")).toBe("decimal");

    // 1. a required field left empty: the message is next to it, nothing is sent
    await page.getByLabel("Amount").fill("120");
    await page.getByRole("button", { name: "Complete", exact: true }).click();
    const reason = form().locator('[data-field="reason"]');
    await reason.getByText("Reason is required.").waitFor();
    await form().getByText("Nothing was sent").waitFor();
    expect(completions).toHaveLength(0);
    expect((await env.client.getUserTaskRun(task.id)).status).toBe(UserTaskRunStatus.ASSIGNED);

    // 2. not a whole number for the INT field: same
    await page.getByLabel("Reason").fill("within budget");
    await page.getByLabel("Amount").fill("12.5");
    await page.getByRole("button", { name: "Complete", exact: true }).click();
    await form().locator('[data-field="amount"]').getByText("Amount must be a whole number.").waitFor();
    expect(await reason.getByText("Reason is required.").count()).toBe(0);
    expect(completions).toHaveLength(0);
    expect((await env.client.getUserTaskRun(task.id)).status).toBe(UserTaskRunStatus.ASSIGNED);
    await env.browser.screenshot(page, "user-task-form");

    // 3. right: the run is DONE with the values typed, and the WfRun goes on with them
    await page.getByLabel("Amount").fill("120");
    await page.getByLabel("Approved").check();
    await page.getByLabel("VAT rate").fill("0.21");
    await page.getByRole("button", { name: "Complete", exact: true }).click();
    await expect.poll(detailStatus, { timeout: 10_000 }).toBe("DONE");
    expect(completions).toHaveLength(1);
    const done = await env.client.getUserTaskRun(task.id);
    expect(done.status).toBe(UserTaskRunStatus.DONE);
    expect(done.userId).toBe("alice");
    expect(
      Object.fromEntries(Object.entries(done.results).map(([k, v]) => [k, fromVariableValue(v)])),
    ).toEqual({
      amount: 120,
      approved: true,
      reason: "within budget",
      vat: 0.21,
    });
    expect(done.results.amount?.value.case).toBe("int");
    const wfRun = await env.waitFor(
      create(WfRunIdSchema, { id: "exp-alice" }),
      (r) => r.status === LHStatus.COMPLETED,
    );
    expect(wfRun.status).toBe(LHStatus.COMPLETED);
    const approved = await env.client.getVariable({
      wfRunId: { id: "exp-alice" },
      threadRunNumber: 0,
      name: "approved-amount",
    });
    expect(fromVariableValue(approved.value)).toBe(120);

    // the page shows the results and the WfRun's new status; the form is gone
    const results = detail().getByTestId("user-task-results");
    await results.waitFor();
    const shown = await results.innerText();
    expect(shown).toMatch(/Amount[\s\S]*120/);
    expect(shown).toMatch(/Reason[\s\S]*within budget/);
    expect(shown).toMatch(/VAT rate[\s\S]*0.21/);
    expect(await form().count()).toBe(0);
    await expect
      .poll(() => detail().locator("dd [data-status]").first().getAttribute("data-status"), {
        timeout: 10_000,
      })
      .toBe("COMPLETED");
    await expect.poll(() => statusOf(row("exp-alice"))).toBe("DONE");
    await env.browser.screenshot(page, "user-tasks");
  });

  it("B-UT-3 shows the server's refusal (status and message) next to the form", async () => {
    const task = await select("exp-bob");
    await form().waitFor();
    // the run is cancelled behind the page's back: completing it is FAILED_PRECONDITION
    await env.client.cancelUserTaskRun({ userTaskRunId: task.id });
    await page.getByLabel("Amount").fill("80");
    await page.getByLabel("Reason").fill("ok");
    await page.getByRole("button", { name: "Complete", exact: true }).click();
    const refusal = detail().getByRole("alert").filter({ hasText: "FAILED_PRECONDITION" });
    await refusal.waitFor();
    expect(await refusal.innerText()).toMatch(/FAILED_PRECONDITION.*CANCELLED/);
    // the page then shows the run as it now is
    await expect.poll(detailStatus).toBe("CANCELLED");
    await page.getByText("Completing was refused.").waitFor();
    expect((await env.client.getUserTaskRun(task.id)).status).toBe(UserTaskRunStatus.CANCELLED);
  });
});
