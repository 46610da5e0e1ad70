/**
 * Black-box tests of running a workflow through gRPC: RunWf ids and input validation, read-your-writes,
 * WfRun status and times, NOP nodes and loops, DeleteWfRun (B-RUN-2…5, B-RUN-11, B-RUN-12).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server";
import { grpcStatus, type Msg, type TestClient } from "../support/client";
import {
  bool,
  dbl,
  entry,
  exit,
  int,
  jsonArr,
  jsonObj,
  lit,
  nop,
  str,
  taskDef,
  taskNode,
  thread,
  varDef,
  varRef,
  wfSpec,
} from "../support/specs";
import { startRawWorker } from "../support/worker";
import { waitFor } from "../support/wait";
import { variablesOf } from "../support/values";

let ts: TestServer;
let c: TestClient;

const tsMs = (t: Msg | undefined | null): number => Number(t!.seconds) * 1000 + Math.floor(t!.nanos / 1e6);

const variables = (wfRunId: Msg) => variablesOf(c, wfRunId);

async function nodeRuns(wfRunId: Msg): Promise<Msg[]> {
  return (await c.call("ListNodeRuns", { wf_run_id: wfRunId })).results;
}

async function expectNoWfRun(id: string): Promise<void> {
  expect((await c.fail("GetWfRun", { id })).code).toBe("NOT_FOUND");
}

const cond = (left: Msg, comparator: string | number, right: Msg): Msg => ({ comparator, left, right });

// A spec whose entrypoint declares one variable of each kind that input validation cares about.
const INPUTS_SPEC = "rw-inputs";
// ENTRYPOINT → NOP → TASK (nobody polls it) → EXIT: the run waits at the task.
const WAITING_SPEC = "rw-waiting";
// ENTRYPOINT → EXIT.
const EMPTY_SPEC = "rw-empty";
const TASK_DEF = "rw-task";

beforeAll(async () => {
  ts = await startTestServer();
  c = ts.client();
  await c.call("PutTaskDef", taskDef(TASK_DEF, [["x", "STR"]]));
  await c.call("PutTaskDef", taskDef("rw-done-task", [["x", "STR"]]));
  await c.call(
    "PutWfSpec",
    wfSpec(
      INPUTS_SPEC,
      thread(
        [entry(), exit("1-exit-EXIT")],
        [
          varDef("name", "STR", { required: true }),
          varDef("count", "INT", { default_value: int(7) }),
          varDef("ratio", "DOUBLE"),
          varDef("flag", "BOOL", { default_value: bool(true) }),
          varDef("doc", "JSON_OBJ"),
          varDef("list", "JSON_ARR", { default_value: jsonArr([1, 2]) }),
          varDef("note", "STR"),
        ],
      ),
    ),
  );
  await c.call(
    "PutWfSpec",
    wfSpec(
      WAITING_SPEC,
      thread(
        [
          entry(),
          nop("1-nop-NOP"),
          taskNode("2-task-TASK", TASK_DEF, [varRef("input")]),
          exit("3-exit-EXIT"),
        ],
        [varDef("input", "STR", { default_value: str("hi") }), varDef("n", "INT", { default_value: int(3) })],
      ),
    ),
  );
  await c.call("PutWfSpec", wfSpec(EMPTY_SPEC, thread([entry(), exit("1-exit-EXIT")])));
});

afterAll(async () => {
  await ts.close();
});

describe("RunWf ids", () => {
  it("B-RUN-2 a RunWf with a given id creates the WfRun under that id", async () => {
    const run = await c.call("RunWf", { wf_spec_name: EMPTY_SPEC, id: "rw-given-id" });
    expect(run.id.id).toBe("rw-given-id");
    const got = await c.call("GetWfRun", { id: "rw-given-id" });
    expect(got.id.id).toBe("rw-given-id");
    expect(got.wf_spec_id).toMatchObject({ name: EMPTY_SPEC });
  });

  it("B-RUN-2 a second RunWf with the same id is ALREADY_EXISTS and leaves the first run unchanged", async () => {
    const first = await c.call("RunWf", {
      wf_spec_name: WAITING_SPEC,
      id: "rw-dup",
      variables: { input: str("first") },
    });
    const err = await c.fail("RunWf", {
      wf_spec_name: WAITING_SPEC,
      id: "rw-dup",
      variables: { input: str("second") },
    });
    expect(err.code).toBe("ALREADY_EXISTS");
    expect(err.message).toContain("rw-dup");
    const again = await c.call("GetWfRun", { id: "rw-dup" });
    expect(again.start_time).toEqual(first.start_time);
    expect((await variables({ id: "rw-dup" })).input).toBe("first");
    expect(await nodeRuns({ id: "rw-dup" })).toHaveLength(3);
    expect((await c.call("ListTaskRuns", { wf_run_id: { id: "rw-dup" } })).results).toHaveLength(1);
  });

  it("B-RUN-2 an id already used by a finished run is ALREADY_EXISTS too", async () => {
    const done = await c.call("RunWf", { wf_spec_name: EMPTY_SPEC, id: "rw-dup-done" });
    expect(done.status).toBe("COMPLETED");
    const err = await c.fail("RunWf", {
      wf_spec_name: INPUTS_SPEC,
      id: "rw-dup-done",
      variables: { name: str("x") },
    });
    expect(err.code).toBe("ALREADY_EXISTS");
    const got = await c.call("GetWfRun", { id: "rw-dup-done" });
    expect(got.wf_spec_id.name).toBe(EMPTY_SPEC);
  });

  it("B-RUN-2 of several concurrent RunWf with the same id exactly one succeeds", async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_x, i) =>
        c.call("RunWf", { wf_spec_name: WAITING_SPEC, id: "rw-race", variables: { input: str(`r${i}`) } }),
      ),
    );
    const ok = results.filter((r) => r.status === "fulfilled");
    const failed = results.filter((r) => r.status === "rejected");
    expect(ok).toHaveLength(1);
    expect(failed).toHaveLength(7);
    for (const f of failed) expect((f.reason as { code: number }).code).toBe(grpcStatus.ALREADY_EXISTS);
    const vars = await c.call("ListVariables", { wf_run_id: { id: "rw-race" } });
    expect(vars.results.filter((v: Msg) => v.id.name === "input")).toHaveLength(1);
    expect((await variables({ id: "rw-race" })).input).toMatch(/^r[0-7]$/);
    expect((await c.call("ListTaskRuns", { wf_run_id: { id: "rw-race" } })).results).toHaveLength(1);
    expect(await nodeRuns({ id: "rw-race" })).toHaveLength(3);
  });

  it("B-RUN-2 without an id the server makes a unique one for every run", async () => {
    const runs = await Promise.all(
      Array.from({ length: 10 }, () => c.call("RunWf", { wf_spec_name: EMPTY_SPEC })),
    );
    const ids = runs.map((r) => r.id.id as string);
    for (const id of ids) expect(id).toMatch(/\S/);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect((await c.call("GetWfRun", { id })).id.id).toBe(id);
  });
});

describe("RunWf input variables", () => {
  it("B-RUN-3 a missing required variable is INVALID_ARGUMENT and creates no WfRun", async () => {
    const err = await c.fail("RunWf", {
      wf_spec_name: INPUTS_SPEC,
      id: "rw-missing",
      variables: { count: int(1) },
    });
    expect(err.code).toBe("INVALID_ARGUMENT");
    expect(err.message).toContain("name");
    await expectNoWfRun("rw-missing");
    // nothing was left behind under that id: it can still be used
    const ok = await c.call("RunWf", {
      wf_spec_name: INPUTS_SPEC,
      id: "rw-missing",
      variables: { name: str("n") },
    });
    expect(ok.status).toBe("COMPLETED");
  });

  it("B-RUN-3 a required variable given as an explicit null is INVALID_ARGUMENT", async () => {
    const err = await c.fail("RunWf", {
      wf_spec_name: INPUTS_SPEC,
      id: "rw-null-req",
      variables: { name: {} },
    });
    expect(err.code).toBe("INVALID_ARGUMENT");
    await expectNoWfRun("rw-null-req");
  });

  it("B-RUN-3 an undeclared variable is INVALID_ARGUMENT and creates no WfRun", async () => {
    const err = await c.fail("RunWf", {
      wf_spec_name: INPUTS_SPEC,
      id: "rw-undeclared",
      variables: { name: str("n"), bogus: int(1) },
    });
    expect(err.code).toBe("INVALID_ARGUMENT");
    expect(err.message).toContain("bogus");
    await expectNoWfRun("rw-undeclared");
  });

  const wrongTypes: [string, string, Msg][] = [
    ["a STR for an INT", "count", str("many")],
    ["a numeric STR for an INT", "count", str("12")],
    ["a STR for a DOUBLE", "ratio", str("0.5")],
    ["an INT for a STR", "name", int(5)],
    ["a BOOL for a STR", "name", bool(true)],
    ["a STR for a BOOL", "flag", str("true")],
    ["a JSON_ARR for a JSON_OBJ", "doc", jsonArr([1])],
    ["a JSON_OBJ for a JSON_ARR", "list", jsonObj({ a: 1 })],
    ["a STR for a JSON_OBJ", "doc", str('{"a":1}')],
    ["a JSON_OBJ whose text is an array", "doc", { json_obj: "[1,2]" }],
    ["a JSON_OBJ whose text is not JSON", "doc", { json_obj: "{not json" }],
    ["a DOUBLE for an INT", "count", dbl(1.5)],
  ];
  for (const [what, name, value] of wrongTypes) {
    it(`B-RUN-3 ${what} is INVALID_ARGUMENT and creates no WfRun`, async () => {
      const id = `rw-wrong-${name}-${Math.random().toString(36).slice(2, 8)}`;
      const variables: Msg = name === "name" ? { name: value } : { name: str("n"), [name]: value };
      const err = await c.fail("RunWf", { wf_spec_name: INPUTS_SPEC, id, variables });
      expect(err.code).toBe("INVALID_ARGUMENT");
      expect(err.message).toContain(name);
      await expectNoWfRun(id);
    });
  }

  it("B-RUN-3 unset variables take their default value, else stay null", async () => {
    const run = await c.call("RunWf", { wf_spec_name: INPUTS_SPEC, variables: { name: str("pony") } });
    expect(await variables(run.id)).toEqual({
      name: "pony",
      count: 7,
      ratio: null,
      flag: true,
      doc: null,
      list: [1, 2],
      note: null,
    });
  });

  it("B-RUN-3 given values override defaults and keep their types", async () => {
    const run = await c.call("RunWf", {
      wf_spec_name: INPUTS_SPEC,
      variables: {
        name: str("pony"),
        count: int(42),
        ratio: dbl(0.25),
        flag: bool(false),
        doc: jsonObj({ a: { b: [1, "x"] } }),
        list: jsonArr([]),
        note: str(""),
      },
    });
    expect(await variables(run.id)).toEqual({
      name: "pony",
      count: 42,
      ratio: 0.25,
      flag: false,
      doc: { a: { b: [1, "x"] } },
      list: [],
      note: "",
    });
    const list = await c.call("ListVariables", { wf_run_id: run.id });
    const count = list.results.find((v: Msg) => v.id.name === "count");
    expect(count.value).toMatchObject({ value: "int", int: "42" });
    expect(count.id).toMatchObject({ wf_run_id: run.id, thread_run_number: 0 });
  });

  it("B-RUN-3 RunWf of an unknown WfSpec is NOT_FOUND", async () => {
    const err = await c.fail("RunWf", { wf_spec_name: "rw-no-such-spec", id: "rw-unknown-spec" });
    expect(err.code).toBe("NOT_FOUND");
    await expectNoWfRun("rw-unknown-spec");
  });
});

describe("read-your-writes", () => {
  it("B-RUN-4 when RunWf returns, GetWfRun, ListNodeRuns, ListVariables and ListTaskRuns show the run", async () => {
    const run = await c.call("RunWf", { wf_spec_name: WAITING_SPEC, variables: { input: str("now") } });
    expect(run.status).toBe("RUNNING");
    expect(run.thread_runs).toHaveLength(1);
    expect(run.thread_runs[0].current_node_position).toBe(2);
    // no waiting, no polling: the very next read sees everything
    const [got, nodes, vars, tasks] = await Promise.all([
      c.call("GetWfRun", run.id),
      nodeRuns(run.id),
      variables(run.id),
      c.call("ListTaskRuns", { wf_run_id: run.id }),
    ]);
    expect(got.status).toBe("RUNNING");
    expect(got.thread_runs[0].current_node_position).toBe(2);
    expect(nodes.map((n) => [n.node_name, n.status, n.id.position])).toEqual([
      ["0-entrypoint-ENTRYPOINT", "COMPLETED", 0],
      ["1-nop-NOP", "COMPLETED", 1],
      ["2-task-TASK", "RUNNING", 2],
    ]);
    expect(vars).toEqual({ input: "now", n: 3 });
    expect(tasks.results).toHaveLength(1);
    expect(tasks.results[0].status).toBe("TASK_SCHEDULED");
    expect(tasks.results[0].input_variables[0]).toMatchObject({ var_name: "x", value: { str: "now" } });
    expect(nodes[2]!.task.task_run_id).toEqual(tasks.results[0].id);
  });

  it("B-RUN-4 a run that never waits is already COMPLETED in the RunWf response", async () => {
    const run = await c.call("RunWf", { wf_spec_name: EMPTY_SPEC });
    expect(run.status).toBe("COMPLETED");
    const nodes = await nodeRuns(run.id);
    expect(nodes.map((n) => n.node_name)).toEqual(["0-entrypoint-ENTRYPOINT", "1-exit-EXIT"]);
    expect(nodes.every((n) => n.status === "COMPLETED")).toBe(true);
  });
});

describe("WfRun status and times", () => {
  it("B-RUN-5 a running WfRun has a start_time and no end_time", async () => {
    const before = Date.now();
    const run = await c.call("RunWf", { wf_spec_name: WAITING_SPEC });
    const after = Date.now();
    const got = await c.call("GetWfRun", run.id);
    expect(got.status).toBe("RUNNING");
    expect(got.thread_runs[0].status).toBe("RUNNING");
    expect(tsMs(got.start_time)).toBeGreaterThanOrEqual(before - 5);
    expect(tsMs(got.start_time)).toBeLessThanOrEqual(after + 5);
    expect(got.end_time ?? null).toBeNull();
  });

  it("B-RUN-5 a completed WfRun has its entrypoint thread's status and an end_time", async () => {
    await c.call("PutWfSpec", {
      ...wfSpec(
        "rw-one-task",
        thread(
          [entry(), taskNode("1-task-TASK", "rw-done-task", [varRef("x")]), exit("2-exit-EXIT")],
          [varDef("x", "STR")],
        ),
      ),
    });
    const worker = startRawWorker(c, "rw-done-task", () => ({ status: "TASK_SUCCESS", output: str("ok") }));
    try {
      const run = await c.call("RunWf", { wf_spec_name: "rw-one-task", variables: { x: str("a") } });
      const done = await waitFor(async () => {
        const r = await c.call("GetWfRun", run.id);
        return r.status === "COMPLETED" ? r : undefined;
      });
      expect(done.thread_runs[0].status).toBe("COMPLETED");
      expect(done.thread_runs[0].type).toBe("ENTRYPOINT");
      expect(done.end_time).toBeTruthy();
      expect(tsMs(done.end_time)).toBeGreaterThanOrEqual(tsMs(done.start_time));
      expect(tsMs(done.thread_runs[0].end_time)).toBeGreaterThanOrEqual(tsMs(done.thread_runs[0].start_time));
    } finally {
      worker.stop();
    }
  });

  it("B-RUN-5 a WfRun whose entrypoint thread fails with an ERROR is ERROR, with an end_time", async () => {
    await c.call(
      "PutWfSpec",
      wfSpec(
        "rw-error",
        thread([entry(), exit("1-exit-EXIT", { failure_name: "TASK_FAILURE", message: "boom" })]),
      ),
    );
    const run = await c.call("RunWf", { wf_spec_name: "rw-error" });
    expect(run.status).toBe("ERROR");
    const got = await c.call("GetWfRun", run.id);
    expect(got.status).toBe("ERROR");
    expect(got.thread_runs[0].status).toBe("ERROR");
    expect(got.end_time).toBeTruthy();
    expect(tsMs(got.end_time)).toBeGreaterThanOrEqual(tsMs(got.start_time));
  });

  it("B-RUN-5 a WfRun whose entrypoint thread throws a business exception is EXCEPTION", async () => {
    await c.call(
      "PutWfSpec",
      wfSpec(
        "rw-exception",
        thread([entry(), exit("1-exit-EXIT", { failure_name: "out-of-stock", message: "none left" })]),
      ),
    );
    const run = await c.call("RunWf", { wf_spec_name: "rw-exception" });
    const got = await c.call("GetWfRun", run.id);
    expect(got.status).toBe("EXCEPTION");
    expect(got.thread_runs[0].status).toBe("EXCEPTION");
    expect(got.end_time).toBeTruthy();
  });
});

describe("NOP nodes and loops", () => {
  it("B-RUN-11 NOP nodes pass straight through; with conditional edges they make an if/else", async () => {
    const ifElse = thread(
      [
        entry(),
        nop("1-if-NOP", [
          { sink_node_name: "2-then-NOP", condition: cond(varRef("n"), "GREATER_THAN", lit(int(10))) },
          { sink_node_name: "3-else-NOP" },
        ]),
        nop("2-then-NOP", [{ sink_node_name: "4-join-NOP" }]),
        nop("3-else-NOP", [{ sink_node_name: "4-join-NOP" }]),
        nop("4-join-NOP"),
        exit("5-exit-EXIT"),
      ],
      [varDef("n", "INT")],
    );
    await c.call("PutWfSpec", wfSpec("rw-if-else", ifElse));
    const big = await c.call("RunWf", { wf_spec_name: "rw-if-else", variables: { n: int(11) } });
    const small = await c.call("RunWf", { wf_spec_name: "rw-if-else", variables: { n: int(10) } });
    expect(big.status).toBe("COMPLETED");
    expect(small.status).toBe("COMPLETED");
    const names = async (id: Msg) => (await nodeRuns(id)).map((n) => n.node_name);
    expect(await names(big.id)).toEqual([
      "0-entrypoint-ENTRYPOINT",
      "1-if-NOP",
      "2-then-NOP",
      "4-join-NOP",
      "5-exit-EXIT",
    ]);
    expect(await names(small.id)).toEqual([
      "0-entrypoint-ENTRYPOINT",
      "1-if-NOP",
      "3-else-NOP",
      "4-join-NOP",
      "5-exit-EXIT",
    ]);
    for (const n of await nodeRuns(big.id)) expect(n.status).toBe("COMPLETED");
  });

  it("B-RUN-11 a loop back to an earlier NOP runs one NodeRun per iteration with increasing positions", async () => {
    const loop = thread(
      [
        entry(),
        nop("1-loop-NOP", [
          {
            sink_node_name: "2-body-NOP",
            condition: cond(varRef("i"), "LESS_THAN", varRef("limit")),
          },
          { sink_node_name: "3-exit-EXIT" },
        ]),
        nop("2-body-NOP", [
          {
            sink_node_name: "1-loop-NOP",
            variable_mutations: [{ lhs_name: "i", operation: "ADD", literal_value: int(1) }],
          },
        ]),
        exit("3-exit-EXIT"),
      ],
      [varDef("i", "INT", { default_value: int(0) }), varDef("limit", "INT")],
    );
    await c.call("PutWfSpec", wfSpec("rw-loop", loop));
    const run = await c.call("RunWf", { wf_spec_name: "rw-loop", variables: { limit: int(5) } });
    expect(run.status).toBe("COMPLETED");
    const nodes = await nodeRuns(run.id);
    expect(nodes.filter((n) => n.node_name === "1-loop-NOP")).toHaveLength(6);
    expect(nodes.filter((n) => n.node_name === "2-body-NOP")).toHaveLength(5);
    expect(nodes).toHaveLength(1 + 6 + 5 + 1);
    expect(nodes.map((n) => n.id.position)).toEqual(nodes.map((_n, i) => i));
    expect(nodes[nodes.length - 1]!.node_name).toBe("3-exit-EXIT");
    expect((await variables(run.id)).i).toBe(5);
    // each NodeRun can be read by its own position
    const third = await c.call("GetNodeRun", { wf_run_id: run.id, thread_run_number: 0, position: 3 });
    expect(third.node_name).toBe("1-loop-NOP");

    const none = await c.call("RunWf", { wf_spec_name: "rw-loop", variables: { limit: int(0) } });
    expect((await nodeRuns(none.id)).map((n) => n.node_name)).toEqual([
      "0-entrypoint-ENTRYPOINT",
      "1-loop-NOP",
      "3-exit-EXIT",
    ]);
  });
});

describe("DeleteWfRun", () => {
  it("B-RUN-12 deleting a RUNNING WfRun is FAILED_PRECONDITION and keeps it", async () => {
    const run = await c.call("RunWf", { wf_spec_name: WAITING_SPEC, id: "rw-del-running" });
    const err = await c.fail("DeleteWfRun", { id: run.id });
    expect(err.code).toBe("FAILED_PRECONDITION");
    const got = await c.call("GetWfRun", run.id);
    expect(got.status).toBe("RUNNING");
    expect(await nodeRuns(run.id)).toHaveLength(3);
    expect((await c.call("ListTaskRuns", { wf_run_id: run.id })).results).toHaveLength(1);
  });

  it("B-RUN-12 deleting a WfRun that does not exist is NOT_FOUND", async () => {
    const err = await c.fail("DeleteWfRun", { id: { id: "rw-never-existed" } });
    expect(err.code).toBe("NOT_FOUND");
  });

  it("B-RUN-12 deleting a finished WfRun removes it and its NodeRuns, TaskRuns and Variables", async () => {
    await c.call(
      "PutWfSpec",
      wfSpec(
        "rw-delete-me",
        thread(
          [entry(), taskNode("1-task-TASK", "rw-done-task", [varRef("x")]), exit("2-exit-EXIT")],
          [varDef("x", "STR")],
        ),
      ),
    );
    const worker = startRawWorker(c, "rw-done-task", () => ({ status: "TASK_SUCCESS", output: str("ok") }));
    let taskRunId: Msg;
    try {
      const run = await c.call("RunWf", {
        wf_spec_name: "rw-delete-me",
        id: "rw-del",
        variables: { x: str("a") },
      });
      await waitFor(async () =>
        (await c.call("GetWfRun", run.id)).status === "COMPLETED" ? true : undefined,
      );
      taskRunId = (await c.call("ListTaskRuns", { wf_run_id: run.id })).results[0].id;
    } finally {
      worker.stop();
    }
    const wfRunId = { id: "rw-del" };
    expect(await c.call("DeleteWfRun", { id: wfRunId })).toEqual({});
    expect((await c.fail("GetWfRun", wfRunId)).code).toBe("NOT_FOUND");
    expect((await c.fail("GetNodeRun", { wf_run_id: wfRunId, thread_run_number: 0, position: 1 })).code).toBe(
      "NOT_FOUND",
    );
    expect((await c.fail("GetTaskRun", taskRunId)).code).toBe("NOT_FOUND");
    expect((await c.fail("GetVariable", { wf_run_id: wfRunId, thread_run_number: 0, name: "x" })).code).toBe(
      "NOT_FOUND",
    );
    expect((await c.fail("ListNodeRuns", { wf_run_id: wfRunId })).code).toBe("NOT_FOUND");
    expect((await c.fail("ListTaskRuns", { wf_run_id: wfRunId })).code).toBe("NOT_FOUND");
    expect((await c.fail("ListVariables", { wf_run_id: wfRunId })).code).toBe("NOT_FOUND");
    // a second delete finds nothing
    expect((await c.fail("DeleteWfRun", { id: wfRunId })).code).toBe("NOT_FOUND");
  });

  it("B-RUN-12 a failed WfRun can be deleted, and its id can then be used again", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "rw-error", id: "rw-del-error" });
    expect(run.status).toBe("ERROR");
    await c.call("DeleteWfRun", { id: run.id });
    await expectNoWfRun("rw-del-error");
    const again = await c.call("RunWf", { wf_spec_name: EMPTY_SPEC, id: "rw-del-error" });
    expect(again.status).toBe("COMPLETED");
    const got = await c.call("GetWfRun", { id: "rw-del-error" });
    expect(got.wf_spec_id.name).toBe(EMPTY_SPEC);
    expect((await nodeRuns(got.id)).map((n) => n.node_name)).toEqual([
      "0-entrypoint-ENTRYPOINT",
      "1-exit-EXIT",
    ]);
  });
});

describe("WfRuns read back from the store", () => {
  it("B-RUN-2 after a restart, RunWfs and StopWfRuns sent together find which ids are taken from stored rows alone", async () => {
    const ids = Array.from({ length: 12 }, (_x, i) => `rw-stored-${i}`);
    for (const id of ids)
      await c.call("RunWf", { wf_spec_name: WAITING_SPEC, id, variables: { input: str(id) } });
    // a restart on the same data dir drops every in-memory copy: each command's WfRun is read from the store
    await ts.stop();
    ts = await startTestServer({ dataDir: ts.dataDir });
    c = ts.client();
    const [again, fresh, stopped] = await Promise.all([
      Promise.allSettled(
        ids.map((id) =>
          c.call("RunWf", { wf_spec_name: EMPTY_SPEC, id, variables: { input: str("again") } }),
        ),
      ),
      Promise.all(ids.map((id) => c.call("RunWf", { wf_spec_name: EMPTY_SPEC, id: `${id}-new` }))),
      Promise.all(ids.slice(0, 6).map((id) => c.call("StopWfRun", { wf_run_id: { id } }))),
    ]);
    expect(again.map((r) => (r.status === "rejected" ? (r.reason as { code: number }).code : "OK"))).toEqual(
      ids.map(() => grpcStatus.ALREADY_EXISTS),
    );
    expect(fresh.map((r) => r.status)).toEqual(ids.map(() => "COMPLETED"));
    expect(stopped).toHaveLength(6);
    // a WfRun stopped while it is cached, for comparison: a reloaded one must end the same way
    await c.call("RunWf", {
      wf_spec_name: WAITING_SPEC,
      id: "rw-stored-cached",
      variables: { input: str("x") },
    });
    await c.call("StopWfRun", { wf_run_id: { id: "rw-stored-cached" } });
    const halted = (await c.call("GetWfRun", { id: "rw-stored-cached" })).status;
    expect(halted).toMatch(/^HALT/);
    for (const [i, id] of ids.entries()) {
      const got = await c.call("GetWfRun", { id });
      expect(got.wf_spec_id.name).toBe(WAITING_SPEC);
      expect(got.status).toBe(i < 6 ? halted : "RUNNING");
      expect((await variables({ id })).input).toBe(id);
    }
  });
});
