/**
 * Issue 5 (workflow builder): each construct compiles to the expected PutWfSpecRequest — node names, edges,
 * conditions, mutations, variable definitions, handler threads.
 */
import { describe, expect, it } from "vitest";
import { Comparator, VariableMutationType, VariableType } from "@pony/proto";
import { HANDLER_INPUT_VAR, SpawnedThreads, Workflow } from "../../src/workflow";
import { edges, int, json, lit, node, nodeNames, str, thread, v } from "./helpers";

describe("issue 5 workflow builder: tasks and variables", () => {
  it("issue 5 a task with a required variable compiles to ENTRYPOINT → TASK → EXIT", () => {
    const wf = Workflow.newWorkflow("greeting", (wf) => {
      const name = wf.declareStr("name").required();
      wf.execute("greet", name);
    });
    expect(json(wf)).toEqual({
      name: "greeting",
      entrypoint_thread_name: "entrypoint",
      thread_specs: {
        entrypoint: {
          nodes: {
            "0-entrypoint-ENTRYPOINT": {
              entrypoint: {},
              outgoing_edges: [{ sink_node_name: "1-greet-TASK" }],
            },
            "1-greet-TASK": {
              task: { task_def_id: { name: "greet" }, variables: [v("name")] },
              outgoing_edges: [{ sink_node_name: "2-exit-EXIT" }],
            },
            "2-exit-EXIT": { exit: {} },
          },
          variable_defs: [{ var_def: { name: "name", type: "STR" }, required: true }],
        },
      },
    });
  });

  it("issue 5 every declare method gives its type, default and options", () => {
    const wf = Workflow.newWorkflow("vars", (wf) => {
      wf.declareStr("s", "hi").searchable();
      wf.declareInt("i", 7);
      wf.declareInt("big", 2n ** 60n);
      wf.declareDouble("d", 1.5);
      wf.declareDouble("d2", 2);
      wf.declareBool("b", true).withAccessLevel("PRIVATE_VAR");
      wf.declareJsonObj("o", { a: 1 }).searchableOn("$.a", "INT").searchableOn("$.b", VariableType.STR);
      wf.declareJsonArr("arr", [1, "x"]);
      wf.declareBytes("bytes", new Uint8Array([1, 2, 3]));
      wf.declare("generic", "STR").masked();
      wf.declareStr("plain");
    });
    expect(thread(wf).variable_defs).toEqual([
      { var_def: { name: "s", type: "STR", default_value: { str: "hi" } }, searchable: true },
      { var_def: { name: "i", type: "INT", default_value: { int: "7" } } },
      { var_def: { name: "big", type: "INT", default_value: { int: String(2n ** 60n) } } },
      { var_def: { name: "d", type: "DOUBLE", default_value: { double: 1.5 } } },
      { var_def: { name: "d2", type: "DOUBLE", default_value: { double: 2 } } },
      { var_def: { name: "b", type: "BOOL", default_value: { bool: true } }, access_level: "PRIVATE_VAR" },
      {
        var_def: { name: "o", type: "JSON_OBJ", default_value: { json_obj: '{"a":1}' } },
        json_indexes: [
          { field_path: "$.a", field_type: "INT" },
          { field_path: "$.b", field_type: "STR" },
        ],
      },
      { var_def: { name: "arr", type: "JSON_ARR", default_value: { json_arr: '[1,"x"]' } } },
      { var_def: { name: "bytes", type: "BYTES", default_value: { bytes: "AQID" } } },
      {
        var_def: { name: "generic", type: "STR", type_def: { primitive_type: "STR", masked: true } },
      },
      { var_def: { name: "plain", type: "STR" } },
    ]);
  });

  it("issue 5 literal arguments get LittleHorse types (integer numbers INT, others DOUBLE)", () => {
    const wf = Workflow.newWorkflow("literals", (wf) => {
      wf.execute("t", "s", 3, 2.5, true, { k: [1] }, [1, 2], new Uint8Array([255]), 5n, null);
    });
    expect(node(wf, "1-t-TASK").task.variables).toEqual([
      str("s"),
      int(3),
      lit({ double: 2.5 }),
      lit({ bool: true }),
      lit({ json_obj: '{"k":[1]}' }),
      lit({ json_arr: "[1,2]" }),
      lit({ bytes: "/w==" }),
      int(5),
      lit({}),
    ]);
  });

  it("issue 5 a variable's jsonPath() is a VariableAssignment with json_path", () => {
    const wf = Workflow.newWorkflow("json-path", (wf) => {
      const order = wf.declareJsonObj("order");
      wf.execute("ship", order.jsonPath("$.address.city"), order);
    });
    expect(node(wf, "1-ship-TASK").task.variables).toEqual([v("order", "$.address.city"), v("order")]);
  });

  it("issue 5 execute() options: retries, exponential backoff, timeout", () => {
    const wf = Workflow.newWorkflow("task-options", (wf) => {
      wf.execute("a")
        .withRetries(3)
        .withExponentialBackoff({ baseIntervalMs: 100, multiplier: 2, maxDelayMs: 5000 });
      wf.execute("b").timeout(30);
    });
    expect(node(wf, "1-a-TASK").task).toEqual({
      task_def_id: { name: "a" },
      retries: 3,
      exponential_backoff: { base_interval_ms: 100, multiplier: 2, max_delay_ms: "5000" },
    });
    expect(node(wf, "2-b-TASK").task).toEqual({ task_def_id: { name: "b" }, timeout_seconds: 30 });
  });

  it("issue 5 workflow-level task defaults apply to every task node", () => {
    const wf = Workflow.newWorkflow("task-defaults", (wf) => {
      wf.execute("a");
      wf.execute("b").withRetries(0);
    })
      .withDefaultTaskRetries(2)
      .withDefaultTaskTimeout(10)
      .withDefaultExponentialBackoff({ baseIntervalMs: 50, multiplier: 1.5, maxDelayMs: 1000 });
    const backoff = { base_interval_ms: 50, multiplier: 1.5, max_delay_ms: "1000" };
    expect(node(wf, "1-a-TASK").task).toEqual({
      task_def_id: { name: "a" },
      retries: 2,
      timeout_seconds: 10,
      exponential_backoff: backoff,
    });
    expect(node(wf, "2-b-TASK").task).toEqual({
      task_def_id: { name: "b" },
      timeout_seconds: 10,
      exponential_backoff: backoff,
    });
  });

  it("issue 5 dynamic tasks: a STR variable names the node after the variable, a format string 'dynamic'", () => {
    const wf = Workflow.newWorkflow("dynamic", (wf) => {
      const which = wf.declareStr("which");
      wf.execute(which, 1);
      wf.execute(wf.format("task-{0}", which));
    });
    expect(nodeNames(wf)).toEqual([
      "0-entrypoint-ENTRYPOINT",
      "1-which-TASK",
      "2-dynamic-TASK",
      "3-exit-EXIT",
    ]);
    expect(node(wf, "1-which-TASK").task).toEqual({ dynamic_task: v("which"), variables: [int(1)] });
    expect(node(wf, "2-dynamic-TASK").task).toEqual({
      dynamic_task: { format_string: { format: str("task-{0}"), args: [v("which")] } },
    });
  });

  it("issue 5 a NodeOutput argument is a node_output VariableAssignment (with its json path)", () => {
    const wf = Workflow.newWorkflow("node-output-arg", (wf) => {
      const user = wf.execute("load-user");
      wf.execute("greet", user.jsonPath("$.name"), user);
    });
    expect(node(wf, "2-greet-TASK").task.variables).toEqual([
      { node_output: { node_name: "1-load-user-TASK" }, json_path: "$.name" },
      { node_output: { node_name: "1-load-user-TASK" } },
    ]);
  });

  it("issue 5 format strings: a literal template and one assignment per argument", () => {
    const wf = Workflow.newWorkflow("format", (wf) => {
      const a = wf.declareStr("a");
      const b = wf.declareInt("b");
      wf.execute("say", wf.format("{0} and {1} and {0}", a, b));
      wf.execute("say", wf.format("no args"));
    });
    expect(node(wf, "1-say-TASK").task.variables).toEqual([
      { format_string: { format: str("{0} and {1} and {0}"), args: [v("a"), v("b")] } },
    ]);
    expect(node(wf, "2-say-TASK").task.variables).toEqual([{ format_string: { format: str("no args") } }]);
  });

  it("issue 5 withTaskDefs(): matching inputs compile (INT may feed a DOUBLE input)", () => {
    const wf = Workflow.newWorkflow("typed", (wf) => {
      const n = wf.declareInt("n");
      wf.execute("scale", n, 2);
      wf.execute("scale", wf.declareJsonObj("o").jsonPath("$.x"), 2.5);
    }).withTaskDefs({ scale: [{ name: "value", type: "DOUBLE" }, VariableType.DOUBLE] });
    expect(nodeNames(wf)).toEqual(["0-entrypoint-ENTRYPOINT", "1-scale-TASK", "2-scale-TASK", "3-exit-EXIT"]);
  });

  it("issue 5 compile() can be called again and gives the same request", () => {
    const wf = Workflow.newWorkflow("again", (wf) => {
      wf.execute("a", wf.declareStr("x"));
    });
    expect(json(wf)).toEqual(json(wf));
  });
});

describe("issue 5 workflow builder: conditions and loops", () => {
  it("issue 5 doIf().doElse() branches from a NOP with the condition and joins on a NOP", () => {
    const wf = Workflow.newWorkflow("if-else", (wf) => {
      const n = wf.declareInt("n");
      wf.doIf(wf.condition(n, ">", 5), (t) => {
        t.execute("big");
      }).doElse((t) => {
        t.execute("small");
      });
      wf.execute("after");
    });
    expect(nodeNames(wf)).toEqual([
      "0-entrypoint-ENTRYPOINT",
      "1-nop-NOP",
      "2-big-TASK",
      "3-nop-NOP",
      "4-small-TASK",
      "5-after-TASK",
      "6-exit-EXIT",
    ]);
    expect(edges(wf, "1-nop-NOP")).toEqual([
      {
        sink_node_name: "2-big-TASK",
        condition: { comparator: "GREATER_THAN", left: v("n"), right: int(5) },
      },
      { sink_node_name: "4-small-TASK" },
    ]);
    expect(edges(wf, "2-big-TASK")).toEqual([{ sink_node_name: "3-nop-NOP" }]);
    expect(edges(wf, "4-small-TASK")).toEqual([{ sink_node_name: "3-nop-NOP" }]);
    expect(edges(wf, "3-nop-NOP")).toEqual([{ sink_node_name: "5-after-TASK" }]);
  });

  it("issue 5 doIf() without doElse() falls through to the joining NOP", () => {
    const wf = Workflow.newWorkflow("if-only", (wf) => {
      const n = wf.declareInt("n");
      wf.doIf(wf.condition(n, "==", 1), (t) => t.execute("one"));
    });
    expect(edges(wf, "1-nop-NOP")).toEqual([
      { sink_node_name: "2-one-TASK", condition: { comparator: "EQUALS", left: v("n"), right: int(1) } },
      { sink_node_name: "3-nop-NOP" },
    ]);
    expect(edges(wf, "3-nop-NOP")).toEqual([{ sink_node_name: "4-exit-EXIT" }]);
  });

  it("issue 5 doElseIf() edges come in order before the else edge", () => {
    const wf = Workflow.newWorkflow("else-if", (wf) => {
      const n = wf.declareInt("n");
      wf.doIf(wf.condition(n, ">", 10), (t) => t.execute("big"))
        .doElseIf(wf.condition(n, ">", 5), (t) => t.execute("medium"))
        .doElseIf(wf.condition(n, "IN", [1, 2]), (t) => t.mutate(n, "ASSIGN", 0))
        .doElse((t) => t.execute("small"));
    });
    expect(nodeNames(wf)).toEqual([
      "0-entrypoint-ENTRYPOINT",
      "1-nop-NOP",
      "2-big-TASK",
      "3-nop-NOP",
      "4-medium-TASK",
      "5-small-TASK",
      "6-exit-EXIT",
    ]);
    expect(edges(wf, "1-nop-NOP")).toEqual([
      {
        sink_node_name: "2-big-TASK",
        condition: { comparator: "GREATER_THAN", left: v("n"), right: int(10) },
      },
      {
        sink_node_name: "4-medium-TASK",
        condition: { comparator: "GREATER_THAN", left: v("n"), right: int(5) },
      },
      {
        sink_node_name: "3-nop-NOP",
        condition: { comparator: "IN", left: v("n"), right: lit({ json_arr: "[1,2]" }) },
        variable_mutations: [{ lhs_name: "n", literal_value: { int: "0" } }],
      },
      { sink_node_name: "5-small-TASK" },
    ]);
    expect(edges(wf, "4-medium-TASK")).toEqual([{ sink_node_name: "3-nop-NOP" }]);
    expect(edges(wf, "5-small-TASK")).toEqual([{ sink_node_name: "3-nop-NOP" }]);
  });

  it("issue 5 nested ifs each get their own NOP pair", () => {
    const wf = Workflow.newWorkflow("nested-if", (wf) => {
      const n = wf.declareInt("n");
      wf.doIf(wf.condition(n, ">", 0), (t) => {
        t.doIf(t.condition(n, ">", 10), (u) => u.execute("big")).doElse((u) => u.execute("positive"));
      }).doElse((t) => t.execute("not-positive"));
    });
    expect(nodeNames(wf)).toEqual([
      "0-entrypoint-ENTRYPOINT",
      "1-nop-NOP",
      "2-nop-NOP",
      "3-big-TASK",
      "4-nop-NOP",
      "5-positive-TASK",
      "6-nop-NOP",
      "7-not-positive-TASK",
      "8-exit-EXIT",
    ]);
    expect(edges(wf, "1-nop-NOP").map((e) => e.sink_node_name)).toEqual(["2-nop-NOP", "7-not-positive-TASK"]);
    expect(edges(wf, "4-nop-NOP")).toEqual([{ sink_node_name: "6-nop-NOP" }]);
    expect(edges(wf, "7-not-positive-TASK")).toEqual([{ sink_node_name: "6-nop-NOP" }]);
  });

  it("issue 5 every comparator spelling maps to the Comparator enum", () => {
    const cases: [string | Comparator, string][] = [
      ["<", "LESS_THAN"],
      [">", "GREATER_THAN"],
      ["<=", "LESS_THAN_EQ"],
      [">=", "GREATER_THAN_EQ"],
      ["==", "EQUALS"],
      ["!=", "NOT_EQUALS"],
      ["IN", "IN"],
      ["NOT_IN", "NOT_IN"],
      ["LESS_THAN_EQ", "LESS_THAN_EQ"],
      ["NOT_EQUALS", "NOT_EQUALS"],
      [Comparator.GREATER_THAN_EQ, "GREATER_THAN_EQ"],
    ];
    for (const [given, expected] of cases) {
      const wf = Workflow.newWorkflow("cmp", (wf) => {
        const n = wf.declareInt("n");
        wf.doIf(wf.condition(n, given as Comparator, 1), (t) => t.execute("x"));
      });
      const condition = edges(wf, "1-nop-NOP")[0]!.condition;
      // LESS_THAN is the enum's zero value, which proto JSON leaves out
      expect(condition.comparator ?? "LESS_THAN").toBe(expected);
    }
  });

  it("issue 5 doWhile() loops between two NOPs with the condition and its reverse; mutate() rides the body's last edge", () => {
    const wf = Workflow.newWorkflow("while", (wf) => {
      const i = wf.declareInt("i", 0);
      wf.doWhile(wf.condition(i, "<", 3), (t) => {
        t.execute("tick", i);
        t.mutate(i, "ADD", 1);
      });
      wf.execute("done");
    });
    expect(nodeNames(wf)).toEqual([
      "0-entrypoint-ENTRYPOINT",
      "1-nop-NOP",
      "2-tick-TASK",
      "3-nop-NOP",
      "4-done-TASK",
      "5-exit-EXIT",
    ]);
    const cond = { left: v("i"), right: int(3) }; // LESS_THAN: the enum's zero value, left out of proto JSON
    expect(edges(wf, "1-nop-NOP")).toEqual([
      { sink_node_name: "2-tick-TASK", condition: cond },
      { sink_node_name: "3-nop-NOP", condition: { ...cond, comparator: "GREATER_THAN_EQ" } },
    ]);
    expect(edges(wf, "2-tick-TASK")).toEqual([
      {
        sink_node_name: "3-nop-NOP",
        variable_mutations: [{ lhs_name: "i", operation: "ADD", literal_value: { int: "1" } }],
      },
    ]);
    expect(edges(wf, "3-nop-NOP")).toEqual([
      { sink_node_name: "1-nop-NOP", condition: cond },
      { sink_node_name: "4-done-TASK" },
    ]);
  });
});

describe("issue 5 workflow builder: mutations", () => {
  it("issue 5 mutate() forms: the last node's output, an older output, a variable, a literal, a json path", () => {
    const wf = Workflow.newWorkflow("mutations", (wf) => {
      const a = wf.declareStr("a");
      const o = wf.declareJsonObj("o");
      const n = wf.declareInt("n");
      const first = wf.execute("first");
      wf.mutate(a, "ASSIGN", first);
      wf.mutate(o, VariableMutationType.ASSIGN, first.jsonPath("$.obj"));
      wf.execute("second");
      wf.mutate(a, "ASSIGN", first.jsonPath("$.name"));
      wf.mutate(n, "MULTIPLY", n);
      wf.mutate(o.jsonPath("$.count"), "ADD", 2);
      wf.mutate(a, "EXTEND", wf.format("-{0}", n));
    });
    expect(edges(wf, "1-first-TASK")).toEqual([
      {
        sink_node_name: "2-second-TASK",
        variable_mutations: [
          { lhs_name: "a", node_output: {} },
          { lhs_name: "o", node_output: { jsonpath: "$.obj" } },
        ],
      },
    ]);
    expect(edges(wf, "2-second-TASK")).toEqual([
      {
        sink_node_name: "3-exit-EXIT",
        variable_mutations: [
          {
            lhs_name: "a",
            source_variable: { node_output: { node_name: "1-first-TASK" }, json_path: "$.name" },
          },
          { lhs_name: "n", operation: "MULTIPLY", source_variable: v("n") },
          { lhs_name: "o", lhs_json_path: "$.count", operation: "ADD", literal_value: { int: "2" } },
          {
            lhs_name: "a",
            operation: "EXTEND",
            source_variable: { format_string: { format: str("-{0}"), args: [v("n")] } },
          },
        ],
      },
    ]);
  });

  it("issue 5 every mutation type name is accepted", () => {
    const wf = Workflow.newWorkflow("mutation-types", (wf) => {
      const arr = wf.declareJsonArr("arr");
      const obj = wf.declareJsonObj("obj");
      const d = wf.declareDouble("d");
      wf.mutate(arr, "ASSIGN", [1, 2]);
      wf.mutate(arr, "ADD", 3);
      wf.mutate(arr, "EXTEND", [4]);
      wf.mutate(d, "SUBTRACT", 1);
      wf.mutate(d, "MULTIPLY", 2.5);
      wf.mutate(d, "DIVIDE", 2);
      wf.mutate(arr, "REMOVE_IF_PRESENT", 1);
      wf.mutate(arr, "REMOVE_INDEX", 0);
      wf.mutate(obj, "REMOVE_KEY", "k");
    });
    expect(
      edges(wf, "0-entrypoint-ENTRYPOINT")[0]!.variable_mutations.map((m: any) => m.operation ?? "ASSIGN"),
    ).toEqual([
      "ASSIGN",
      "ADD",
      "EXTEND",
      "SUBTRACT",
      "MULTIPLY",
      "DIVIDE",
      "REMOVE_IF_PRESENT",
      "REMOVE_INDEX",
      "REMOVE_KEY",
    ]);
  });
});

describe("issue 5 workflow builder: threads", () => {
  it("issue 5 spawnThread() + waitForThreads(): START_THREAD, a thread-number variable, WAIT_FOR_THREADS", () => {
    const wf = Workflow.newWorkflow("threads", (wf) => {
      const input = wf.declareStr("input");
      const a = wf.spawnThread(
        (t) => {
          const x = t.declareStr("x");
          t.execute("child-task", x, input);
        },
        "child-a",
        { x: input },
      );
      const b = wf.spawnThread((t) => t.execute("other"), "child-b");
      wf.waitForThreads(a, b);
      wf.waitForThreads(SpawnedThreads.of(a));
    });
    expect(nodeNames(wf)).toEqual([
      "0-entrypoint-ENTRYPOINT",
      "1-child-a-START_THREAD",
      "2-child-b-START_THREAD",
      "3-threads-WAIT_FOR_THREADS",
      "4-threads-WAIT_FOR_THREADS",
      "5-exit-EXIT",
    ]);
    expect(node(wf, "1-child-a-START_THREAD")).toEqual({
      start_thread: { thread_spec_name: "child-a", variables: { x: v("input") } },
      outgoing_edges: [
        {
          sink_node_name: "2-child-b-START_THREAD",
          variable_mutations: [{ lhs_name: "1-child-a-START_THREAD", node_output: {} }],
        },
      ],
    });
    expect(node(wf, "3-threads-WAIT_FOR_THREADS").wait_for_threads).toEqual({
      threads: {
        threads: [
          { thread_run_number: v("1-child-a-START_THREAD") },
          { thread_run_number: v("2-child-b-START_THREAD") },
        ],
      },
    });
    expect(node(wf, "4-threads-WAIT_FOR_THREADS").wait_for_threads).toEqual({
      threads: { threads: [{ thread_run_number: v("1-child-a-START_THREAD") }] },
    });
    expect(thread(wf).variable_defs).toEqual([
      { var_def: { name: "input", type: "STR" } },
      { var_def: { name: "1-child-a-START_THREAD", type: "INT" } },
      { var_def: { name: "2-child-b-START_THREAD", type: "INT" } },
    ]);
    expect(nodeNames(wf, "child-a")).toEqual(["0-entrypoint-ENTRYPOINT", "1-child-task-TASK", "2-exit-EXIT"]);
    expect(node(wf, "1-child-task-TASK", "child-a").task.variables).toEqual([v("x"), v("input")]);
    expect(thread(wf, "child-a").variable_defs).toEqual([{ var_def: { name: "x", type: "STR" } }]);
    expect(Object.keys(json(wf).thread_specs)).toEqual(["entrypoint", "child-a", "child-b"]);
  });

  it("issue 5 spawnThreadForEach(): START_MULTIPLE_THREADS and a thread_list wait, with per-thread handlers", () => {
    const wf = Workflow.newWorkflow("for-each", (wf) => {
      const items = wf.declareJsonArr("items");
      const prefix = wf.declareStr("prefix");
      const all = wf.spawnThreadForEach(
        items,
        "per-item",
        (t) => {
          const item = t.declareJsonObj(HANDLER_INPUT_VAR);
          const p = t.declareStr("p");
          t.execute("process", item.jsonPath("$.id"), p);
        },
        { p: prefix },
      );
      wf.waitForThreads(all)
        .handleExceptionOnChild("out-of-stock", (h) => h.execute("notify"))
        .handleErrorOnChild("TIMEOUT", (h) => h.execute("notify"))
        .handleAnyFailureOnChild((h) => h.execute("notify"));
    });
    expect(node(wf, "1-per-item-START_MULTIPLE_THREADS")).toEqual({
      start_multiple_threads: {
        thread_spec_name: "per-item",
        variables: { p: v("prefix") },
        iterable: v("items"),
      },
      outgoing_edges: [
        {
          sink_node_name: "2-threads-WAIT_FOR_THREADS",
          variable_mutations: [{ lhs_name: "1-per-item-START_MULTIPLE_THREADS", node_output: {} }],
        },
      ],
    });
    expect(node(wf, "2-threads-WAIT_FOR_THREADS").wait_for_threads).toEqual({
      thread_list: v("1-per-item-START_MULTIPLE_THREADS"),
      per_thread_failure_handlers: [
        {
          handler_spec_name: "exn-handler-2-threads-WAIT_FOR_THREADS-out-of-stock",
          specific_failure: "out-of-stock",
        },
        { handler_spec_name: "exn-handler-2-threads-WAIT_FOR_THREADS-TIMEOUT", specific_failure: "TIMEOUT" },
        { handler_spec_name: "exn-handler-2-threads-WAIT_FOR_THREADS-any-failure" },
      ],
    });
    expect(thread(wf).variable_defs).toContainEqual({
      var_def: { name: "1-per-item-START_MULTIPLE_THREADS", type: "JSON_ARR" },
    });
    expect(thread(wf, "per-item").variable_defs).toEqual([
      { var_def: { name: "INPUT", type: "JSON_OBJ" } },
      { var_def: { name: "p", type: "STR" } },
    ]);
  });

  it("issue 5 failure handlers: thread names exn-handler-<node>-<failure> and FailureHandlerDefs on the node", () => {
    const wf = Workflow.newWorkflow("handlers", (wf) => {
      const charge = wf.execute("charge");
      wf.handleException(charge, "card-declined", (h) => h.execute("refund"));
      wf.handleException(charge, (h) => h.execute("log"));
      wf.handleError(charge, "TIMEOUT", (h) => h.execute("log"));
      wf.handleError(charge, (h) => h.execute("log"));
      const ship = wf.execute("ship");
      wf.handleAnyFailure(ship, (h) => h.fail("shipping-failed", "could not ship"));
    });
    expect(node(wf, "1-charge-TASK").failure_handlers).toEqual([
      { handler_spec_name: "exn-handler-1-charge-TASK-card-declined", specific_failure: "card-declined" },
      {
        handler_spec_name: "exn-handler-1-charge-TASK-FAILURE_TYPE_EXCEPTION",
        any_failure_of_type: "FAILURE_TYPE_EXCEPTION",
      },
      { handler_spec_name: "exn-handler-1-charge-TASK-TIMEOUT", specific_failure: "TIMEOUT" },
      {
        handler_spec_name: "exn-handler-1-charge-TASK-FAILURE_TYPE_ERROR",
        any_failure_of_type: "FAILURE_TYPE_ERROR",
      },
    ]);
    expect(node(wf, "2-ship-TASK").failure_handlers).toEqual([
      { handler_spec_name: "exn-handler-2-ship-TASK-any-failure" },
    ]);
    expect(Object.keys(json(wf).thread_specs)).toEqual([
      "entrypoint",
      "exn-handler-1-charge-TASK-card-declined",
      "exn-handler-1-charge-TASK-FAILURE_TYPE_EXCEPTION",
      "exn-handler-1-charge-TASK-TIMEOUT",
      "exn-handler-1-charge-TASK-FAILURE_TYPE_ERROR",
      "exn-handler-2-ship-TASK-any-failure",
    ]);
    expect(nodeNames(wf, "exn-handler-2-ship-TASK-any-failure")).toEqual([
      "0-entrypoint-ENTRYPOINT",
      "1-shipping-failed-EXIT",
    ]);
  });
});

describe("issue 5 workflow builder: events, failures, sleep, user tasks", () => {
  it("issue 5 waitForEvent() with a timeout, and an interrupt handler thread", () => {
    const wf = Workflow.newWorkflow("events", (wf) => {
      const secs = wf.declareInt("secs");
      const payment = wf.declareJsonObj("payment");
      const evt = wf.waitForEvent("payment-received").timeout(60);
      wf.mutate(payment, "ASSIGN", evt);
      wf.waitForEvent("second").timeout(secs);
      wf.registerInterruptHandler("cancel-order", (h) => h.execute("cancel"));
    });
    expect(nodeNames(wf)).toEqual([
      "0-entrypoint-ENTRYPOINT",
      "1-payment-received-EXTERNAL_EVENT",
      "2-second-EXTERNAL_EVENT",
      "3-exit-EXIT",
    ]);
    expect(node(wf, "1-payment-received-EXTERNAL_EVENT")).toEqual({
      external_event: { external_event_def_id: { name: "payment-received" }, timeout_seconds: int(60) },
      outgoing_edges: [
        {
          sink_node_name: "2-second-EXTERNAL_EVENT",
          variable_mutations: [{ lhs_name: "payment", node_output: {} }],
        },
      ],
    });
    expect(node(wf, "2-second-EXTERNAL_EVENT").external_event.timeout_seconds).toEqual(v("secs"));
    expect(thread(wf).interrupt_defs).toEqual([
      { external_event_def_id: { name: "cancel-order" }, handler_spec_name: "interrupt-cancel-order" },
    ]);
    expect(nodeNames(wf, "interrupt-cancel-order")).toEqual([
      "0-entrypoint-ENTRYPOINT",
      "1-cancel-TASK",
      "2-exit-EXIT",
    ]);
  });

  it("issue 5 fail() is an EXIT node with a failure_def (named after the failure) and complete() an EXIT", () => {
    const wf = Workflow.newWorkflow("fail", (wf) => {
      const n = wf.declareInt("n");
      wf.doIf(wf.condition(n, "<", 0), (t) => t.fail("negative", "n is negative", n)).doElseIf(
        wf.condition(n, "==", 0),
        (t) => t.complete(),
      );
      wf.execute("go");
    });
    expect(nodeNames(wf)).toEqual([
      "0-entrypoint-ENTRYPOINT",
      "1-nop-NOP",
      "2-negative-EXIT",
      "3-nop-NOP",
      "4-complete-EXIT",
      "5-go-TASK",
      "6-exit-EXIT",
    ]);
    expect(node(wf, "2-negative-EXIT")).toEqual({
      exit: { failure_def: { failure_name: "negative", message: "n is negative", content: v("n") } },
    });
    expect(node(wf, "4-complete-EXIT")).toEqual({ exit: {} });
    expect(edges(wf, "1-nop-NOP").map((e) => e.sink_node_name)).toEqual([
      "2-negative-EXIT",
      "4-complete-EXIT",
      "3-nop-NOP",
    ]);
  });

  it("issue 5 a thread that ends with fail() gets no extra EXIT node", () => {
    const wf = Workflow.newWorkflow("fail-last", (wf) => wf.fail("boom", "always"));
    expect(nodeNames(wf)).toEqual(["0-entrypoint-ENTRYPOINT", "1-boom-EXIT"]);
    expect(node(wf, "1-boom-EXIT").exit).toEqual({
      failure_def: { failure_name: "boom", message: "always" },
    });
  });

  it("issue 5 sleepSeconds() and sleepUntil() are SLEEP nodes", () => {
    const wf = Workflow.newWorkflow("sleep", (wf) => {
      const secs = wf.declareInt("secs");
      const at = wf.declareInt("at");
      wf.sleepSeconds(5);
      wf.sleepSeconds(secs);
      wf.sleepUntil(at);
    });
    expect(nodeNames(wf)).toEqual([
      "0-entrypoint-ENTRYPOINT",
      "1-sleep-SLEEP",
      "2-sleep-SLEEP",
      "3-sleep-SLEEP",
      "4-exit-EXIT",
    ]);
    expect(node(wf, "1-sleep-SLEEP").sleep).toEqual({ raw_seconds: int(5) });
    expect(node(wf, "2-sleep-SLEEP").sleep).toEqual({ raw_seconds: v("secs") });
    expect(node(wf, "3-sleep-SLEEP").sleep).toEqual({ timestamp: v("at") });
  });

  it("issue 5 assignUserTask() with notes, cancellation exception, reminders, reassignment and cancellation", () => {
    const wf = Workflow.newWorkflow("user-tasks", (wf) => {
      const approver = wf.declareStr("approver");
      const delay = wf.declareInt("delay");
      const ut = wf
        .assignUserTask("approve", approver, "finance")
        .withNotes(wf.format("please approve {0}", approver))
        .withOnCancellationException("not-approved");
      wf.scheduleReminderTask(ut, 60, "remind", approver);
      wf.scheduleReminderTaskOnAssignment(ut, delay, "remind", "again");
      wf.releaseToGroupOnDeadline(ut, 3600);
      wf.reassignUserTask(ut, 120, { userId: "boss" });
      wf.reassignUserTaskOnAssignment(ut, 240, { userGroup: "managers" });
      wf.cancelUserTaskRunAfter(ut, 7200);
      wf.cancelUserTaskRunAfterAssignment(ut, delay);
      const decision = wf.declareJsonObj("decision");
      wf.mutate(decision, "ASSIGN", ut);
      wf.assignUserTask("review", undefined, "reviewers");
    });
    expect(nodeNames(wf)).toEqual([
      "0-entrypoint-ENTRYPOINT",
      "1-approve-USER_TASK",
      "2-review-USER_TASK",
      "3-exit-EXIT",
    ]);
    expect(node(wf, "1-approve-USER_TASK")).toEqual({
      user_task: {
        user_task_def_name: "approve",
        user_id: v("approver"),
        user_group: str("finance"),
        notes: { format_string: { format: str("please approve {0}"), args: [v("approver")] } },
        on_cancellation_exception_name: str("not-approved"),
        actions: [
          {
            task: { task: { task_def_id: { name: "remind" }, variables: [v("approver")] } },
            delay_seconds: int(60),
          },
          {
            task: { task: { task_def_id: { name: "remind" }, variables: [str("again")] } },
            delay_seconds: v("delay"),
            hook: "ON_TASK_ASSIGNED",
          },
          { reassign: { user_group: str("finance") }, delay_seconds: int(3600), hook: "ON_TASK_ASSIGNED" },
          { reassign: { user_id: str("boss") }, delay_seconds: int(120) },
          { reassign: { user_group: str("managers") }, delay_seconds: int(240), hook: "ON_TASK_ASSIGNED" },
          { cancel: {}, delay_seconds: int(7200) },
          { cancel: {}, delay_seconds: v("delay"), hook: "ON_TASK_ASSIGNED" },
        ],
      },
      outgoing_edges: [
        {
          sink_node_name: "2-review-USER_TASK",
          variable_mutations: [{ lhs_name: "decision", node_output: {} }],
        },
      ],
    });
    expect(node(wf, "2-review-USER_TASK").user_task).toEqual({
      user_task_def_name: "review",
      user_group: str("reviewers"),
    });
  });

  it("issue 5 throwEvent() is a THROW_EVENT node named throw-<def>", () => {
    const wf = Workflow.newWorkflow("throw", (wf) => {
      const s = wf.declareStr("s");
      wf.throwEvent("order-done", s);
    });
    expect(nodeNames(wf)).toEqual([
      "0-entrypoint-ENTRYPOINT",
      "1-throw-order-done-THROW_EVENT",
      "2-exit-EXIT",
    ]);
    expect(node(wf, "1-throw-order-done-THROW_EVENT").throw_event).toEqual({
      event_def_id: { name: "order-done" },
      content: v("s"),
    });
  });
});

describe("issue 5 workflow builder: WfSpec options", () => {
  it("issue 5 retention policies, parent WfSpec, allowed updates", () => {
    const wf = Workflow.newWorkflow("options", (wf) => {
      wf.declareStr("from-parent").withAccessLevel("INHERITED_VAR");
      wf.withRetentionPolicy({ secondsAfterThreadTermination: 60 });
      wf.spawnThread((t) => t.execute("x"), "child");
    })
      .withRetentionPolicy({ secondsAfterWfTermination: 3600 })
      .withDefaultThreadRetentionPolicy({ secondsAfterThreadTermination: 120 })
      .withParent("parent-wf")
      .withUpdateType("MINOR_REVISION_UPDATES");
    const j = json(wf);
    expect(j.retention_policy).toEqual({ seconds_after_wf_termination: "3600" });
    expect(j.parent_wf_spec).toEqual({ wf_spec_name: "parent-wf" });
    expect(j.allowed_updates).toBe("MINOR_REVISION_UPDATES");
    expect(j.thread_specs.entrypoint.retention_policy).toEqual({ seconds_after_thread_termination: "60" });
    expect(j.thread_specs.child.retention_policy).toEqual({ seconds_after_thread_termination: "120" });
    expect(j.thread_specs.entrypoint.variable_defs[0]).toEqual({
      var_def: { name: "from-parent", type: "STR" },
      access_level: "INHERITED_VAR",
    });
  });
});
