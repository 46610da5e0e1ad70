/**
 * Black-box tests of edges and variables through gRPC: ordered conditional edges and every comparator,
 * variable mutations (all-or-nothing per edge), VariableAssignments, the seven variable types, defaults and
 * loops (B-RUN-6…B-RUN-10, with loops of B-RUN-11).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server";
import type { Msg, TestClient } from "../support/client";
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
  type NodeDef,
} from "../support/specs";
import { startRawWorker, type RawWorker } from "../support/worker";
import { waitFor } from "../support/wait";
import { variablesOf } from "../support/values";

let ts: TestServer;
let c: TestClient;
let worker: RawWorker;

// Pony's copy of the .proto names Comparator values only up to EQUALS; LittleHorse's API reference defines
// NOT_EQUALS = 5, IN = 6, NOT_IN = 7, so the test client sends those by number.
const NOT_EQUALS = 5;
const IN = 6;
const NOT_IN = 7;
const COMPARATORS: [string, string | number][] = [
  ["LESS_THAN", "LESS_THAN"],
  ["GREATER_THAN", "GREATER_THAN"],
  ["LESS_THAN_EQ", "LESS_THAN_EQ"],
  ["GREATER_THAN_EQ", "GREATER_THAN_EQ"],
  ["EQUALS", "EQUALS"],
  ["NOT_EQUALS", NOT_EQUALS],
  ["IN", IN],
  ["NOT_IN", NOT_IN],
];

const variables = (wfRunId: Msg) => variablesOf(c, wfRunId);

async function variableValues(wfRunId: Msg): Promise<Record<string, Msg>> {
  const list = await c.call("ListVariables", { wf_run_id: wfRunId });
  return Object.fromEntries(list.results.map((v: Msg) => [v.id.name, v.value]));
}

async function nodeRuns(wfRunId: Msg): Promise<Msg[]> {
  return (await c.call("ListNodeRuns", { wf_run_id: wfRunId })).results;
}

/** How a failed run failed: the WfRun status and the failure recorded on the NodeRun where it happened. */
async function failureOf(
  wfRunId: Msg,
): Promise<{ status: string; name: string; message: string; node: string }> {
  const run = await c.call("GetWfRun", wfRunId);
  const failed = (await nodeRuns(wfRunId)).filter((n) => n.failures.length > 0);
  const last = failed[failed.length - 1];
  const f = last?.failures[last.failures.length - 1];
  expect(run.thread_runs[0].status).toBe(run.status);
  return {
    status: run.status,
    name: f?.failure_name ?? "",
    message: f?.message ?? "",
    node: last?.node_name ?? "",
  };
}

const cond = (left: Msg, comparator: string | number, right: Msg): Msg => ({ comparator, left, right });
const edge = (sink: string, extra: Msg = {}): Msg => ({ sink_node_name: sink, ...extra });
const mutation = (lhs: string, operation: string, rhs: Msg, extra: Msg = {}): Msg => ({
  lhs_name: lhs,
  operation,
  ...rhs,
  ...extra,
});
/** mutation right-hand sides */
const litRhs = (v: Msg): Msg => ({ literal_value: v });
const varRhs = (assignment: Msg): Msg => ({ source_variable: assignment });
const outRhs = (jsonpath?: string): Msg => ({ node_output: jsonpath === undefined ? {} : { jsonpath } });

let specCounter = 0;
async function putSpec(prefix: string, nodes: NodeDef[], vars: Msg[]): Promise<string> {
  const name = `${prefix}-${++specCounter}`;
  await c.call("PutWfSpec", wfSpec(name, thread(nodes, vars)));
  return name;
}

/** ENTRYPOINT → NOP whose single edge to EXIT carries `mutations`. */
async function mutationSpec(vars: Msg[], mutations: Msg[]): Promise<string> {
  return putSpec(
    "ve-mut",
    [
      entry(),
      nop("1-mutate-NOP", [edge("2-exit-EXIT", { variable_mutations: mutations })]),
      exit("2-exit-EXIT"),
    ],
    vars,
  );
}

async function runSpec(spec: string, inputs: Msg = {}): Promise<Msg> {
  return c.call("RunWf", { wf_spec_name: spec, variables: inputs });
}

async function runUntilDone(spec: string, inputs: Msg = {}): Promise<Msg> {
  const run = await runSpec(spec, inputs);
  return waitFor(async () => {
    const r = await c.call("GetWfRun", run.id);
    return r.status === "RUNNING" ? undefined : r;
  });
}

/** Runs ENTRYPOINT → NOP with the edge `mutations` and returns the run and its variables afterwards. */
async function mutate(
  vars: Msg[],
  mutations: Msg[],
  inputs: Msg = {},
): Promise<{ run: Msg; vars: Record<string, unknown> }> {
  const spec = await mutationSpec(vars, mutations);
  const run = await runSpec(spec, inputs);
  return { run, vars: await variables(run.id) };
}

const DECIDE_YES = "2-yes-NOP";

/**
 * A spec that compares `$.l` with `$.r` of its JSON_OBJ input `in`: the first edge (with the condition)
 * goes to 2-yes-NOP, the second (without condition) to 3-no-NOP.
 */
async function comparatorSpec(comparator: string | number): Promise<string> {
  return putSpec(
    "ve-cmp",
    [
      entry(),
      nop("1-decide-NOP", [
        edge(DECIDE_YES, { condition: cond(varRef("in", "$.l"), comparator, varRef("in", "$.r")) }),
        edge("3-no-NOP"),
      ]),
      nop(DECIDE_YES, [edge("4-exit-EXIT")]),
      nop("3-no-NOP", [edge("4-exit-EXIT")]),
      exit("4-exit-EXIT"),
    ],
    [varDef("in", "JSON_OBJ")],
  );
}

/** "yes" / "no" for which edge was taken, else the failure name. */
async function decide(spec: string, operands: Record<string, unknown>): Promise<string> {
  const run = await runSpec(spec, { in: jsonObj(operands) });
  if (run.status === "COMPLETED") {
    const names = (await nodeRuns(run.id)).map((n) => n.node_name);
    return names.includes(DECIDE_YES) ? "yes" : "no";
  }
  return (await failureOf(run.id)).name;
}

beforeAll(async () => {
  ts = await startTestServer();
  c = ts.client();
  await c.call("PutTaskDef", taskDef("ve-fetch", [["mode", "STR"]]));
  await c.call("PutTaskDef", taskDef("ve-probe", [["a", "STR"]]));
  await c.call("PutTaskDef", taskDef("ve-probe-int", [["n", "INT"]]));
  worker = startRawWorker(
    c,
    "ve-fetch",
    (task) => {
      const mode = task.variables[0].value.str;
      if (mode === "fail") return { status: "TASK_FAILED", message: "it broke" };
      if (mode === "arr") return { status: "TASK_SUCCESS", output: jsonArr([10, 20, 30]) };
      return {
        status: "TASK_SUCCESS",
        output: jsonObj({ user: { name: "ada", tags: ["x", "y"] }, n: 3, price: 2.5 }),
      };
    },
    { concurrency: 4 },
  );
});

afterAll(async () => {
  worker?.stop();
  await ts?.close();
});

describe("edges", () => {
  it("B-RUN-6 the first edge in order whose condition holds is taken, even when later ones hold too", async () => {
    const spec = await putSpec(
      "ve-order",
      [
        entry(),
        nop("1-decide-NOP", [
          edge("2-a-NOP", { condition: cond(varRef("n"), "GREATER_THAN", lit(int(100))) }),
          edge("3-b-NOP", { condition: cond(varRef("n"), "GREATER_THAN", lit(int(10))) }),
          edge("4-c-NOP", { condition: cond(varRef("n"), "GREATER_THAN", lit(int(0))) }),
          edge("5-d-NOP"),
        ]),
        nop("2-a-NOP", [edge("6-exit-EXIT")]),
        nop("3-b-NOP", [edge("6-exit-EXIT")]),
        nop("4-c-NOP", [edge("6-exit-EXIT")]),
        nop("5-d-NOP", [edge("6-exit-EXIT")]),
        exit("6-exit-EXIT"),
      ],
      [varDef("n", "INT")],
    );
    const taken = async (n: number) => {
      const run = await runSpec(spec, { n: int(n) });
      expect(run.status).toBe("COMPLETED");
      const nodes = await nodeRuns(run.id);
      expect(nodes).toHaveLength(4);
      return nodes[2]!.node_name;
    };
    expect(await taken(500)).toBe("2-a-NOP");
    expect(await taken(50)).toBe("3-b-NOP");
    expect(await taken(5)).toBe("4-c-NOP");
    expect(await taken(-5)).toBe("5-d-NOP");
  });

  it("B-RUN-6 an edge without a condition always holds, and only the first one is taken", async () => {
    const spec = await putSpec(
      "ve-uncond",
      [
        entry(),
        nop("1-decide-NOP", [edge("2-first-NOP"), edge("3-second-NOP")]),
        nop("2-first-NOP", [edge("4-exit-EXIT")]),
        nop("3-second-NOP", [edge("4-exit-EXIT")]),
        exit("4-exit-EXIT"),
      ],
      [],
    );
    const run = await runSpec(spec);
    expect((await nodeRuns(run.id)).map((n) => n.node_name)).toEqual([
      "0-entrypoint-ENTRYPOINT",
      "1-decide-NOP",
      "2-first-NOP",
      "4-exit-EXIT",
    ]);
  });

  it("B-RUN-6 when no edge holds the thread fails with VAR_SUB_ERROR", async () => {
    const spec = await putSpec(
      "ve-none",
      [
        entry(),
        nop("1-decide-NOP", [
          edge("2-a-NOP", { condition: cond(varRef("n"), "LESS_THAN", lit(int(0))) }),
          edge("3-b-NOP", { condition: cond(varRef("n"), "EQUALS", lit(int(0))) }),
        ]),
        nop("2-a-NOP", [edge("4-exit-EXIT")]),
        nop("3-b-NOP", [edge("4-exit-EXIT")]),
        exit("4-exit-EXIT"),
      ],
      [varDef("n", "INT")],
    );
    const run = await runSpec(spec, { n: int(1) });
    expect(run.status).toBe("ERROR");
    const f = await failureOf(run.id);
    expect(f).toMatchObject({ status: "ERROR", name: "VAR_SUB_ERROR", node: "1-decide-NOP" });
    const nodes = await nodeRuns(run.id);
    expect(nodes.map((n) => n.node_name)).toEqual(["0-entrypoint-ENTRYPOINT", "1-decide-NOP"]);
    expect(nodes[1]!.status).toBe("ERROR");
    const got = await c.call("GetWfRun", run.id);
    expect(got.thread_runs[0].error_message).toMatch(/\S/);
    expect(got.end_time).toBeTruthy();
    // the same spec works when an edge holds
    expect((await runSpec(spec, { n: int(0) })).status).toBe("COMPLETED");
  });
});

describe("edge conditions", () => {
  const specs = new Map<string, string>();
  beforeAll(async () => {
    for (const [name, value] of COMPARATORS) specs.set(name, await comparatorSpec(value));
  });

  const cases: [string, unknown, unknown, string][] = [
    ["LESS_THAN", 1, 2, "yes"],
    ["LESS_THAN", 2, 2, "no"],
    ["LESS_THAN", 3, 2, "no"],
    ["LESS_THAN", 1, 2.5, "yes"],
    ["LESS_THAN", 2.5, 2, "no"],
    ["LESS_THAN", -1.5, -1.25, "yes"],
    ["LESS_THAN", "apple", "banana", "yes"],
    ["LESS_THAN", "banana", "apple", "no"],
    ["LESS_THAN", true, false, "VAR_SUB_ERROR"],
    ["LESS_THAN", [1], 2, "VAR_SUB_ERROR"],
    ["LESS_THAN", { a: 1 }, { a: 2 }, "VAR_SUB_ERROR"],
    ["GREATER_THAN", 3, 2, "yes"],
    ["GREATER_THAN", 2, 2, "no"],
    ["GREATER_THAN", 1, 2, "no"],
    ["GREATER_THAN", 2.5, 2, "yes"],
    ["GREATER_THAN", "b", "a", "yes"],
    ["GREATER_THAN", 1, [2], "VAR_SUB_ERROR"],
    ["LESS_THAN_EQ", 2, 2, "yes"],
    ["LESS_THAN_EQ", 1, 2, "yes"],
    ["LESS_THAN_EQ", 3, 2, "no"],
    ["LESS_THAN_EQ", 2, 2.5, "yes"],
    ["LESS_THAN_EQ", "a", "a", "yes"],
    ["LESS_THAN_EQ", false, true, "VAR_SUB_ERROR"],
    ["GREATER_THAN_EQ", 2, 2, "yes"],
    ["GREATER_THAN_EQ", 3, 2, "yes"],
    ["GREATER_THAN_EQ", 1, 2, "no"],
    ["GREATER_THAN_EQ", 2.5, 3, "no"],
    ["GREATER_THAN_EQ", "b", "a", "yes"],
    ["GREATER_THAN_EQ", [3], [2], "VAR_SUB_ERROR"],
    ["EQUALS", 5, 5, "yes"],
    ["EQUALS", 5, 6, "no"],
    ["EQUALS", "x", "x", "yes"],
    ["EQUALS", "x", "y", "no"],
    ["EQUALS", true, true, "yes"],
    ["EQUALS", true, false, "no"],
    ["EQUALS", 1.5, 1.5, "yes"],
    ["EQUALS", { a: 1, b: [1, 2] }, { b: [1, 2], a: 1 }, "yes"],
    ["EQUALS", { a: 1 }, { a: 2 }, "no"],
    ["EQUALS", [1, 2], [1, 2], "yes"],
    ["EQUALS", [1, 2], [2, 1], "no"],
    // the RHS is cast to the LHS type
    ["EQUALS", 5, "5", "yes"],
    ["EQUALS", 5, "6", "no"],
    ["EQUALS", "5", 5, "yes"],
    ["EQUALS", true, "true", "yes"],
    ["EQUALS", 5, "five", "VAR_SUB_ERROR"],
    ["EQUALS", 5, [5], "VAR_SUB_ERROR"],
    ["NOT_EQUALS", 5, 6, "yes"],
    ["NOT_EQUALS", 5, 5, "no"],
    ["NOT_EQUALS", "x", "y", "yes"],
    ["NOT_EQUALS", { a: 1 }, { a: 1 }, "no"],
    ["NOT_EQUALS", 5, "5", "no"],
    ["NOT_EQUALS", 5, "five", "VAR_SUB_ERROR"],
    ["IN", 2, [1, 2, 3], "yes"],
    ["IN", 4, [1, 2, 3], "no"],
    ["IN", "b", ["a", "b"], "yes"],
    ["IN", { k: 1 }, [{ k: 1 }, { k: 2 }], "yes"],
    ["IN", 2, [], "no"],
    ["IN", "a", { a: 1, b: 2 }, "yes"],
    ["IN", "c", { a: 1, b: 2 }, "no"],
    ["IN", 1, 1, "VAR_SUB_ERROR"],
    ["IN", "a", "abc", "VAR_SUB_ERROR"],
    ["NOT_IN", 4, [1, 2, 3], "yes"],
    ["NOT_IN", 2, [1, 2, 3], "no"],
    ["NOT_IN", "c", { a: 1 }, "yes"],
    ["NOT_IN", "a", { a: 1 }, "no"],
    ["NOT_IN", 1, 1, "VAR_SUB_ERROR"],
  ];
  for (const [op, l, r, want] of cases) {
    it(`B-RUN-7 ${JSON.stringify(l)} ${op} ${JSON.stringify(r)} → ${want}`, async () => {
      expect(await decide(specs.get(op)!, { l, r })).toBe(want);
    });
  }

  it("B-RUN-7 IN / NOT_IN with declared JSON_ARR and JSON_OBJ variables on the right", async () => {
    const spec = await putSpec(
      "ve-in",
      [
        entry(),
        nop("1-arr-NOP", [
          edge("2-in-arr-NOP", { condition: cond(varRef("item"), IN, varRef("list")) }),
          edge("3-obj-NOP"),
        ]),
        nop("2-in-arr-NOP", [edge("3-obj-NOP")]),
        nop("3-obj-NOP", [
          edge("4-not-in-obj-NOP", { condition: cond(varRef("item"), NOT_IN, varRef("obj")) }),
          edge("5-exit-EXIT"),
        ]),
        nop("4-not-in-obj-NOP", [edge("5-exit-EXIT")]),
        exit("5-exit-EXIT"),
      ],
      [varDef("item", "STR"), varDef("list", "JSON_ARR"), varDef("obj", "JSON_OBJ")],
    );
    const path = async (inputs: Msg) => {
      const run = await runSpec(spec, inputs);
      expect(run.status).toBe("COMPLETED");
      return (await nodeRuns(run.id)).map((n) => n.node_name).filter((n) => /in-(arr|obj)/.test(n));
    };
    expect(await path({ item: str("a"), list: jsonArr(["a", "b"]), obj: jsonObj({ b: 1 }) })).toEqual([
      "2-in-arr-NOP",
      "4-not-in-obj-NOP",
    ]);
    expect(await path({ item: str("b"), list: jsonArr(["a"]), obj: jsonObj({ b: 1 }) })).toEqual([]);
  });

  it("B-RUN-7 conditions compare variables with literals and with other variables", async () => {
    const spec = await putSpec(
      "ve-vars",
      [
        entry(),
        nop("1-decide-NOP", [
          edge("2-yes-NOP", { condition: cond(varRef("a"), "GREATER_THAN_EQ", varRef("b")) }),
          edge("3-no-NOP"),
        ]),
        nop("2-yes-NOP", [edge("4-exit-EXIT")]),
        nop("3-no-NOP", [edge("4-exit-EXIT")]),
        exit("4-exit-EXIT"),
      ],
      [varDef("a", "DOUBLE"), varDef("b", "INT")],
    );
    const taken = async (a: number, b: number) =>
      (await nodeRuns((await runSpec(spec, { a: dbl(a), b: int(b) })).id))[2]!.node_name;
    expect(await taken(2.5, 2)).toBe("2-yes-NOP");
    expect(await taken(1.5, 2)).toBe("3-no-NOP");
  });
});

describe("mutation types", () => {
  it("B-RUN-9 ASSIGN sets a variable of every type from a literal", async () => {
    const { run, vars } = await mutate(
      [
        varDef("s", "STR"),
        varDef("i", "INT"),
        varDef("d", "DOUBLE"),
        varDef("b", "BOOL"),
        varDef("o", "JSON_OBJ"),
        varDef("a", "JSON_ARR"),
        varDef("y", "BYTES"),
      ],
      [
        mutation("s", "ASSIGN", litRhs(str("hello"))),
        mutation("i", "ASSIGN", litRhs(int(-42))),
        mutation("d", "ASSIGN", litRhs(dbl(3.25))),
        mutation("b", "ASSIGN", litRhs(bool(true))),
        mutation("o", "ASSIGN", litRhs(jsonObj({ k: [1, { z: null }] }))),
        mutation("a", "ASSIGN", litRhs(jsonArr([1, "two", { three: 3 }]))),
        mutation("y", "ASSIGN", litRhs({ bytes: Buffer.from([0, 1, 254, 255]) })),
      ],
    );
    expect(run.status).toBe("COMPLETED");
    expect(vars).toEqual({
      s: "hello",
      i: -42,
      d: 3.25,
      b: true,
      o: { k: [1, { z: null }] },
      a: [1, "two", { three: 3 }],
      y: Buffer.from([0, 1, 254, 255]),
    });
  });

  it("B-RUN-9 ASSIGN from another variable, and ASSIGN of a value of another type fails naming both types", async () => {
    const ok = await mutate(
      [varDef("src", "STR"), varDef("dst", "STR")],
      [mutation("dst", "ASSIGN", varRhs(varRef("src")))],
      { src: str("copied") },
    );
    expect(ok.vars).toEqual({ src: "copied", dst: "copied" });

    const bad = await mutate([varDef("n", "INT")], [mutation("n", "ASSIGN", litRhs(str("seven")))], {
      n: int(1),
    });
    expect(bad.run.status).toBe("ERROR");
    const f = await failureOf(bad.run.id);
    expect(f.name).toBe("VAR_MUTATION_ERROR");
    expect(f.message).toContain("INT");
    expect(f.message).toContain("STR");
    expect(bad.vars.n).toBe(1);
  });

  it("B-RUN-9 ADD sums INTs and DOUBLEs, concatenates STRs and appends to a JSON_ARR", async () => {
    const { run, vars } = await mutate(
      [
        varDef("i", "INT"),
        varDef("d", "DOUBLE"),
        varDef("s", "STR"),
        varDef("a", "JSON_ARR"),
        varDef("i2", "INT"),
      ],
      [
        mutation("i", "ADD", litRhs(int(5))),
        mutation("d", "ADD", litRhs(dbl(0.25))),
        mutation("s", "ADD", litRhs(str("-suffix"))),
        mutation("a", "ADD", litRhs(jsonObj({ x: 1 }))),
        mutation("a", "ADD", litRhs(str("end"))),
        mutation("i2", "ADD", litRhs(dbl(2.0))),
      ],
      { i: int(10), d: dbl(1.5), s: str("pre"), a: jsonArr([1]), i2: int(1) },
    );
    expect(run.status).toBe("COMPLETED");
    expect(vars).toEqual({ i: 15, d: 1.75, s: "pre-suffix", a: [1, { x: 1 }, "end"], i2: 3 });
    const values = await variableValues(run.id);
    expect(values.i2!.value).toBe("int");
    expect(values.d!.value).toBe("double");
  });

  it("B-RUN-9 EXTEND joins STRs and JSON_ARRs and fails on other types", async () => {
    const { run, vars } = await mutate(
      [varDef("s", "STR"), varDef("a", "JSON_ARR")],
      [mutation("s", "EXTEND", litRhs(str("def"))), mutation("a", "EXTEND", litRhs(jsonArr([3, [4]])))],
      { s: str("abc"), a: jsonArr([1, 2]) },
    );
    expect(run.status).toBe("COMPLETED");
    expect(vars).toEqual({ s: "abcdef", a: [1, 2, 3, [4]] });

    const bad = await mutate([varDef("i", "INT")], [mutation("i", "EXTEND", litRhs(int(1)))], { i: int(1) });
    expect(bad.run.status).toBe("ERROR");
    expect((await failureOf(bad.run.id)).name).toBe("VAR_MUTATION_ERROR");
  });

  it("B-RUN-9 SUBTRACT, MULTIPLY and DIVIDE work on INT and DOUBLE, and an INT stays an INT", async () => {
    const { run, vars } = await mutate(
      [
        varDef("is", "INT"),
        varDef("im", "INT"),
        varDef("id", "INT"),
        varDef("ds", "DOUBLE"),
        varDef("dm", "DOUBLE"),
        varDef("dd", "DOUBLE"),
        varDef("imd", "INT"),
      ],
      [
        mutation("is", "SUBTRACT", litRhs(int(15))),
        mutation("im", "MULTIPLY", litRhs(int(-3))),
        mutation("id", "DIVIDE", litRhs(int(2))),
        mutation("ds", "SUBTRACT", litRhs(dbl(0.5))),
        mutation("dm", "MULTIPLY", litRhs(int(4))),
        mutation("dd", "DIVIDE", litRhs(dbl(2))),
        mutation("imd", "MULTIPLY", litRhs(dbl(1.5))),
      ],
      {
        is: int(10),
        im: int(7),
        id: int(7),
        ds: dbl(2),
        dm: dbl(1.25),
        dd: dbl(7),
        imd: int(10),
      },
    );
    expect(run.status).toBe("COMPLETED");
    expect(vars).toEqual({ is: -5, im: -21, id: 3, ds: 1.5, dm: 5, dd: 3.5, imd: 15 });
    const values = await variableValues(run.id);
    for (const name of ["is", "im", "id", "imd"]) expect(values[name]!.value).toBe("int");
    for (const name of ["ds", "dm", "dd"]) expect(values[name]!.value).toBe("double");
  });

  it("B-RUN-9 DIVIDE by zero and arithmetic on a STR fail with VAR_MUTATION_ERROR", async () => {
    const zero = await mutate([varDef("i", "INT")], [mutation("i", "DIVIDE", litRhs(int(0)))], { i: int(4) });
    expect(zero.run.status).toBe("ERROR");
    expect((await failureOf(zero.run.id)).name).toBe("VAR_MUTATION_ERROR");
    expect(zero.vars.i).toBe(4);
    const strSub = await mutate([varDef("s", "STR")], [mutation("s", "SUBTRACT", litRhs(int(1)))], {
      s: str("x"),
    });
    expect(strSub.run.status).toBe("ERROR");
    expect((await failureOf(strSub.run.id)).name).toBe("VAR_MUTATION_ERROR");
  });

  it("B-RUN-9 REMOVE_IF_PRESENT removes a JSON_ARR element and ignores one that is absent", async () => {
    const { run, vars } = await mutate(
      [varDef("a", "JSON_ARR"), varDef("b", "JSON_ARR")],
      [
        mutation("a", "REMOVE_IF_PRESENT", litRhs(str("b"))),
        mutation("a", "REMOVE_IF_PRESENT", litRhs(jsonObj({ k: 1 }))),
        mutation("b", "REMOVE_IF_PRESENT", litRhs(int(9))),
      ],
      { a: jsonArr(["a", "b", { k: 1 }, 3]), b: jsonArr([1, 2]) },
    );
    expect(run.status).toBe("COMPLETED");
    expect(vars).toEqual({ a: ["a", 3], b: [1, 2] });
  });

  it("B-RUN-9 REMOVE_INDEX removes by position; an index out of range fails", async () => {
    const { run, vars } = await mutate(
      [varDef("a", "JSON_ARR")],
      [mutation("a", "REMOVE_INDEX", litRhs(int(1))), mutation("a", "REMOVE_INDEX", litRhs(int(0)))],
      { a: jsonArr(["x", "y", "z"]) },
    );
    expect(run.status).toBe("COMPLETED");
    expect(vars).toEqual({ a: ["z"] });

    const bad = await mutate([varDef("a", "JSON_ARR")], [mutation("a", "REMOVE_INDEX", litRhs(int(3)))], {
      a: jsonArr([1, 2, 3]),
    });
    expect(bad.run.status).toBe("ERROR");
    const f = await failureOf(bad.run.id);
    expect(f.name).toBe("VAR_MUTATION_ERROR");
    expect(f.message).toMatch(/range|index/i);
    expect(bad.vars.a).toEqual([1, 2, 3]);
  });

  it("B-RUN-9 REMOVE_KEY removes a JSON_OBJ key; a missing key is ignored", async () => {
    const { run, vars } = await mutate(
      [varDef("o", "JSON_OBJ")],
      [mutation("o", "REMOVE_KEY", litRhs(str("a"))), mutation("o", "REMOVE_KEY", litRhs(str("nope")))],
      { o: jsonObj({ a: 1, b: { c: 2 } }) },
    );
    expect(run.status).toBe("COMPLETED");
    expect(vars).toEqual({ o: { b: { c: 2 } } });
  });

  it("B-RUN-9 lhs_json_path mutates only a sub-field of a JSON_OBJ or JSON_ARR", async () => {
    const { run, vars } = await mutate(
      [varDef("o", "JSON_OBJ"), varDef("a", "JSON_ARR")],
      [
        mutation("o", "ASSIGN", litRhs(str("new")), { lhs_json_path: "$.user.name" }),
        mutation("o", "ADD", litRhs(int(2)), { lhs_json_path: "$.count" }),
        mutation("o", "ADD", litRhs(str("c")), { lhs_json_path: "$.user.tags" }),
        mutation("o", "ASSIGN", litRhs(bool(true)), { lhs_json_path: "$.created" }),
        mutation("o", "REMOVE_KEY", litRhs(str("drop")), { lhs_json_path: "$.user" }),
        mutation("a", "ASSIGN", litRhs(int(99)), { lhs_json_path: "$[1]" }),
        mutation("a", "MULTIPLY", litRhs(int(10)), { lhs_json_path: "$[2].v" }),
      ],
      {
        o: jsonObj({ user: { name: "old", tags: ["a", "b"], drop: 1 }, count: 1 }),
        a: jsonArr([0, 1, { v: 4 }]),
      },
    );
    expect(run.status).toBe("COMPLETED");
    expect(vars).toEqual({
      o: { user: { name: "new", tags: ["a", "b", "c"] }, count: 3, created: true },
      a: [0, 99, { v: 40 }],
    });
  });

  it("B-RUN-9 an lhs_json_path that does not exist fails with VAR_MUTATION_ERROR", async () => {
    const bad = await mutate(
      [varDef("o", "JSON_OBJ")],
      [mutation("o", "ADD", litRhs(int(1)), { lhs_json_path: "$.missing.count" })],
      { o: jsonObj({ a: 1 }) },
    );
    expect(bad.run.status).toBe("ERROR");
    expect((await failureOf(bad.run.id)).name).toBe("VAR_MUTATION_ERROR");
    expect(bad.vars.o).toEqual({ a: 1 });
  });

  it("B-RUN-9 node_output takes a task's output, whole or the part its jsonpath selects", async () => {
    const spec = await putSpec(
      "ve-out",
      [
        entry(),
        {
          name: "1-fetch-TASK",
          node: { task: { task_def_id: { name: "ve-fetch" }, variables: [lit(str("ok"))] } },
          edges: [
            edge("2-exit-EXIT", {
              variable_mutations: [
                mutation("whole", "ASSIGN", outRhs()),
                mutation("name", "ASSIGN", outRhs("$.user.name")),
                mutation("tags", "ASSIGN", outRhs("$.user.tags")),
                mutation("first", "ASSIGN", outRhs("$.user.tags[0]")),
                mutation("n", "ADD", outRhs("$.n")),
                mutation("price", "MULTIPLY", outRhs("$.price")),
              ],
            }),
          ],
        },
        exit("2-exit-EXIT"),
      ],
      [
        varDef("whole", "JSON_OBJ"),
        varDef("name", "STR"),
        varDef("tags", "JSON_ARR"),
        varDef("first", "STR"),
        varDef("n", "INT", { default_value: int(10) }),
        varDef("price", "DOUBLE", { default_value: dbl(4) }),
      ],
    );
    const done = await runUntilDone(spec);
    expect(done.status).toBe("COMPLETED");
    expect(await variables(done.id)).toEqual({
      whole: { user: { name: "ada", tags: ["x", "y"] }, n: 3, price: 2.5 },
      name: "ada",
      tags: ["x", "y"],
      first: "x",
      n: 13,
      price: 10,
    });
  });
});

describe("all-or-nothing mutations", () => {
  it("B-RUN-8 mutations on an edge run in order and each sees the result of the one before", async () => {
    const { run, vars } = await mutate(
      [varDef("x", "INT"), varDef("copy", "INT"), varDef("log", "STR")],
      [
        mutation("x", "ADD", litRhs(int(2))),
        mutation("x", "MULTIPLY", litRhs(int(10))),
        mutation("copy", "ASSIGN", varRhs(varRef("x"))),
        mutation("x", "SUBTRACT", litRhs(int(1))),
        mutation(
          "log",
          "ASSIGN",
          varRhs({ format_string: { format: lit(str("x={0}")), args: [varRef("x")] } }),
        ),
      ],
      { x: int(1) },
    );
    expect(run.status).toBe("COMPLETED");
    expect(vars).toEqual({ x: 29, copy: 30, log: "x=29" });
  });

  it("B-RUN-8 when one mutation fails none of the edge's mutations stick and the thread fails VAR_MUTATION_ERROR", async () => {
    const spec = await mutationSpec(
      [varDef("a", "INT"), varDef("b", "STR"), varDef("list", "JSON_ARR")],
      [
        mutation("a", "ASSIGN", litRhs(int(100))),
        mutation("b", "ADD", litRhs(str("!"))),
        mutation("list", "ADD", litRhs(int(4))),
        mutation("list", "REMOVE_INDEX", litRhs(int(10))),
        mutation("a", "ADD", litRhs(int(1))),
      ],
    );
    const run = await runSpec(spec, { a: int(1), b: str("hi"), list: jsonArr([1]) });
    expect(run.status).toBe("ERROR");
    const f = await failureOf(run.id);
    expect(f).toMatchObject({ status: "ERROR", name: "VAR_MUTATION_ERROR", node: "1-mutate-NOP" });
    expect(await variables(run.id)).toEqual({ a: 1, b: "hi", list: [1] });
    // the thread did not move on
    expect((await nodeRuns(run.id)).map((n) => n.node_name)).toEqual([
      "0-entrypoint-ENTRYPOINT",
      "1-mutate-NOP",
    ]);
  });

  it("B-RUN-8 mutations after a task run only if the task did not fail", async () => {
    const spec = await putSpec(
      "ve-failed-task",
      [
        entry(),
        {
          name: "1-fetch-TASK",
          node: { task: { task_def_id: { name: "ve-fetch" }, variables: [varRef("mode")] } },
          edges: [
            edge("2-exit-EXIT", { variable_mutations: [mutation("touched", "ASSIGN", litRhs(bool(true)))] }),
          ],
        },
        exit("2-exit-EXIT"),
      ],
      [varDef("mode", "STR"), varDef("touched", "BOOL", { default_value: bool(false) })],
    );
    const failed = await runUntilDone(spec, { mode: str("fail") });
    expect(failed.status).toBe("ERROR");
    expect((await failureOf(failed.id)).name).toBe("TASK_FAILURE");
    expect((await variables(failed.id)).touched).toBe(false);
    const ok = await runUntilDone(spec, { mode: str("ok") });
    expect(ok.status).toBe("COMPLETED");
    expect((await variables(ok.id)).touched).toBe(true);
  });

  it("B-RUN-8 a node_output jsonpath that is missing fails the edge with VAR_MUTATION_ERROR and changes nothing", async () => {
    const spec = await putSpec(
      "ve-out-missing",
      [
        entry(),
        {
          name: "1-fetch-TASK",
          node: { task: { task_def_id: { name: "ve-fetch" }, variables: [lit(str("arr"))] } },
          edges: [
            edge("2-exit-EXIT", {
              variable_mutations: [
                mutation("first", "ASSIGN", outRhs("$[0]")),
                mutation("missing", "ASSIGN", outRhs("$[7]")),
              ],
            }),
          ],
        },
        exit("2-exit-EXIT"),
      ],
      [varDef("first", "INT"), varDef("missing", "INT")],
    );
    const done = await runUntilDone(spec);
    expect(done.status).toBe("ERROR");
    const f = await failureOf(done.id);
    expect(f).toMatchObject({ name: "VAR_MUTATION_ERROR", node: "1-fetch-TASK" });
    expect(await variables(done.id)).toEqual({ first: null, missing: null });
  });
});

describe("variable assignments", () => {
  it("B-RUN-10 a variable with a json_path, a literal and a format string give the values they name", async () => {
    const { run, vars } = await mutate(
      [
        varDef("doc", "JSON_OBJ"),
        varDef("deep", "STR"),
        varDef("item", "INT"),
        varDef("sub", "JSON_OBJ"),
        varDef("whole", "JSON_OBJ"),
        varDef("literal", "DOUBLE"),
        varDef("text", "STR"),
        varDef("fromvar", "STR"),
      ],
      [
        mutation("deep", "ASSIGN", varRhs(varRef("doc", "$.a.b"))),
        mutation("item", "ASSIGN", varRhs(varRef("doc", "$.list[1]"))),
        mutation("sub", "ASSIGN", varRhs(varRef("doc", "$.a"))),
        mutation("whole", "ASSIGN", varRhs(varRef("doc"))),
        mutation("literal", "ASSIGN", varRhs(lit(dbl(6.5)))),
        mutation(
          "text",
          "ASSIGN",
          varRhs({
            format_string: {
              format: lit(str("{0} and {1}, {0} again; {2}")),
              args: [varRef("doc", "$.a.b"), lit(int(2)), varRef("doc", "$.list")],
            },
          }),
        ),
        mutation(
          "fromvar",
          "ASSIGN",
          varRhs({ format_string: { format: varRef("doc", "$.tmpl"), args: [lit(bool(true))] } }),
        ),
      ],
      { doc: jsonObj({ a: { b: "deep-value" }, list: [10, 20, 30], tmpl: "flag={0}" }) },
    );
    expect(run.status).toBe("COMPLETED");
    expect(vars).toEqual({
      doc: { a: { b: "deep-value" }, list: [10, 20, 30], tmpl: "flag={0}" },
      deep: "deep-value",
      item: 20,
      sub: { b: "deep-value" },
      whole: { a: { b: "deep-value" }, list: [10, 20, 30], tmpl: "flag={0}" },
      literal: 6.5,
      text: "deep-value and 2, deep-value again; [10,20,30]",
      fromvar: "flag=true",
    });
  });

  it("B-RUN-10 task inputs come from variables with json_path, literals and format strings", async () => {
    const spec = await putSpec(
      "ve-inputs",
      [
        entry(),
        nop("1-start-NOP"),
        taskNode("2-a-TASK", "ve-probe", [varRef("doc", "$.name")]),
        exit("3-exit-EXIT"),
      ],
      [varDef("doc", "JSON_OBJ")],
    );
    const run = await runSpec(spec, { doc: jsonObj({ name: "from-path" }) });
    const tasks = (await c.call("ListTaskRuns", { wf_run_id: run.id })).results;
    expect(tasks[0].input_variables).toEqual([{ var_name: "a", value: { str: "from-path", value: "str" } }]);

    const fmtSpec = await putSpec(
      "ve-inputs-fmt",
      [
        entry(),
        taskNode("1-a-TASK", "ve-probe", [
          { format_string: { format: lit(str("{0}-{1}")), args: [varRef("doc", "$.name"), varRef("n")] } },
        ]),
        exit("2-exit-EXIT"),
      ],
      [varDef("doc", "JSON_OBJ"), varDef("n", "INT")],
    );
    const fmtRun = await runSpec(fmtSpec, { doc: jsonObj({ name: "job" }), n: int(7) });
    const fmtTasks = (await c.call("ListTaskRuns", { wf_run_id: fmtRun.id })).results;
    expect(fmtTasks[0].input_variables[0].value).toMatchObject({ str: "job-7" });
  });

  it("B-RUN-10 a JSON path that is missing is VAR_SUB_ERROR", async () => {
    const spec = await putSpec(
      "ve-missing-path",
      [entry(), taskNode("1-a-TASK", "ve-probe", [varRef("doc", "$.nope.deeper")]), exit("2-exit-EXIT")],
      [varDef("doc", "JSON_OBJ")],
    );
    const run = await runSpec(spec, { doc: jsonObj({ name: "x" }) });
    expect(run.status).toBe("ERROR");
    const f = await failureOf(run.id);
    expect(f).toMatchObject({ status: "ERROR", name: "VAR_SUB_ERROR", node: "1-a-TASK" });
    expect(f.message).toContain("$.nope");
    // in an edge condition too
    expect(await decide(await comparatorSpec("EQUALS"), { l: 1 })).toBe("VAR_SUB_ERROR");
  });

  it("B-RUN-10 a JSON path into a variable that is not JSON is VAR_SUB_ERROR", async () => {
    const spec = await putSpec(
      "ve-path-on-str",
      [entry(), taskNode("1-a-TASK", "ve-probe", [varRef("s", "$.a")]), exit("2-exit-EXIT")],
      [varDef("s", "STR")],
    );
    const run = await runSpec(spec, { s: str("plain") });
    expect((await failureOf(run.id)).name).toBe("VAR_SUB_ERROR");
  });

  it("B-RUN-10 a value of another type is not silently cast: the failure names both types", async () => {
    const spec = await putSpec(
      "ve-no-cast",
      [entry(), taskNode("1-a-TASK", "ve-probe-int", [varRef("doc", "$.v")]), exit("2-exit-EXIT")],
      [varDef("doc", "JSON_OBJ")],
    );
    for (const v of ["abc", 2.5, { n: 1 }, [1]]) {
      const run = await runSpec(spec, { doc: jsonObj({ v }) });
      expect(run.status).toBe("ERROR");
      const f = await failureOf(run.id);
      expect(f.name).toBe("VAR_SUB_ERROR");
      expect(f.message).toContain("INT");
      expect(f.message).toMatch(/STR|DOUBLE|JSON_OBJ|JSON_ARR/);
    }
    const ok = await runSpec(spec, { doc: jsonObj({ v: 3 }) });
    expect(ok.status).toBe("RUNNING");
    const tasks = (await c.call("ListTaskRuns", { wf_run_id: ok.id })).results;
    expect(tasks[0].input_variables[0].value).toMatchObject({ int: "3" });
  });

  it("B-RUN-10 a format string that refers to a missing argument is VAR_SUB_ERROR", async () => {
    const spec = await putSpec(
      "ve-fmt-missing",
      [
        entry(),
        taskNode("1-a-TASK", "ve-probe", [
          { format_string: { format: lit(str("{0} {1}")), args: [lit(str("x"))] } },
        ]),
        exit("2-exit-EXIT"),
      ],
      [],
    );
    const run = await runSpec(spec);
    expect((await failureOf(run.id)).name).toBe("VAR_SUB_ERROR");
  });
});

describe("variable types and defaults", () => {
  const ALL_TYPES: Msg[] = [
    varDef("o", "JSON_OBJ", { default_value: jsonObj({ d: 1 }) }),
    varDef("a", "JSON_ARR", { default_value: jsonArr(["d"]) }),
    varDef("d", "DOUBLE", { default_value: dbl(0.5) }),
    varDef("b", "BOOL", { default_value: bool(false) }),
    varDef("s", "STR", { default_value: str("dflt") }),
    varDef("i", "INT", { default_value: int(-1) }),
    varDef("y", "BYTES", { default_value: { bytes: Buffer.from("dflt") } }),
  ];

  it("B-RUN-10 all seven variable types take their default values", async () => {
    const spec = await putSpec("ve-types", [entry(), exit("1-exit-EXIT")], ALL_TYPES);
    const run = await runSpec(spec);
    expect(run.status).toBe("COMPLETED");
    expect(await variables(run.id)).toEqual({
      o: { d: 1 },
      a: ["d"],
      d: 0.5,
      b: false,
      s: "dflt",
      i: -1,
      y: Buffer.from("dflt"),
    });
  });

  it("B-RUN-10 all seven variable types keep the values they were given", async () => {
    const spec = await putSpec("ve-types-in", [entry(), exit("1-exit-EXIT")], ALL_TYPES);
    const run = await runSpec(spec, {
      o: jsonObj({ nested: { list: [1, 2.5, "x", null, true] } }),
      a: jsonArr([{ k: "v" }, [1]]),
      d: dbl(-1e-3),
      b: bool(true),
      s: str("ünïcødé ✓"),
      i: int(9007199254740991),
      y: { bytes: Buffer.from([9, 8, 7]) },
    });
    expect(await variables(run.id)).toEqual({
      o: { nested: { list: [1, 2.5, "x", null, true] } },
      a: [{ k: "v" }, [1]],
      d: -1e-3,
      b: true,
      s: "ünïcødé ✓",
      i: 9007199254740991,
      y: Buffer.from([9, 8, 7]),
    });
    const values = await variableValues(run.id);
    expect(values.i).toMatchObject({ value: "int", int: "9007199254740991" });
  });

  it("B-RUN-10 an INT beyond 2^53 survives unchanged", async () => {
    const spec = await putSpec("ve-big-int", [entry(), exit("1-exit-EXIT")], [varDef("i", "INT")]);
    const run = await runSpec(spec, { i: { int: "9223372036854775807" } });
    const v = await c.call("GetVariable", { wf_run_id: run.id, thread_run_number: 0, name: "i" });
    expect(v.value).toMatchObject({ value: "int", int: "9223372036854775807" });
  });
});

describe("loops", () => {
  it("B-RUN-11 a NOP loop with mutations runs once per iteration with ever-increasing NodeRun positions", async () => {
    const spec = await putSpec(
      "ve-loop",
      [
        entry(),
        nop("1-check-NOP", [
          edge("2-body-NOP", { condition: cond(varRef("i"), "LESS_THAN", lit(int(4))) }),
          edge("3-exit-EXIT"),
        ]),
        nop("2-body-NOP", [
          edge("1-check-NOP", {
            variable_mutations: [
              mutation("seen", "ADD", varRhs(varRef("i"))),
              mutation("i", "ADD", litRhs(int(1))),
            ],
          }),
        ]),
        exit("3-exit-EXIT"),
      ],
      [
        varDef("i", "INT", { default_value: int(0) }),
        varDef("seen", "JSON_ARR", { default_value: jsonArr([]) }),
      ],
    );
    const run = await runSpec(spec);
    expect(run.status).toBe("COMPLETED");
    expect(await variables(run.id)).toEqual({ i: 4, seen: [0, 1, 2, 3] });
    const nodes = await nodeRuns(run.id);
    const positions = nodes.map((n) => n.id.position);
    for (let k = 1; k < positions.length; k++) expect(positions[k]).toBeGreaterThan(positions[k - 1]);
    expect(nodes.map((n) => n.node_name)).toEqual([
      "0-entrypoint-ENTRYPOINT",
      ...Array.from({ length: 4 }, () => ["1-check-NOP", "2-body-NOP"]).flat(),
      "1-check-NOP",
      "3-exit-EXIT",
    ]);
  });

  it("B-RUN-11 a loop around a TASK node runs a new TaskRun per iteration", async () => {
    const spec = await putSpec(
      "ve-task-loop",
      [
        entry(),
        {
          name: "1-fetch-TASK",
          node: { task: { task_def_id: { name: "ve-fetch" }, variables: [lit(str("ok"))] } },
          edges: [edge("2-check-NOP", { variable_mutations: [mutation("n", "ADD", outRhs("$.n"))] })],
        },
        nop("2-check-NOP", [
          edge("1-fetch-TASK", { condition: cond(varRef("n"), "LESS_THAN", lit(int(9))) }),
          edge("3-exit-EXIT"),
        ]),
        exit("3-exit-EXIT"),
      ],
      [varDef("n", "INT", { default_value: int(0) })],
    );
    const done = await runUntilDone(spec);
    expect(done.status).toBe("COMPLETED");
    expect((await variables(done.id)).n).toBe(9);
    const nodes = await nodeRuns(done.id);
    expect(nodes.map((n) => n.id.position)).toEqual(nodes.map((_n, k) => k));
    expect(nodes.filter((n) => n.node_name === "1-fetch-TASK")).toHaveLength(3);
    const tasks = (await c.call("ListTaskRuns", { wf_run_id: done.id })).results;
    expect(tasks).toHaveLength(3);
    expect(new Set(tasks.map((t: Msg) => t.id.task_guid)).size).toBe(3);
  });
});
