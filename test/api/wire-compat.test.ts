/**
 * Black-box wire-compatibility tests through real gRPC: B-WIRE-1 (the service: the 63 RPCs of LittleHorse
 * 0.10.1 plus GetPrincipal, the four scheduled-WfRun RPCs and the six WorkflowEventDef / WorkflowEvent reads
 * from later releases, LittleHorse field numbers), B-WIRE-2 (VariableDef.type_def and the expression form of Edge.condition from later
 * LittleHorse releases), B-WIRE-3 (status codes), plus GetServerVersion and Whoami.
 *
 * Some requests are encoded by hand below, byte by byte with the field numbers of the reference
 * (reference/wire-fields-*.md), so that they do not depend on Pony's copy of the .proto files at all.
 */
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadSettings } from "@pony/server";
import { startTestServer, type TestServer } from "../support/server";
import { rawCall, statusOf, type Msg, type TestClient } from "../support/client";
import { entry, exit, int, lit, nop, str, taskDef, taskNode, thread, varRef, wfSpec } from "../support/specs";

let ts: TestServer;
let c: TestClient;

beforeAll(async () => {
  ts = await startTestServer();
  c = ts.client();
});
afterAll(async () => {
  await ts?.close();
});

/** The RPCs of `littlehorse.LittleHorse` in LittleHorse 0.10.1, and those Pony adds from later releases. */
const RPCS = [
  "GetPrincipal",
  // LittleHorse 1.x: WfRuns on a cron schedule
  "ScheduleWf",
  "SearchScheduledWfRun",
  "GetScheduledWfRun",
  "DeleteScheduledWfRun",
  // LittleHorse 1.x: WorkflowEventDefs and WorkflowEvents read back
  "GetWorkflowEventDef",
  "DeleteWorkflowEventDef",
  "SearchWorkflowEventDef",
  "GetWorkflowEvent",
  "ListWorkflowEvents",
  "SearchWorkflowEvent",
  "PutTaskDef",
  "GetTaskDef",
  "GetTaskWorkerGroup",
  "PutExternalEventDef",
  "GetExternalEventDef",
  "PutWorkflowEventDef",
  "PutWfSpec",
  "GetWfSpec",
  "GetLatestWfSpec",
  "MigrateWfSpec",
  "PutUserTaskDef",
  "GetUserTaskDef",
  "GetLatestUserTaskDef",
  "RunWf",
  "GetWfRun",
  "GetUserTaskRun",
  "AssignUserTaskRun",
  "CompleteUserTaskRun",
  "CancelUserTaskRun",
  "ListUserTaskRuns",
  "GetNodeRun",
  "ListNodeRuns",
  "GetTaskRun",
  "ListTaskRuns",
  "GetVariable",
  "ListVariables",
  "PutExternalEvent",
  "GetExternalEvent",
  "AwaitWorkflowEvent",
  "ListExternalEvents",
  "SearchWfRun",
  "SearchNodeRun",
  "SearchTaskRun",
  "SearchUserTaskRun",
  "SearchVariable",
  "SearchExternalEvent",
  "SearchTaskDef",
  "SearchUserTaskDef",
  "SearchWfSpec",
  "SearchExternalEventDef",
  "SearchTenant",
  "SearchPrincipal",
  "RegisterTaskWorker",
  "PollTask",
  "ReportTask",
  "StopWfRun",
  "ResumeWfRun",
  "RescueThreadRun",
  "DeleteWfRun",
  "DeleteTaskDef",
  "DeleteWfSpec",
  "DeleteUserTaskDef",
  "DeleteExternalEventDef",
  "DeletePrincipal",
  "GetTaskDefMetricsWindow",
  "GetWfSpecMetricsWindow",
  "ListTaskDefMetrics",
  "ListWfSpecMetrics",
  "PutTenant",
  "GetTenant",
  "PutPrincipal",
  "Whoami",
  "GetServerVersion",
];

// ---- a tiny protobuf encoder, for requests written with the reference's field numbers ------------------

/** A field: number and value. Strings and byte arrays are length-delimited, numbers and booleans varints,
 * arrays of fields are embedded messages. */
type Field = [number, string | number | boolean | Uint8Array | Field[]];

function varint(n: number): number[] {
  const out: number[] = [];
  let v = BigInt(n);
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}

function encode(fields: Field[]): Buffer {
  const parts: Buffer[] = [];
  for (const [num, value] of fields) {
    if (typeof value === "number" || typeof value === "boolean") {
      parts.push(Buffer.from([...varint(num * 8), ...varint(Number(value))]));
      continue;
    }
    const bytes =
      typeof value === "string"
        ? Buffer.from(value, "utf8")
        : value instanceof Uint8Array
          ? Buffer.from(value)
          : encode(value);
    parts.push(Buffer.from([...varint(num * 8 + 2), ...varint(bytes.length)]), bytes);
  }
  return Buffer.concat(parts);
}

/** Calls a unary RPC with an already encoded request; resolves to the raw response bytes. */

// LittleHorse field numbers used below (reference/wire-fields-0.10.1.md and wire-fields-1.2.md)
const VARIABLE_TYPE = { JSON_OBJ: 0, JSON_ARR: 1, DOUBLE: 2, BOOL: 3, STR: 4, INT: 5 };
const COMPARATOR = { LESS_THAN: 0, GREATER_THAN: 1 };

const mapEntry = (key: string, value: Field[]): Field[] => [
  [1, key],
  [2, value],
];
/** Node: 1 outgoing_edges, 5 entrypoint, 6 exit, 11 nop */
const rawNode = (kind: "entrypoint" | "exit" | "nop", edges: Field[][] = []): Field[] => [
  ...edges.map((e): Field => [1, e]),
  [{ entrypoint: 5, exit: 6, nop: 11 }[kind], []],
];

async function nodeNames(wfRunId: Msg): Promise<string[]> {
  const nodes = await c.call("ListNodeRuns", { wf_run_id: wfRunId });
  return nodes.results.map((n: Msg) => n.node_name as string);
}

describe("B-WIRE-1 the littlehorse.LittleHorse service", () => {
  it("B-WIRE-1 the service offers exactly the 63 RPCs of LittleHorse 0.10.1, plus GetPrincipal and the scheduled-WfRun and WorkflowEvent RPCs of 1.x", () => {
    expect(RPCS).toHaveLength(74);
    expect(new Set(RPCS).size).toBe(74);
    const service = (c.raw.constructor as grpc.ServiceClientConstructor).service;
    const paths = Object.values(service).map((m) => m.path);
    expect(paths.sort()).toEqual(RPCS.map((r) => `/littlehorse.LittleHorse/${r}`).sort());
  });

  /** Each unary RPC called once with an empty request: its status code name ("OK" on success) and message. */
  let emptyCalls: Promise<{ rpc: string; code: string; message: string }[]> | undefined;
  function callEveryRpcEmpty() {
    emptyCalls ??= (async () => {
      const out: { rpc: string; code: string; message: string }[] = [];
      for (const rpc of RPCS.filter((r) => r !== "PollTask")) {
        try {
          await c.call(rpc, {}, { deadlineMs: 5_000 });
          out.push({ rpc, code: "OK", message: "" });
        } catch (e) {
          const err = e as grpc.ServiceError;
          out.push({ rpc, code: grpc.status[err.code], message: err.details });
        }
      }
      return out;
    })();
    return emptyCalls;
  }

  it("B-WIRE-1 every unary RPC has a handler on the server (empty request never hits a missing method)", async () => {
    const results = await callEveryRpcEmpty();
    expect(results).toHaveLength(73);
    for (const { rpc, code, message } of results) {
      expect(code, `${rpc}: ${message}`).not.toBe("DEADLINE_EXCEEDED");
      // every RPC of the reference is built: none answers UNIMPLEMENTED
      expect(code, `${rpc}: ${message}`).not.toBe("UNIMPLEMENTED");
    }
  });

  it("B-SEC-4 an empty request to any unary RPC gets a proper gRPC error, never INTERNAL", async () => {
    for (const { rpc, code, message } of await callEveryRpcEmpty()) {
      expect(code, `${rpc}: ${message}`).not.toBe("INTERNAL");
      expect(code, `${rpc}: ${message}`).not.toBe("UNKNOWN");
      if (code !== "OK") expect(message.length, rpc).toBeGreaterThan(0);
    }
  });

  it("B-WIRE-1 PollTask is a bidirectional stream with a handler: an empty request gets a gRPC answer", async () => {
    const stream = c.raw.PollTask(c.metadata()) as grpc.ClientDuplexStream<Msg, Msg>;
    const outcome = await new Promise<{ code?: string; message?: string; data?: Msg }>((resolve) => {
      stream.on("data", (data: Msg) => resolve({ data }));
      stream.on("error", (e: grpc.ServiceError) =>
        resolve({ code: grpc.status[e.code], message: e.details }),
      );
      stream.write({});
    });
    stream.cancel();
    expect(outcome.code).not.toBe("UNIMPLEMENTED");
    expect(outcome.code).toBe("INVALID_ARGUMENT");
    expect(outcome.message).toMatch(/task_def_id/);
  });

  it("B-WIRE-1 the default gRPC port is 2023", () => {
    expect(loadSettings([], {}).grpcPort).toBe(2023);
  });

  it("B-WIRE-1 a hand-encoded PutTaskDefRequest with LittleHorse 0.10.1 field numbers is understood", async () => {
    // PutTaskDefRequest: 1 name, 2 input_vars; VariableDef (0.10.1): 1 type, 2 name
    const request = encode([
      [1, "wire-raw-td"],
      [
        2,
        [
          [1, VARIABLE_TYPE.STR],
          [2, "who"],
        ],
      ],
      [
        2,
        [
          [1, VARIABLE_TYPE.INT],
          [2, "times"],
        ],
      ],
    ]);
    const response = await rawCall(ts.address, "PutTaskDef", request);
    expect(response.length).toBeGreaterThan(0);
    const stored = await c.call("GetTaskDef", { name: "wire-raw-td" });
    expect(stored.input_vars.map((v: Msg) => [v.name, v.type])).toEqual([
      ["who", "STR"],
      ["times", "INT"],
    ]);
  });

  it("B-WIRE-1 hand-encoded 1.2 WorkflowEventDef and WorkflowEvent requests are understood, and answered with 1.2's numbers", async () => {
    for (const name of ["wire-we-b", "wire-we-a"]) await c.call("PutWorkflowEventDef", { name, type: "STR" });
    // SearchWorkflowEventDefRequest: 2 limit, 3 prefix → WorkflowEventDefIdList: 1 results (WorkflowEventDefId: 1 name)
    const found = await rawCall(
      ts.address,
      "SearchWorkflowEventDef",
      encode([
        [2, 10],
        [3, "wire-we-"],
      ]),
    );
    expect(found).toEqual(
      encode([
        [1, [[1, "wire-we-a"]]],
        [1, [[1, "wire-we-b"]]],
      ]),
    );
    // SearchWorkflowEventRequest: 5 workflow_event_def_id → WorkflowEventIdList, empty: nothing thrown yet
    expect(await rawCall(ts.address, "SearchWorkflowEvent", encode([[5, [[1, "wire-we-a"]]]]))).toEqual(
      Buffer.alloc(0),
    );
    // DeleteWorkflowEventDefRequest: 1 id
    await rawCall(ts.address, "DeleteWorkflowEventDef", encode([[1, [[1, "wire-we-b"]]]]));
    expect((await c.fail("GetWorkflowEventDef", { name: "wire-we-b" })).code).toBe("NOT_FOUND");
    // ListWorkflowEventsRequest: 1 wf_run_id
    const list = await statusOf(
      rawCall(ts.address, "ListWorkflowEvents", encode([[1, [[1, "wire-no-run"]]]])),
    );
    expect(list.code).toBe("NOT_FOUND");
    expect(list.message).toMatch(/wire-no-run/);
  });

  it("B-WIRE-1 a 0.10.1 VariableDef of type JSON_OBJ (0, so field 1 is absent on the wire) is a JSON_OBJ", async () => {
    // In 0.10.1 `VariableDef.type` is a plain proto3 enum: JSON_OBJ = 0 is the default and is never sent.
    const request = encode([
      [1, "wire-raw-json"],
      [2, [[2, "payload"]]],
      [
        2,
        [
          [1, VARIABLE_TYPE.JSON_ARR],
          [2, "items"],
        ],
      ],
    ]);
    await rawCall(ts.address, "PutTaskDef", request);
    const stored = await c.call("GetTaskDef", { name: "wire-raw-json" });
    expect(stored.input_vars.map((v: Msg) => [v.name, v.type])).toEqual([
      ["payload", "JSON_OBJ"],
      ["items", "JSON_ARR"],
    ]);
  });

  it("B-WIRE-1 a 0.10.1 WfSpec with a JSON_OBJ variable (type left off the wire) runs with a JSON_OBJ value", async () => {
    const spec = await c.call(
      "PutWfSpec",
      wfSpec("wire-json-var", thread([entry(), exit()], [{ var_def: { name: "doc" } }])),
    );
    expect(spec.thread_specs.entrypoint.variable_defs[0].var_def.type).toBe("JSON_OBJ");
    const run = await c.call("RunWf", {
      wf_spec_name: "wire-json-var",
      variables: { doc: { json_obj: JSON.stringify({ a: 1 }) } },
    });
    expect(run.status).toBe("COMPLETED");
    const bad = await c.fail("RunWf", { wf_spec_name: "wire-json-var", variables: { doc: str("text") } });
    expect(bad.code).toBe("INVALID_ARGUMENT");
  });
});

describe("B-WIRE-2 later LittleHorse clients", () => {
  it("B-WIRE-2 PutTaskDef accepts a VariableDef with type unset and type_def.primitive_type, storing the type", async () => {
    const created = await c.call("PutTaskDef", {
      name: "wire2-td",
      input_vars: [{ name: "n", type_def: { primitive_type: "INT" } }],
    });
    expect(created.input_vars[0]).toMatchObject({ name: "n", type: "INT" });
    const stored = await c.call("GetTaskDef", { name: "wire2-td" });
    expect(stored.input_vars[0]).toMatchObject({ name: "n", type: "INT" });
    // the legacy form of the same TaskDef is the same TaskDef
    const legacy = await c.call("PutTaskDef", taskDef("wire2-td", [["n", "INT"]]));
    expect(legacy.created_at).toEqual(created.created_at);
  });

  it("B-WIRE-2 a hand-encoded 1.2 VariableDef (type_def field 5, no field 1) is accepted", async () => {
    // VariableDef (1.2): 2 name, 5 type_def; TypeDefinition: 1 primitive_type
    const request = encode([
      [1, "wire2-raw-td"],
      [
        2,
        [
          [2, "flag"],
          [5, [[1, VARIABLE_TYPE.BOOL]]],
        ],
      ],
    ]);
    await rawCall(ts.address, "PutTaskDef", request);
    const stored = await c.call("GetTaskDef", { name: "wire2-raw-td" });
    expect(stored.input_vars[0]).toMatchObject({ name: "flag", type: "BOOL" });
  });

  it("B-WIRE-2 a type_def that contradicts type is INVALID_ARGUMENT", async () => {
    const err = await c.fail("PutTaskDef", {
      name: "wire2-contradiction",
      input_vars: [{ name: "n", type: "STR", type_def: { primitive_type: "INT" } }],
    });
    expect(err.code).toBe("INVALID_ARGUMENT");
    expect(err.message).toMatch(/'n'/);
    expect(err.message).toMatch(/STR/);
    expect(err.message).toMatch(/INT/);
  });

  it("B-WIRE-2 PutWfSpec accepts thread variables declared with type_def only, and enforces that type", async () => {
    const created = await c.call(
      "PutWfSpec",
      wfSpec(
        "wire2-wf",
        thread([entry(), exit()], [{ var_def: { name: "n", type_def: { primitive_type: "INT" } } }]),
      ),
    );
    const varDefStored = created.thread_specs.entrypoint.variable_defs[0].var_def;
    expect(varDefStored).toMatchObject({ name: "n", type: "INT" });
    const got = await c.call("GetWfSpec", created.id);
    expect(got.thread_specs.entrypoint.variable_defs[0].var_def).toMatchObject({ name: "n", type: "INT" });
    const ok = await c.call("RunWf", { wf_spec_name: "wire2-wf", variables: { n: int(4) } });
    expect(ok.status).toBe("COMPLETED");
    const variable = await c.call("GetVariable", { wf_run_id: ok.id, thread_run_number: 0, name: "n" });
    expect(variable.value.int).toBe("4");
    const bad = await c.fail("RunWf", { wf_spec_name: "wire2-wf", variables: { n: str("four") } });
    expect(bad.code).toBe("INVALID_ARGUMENT");
    expect(bad.message).toMatch(/n/);
  });

  it("B-WIRE-2 the same WfSpec with type instead of type_def is not a new version", async () => {
    const first = await c.call(
      "PutWfSpec",
      wfSpec(
        "wire2-same",
        thread([entry(), exit()], [{ var_def: { name: "n", type_def: { primitive_type: "STR" } } }]),
      ),
    );
    const legacy = await c.call(
      "PutWfSpec",
      wfSpec("wire2-same", thread([entry(), exit()], [{ var_def: { name: "n", type: "STR" } }])),
    );
    expect(legacy.id).toEqual(first.id);
    expect(legacy.created_at).toEqual(first.created_at);
  });

  it("B-WIRE-2 a TaskDef input declared with type_def is type-checked in PutWfSpec", async () => {
    await c.call("PutTaskDef", {
      name: "wire2-int-task",
      input_vars: [{ name: "n", type_def: { primitive_type: "INT" } }],
    });
    const err = await c.fail(
      "PutWfSpec",
      wfSpec(
        "wire2-bad-input",
        thread([entry(), taskNode("1-task-TASK", "wire2-int-task", [lit(str("x"))]), exit()]),
      ),
    );
    expect(err.code).toBe("INVALID_ARGUMENT");
    expect(err.message).toMatch(/wire2-int-task/);
    expect(err.message).toMatch(/INT/);
    expect(err.message).toMatch(/STR/);
  });

  /** ENTRYPOINT → route: x > 5 → big, else (legacy x < 0 → negative), else small → EXIT. */
  function routedWf(name: string): Msg {
    return wfSpec(
      name,
      thread(
        [
          entry(),
          nop("1-route-NOP", [
            {
              sink_node_name: "2-big-NOP",
              expression_condition: {
                expression: { lhs: varRef("x"), comparator: "GREATER_THAN", rhs: lit(int(5)) },
              },
              variable_mutations: [{ lhs_name: "path", operation: "ASSIGN", literal_value: str("big") }],
            },
            {
              sink_node_name: "3-negative-NOP",
              condition: { comparator: "LESS_THAN", left: varRef("x"), right: lit(int(0)) },
              variable_mutations: [{ lhs_name: "path", operation: "ASSIGN", literal_value: str("negative") }],
            },
            {
              sink_node_name: "4-small-NOP",
              variable_mutations: [{ lhs_name: "path", operation: "ASSIGN", literal_value: str("small") }],
            },
          ]),
          nop("2-big-NOP", [{ sink_node_name: "5-exit-EXIT" }]),
          nop("3-negative-NOP", [{ sink_node_name: "5-exit-EXIT" }]),
          nop("4-small-NOP", [{ sink_node_name: "5-exit-EXIT" }]),
          exit("5-exit-EXIT"),
        ],
        [{ var_def: { name: "x", type: "INT" } }, { var_def: { name: "path", type: "STR" } }],
      ),
    );
  }

  it("B-WIRE-2 an Edge with the expression condition (field 4) is accepted and stored", async () => {
    const created = await c.call("PutWfSpec", routedWf("wire2-expr-edge"));
    const edges = created.thread_specs.entrypoint.nodes["1-route-NOP"].outgoing_edges;
    expect(edges[0].expression_condition.expression).toMatchObject({
      lhs: { variable_name: "x" },
      comparator: "GREATER_THAN",
      rhs: { literal_value: { int: "5" } },
    });
    expect(edges[1].condition).toMatchObject({ comparator: "LESS_THAN", left: { variable_name: "x" } });
  });

  it("B-WIRE-2 an expression condition routes a run, beside legacy conditions", async () => {
    await c.call("PutWfSpec", routedWf("wire2-expr-route"));
    const route = async (x: number) => {
      const run = await c.call("RunWf", { wf_spec_name: "wire2-expr-route", variables: { x: int(x) } });
      expect(run.status).toBe("COMPLETED");
      const path = await c.call("GetVariable", { wf_run_id: run.id, thread_run_number: 0, name: "path" });
      return { path: path.value.str as string, nodes: await nodeNames(run.id) };
    };
    expect(await route(10)).toEqual({
      path: "big",
      nodes: ["0-entrypoint-ENTRYPOINT", "1-route-NOP", "2-big-NOP", "5-exit-EXIT"],
    });
    expect(await route(-3)).toEqual({
      path: "negative",
      nodes: ["0-entrypoint-ENTRYPOINT", "1-route-NOP", "3-negative-NOP", "5-exit-EXIT"],
    });
    expect(await route(5)).toEqual({
      path: "small",
      nodes: ["0-entrypoint-ENTRYPOINT", "1-route-NOP", "4-small-NOP", "5-exit-EXIT"],
    });
  });

  it("B-WIRE-2 an expression condition using an undeclared variable is INVALID_ARGUMENT", async () => {
    const spec = routedWf("wire2-expr-undeclared");
    spec.thread_specs.entrypoint.nodes["1-route-NOP"].outgoing_edges[0].expression_condition.expression.lhs =
      varRef("ghost");
    const err = await c.fail("PutWfSpec", spec);
    expect(err.code).toBe("INVALID_ARGUMENT");
    expect(err.message).toMatch(/ghost/);
  });

  it("B-WIRE-2 a hand-encoded 1.2 WfSpec (type_def, Edge.condition = 4 with an expression) routes runs", async () => {
    // Edge: 1 sink_node_name, 4 condition (VariableAssignment); VariableAssignment: 2 variable_name,
    // 3 literal_value, 6 expression; Expression: 1 lhs, 4 comparator, 3 rhs; VariableValue: 7 int
    const condition: Field[] = [
      [
        6,
        [
          [1, [[2, "x"]]],
          [4, COMPARATOR.GREATER_THAN],
          [3, [[3, [[7, 5]]]]],
        ],
      ],
    ];
    const nodes: [string, Field[]][] = [
      ["0-entrypoint-ENTRYPOINT", rawNode("entrypoint", [[[1, "1-route-NOP"]]])],
      [
        "1-route-NOP",
        rawNode("nop", [
          [
            [1, "2-big-NOP"],
            [4, condition],
          ],
          [[1, "3-small-NOP"]],
        ]),
      ],
      ["2-big-NOP", rawNode("nop", [[[1, "4-exit-EXIT"]]])],
      ["3-small-NOP", rawNode("nop", [[[1, "4-exit-EXIT"]]])],
      ["4-exit-EXIT", rawNode("exit")],
    ];
    // ThreadSpec: 1 nodes (map), 2 variable_defs; ThreadVarDef: 1 var_def; VariableDef: 2 name, 5 type_def
    const threadSpec: Field[] = [
      ...nodes.map(([name, node]): Field => [1, mapEntry(name, node)]),
      [
        2,
        [
          [
            1,
            [
              [2, "x"],
              [5, [[1, VARIABLE_TYPE.INT]]],
            ],
          ],
        ],
      ],
    ];
    // PutWfSpecRequest: 1 name, 5 thread_specs (map), 6 entrypoint_thread_name
    const request = encode([
      [1, "wire2-raw-expr"],
      [5, mapEntry("entrypoint", threadSpec)],
      [6, "entrypoint"],
    ]);
    await rawCall(ts.address, "PutWfSpec", request);
    const stored = await c.call("GetLatestWfSpec", { name: "wire2-raw-expr" });
    expect(stored.thread_specs.entrypoint.variable_defs[0].var_def).toMatchObject({ name: "x", type: "INT" });
    for (const [x, taken] of [
      [9, "2-big-NOP"],
      [2, "3-small-NOP"],
    ] as const) {
      const run = await c.call("RunWf", { wf_spec_name: "wire2-raw-expr", variables: { x: int(x) } });
      expect(run.status).toBe("COMPLETED");
      expect(await nodeNames(run.id)).toEqual([
        "0-entrypoint-ENTRYPOINT",
        "1-route-NOP",
        taken,
        "4-exit-EXIT",
      ]);
    }
  });
});

describe("B-WIRE-3 gRPC status codes", () => {
  it("B-WIRE-3 an unknown object is NOT_FOUND", async () => {
    for (const [method, req] of [
      ["GetTaskDef", { name: "wire3-nope" }],
      ["GetExternalEventDef", { name: "wire3-nope" }],
      ["GetWfSpec", { name: "wire3-nope", major_version: 0, revision: 0 }],
      ["GetLatestWfSpec", { name: "wire3-nope" }],
      ["GetLatestUserTaskDef", { name: "wire3-nope" }],
      ["GetWfRun", { id: "wire3-nope" }],
      ["RunWf", { wf_spec_name: "wire3-nope" }],
    ] as [string, Msg][]) {
      const err = await c.fail(method, req);
      expect(err.code, method).toBe("NOT_FOUND");
      expect(err.message, method).toMatch(/wire3-nope/);
      expect(err.message, method).toMatch(/not found/i);
    }
  });

  it("B-WIRE-3 a conflicting put or a reused WfRun id is ALREADY_EXISTS", async () => {
    await c.call("PutTaskDef", taskDef("wire3-td", [["a", "STR"]]));
    expect((await c.fail("PutTaskDef", taskDef("wire3-td", [["a", "INT"]]))).code).toBe("ALREADY_EXISTS");
    await c.call("PutExternalEventDef", { name: "wire3-eed", retention_policy: { seconds_after_put: "60" } });
    const eed = await c.fail("PutExternalEventDef", {
      name: "wire3-eed",
      retention_policy: { seconds_after_put: "120" },
    });
    expect(eed.code).toBe("ALREADY_EXISTS");
    expect(eed.message).toMatch(/wire3-eed/);
    await c.call("PutWorkflowEventDef", { name: "wire3-wed", type: "STR" });
    const wed = await c.fail("PutWorkflowEventDef", { name: "wire3-wed", type: "INT" });
    expect(wed.code).toBe("ALREADY_EXISTS");
    expect(wed.message).toMatch(/wire3-wed/);
    await c.call("PutWfSpec", wfSpec("wire3-wf", thread([entry(), exit()])));
    await c.call("RunWf", { wf_spec_name: "wire3-wf", id: "wire3-run" });
    const again = await c.fail("RunWf", { wf_spec_name: "wire3-wf", id: "wire3-run" });
    expect(again.code).toBe("ALREADY_EXISTS");
    expect(again.message).toMatch(/wire3-run/);
  });

  it("B-WIRE-3 a malformed request is INVALID_ARGUMENT", async () => {
    const badName = await c.fail("PutTaskDef", taskDef("Bad_Name", []));
    expect(badName.code).toBe("INVALID_ARGUMENT");
    const noSpec = await c.fail("RunWf", {});
    expect(noSpec.code).toBe("INVALID_ARGUMENT");
    expect(noSpec.message).toMatch(/wf_spec_name/);
    const noName = await c.fail("GetTaskDef", {});
    expect(noName.code).toBe("INVALID_ARGUMENT");
    expect(noName.message).toMatch(/name/);
  });

  it("B-WIRE-3 a request the current state forbids is FAILED_PRECONDITION", async () => {
    await c.call(
      "PutWfSpec",
      wfSpec(
        "wire3-frozen",
        thread([entry(), exit()], [{ var_def: { name: "a", type: "STR" }, required: true }]),
      ),
    );
    const frozen = await c.fail(
      "PutWfSpec",
      wfSpec(
        "wire3-frozen",
        thread([entry(), exit()], [{ var_def: { name: "a", type: "INT" }, required: true }]),
      ),
    );
    expect(frozen.code).toBe("FAILED_PRECONDITION");
    // a RUNNING WfRun cannot be deleted
    await c.call("PutTaskDef", taskDef("wire3-wait-task", []));
    await c.call(
      "PutWfSpec",
      wfSpec("wire3-running", thread([entry(), taskNode("1-task-TASK", "wire3-wait-task"), exit()])),
    );
    const run = await c.call("RunWf", { wf_spec_name: "wire3-running", id: "wire3-running-1" });
    expect(run.status).toBe("RUNNING");
    const del = await c.fail("DeleteWfRun", { id: run.id });
    expect(del.code).toBe("FAILED_PRECONDITION");
    expect(del.message).toMatch(/RUNNING|running/);
    expect((await c.call("GetWfRun", run.id)).status).toBe("RUNNING");
  });

  it("B-WIRE-3 a request larger than the server accepts is RESOURCE_EXHAUSTED", async () => {
    const err = await c.fail("PutTaskDef", { name: "x".repeat(17 * 1024 * 1024) });
    expect(err.code).toBe("RESOURCE_EXHAUSTED");
    // the server is still fine afterwards
    expect((await c.call("GetServerVersion", {})).major_version).toBeTypeOf("number");
  });

  it("B-WIRE-3 a client deadline that passes is DEADLINE_EXCEEDED", async () => {
    await c.call("PutTaskDef", taskDef("wire3-deadline", []));
    const stream = c.raw.PollTask(c.metadata(), { deadline: Date.now() + 300 }) as grpc.ClientDuplexStream<
      Msg,
      Msg
    >;
    const code = await new Promise<string>((resolve) => {
      stream.on("data", () => resolve("DATA"));
      stream.on("error", (e: grpc.ServiceError) => resolve(grpc.status[e.code]));
      stream.write({ task_def_id: { name: "wire3-deadline" }, client_id: "wire3" });
    });
    expect(code).toBe("DEADLINE_EXCEEDED");
  });
});

describe("server information", () => {
  it("B-WIRE-1 GetServerVersion reports the LittleHorse API release Pony follows", async () => {
    const v = await c.call("GetServerVersion", {});
    expect(v).toMatchObject({ major_version: 0, minor_version: 10, patch_version: 1 });
    expect(typeof v.pre_release_identifier).toBe("string");
  });

  it("B-SEC-3 Whoami without authentication is the anonymous principal with every right", async () => {
    const me = await c.call("Whoami", {});
    expect(me.id).toEqual({ id: "anonymous" });
    expect(me.global_acls.acls).toEqual([
      expect.objectContaining({ resources: ["ACL_ALL_RESOURCES"], allowed_actions: ["ALL_ACTIONS"] }),
    ]);
    expect(me.created_at).toBeTruthy();
  });
});
