/**
 * Black-box tests of user tasks through gRPC (B-UT-1…6): USER_TASK nodes and UserTaskRuns, AssignUserTaskRun,
 * CompleteUserTaskRun, CancelUserTaskRun, action triggers (reminder TaskRuns, reassignment, cancellation,
 * ownership epochs), their timers across a restart, and SearchUserTaskRun.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server";
import { startChildServer, type ChildServer } from "../support/process-server";
import type { Msg, TestClient } from "../support/client";
import {
  bool,
  dbl,
  entry,
  exit,
  int,
  lit,
  str,
  taskDef,
  thread,
  varDef,
  varRef,
  wfSpec,
} from "../support/specs";
import { startRawWorker, type RawWorker } from "../support/worker";
import { waitFor } from "../support/wait";

let ts: TestServer;
let c: TestClient;
const workers: RawWorker[] = [];

const tsMs = (t: Msg | undefined | null): number => Number(t!.seconds) * 1000 + Math.floor(t!.nanos / 1e6);
const timestamp = (ms: number): Msg => ({ seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const FIELDS = [
  { name: "approved", type: "BOOL", display_name: "Approved?", required: true },
  { name: "amount", type: "DOUBLE", display_name: "Amount" },
  { name: "note", type: "STR", display_name: "Note" },
];

/**
 * ENTRYPOINT → 1-approve-USER_TASK → EXIT, the user task's output copied into the JSON_OBJ `result`.
 * Variables: `who` and `grp` (STR) for assignments.
 */
function userTaskSpec(name: string, userTask: Msg, defName = "ut-approve"): Msg {
  return wfSpec(
    name,
    thread(
      [
        entry(),
        {
          name: "1-approve-USER_TASK",
          node: { user_task: { user_task_def_name: defName, ...userTask } },
          edges: [
            {
              sink_node_name: "2-exit-EXIT",
              variable_mutations: [{ lhs_name: "result", operation: "ASSIGN", node_output: {} }],
            },
          ],
        },
        exit("2-exit-EXIT"),
      ],
      [varDef("who", "STR"), varDef("grp", "STR"), varDef("result", "JSON_OBJ")],
    ),
  );
}

interface Started {
  wf: Msg;
  id: Msg;
  utr: Msg;
}

/** Puts the WfSpec, runs it and returns its one UserTaskRun. */
async function start(name: string, userTask: Msg, variables: Msg = {}, defName?: string): Promise<Started> {
  await c.call("PutWfSpec", userTaskSpec(name, userTask, defName));
  return runOnce(name, variables);
}

async function runOnce(name: string, variables: Msg = {}, id?: string): Promise<Started> {
  const wf = await c.call("RunWf", { wf_spec_name: name, variables, ...(id ? { id } : {}) });
  const list = await c.call("ListUserTaskRuns", { wf_run_id: wf.id });
  expect(list.results).toHaveLength(1);
  return { wf, id: list.results[0].id, utr: list.results[0] };
}

const getRun = (id: Msg) => c.call("GetUserTaskRun", id);
const wfRun = (s: Started) => c.call("GetWfRun", s.wf.id);
const userNode = (s: Started) =>
  c.call("GetNodeRun", { wf_run_id: s.wf.id, thread_run_number: 0, position: 1 });
const assign = (s: Started, req: Msg) => c.call("AssignUserTaskRun", { user_task_run_id: s.id, ...req });
const complete = (s: Started, results: Msg, user_id = "") =>
  c.call("CompleteUserTaskRun", { user_task_run_id: s.id, results, user_id });
const cancel = (s: Started) => c.call("CancelUserTaskRun", { user_task_run_id: s.id });
const eventsOf = (run: Msg) => (run.events as Msg[]).map((e) => e.event as string);

async function waitForRun(s: Started, check: (run: Msg) => boolean, what: string, timeoutMs = 5000) {
  return waitFor(
    async () => {
      const run = await getRun(s.id);
      return check(run) ? run : undefined;
    },
    timeoutMs,
    what,
  );
}

const reminder = (hook: string, delay: number, taskDefName: string): Msg => ({
  hook,
  delay_seconds: lit(int(delay)),
  task: { task: { task_def_id: { name: taskDefName }, variables: [varRef("who")] } },
});
const reassignTo = (hook: string, delay: number, to: { user_id?: string; user_group?: string }): Msg => ({
  hook,
  delay_seconds: lit(int(delay)),
  reassign: {
    ...(to.user_id ? { user_id: lit(str(to.user_id)) } : {}),
    ...(to.user_group ? { user_group: lit(str(to.user_group)) } : {}),
  },
});
const cancelAfter = (hook: string, delay: number): Msg => ({
  hook,
  delay_seconds: lit(int(delay)),
  cancel: {},
});

beforeAll(async () => {
  ts = await startTestServer();
  c = ts.client();
  await c.call("PutUserTaskDef", {
    name: "ut-approve",
    fields: [{ name: "old", type: "STR", display_name: "Old" }],
  });
  const v1 = await c.call("PutUserTaskDef", { name: "ut-approve", fields: FIELDS });
  expect(v1.version).toBe(1);
});

afterAll(async () => {
  for (const w of workers) w.stop();
  await ts?.close();
});

describe("USER_TASK nodes (B-UT-1)", () => {
  it("B-UT-1 creates a UserTaskRun of the latest UserTaskDef, ASSIGNED to the evaluated user, with notes and an audit event", async () => {
    const before = Date.now();
    const s = await start(
      "ut1-latest",
      {
        user_id: varRef("who"),
        user_group: lit(str("finance")),
        notes: { format_string: { format: lit(str("approve the order of {0}")), args: [varRef("who")] } },
      },
      { who: str("ada") },
    );
    const run = await getRun(s.id);
    expect(run).toMatchObject({
      user_task_def_id: { name: "ut-approve", version: 1 },
      status: "ASSIGNED",
      user_id: "ada",
      user_group: "finance",
      notes: "approve the order of ada",
      epoch: 0,
      node_run_id: { wf_run_id: s.wf.id, thread_run_number: 0, position: 1 },
    });
    expect(tsMs(run.scheduled_time)).toBeGreaterThanOrEqual(before - 1);
    expect(tsMs(run.scheduled_time)).toBeLessThanOrEqual(Date.now());
    expect(run.events).toHaveLength(1);
    expect(run.events[0]).toMatchObject({
      event: "assigned",
      assigned: { new_user_id: "ada", new_user_group: "finance" },
    });
    const node = await userNode(s);
    expect(node.status).toBe("RUNNING");
    expect(node.user_task.user_task_run_id).toEqual(s.id);
    expect((await wfRun(s)).status).toBe("RUNNING");
  });

  it("B-UT-1 a pinned user_task_def_version is used instead of the latest", async () => {
    const s = await start("ut1-pinned", { user_group: lit(str("finance")), user_task_def_version: 0 });
    expect((await getRun(s.id)).user_task_def_id).toEqual({ name: "ut-approve", version: 0 });
  });

  it("B-UT-1 with a group and no user id the UserTaskRun is UNASSIGNED", async () => {
    const s = await start(
      "ut1-group",
      { user_id: varRef("who"), user_group: varRef("grp") },
      { grp: str("ops") },
    );
    const run = await getRun(s.id);
    expect(run.status).toBe("UNASSIGNED");
    expect(run.user_group).toBe("ops");
    expect(run.user_id ?? "").toBe("");
  });

  it("B-UT-1 neither user nor group fails the node; Get and List of unknown ids", async () => {
    await c.call("PutWfSpec", userTaskSpec("ut1-nobody", { user_id: varRef("who") }));
    const wf = await c.call("RunWf", { wf_spec_name: "ut1-nobody" });
    expect(wf.status).toBe("ERROR");
    expect((await c.call("ListUserTaskRuns", { wf_run_id: wf.id })).results).toEqual([]);
    const node = await c.call("GetNodeRun", { wf_run_id: wf.id, thread_run_number: 0, position: 1 });
    expect(node.failures[0].failure_name).toBe("VAR_SUB_ERROR");
    expect(node.failures[0].message).toMatch(/neither a user id nor a user group/);
    const missing = await c.fail("GetUserTaskRun", { wf_run_id: wf.id, user_task_guid: "nope" });
    expect(missing.code).toBe("NOT_FOUND");
    expect((await c.fail("GetUserTaskRun", { wf_run_id: wf.id })).code).toBe("INVALID_ARGUMENT");
  });
});

describe("AssignUserTaskRun (B-UT-2)", () => {
  it("B-UT-2 assigns, refuses to take a claimed run without override_claim, and logs every change", async () => {
    const s = await start("ut2-assign", { user_group: lit(str("finance")) });
    await assign(s, { user_id: "bob", user_group: "finance" });
    let run = await getRun(s.id);
    expect(run).toMatchObject({ status: "ASSIGNED", user_id: "bob", user_group: "finance", epoch: 1 });

    const refused = await c.fail("AssignUserTaskRun", { user_task_run_id: s.id, user_id: "eve" });
    expect(refused.code).toBe("FAILED_PRECONDITION");
    expect(refused.message).toMatch(/already claimed by user 'bob'/);
    expect((await getRun(s.id)).user_id).toBe("bob");

    await assign(s, { user_id: "eve", override_claim: true });
    run = await getRun(s.id);
    expect(run).toMatchObject({ status: "ASSIGNED", user_id: "eve", epoch: 2 });
    expect(run.user_group ?? "").toBe("");

    await assign(s, { user_group: "ops", override_claim: true });
    run = await getRun(s.id);
    expect(run.status).toBe("UNASSIGNED");
    expect(run.user_id ?? "").toBe("");
    expect(eventsOf(run)).toEqual(["assigned", "assigned", "assigned", "assigned"]);
    expect(run.events[1].assigned).toMatchObject({
      old_user_group: "finance",
      new_user_id: "bob",
      new_user_group: "finance",
    });
    expect(run.events[2].assigned).toMatchObject({ old_user_id: "bob", new_user_id: "eve" });
    expect(run.events[3].assigned).toMatchObject({ old_user_id: "eve", new_user_group: "ops" });
    for (let i = 1; i < run.events.length; i++) {
      expect(tsMs(run.events[i].time)).toBeGreaterThanOrEqual(tsMs(run.events[i - 1].time));
    }
  });

  it("B-UT-2 without user id and group is INVALID_ARGUMENT; an unknown run NOT_FOUND", async () => {
    const s = await start("ut2-invalid", { user_group: lit(str("finance")) });
    expect((await c.fail("AssignUserTaskRun", { user_task_run_id: s.id, override_claim: true })).code).toBe(
      "INVALID_ARGUMENT",
    );
    const unknown = await c.fail("AssignUserTaskRun", {
      user_task_run_id: { wf_run_id: s.wf.id, user_task_guid: "nope" },
      user_id: "x",
    });
    expect(unknown.code).toBe("NOT_FOUND");
    expect((await getRun(s.id)).events).toHaveLength(1);
  });
});

describe("CompleteUserTaskRun (B-UT-3)", () => {
  it("B-UT-3 results are checked against the UserTaskDef fields", async () => {
    const s = await start("ut3-check", { user_id: lit(str("ada")) });
    const cases: [Msg, RegExp][] = [
      [{ amount: dbl(3) }, /required field 'approved'/],
      [{ approved: bool(true), colour: str("red") }, /has no field 'colour'/],
      [{ approved: str("yes") }, /declared BOOL but got a STR/],
      [{ approved: bool(true), amount: str("3") }, /declared DOUBLE but got a STR/],
    ];
    for (const [results, message] of cases) {
      const err = await c.fail("CompleteUserTaskRun", { user_task_run_id: s.id, results, user_id: "ada" });
      expect(err.code, JSON.stringify(results)).toBe("INVALID_ARGUMENT");
      expect(err.message).toMatch(message);
    }
    expect((await getRun(s.id)).status).toBe("ASSIGNED");
    expect((await userNode(s)).status).toBe("RUNNING");
  });

  it("B-UT-3 completing makes it DONE, the node's output is a JSON_OBJ of the results, and it cannot complete again", async () => {
    const s = await start("ut3-done", { user_id: lit(str("ada")) });
    await complete(s, { approved: bool(true), amount: int(12), note: str("fine") }, "ada");
    const run = await getRun(s.id);
    expect(run.status).toBe("DONE");
    expect(run.results).toMatchObject({ approved: bool(true), amount: dbl(12), note: str("fine") });
    expect(Object.keys(run.results).sort()).toEqual(["amount", "approved", "note"]);
    const wf = await wfRun(s);
    expect(wf.status).toBe("COMPLETED");
    const result = await c.call("GetVariable", { wf_run_id: s.wf.id, thread_run_number: 0, name: "result" });
    expect(JSON.parse(result.value.json_obj)).toEqual({ approved: true, amount: 12, note: "fine" });
    expect((await userNode(s)).status).toBe("COMPLETED");

    const again = await c.fail("CompleteUserTaskRun", {
      user_task_run_id: s.id,
      results: { approved: bool(false) },
      user_id: "ada",
    });
    expect(again.code).toBe("FAILED_PRECONDITION");
    expect(again.message).toMatch(/DONE/);
    expect(
      (await c.fail("AssignUserTaskRun", { user_task_run_id: s.id, user_id: "x", override_claim: true }))
        .code,
    ).toBe("FAILED_PRECONDITION");
    expect((await c.fail("CancelUserTaskRun", { user_task_run_id: s.id })).code).toBe("FAILED_PRECONDITION");
  });

  it("B-UT-3 an UNASSIGNED run is completed by the user given, who becomes its user; a CANCELLED one cannot be completed", async () => {
    const s = await start("ut3-group", { user_group: lit(str("finance")) });
    const noUser = await c.fail("CompleteUserTaskRun", {
      user_task_run_id: s.id,
      results: { approved: bool(true) },
    });
    expect(noUser.code).toBe("INVALID_ARGUMENT");
    await complete(s, { approved: bool(true) }, "carl");
    const run = await getRun(s.id);
    expect(run).toMatchObject({ status: "DONE", user_id: "carl" });
    expect(run.events[1].assigned).toMatchObject({ new_user_id: "carl", old_user_group: "finance" });

    const s2 = await runOnce("ut3-group");
    await cancel(s2);
    const err = await c.fail("CompleteUserTaskRun", {
      user_task_run_id: s2.id,
      results: { approved: bool(true) },
      user_id: "carl",
    });
    expect(err.code).toBe("FAILED_PRECONDITION");
    expect(err.message).toMatch(/CANCELLED/);
  });
});

describe("CancelUserTaskRun (B-UT-4)", () => {
  it("B-UT-4 cancelling makes it CANCELLED and fails the node with USER_TASK_CANCELLED (ERROR)", async () => {
    const s = await start("ut4-error", { user_id: lit(str("ada")) });
    await cancel(s);
    const run = await getRun(s.id);
    expect(run.status).toBe("CANCELLED");
    expect(eventsOf(run)).toEqual(["assigned", "cancelled"]);
    expect(run.events[1].cancelled.message).toMatch(/cancelled/);
    const node = await userNode(s);
    expect(node.status).toBe("ERROR");
    expect(node.failures[0].failure_name).toBe("USER_TASK_CANCELLED");
    expect((await wfRun(s)).status).toBe("ERROR");
    expect((await c.fail("CancelUserTaskRun", { user_task_run_id: s.id })).code).toBe("FAILED_PRECONDITION");
  });

  it("B-UT-4 with on_cancellation_exception_name the node fails with that business EXCEPTION", async () => {
    const s = await start("ut4-exception", {
      user_id: lit(str("ada")),
      on_cancellation_exception_name: lit(str("not-approved")),
    });
    await cancel(s);
    const node = await userNode(s);
    expect(node.status).toBe("EXCEPTION");
    expect(node.failures[0].failure_name).toBe("not-approved");
    expect((await wfRun(s)).status).toBe("EXCEPTION");
  });
});

describe("action triggers (B-UT-5)", () => {
  beforeAll(async () => {
    for (const name of [
      "ut5-remind-arrival",
      "ut5-remind-assigned",
      "ut5-remind-mutations",
      "ut5-remind-mutations-bad",
    ]) {
      await c.call("PutTaskDef", taskDef(name, [["who", "STR"]]));
    }
  });

  it("B-UT-5 ON_ARRIVAL runs a reminder TaskRun after delay_seconds, with source user_task_trigger, recorded as UTETaskExecuted", async () => {
    const worker = startRawWorker(c, "ut5-remind-arrival", () => ({
      status: "TASK_SUCCESS",
      output: str("sent"),
    }));
    workers.push(worker);
    const s = await start(
      "ut5-arrival",
      { user_group: lit(str("finance")), actions: [reminder("ON_ARRIVAL", 1, "ut5-remind-arrival")] },
      { who: str("ada") },
    );
    const arrival = tsMs(s.utr.scheduled_time);
    const task = await waitFor(async () => worker.received[0], 5000, "the reminder");
    expect(task.variables).toMatchObject([{ var_name: "who", value: str("ada") }]);
    expect(task.source.user_task_trigger).toMatchObject({
      node_run_id: { wf_run_id: s.wf.id, thread_run_number: 0, position: 1 },
      user_task_event_number: 1,
      user_group: "finance",
    });
    const run = await waitForRun(s, (r) => r.events.length === 2, "the UTETaskExecuted event");
    expect(run.events[1]).toMatchObject({
      event: "task_executed",
      task_executed: { task_run: task.task_run_id },
    });
    const taskRun = await waitFor(async () => {
      const t = await c.call("GetTaskRun", task.task_run_id);
      return t.status === "TASK_SUCCESS" ? t : undefined;
    });
    const due = tsMs(taskRun.scheduled_at) - arrival;
    expect(due).toBeGreaterThanOrEqual(1000);
    expect(due).toBeLessThan(1500);
    expect(taskRun.source.user_task_trigger.user_task_event_number).toBe(1);
    // the reminder belongs to no node: the user task still waits, and it ran once only
    expect((await userNode(s)).status).toBe("RUNNING");
    expect((await getRun(s.id)).status).toBe("UNASSIGNED");
    await sleep(1200);
    expect(worker.received).toHaveLength(1);
  });

  it("B-UT-5 a reminder's UTATask mutations change the thread's variables before its inputs are read", async () => {
    const worker = startRawWorker(c, "ut5-remind-mutations", () => ({ status: "TASK_SUCCESS" }));
    workers.push(worker);
    const action = reminder("ON_ARRIVAL", 0, "ut5-remind-mutations");
    action.task.mutations = [
      { lhs_name: "who", operation: "ASSIGN", literal_value: str("reminded") },
      { lhs_name: "grp", operation: "ASSIGN", source_variable: { variable_name: "who" } },
    ];
    const s = await start(
      "ut5-mutations",
      { user_group: lit(str("finance")), actions: [action] },
      { who: str("ada") },
    );
    const task = await waitFor(async () => worker.received[0], 5000, "the reminder");
    expect(task.variables).toMatchObject([{ var_name: "who", value: str("reminded") }]);
    const variable = (name: string) =>
      c.call("GetVariable", { wf_run_id: s.wf.id, thread_run_number: 0, name }).then((v) => v.value);
    expect(await variable("who")).toMatchObject(str("reminded"));
    expect(await variable("grp")).toMatchObject(str("reminded")); // the second mutation saw the first
    expect((await getRun(s.id)).status).toBe("UNASSIGNED");
  });

  it("B-UT-5 a reminder whose mutations fail changes no variable and is recorded as a failed TaskRun", async () => {
    const worker = startRawWorker(c, "ut5-remind-mutations-bad", () => ({ status: "TASK_SUCCESS" }));
    workers.push(worker);
    const action = reminder("ON_ARRIVAL", 0, "ut5-remind-mutations-bad");
    action.task.mutations = [
      { lhs_name: "who", operation: "ASSIGN", literal_value: str("changed") },
      // `result` is unset (null): it has no field to set, so the first mutation must not stick either
      { lhs_name: "result", lhs_json_path: "$.a", operation: "ASSIGN", literal_value: str("x") },
    ];
    const s = await start(
      "ut5-mutations-bad",
      { user_group: lit(str("finance")), actions: [action] },
      {
        who: str("ada"),
      },
    );
    const run = await waitForRun(s, (r) => r.events.length === 2, "the UTETaskExecuted event");
    const taskRun = await c.call("GetTaskRun", run.events[1].task_executed.task_run);
    expect(taskRun.status).toBe("TASK_INPUT_VAR_SUB_ERROR");
    expect(taskRun.attempts[0].error.type).toBe("VAR_MUTATION_ERROR");
    expect(taskRun.attempts[0].error.message).toMatch(/mutating variables before the reminder.*result/);
    const who = await c.call("GetVariable", { wf_run_id: s.wf.id, thread_run_number: 0, name: "who" });
    expect(who.value).toMatchObject(str("ada"));
    await sleep(300);
    expect(worker.received).toHaveLength(0); // never dispatched
    expect((await getRun(s.id)).status).toBe("UNASSIGNED"); // the user task goes on waiting
    expect((await wfRun(s)).status).toBe("RUNNING");
  });

  it("B-UT-5 ON_TASK_ASSIGNED runs a reminder delay_seconds after each assignment to a user", async () => {
    const worker = startRawWorker(c, "ut5-remind-assigned", () => ({ status: "TASK_SUCCESS" }));
    workers.push(worker);
    const s = await start(
      "ut5-assigned",
      { user_group: lit(str("finance")), actions: [reminder("ON_TASK_ASSIGNED", 1, "ut5-remind-assigned")] },
      { who: str("ada") },
    );
    await sleep(1300);
    expect(worker.received).toHaveLength(0); // not assigned to a user yet
    await assign(s, { user_id: "bob", user_group: "finance" });
    const assignedAt = tsMs((await getRun(s.id)).events[1].time);
    const task = await waitFor(async () => worker.received[0], 5000, "the reminder");
    expect(task.source.user_task_trigger).toMatchObject({ user_id: "bob", user_group: "finance" });
    const taskRun = await c.call("GetTaskRun", task.task_run_id);
    const delay = tsMs(taskRun.scheduled_at) - assignedAt;
    expect(delay).toBeGreaterThanOrEqual(1000);
    expect(delay).toBeLessThan(1500);
    // a second assignment to a user schedules another one
    await assign(s, { user_id: "cy", override_claim: true });
    const second = await waitFor(async () => worker.received[1], 5000, "the second reminder");
    expect(second.source.user_task_trigger.user_id).toBe("cy");
    const run = await waitForRun(s, (r) => r.events.length === 5, "two UTETaskExecuted events");
    expect(eventsOf(run)).toEqual(["assigned", "assigned", "task_executed", "assigned", "task_executed"]);
  });

  it("B-UT-5 an ON_ARRIVAL reassignment moves the task to the user given", async () => {
    const s = await start("ut5-reassign", {
      user_id: lit(str("ada")),
      user_group: lit(str("finance")),
      actions: [reassignTo("ON_ARRIVAL", 1, { user_id: "zed", user_group: "finance" })],
    });
    const run = await waitForRun(s, (r) => r.user_id === "zed", "the reassignment");
    expect(run).toMatchObject({ status: "ASSIGNED", epoch: 1 });
    expect(run.events[1].assigned).toMatchObject({ old_user_id: "ada", new_user_id: "zed" });
    const after = tsMs(run.events[1].time) - tsMs(s.utr.scheduled_time);
    expect(after).toBeGreaterThanOrEqual(1000);
    expect(after).toBeLessThan(1500);
  });

  it("B-UT-5 an ON_TASK_ASSIGNED reassignment to the group unsets the user (release to group)", async () => {
    const s = await start("ut5-release", {
      user_id: lit(str("ada")),
      user_group: lit(str("finance")),
      actions: [reassignTo("ON_TASK_ASSIGNED", 1, { user_group: "finance" })],
    });
    const run = await waitForRun(s, (r) => r.status === "UNASSIGNED", "the release");
    expect(run.user_id ?? "").toBe("");
    expect(run.user_group).toBe("finance");
    expect(run.events[1].assigned).toMatchObject({ old_user_id: "ada", new_user_group: "finance" });
    // released to a group only: no ON_TASK_ASSIGNED again
    await sleep(1300);
    expect((await getRun(s.id)).events).toHaveLength(2);
  });

  it("B-UT-5 a cancellation trigger cancels the task and fails the node", async () => {
    const s = await start("ut5-cancel", {
      user_group: lit(str("finance")),
      actions: [cancelAfter("ON_ARRIVAL", 1)],
    });
    const run = await waitForRun(s, (r) => r.status === "CANCELLED", "the cancellation");
    expect(eventsOf(run)).toEqual(["assigned", "cancelled"]);
    expect((await userNode(s)).failures[0].failure_name).toBe("USER_TASK_CANCELLED");
    expect((await wfRun(s)).status).toBe("ERROR");
  });

  it("B-UT-5 a reassignment trigger does not fire once the task was completed first", async () => {
    const s = await start("ut5-completed-first", {
      user_id: lit(str("ada")),
      actions: [reassignTo("ON_ARRIVAL", 1, { user_id: "zed" })],
    });
    await complete(s, { approved: bool(true) });
    await sleep(1500);
    const run = await getRun(s.id);
    expect(run).toMatchObject({ status: "DONE", user_id: "ada" });
    expect(eventsOf(run)).toEqual(["assigned"]);
    expect((await wfRun(s)).status).toBe("COMPLETED");
  });

  it("B-UT-5 a trigger of an older ownership epoch does nothing (the task was reassigned meanwhile)", async () => {
    const s = await start("ut5-old-epoch", {
      user_id: lit(str("ada")),
      actions: [reassignTo("ON_ARRIVAL", 1, { user_id: "zed" }), cancelAfter("ON_ARRIVAL", 1)],
    });
    await assign(s, { user_id: "bob", override_claim: true });
    await sleep(1500);
    const run = await getRun(s.id);
    expect(run).toMatchObject({ status: "ASSIGNED", user_id: "bob", epoch: 1 });
    expect(eventsOf(run)).toEqual(["assigned", "assigned"]);
  });
});

describe("SearchUserTaskRun (B-UT-6)", () => {
  const made: Started[] = [];
  const guids = (res: Msg) => (res.results as Msg[]).map((r) => r.user_task_guid as string);
  const search = (req: Msg) => c.call("SearchUserTaskRun", req);
  const g = (...i: number[]) => i.map((n) => made[n]!.id.user_task_guid as string);

  beforeAll(async () => {
    for (const name of ["ut6-a", "ut6-b"]) {
      await c.call("PutUserTaskDef", { name, fields: [{ name: "x", type: "STR", display_name: "X" }] });
      await c.call(
        "PutWfSpec",
        userTaskSpec(name, { user_id: varRef("who"), user_group: varRef("grp") }, name),
      );
    }
    const plan: [string, string | undefined, string][] = [
      ["ut6-a", "s-ann", "s-g1"], // 0
      ["ut6-a", undefined, "s-g1"], // 1 UNASSIGNED
      ["ut6-b", "s-ann", "s-g2"], // 2 → DONE
      ["ut6-b", "s-bob", "s-g1"], // 3
      ["ut6-a", "s-bob", "s-g2"], // 4 → CANCELLED
    ];
    for (const [i, [spec, who, grp]] of plan.entries()) {
      const variables: Msg = { grp: str(grp) };
      if (who) variables.who = str(who);
      made.push(await runOnce(spec, variables, `ut6-run-${i}`));
      await sleep(5); // distinct scheduled times
    }
    await complete(made[2]!, {});
    await cancel(made[4]!);
  });

  it("B-UT-6 filters by user id, user group, status and UserTaskDef name, alone and combined", async () => {
    expect(guids(await search({ user_id: "s-ann" }))).toEqual(g(0, 2));
    expect(guids(await search({ user_group: "s-g1" }))).toEqual(g(0, 1, 3));
    expect(guids(await search({ user_task_def_name: "ut6-a" }))).toEqual(g(0, 1, 4));
    expect(guids(await search({ user_task_def_name: "ut6-a", status: "ASSIGNED" }))).toEqual(g(0));
    expect(guids(await search({ user_group: "s-g1", status: "UNASSIGNED" }))).toEqual(g(1));
    expect(guids(await search({ user_id: "s-bob", user_task_def_name: "ut6-b" }))).toEqual(g(3));
    expect(guids(await search({ user_group: "s-g2", status: "CANCELLED" }))).toEqual(g(4));
    expect(
      guids(
        await search({ user_id: "s-ann", user_group: "s-g2", status: "DONE", user_task_def_name: "ut6-b" }),
      ),
    ).toEqual(g(2));
    expect(guids(await search({ user_id: "s-ann", status: "CANCELLED" }))).toEqual([]);
    const ids = (await search({ user_id: "s-bob" })).results as Msg[];
    expect(ids[0]).toEqual({ wf_run_id: made[3]!.wf.id, user_task_guid: g(3)[0] });
  });

  it("B-UT-6 filters by scheduled time (inclusive bounds), with other criteria", async () => {
    const t = (i: number) => timestamp(tsMs(made[i]!.utr.scheduled_time));
    expect(guids(await search({ user_task_def_name: "ut6-a", earliest_start: t(1) }))).toEqual(g(1, 4));
    expect(guids(await search({ user_task_def_name: "ut6-a", latest_start: t(1) }))).toEqual(g(0, 1));
    expect(guids(await search({ user_group: "s-g1", earliest_start: t(1), latest_start: t(3) }))).toEqual(
      g(1, 3),
    );
    const all = guids(await search({ earliest_start: t(0), latest_start: t(4) }));
    expect(all).toEqual(g(0, 1, 2, 3, 4));
  });

  it("B-UT-6 pages with limit and a bookmark that resumes exactly after the last result, oldest first", async () => {
    const seen: string[] = [];
    let bookmark: Buffer | undefined;
    let pages = 0;
    for (;;) {
      const res = await search({ user_group: "s-g1", limit: 1, ...(bookmark ? { bookmark } : {}) });
      seen.push(...guids(res));
      pages++;
      if (pages === 1) {
        // written while paging: shows up at the end, nothing is repeated or skipped
        made.push(await runOnce("ut6-b", { grp: str("s-g1") }, "ut6-run-5"));
      }
      if (!res.bookmark || res.bookmark.length === 0) break;
      bookmark = res.bookmark as Buffer;
      expect(pages).toBeLessThan(10);
    }
    expect(seen).toEqual(g(0, 1, 3, 5));
    expect(pages).toBe(4);
    const two = await search({ user_group: "s-g1", limit: 2 });
    expect(guids(two)).toEqual(g(0, 1));
    const rest = await search({ user_group: "s-g1", limit: 2, bookmark: two.bookmark });
    expect(guids(rest)).toEqual(g(3, 5));
    expect(rest.bookmark ?? null).toBeNull();
  });

  it("B-UT-6 a foreign bookmark or a limit of 0 is INVALID_ARGUMENT", async () => {
    expect((await c.fail("SearchUserTaskRun", { bookmark: Buffer.from("nonsense") })).code).toBe(
      "INVALID_ARGUMENT",
    );
    expect((await c.fail("SearchUserTaskRun", { user_id: "s-ann", limit: 0 })).code).toBe("INVALID_ARGUMENT");
  });
});

describe("user task timers across a restart (B-UT-5)", () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "pony-ut-restart-"));
  let server: ChildServer | undefined;

  afterAll(async () => {
    await server?.kill();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("B-UT-5 triggers armed before a restart fire on time after it, queued reminders are run, stale epochs do nothing", async () => {
    server = await startChildServer(dataDir);
    let cc = server.client();
    await cc.call("PutUserTaskDef", {
      name: "ut-restart",
      fields: [{ name: "ok", type: "BOOL", display_name: "OK" }],
    });
    await cc.call("PutTaskDef", taskDef("ut-restart-remind", [["who", "STR"]]));
    const DELAY = 5;
    await cc.call(
      "PutWfSpec",
      userTaskSpec(
        "ut-restart",
        {
          user_id: varRef("who"),
          user_group: lit(str("finance")),
          actions: [
            reminder("ON_ARRIVAL", DELAY, "ut-restart-remind"),
            reassignTo("ON_ARRIVAL", DELAY, { user_id: "zed", user_group: "finance" }),
          ],
        },
        "ut-restart",
      ),
    );
    // C's reminder comes due before the restart, with no worker to take it: it waits in the queue
    await cc.call(
      "PutWfSpec",
      userTaskSpec(
        "ut-restart-early",
        { user_group: lit(str("finance")), actions: [reminder("ON_ARRIVAL", 0, "ut-restart-remind")] },
        "ut-restart",
      ),
    );
    const wfC = await cc.call("RunWf", {
      wf_spec_name: "ut-restart-early",
      id: "restart-c",
      variables: { who: str("cid") },
    });
    const wfA = await cc.call("RunWf", {
      wf_spec_name: "ut-restart",
      id: "restart-a",
      variables: { who: str("ada") },
    });
    const wfB = await cc.call("RunWf", {
      wf_spec_name: "ut-restart",
      id: "restart-b",
      variables: { who: str("bea") },
    });
    const runOf = async (client: TestClient, wf: Msg) =>
      (await client.call("ListUserTaskRuns", { wf_run_id: wf.id })).results[0] as Msg;
    const a = await runOf(cc, wfA);
    const b = await runOf(cc, wfB);
    const cRun = await runOf(cc, wfC);
    // B is reassigned by hand before the restart: its triggers belong to an older epoch
    await cc.call("AssignUserTaskRun", { user_task_run_id: b.id, user_id: "bob", override_claim: true });
    await waitFor(async () => {
      const run = await cc.call("GetUserTaskRun", cRun.id);
      return run.events.length === 2 ? run : undefined;
    });
    await server.kill("SIGKILL");

    server = await startChildServer(dataDir);
    const readyAt = Date.now();
    cc = server.client();
    const worker = startRawWorker(cc, "ut-restart-remind", () => ({ status: "TASK_SUCCESS" }));
    try {
      const dueMs = tsMs(a.scheduled_time) + DELAY * 1000;
      // C's reminder, queued before the restart, is handed out and its report is taken
      const early = await waitFor(async () => worker.received[0], 5000, "the queued reminder");
      expect(early.source.user_task_trigger.node_run_id.wf_run_id).toEqual(wfC.id);
      await waitFor(async () => {
        const t = await cc.call("GetTaskRun", early.task_run_id);
        return t.status === "TASK_SUCCESS" ? t : undefined;
      });
      const task = await waitFor(async () => worker.received[1], DELAY * 1000 + 5000, "the reminder");
      expect(task.source.user_task_trigger.node_run_id.wf_run_id).toEqual(wfA.id);
      const reassigned = await waitFor(async () => {
        const run = await cc.call("GetUserTaskRun", a.id);
        return run.user_id === "zed" ? run : undefined;
      });
      const reassignment = (reassigned.events as Msg[]).find((e) => e.assigned?.new_user_id === "zed")!;
      const firedAt = tsMs(reassignment.time);
      // never early; on time when the server is back before the due time, else as soon as it is back
      expect(firedAt).toBeGreaterThanOrEqual(dueMs);
      expect(firedAt).toBeLessThan(Math.max(dueMs, readyAt) + 1000);
      const taskRun = await cc.call("GetTaskRun", task.task_run_id);
      expect(tsMs(taskRun.scheduled_at)).toBeGreaterThanOrEqual(dueMs);
      expect(eventsOf(reassigned).sort()).toEqual(["assigned", "assigned", "task_executed"]);

      await waitFor(async () => {
        const t = await cc.call("GetTaskRun", task.task_run_id);
        return t.status === "TASK_SUCCESS" ? t : undefined;
      });
      await sleep(500);
      expect(worker.received).toHaveLength(2); // nothing for B
      const runB = await cc.call("GetUserTaskRun", b.id);
      expect(runB).toMatchObject({ user_id: "bob", epoch: 1 });
      expect(eventsOf(runB)).toEqual(["assigned", "assigned"]);
      await cc.call("CompleteUserTaskRun", { user_task_run_id: a.id, results: { ok: bool(true) } });
      expect((await cc.call("GetWfRun", wfA.id)).status).toBe("COMPLETED");
    } finally {
      worker.stop();
    }
  }, 60_000);
});
