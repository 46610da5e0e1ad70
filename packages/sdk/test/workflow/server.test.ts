/**
 * Issue 5 (workflow builder) against a real Pony server: compiled WfSpecs are accepted by PutWfSpec (which
 * validates them fully) and, for the node types the server runs (ENTRYPOINT, TASK, NOP, EXIT, conditions,
 * mutations), WfRuns reach the expected result with a raw task worker. Threads, events, sleep and user tasks
 * are only registered: the server does not run those nodes yet.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../../../test/support/server";
import type { Msg, TestClient } from "../../../../test/support/client";
import { startRawWorker, type RawWorker, type TaskOutcome } from "../../../../test/support/worker";
import { waitFor } from "../../../../test/support/wait";
import { HANDLER_INPUT_VAR, SpawnedThreads, Workflow } from "../../src/workflow";
import { json, nodeNames } from "./helpers";

let ts: TestServer;
let c: TestClient;
const workers: RawWorker[] = [];

const TASK_DEFS: [string, [string, string][]][] = [
  ["greet", [["name", "STR"]]],
  ["say", [["text", "STR"]]],
  ["tick", [["i", "INT"]]],
  ["profile", []],
  ["notify", []],
  ["remind", [["who", "STR"]]],
];

function serve(taskDefName: string, handle: (inputs: Msg[]) => TaskOutcome): void {
  workers.push(startRawWorker(c, taskDefName, (task) => handle(task.variables ?? [])));
}

beforeAll(async () => {
  ts = await startTestServer();
  c = ts.client();
  for (const [name, inputs] of TASK_DEFS) {
    await c.call("PutTaskDef", { name, input_vars: inputs.map(([n, type]) => ({ name: n, type })) });
  }
  await c.call("PutExternalEventDef", { name: "payment-received" });
  await c.call("PutExternalEventDef", { name: "cancel-order" });
  await c.call("PutWorkflowEventDef", { name: "order-done", type: "STR" });
  await c.call("PutUserTaskDef", {
    name: "approve",
    fields: [{ name: "approved", type: "BOOL", display_name: "Approved?" }],
  });
  serve("greet", ([name]) => ({ status: "TASK_SUCCESS", output: { str: `hello ${name?.value.str}` } }));
  serve("say", ([text]) => ({ status: "TASK_SUCCESS", output: { str: text?.value.str } }));
  serve("tick", ([i]) => ({ status: "TASK_SUCCESS", output: { int: String(Number(i?.value.int) * 10) } }));
  serve("profile", () => ({
    status: "TASK_SUCCESS",
    output: { json_obj: JSON.stringify({ name: "pony", age: 3 }) },
  }));
});

afterAll(async () => {
  for (const w of workers) w.stop();
  await ts.close();
});

/** Compiles and registers a workflow the way any proto-loader client would send it. */
async function register(wf: Workflow): Promise<Msg> {
  return c.call("PutWfSpec", json(wf));
}

async function runToEnd(
  wfSpecName: string,
  variables: Msg = {},
): Promise<{ run: Msg; vars: Msg; nodes: Msg[] }> {
  const started = await c.call("RunWf", { wf_spec_name: wfSpecName, variables });
  const run = await waitFor(async () => {
    const r = await c.call("GetWfRun", started.id);
    return r.status === "RUNNING" ? undefined : r;
  });
  const list = await c.call("ListVariables", { wf_run_id: started.id });
  const vars = Object.fromEntries(list.results.map((v: Msg) => [v.id.name, plain(v.value)]));
  const nodes = (await c.call("ListNodeRuns", { wf_run_id: started.id })).results;
  return { run, vars, nodes };
}

/** The JS value of a VariableValue message. */
function plain(v: Msg | undefined): unknown {
  if (!v?.value) return null;
  if (v.value === "int") return Number(v.int);
  if (v.value === "json_obj" || v.value === "json_arr") return JSON.parse(v[v.value]);
  return v[v.value];
}

describe("issue 5 builder WfSpecs run on a real server", () => {
  it("issue 5 a task with a variable, its output mutated into another variable", async () => {
    const wf = Workflow.newWorkflow("sdk-greeting", (wf) => {
      const name = wf.declareStr("name").required();
      const greeting = wf.declareStr("greeting");
      const out = wf.execute("greet", name);
      wf.mutate(greeting, "ASSIGN", out);
    }).withTaskDefs({ greet: ["STR"] });
    const spec = await register(wf);
    expect(spec.id).toMatchObject({ name: "sdk-greeting", major_version: 0, revision: 0 });
    const { run, vars, nodes } = await runToEnd("sdk-greeting", { name: { str: "pony" } });
    expect(run.status).toBe("COMPLETED");
    expect(vars).toEqual({ name: "pony", greeting: "hello pony" });
    expect(nodes.map((n) => n.node_name)).toEqual(nodeNames(wf));
  });

  it("issue 5 doIf / doElseIf / doElse take the branch whose condition holds", async () => {
    const wf = Workflow.newWorkflow("sdk-if-else", (wf) => {
      const n = wf.declareInt("n").required();
      const size = wf.declareStr("size");
      wf.doIf(wf.condition(n, ">", 5), (t) => t.mutate(size, "ASSIGN", t.execute("say", "big")))
        .doElseIf(wf.condition(n, ">=", 3), (t) => t.mutate(size, "ASSIGN", t.execute("say", "medium")))
        .doElse((t) => t.mutate(size, "ASSIGN", t.execute("say", "small")));
    });
    await register(wf);
    for (const [n, expected] of [
      [7, "big"],
      [3, "medium"],
      [1, "small"],
    ] as const) {
      const { run, vars } = await runToEnd("sdk-if-else", { n: { int: String(n) } });
      expect(run.status).toBe("COMPLETED");
      expect(vars.size).toBe(expected);
    }
  });

  it("issue 5 doWhile with mutate loops until the condition fails", async () => {
    const wf = Workflow.newWorkflow("sdk-while", (wf) => {
      const i = wf.declareInt("i", 0);
      const total = wf.declareInt("total", 0);
      wf.doWhile(wf.condition(i, "<", 3), (t) => {
        const out = t.execute("tick", i);
        t.mutate(total, "ADD", out);
        t.mutate(i, "ADD", 1);
      });
    });
    await register(wf);
    const { run, vars, nodes } = await runToEnd("sdk-while");
    expect(run.status).toBe("COMPLETED");
    expect(vars).toEqual({ i: 3, total: 0 + 10 + 20 });
    expect(nodes.filter((n) => n.node_name === "2-tick-TASK")).toHaveLength(3);
  });

  it("issue 5 a format string as a task input", async () => {
    const wf = Workflow.newWorkflow("sdk-format", (wf) => {
      const name = wf.declareStr("name", "pony");
      const age = wf.declareInt("age", 3);
      const said = wf.declareStr("said");
      wf.mutate(said, "ASSIGN", wf.execute("say", wf.format("{0} is {1} years old", name, age)));
    });
    await register(wf);
    const { run, vars } = await runToEnd("sdk-format");
    expect(run.status).toBe("COMPLETED");
    expect(vars.said).toBe("pony is 3 years old");
  });

  it("issue 5 a node output's jsonPath mutated into variables", async () => {
    const wf = Workflow.newWorkflow("sdk-node-output", (wf) => {
      const name = wf.declareStr("name");
      const age = wf.declareInt("age");
      const profile = wf.execute("profile");
      wf.mutate(name, "ASSIGN", profile.jsonPath("$.name"));
      wf.mutate(age, "ASSIGN", profile.jsonPath("$.age"));
    });
    await register(wf);
    const { run, vars } = await runToEnd("sdk-node-output");
    expect(run.status).toBe("COMPLETED");
    expect(vars).toEqual({ name: "pony", age: 3 });
  });

  it("issue 5 a node output (with jsonPath) as a later task's input is accepted by PutWfSpec", async () => {
    // VariableAssignment.node_output: registered only, this server evaluates node outputs on edges only.
    const wf = Workflow.newWorkflow("sdk-node-output-arg", (wf) => {
      const profile = wf.execute("profile");
      wf.execute("greet", profile.jsonPath("$.name"));
    });
    const spec = await register(wf);
    expect(spec.thread_specs.entrypoint.nodes["2-greet-TASK"].task.variables[0]).toMatchObject({
      node_output: { node_name: "1-profile-TASK" },
      json_path: "$.name",
    });
  });

  it("issue 5 fail() ends the WfRun with the business exception; otherwise it completes", async () => {
    const wf = Workflow.newWorkflow("sdk-fail", (wf) => {
      const n = wf.declareInt("n").required();
      wf.doIf(wf.condition(n, "<", 0), (t) => t.fail("negative-input", "n must not be negative", n));
      wf.execute("say", "fine");
    });
    await register(wf);
    const bad = await runToEnd("sdk-fail", { n: { int: "-1" } });
    expect(bad.run.status).toBe("EXCEPTION");
    const failed = bad.nodes.find((nr) => nr.node_name === "2-negative-input-EXIT");
    expect(failed?.failures[0]).toMatchObject({
      failure_name: "negative-input",
      message: "n must not be negative",
    });
    const good = await runToEnd("sdk-fail", { n: { int: "1" } });
    expect(good.run.status).toBe("COMPLETED");
  });
});

describe("issue 5 builder WfSpecs the server accepts (nodes it does not run yet)", () => {
  it("issue 5 spawnThread + waitForThreads", async () => {
    const wf = Workflow.newWorkflow("sdk-threads", (wf) => {
      const who = wf.declareStr("who", "pony");
      const a = wf.spawnThread(
        (t) => {
          const x = t.declareStr("x");
          t.execute("greet", x);
          t.execute("say", who);
        },
        "greeter",
        { x: who },
      );
      const b = wf.spawnThread((t) => t.execute("notify"), "notifier");
      wf.waitForThreads(a, b).handleExceptionOnChild("oops", (h) => h.execute("notify"));
      wf.waitForThreads(SpawnedThreads.of(a));
    });
    const spec = await register(wf);
    expect(Object.keys(spec.thread_specs).sort()).toEqual(
      ["entrypoint", "exn-handler-3-threads-WAIT_FOR_THREADS-oops", "greeter", "notifier"].sort(),
    );
  });

  it("issue 5 waitForEvent with a timeout", async () => {
    const wf = Workflow.newWorkflow("sdk-event", (wf) => {
      const payment = wf.declareJsonObj("payment");
      const timeout = wf.declareInt("timeout", 30);
      wf.mutate(payment, "ASSIGN", wf.waitForEvent("payment-received").timeout(60));
      wf.waitForEvent("payment-received").timeout(timeout);
    });
    const spec = await register(wf);
    expect(
      spec.thread_specs.entrypoint.nodes["1-payment-received-EXTERNAL_EVENT"].external_event,
    ).toMatchObject({
      external_event_def_id: { name: "payment-received" },
      timeout_seconds: { literal_value: { int: "60" } },
    });
  });

  it("issue 5 every other construct in one WfSpec: for-each threads, handlers, interrupts, sleep, user tasks, events", async () => {
    await register(Workflow.newWorkflow("sdk-parent", (wf) => wf.declareStr("shared")));
    const wf = Workflow.newWorkflow("sdk-everything", (wf) => {
      wf.declareStr("shared").withAccessLevel("INHERITED_VAR");
      const items = wf.declareJsonArr("items", [{ id: 1 }]);
      const approver = wf.declareStr("approver", "alice").searchable();
      const doc = wf.declareJsonObj("doc", {}).searchableOn("$.id", "INT");
      const wakeAt = wf.declareInt("wake-at", 0);
      const decision = wf.declareJsonObj("decision");
      wf.declareBool("flag").withAccessLevel("PRIVATE_VAR");

      const each = wf.spawnThreadForEach(items, "per-item", (t) => {
        const item = t.declareJsonObj(HANDLER_INPUT_VAR);
        t.execute("say", t.format("item {0}", item.jsonPath("$.id")));
      });
      wf.waitForThreads(each).handleAnyFailureOnChild((h) => h.execute("notify"));

      const task = wf.execute("greet", approver).withRetries(2).timeout(10);
      wf.handleException(task, "not-found", (h) => h.execute("notify"));
      wf.handleError(task, "TIMEOUT", (h) => h.execute("notify"));
      wf.handleAnyFailure(task, (h) => h.fail("greeting-failed", "could not greet"));
      wf.registerInterruptHandler("cancel-order", (h) => h.execute("notify"));

      wf.sleepSeconds(1);
      wf.sleepUntil(wakeAt);

      const ut = wf
        .assignUserTask("approve", approver, "finance")
        .withNotes(wf.format("please approve {0}", doc.jsonPath("$.id")))
        .withOnCancellationException("not-approved");
      wf.scheduleReminderTask(ut, 60, "remind", approver);
      wf.releaseToGroupOnDeadline(ut, 3600);
      wf.reassignUserTask(ut, 120, { userId: "bob" });
      wf.cancelUserTaskRunAfter(ut, 7200);
      wf.mutate(decision, "ASSIGN", ut);

      wf.throwEvent("order-done", wf.format("done by {0}", approver));
    })
      .withParent("sdk-parent")
      .withRetentionPolicy({ secondsAfterWfTermination: 86_400 })
      .withDefaultThreadRetentionPolicy({ secondsAfterThreadTermination: 3600 })
      .withUpdateType("ALL_UPDATES")
      .withTaskDefs({ greet: ["STR"], remind: ["STR"], say: ["STR"] });
    const spec = await register(wf);
    expect(spec.parent_wf_spec).toMatchObject({ wf_spec_name: "sdk-parent" });
    expect(Object.keys(spec.thread_specs).sort()).toEqual(
      [
        "entrypoint",
        "per-item",
        "exn-handler-2-threads-WAIT_FOR_THREADS-any-failure",
        "exn-handler-3-greet-TASK-not-found",
        "exn-handler-3-greet-TASK-TIMEOUT",
        "exn-handler-3-greet-TASK-any-failure",
        "interrupt-cancel-order",
      ].sort(),
    );
    expect(Object.keys(spec.thread_specs.entrypoint.nodes)).toEqual(nodeNames(wf));
  });

  it("issue 5 the server rejects what the builder cannot know: an unknown TaskDef", async () => {
    const wf = Workflow.newWorkflow("sdk-unknown-task", (wf) => wf.execute("no-such-task"));
    const err = await c.fail("PutWfSpec", json(wf));
    expect(err.code).toBe("INVALID_ARGUMENT");
    expect(err.message).toMatch(/unknown TaskDef 'no-such-task'/);
  });
});
