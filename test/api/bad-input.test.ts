/**
 * B-SEC-4: bad input never crashes the server or corrupts what it stores. Malformed messages, oversized
 * payloads, invalid JSON, absurd numbers and deep nesting each get a gRPC error whose message says what is
 * wrong, and the server goes on answering with everything stored intact.
 */
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server";
import { rawCall, statusOf, type Msg, type TestClient } from "../support/client";
import { entry, exit, int, lit, nop, str, thread, varDef, wfSpec } from "../support/specs";

let ts: TestServer;
let c: TestClient;

beforeAll(async () => {
  ts = await startTestServer();
  c = ts.client();
  await c.call(
    "PutWfSpec",
    wfSpec(
      "bad-input-wf",
      thread(
        [entry(), nop("1-wait-NOP"), exit("2-exit-EXIT")],
        [varDef("obj", "JSON_OBJ"), varDef("arr", "JSON_ARR"), varDef("n", "INT"), varDef("s", "STR")],
      ),
    ),
  );
});

afterAll(async () => {
  await ts.close();
});

/** The server still answers and still has what it stored before. */
async function stillServing(): Promise<void> {
  const spec = await c.call("GetLatestWfSpec", { name: "bad-input-wf" });
  expect(spec.id.name).toBe("bad-input-wf");
}

const nested = (depth: number, open: string, close: string, inner = "1") =>
  open.repeat(depth) + inner + close.repeat(depth);

describe("B-SEC-4 bad input", () => {
  it("B-SEC-4 bytes that are not a protobuf message are INVALID_ARGUMENT naming the request type", async () => {
    const f = await statusOf(rawCall(ts.address, "RunWf", Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f])));
    expect(f.code).toBe("INVALID_ARGUMENT");
    expect(f.message).toMatch(/RunWfRequest/);
    await stillServing();
  });

  it("B-SEC-4 a PollTask message that is not a PollTaskRequest ends the stream with INVALID_ARGUMENT", async () => {
    const client = new grpc.Client(ts.address, grpc.credentials.createInsecure());
    const stream = client.makeBidiStreamRequest(
      "/littlehorse.LittleHorse/PollTask",
      (b: Buffer) => b,
      (b: Buffer) => b,
    );
    const f = await new Promise<{ code: string; message: string }>((resolve) => {
      stream.on("error", (e: grpc.ServiceError) =>
        resolve({ code: grpc.status[e.code], message: e.details }),
      );
      stream.on("data", () => resolve({ code: "OK", message: "" }));
      stream.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]));
    });
    client.close();
    expect(f.code).toBe("INVALID_ARGUMENT");
    expect(f.message).toMatch(/PollTaskRequest/);
    await stillServing();
  });

  it("B-SEC-4 a message over the 16 MiB limit is RESOURCE_EXHAUSTED", async () => {
    const big = "x".repeat(17 * 1024 * 1024);
    const f = await statusOf(c.call("RunWf", { wf_spec_name: "bad-input-wf", variables: { s: str(big) } }));
    expect(f.code).toBe("RESOURCE_EXHAUSTED");
    expect(f.message).toMatch(/larger than|max|limit/i);
    await stillServing();
  });

  it("B-SEC-4 invalid JSON in a JSON_OBJ or JSON_ARR value is INVALID_ARGUMENT naming the variable", async () => {
    for (const [name, value] of [
      ["obj", { json_obj: "{not json" }],
      ["obj", { json_obj: "[1, 2]" }],
      ["arr", { json_arr: '{"a": 1}' }],
      ["arr", { json_arr: "" }],
    ] as [string, Msg][]) {
      const f = await statusOf(
        c.call("RunWf", {
          wf_spec_name: "bad-input-wf",
          id: `bad-json-${name}`,
          variables: { [name]: value },
        }),
      );
      expect(f.code, JSON.stringify(value)).toBe("INVALID_ARGUMENT");
      expect(f.message).toMatch(new RegExp(name));
    }
    expect((await statusOf(c.call("GetWfRun", { id: "bad-json-obj" }))).code).toBe("NOT_FOUND");
    await stillServing();
  });

  it("B-SEC-4 JSON nested 100,000 deep is INVALID_ARGUMENT, not a crash", async () => {
    for (const [name, value] of [
      ["arr", { json_arr: nested(100_000, "[", "]") }],
      ["obj", { json_obj: '{"a":' + nested(100_000, "[", "]") + "}" }],
    ] as [string, Msg][]) {
      const f = await statusOf(
        c.call("RunWf", { wf_spec_name: "bad-input-wf", id: `deep-${name}`, variables: { [name]: value } }),
      );
      expect(f.code).toBe("INVALID_ARGUMENT");
      expect(f.message).toMatch(/deep|nest/i);
    }
    await stillServing();
  });

  it("B-SEC-4 a PutWfSpec with an expression nested 20,000 deep is INVALID_ARGUMENT", async () => {
    let expr: Msg = lit(int(1));
    for (let i = 0; i < 20_000; i++) {
      expr = { expression: { lhs: expr, operation: "ADD", rhs: lit(int(1)) } };
    }
    const spec = wfSpec(
      "bad-input-deep-expr",
      thread(
        [
          entry(),
          {
            name: "1-set-NOP",
            node: { nop: {} },
            edges: [
              {
                sink_node_name: "2-exit-EXIT",
                variable_mutations: [{ lhs_name: "n", operation: "ASSIGN", rhs_assignment: expr }],
              },
            ],
          },
          exit("2-exit-EXIT"),
        ],
        [varDef("n", "INT")],
      ),
    );
    const f = await statusOf(c.call("PutWfSpec", spec));
    expect(f.code).toBe("INVALID_ARGUMENT");
    expect(f.message).toMatch(/deep|nest/i);
    await stillServing();
  });

  it("B-SEC-4 absurd numbers in a WfSpec are INVALID_ARGUMENT naming the field", async () => {
    const withTask = (extra: Msg) =>
      wfSpec(
        "bad-input-numbers",
        thread([
          entry(),
          {
            name: "1-t-TASK",
            node: { task: { task_def_id: { name: "bad-input-td" }, variables: [], ...extra } },
          },
          exit("2-exit-EXIT"),
        ]),
      );
    await c.call("PutTaskDef", { name: "bad-input-td", input_vars: [] });
    for (const [extra, field] of [
      [{ timeout_seconds: -5 }, /timeout/],
      [{ retries: -1 }, /retries/],
      [
        { exponential_backoff: { base_interval_ms: -1, max_delay_ms: "1000", multiplier: 2 } },
        /base_interval/,
      ],
      [
        { exponential_backoff: { base_interval_ms: 10, max_delay_ms: "1000", multiplier: Number.NaN } },
        /multiplier/,
      ],
      [
        {
          exponential_backoff: {
            base_interval_ms: 10,
            max_delay_ms: "1000",
            multiplier: Number.POSITIVE_INFINITY,
          },
        },
        /multiplier/,
      ],
    ] as [Msg, RegExp][]) {
      const f = await statusOf(c.call("PutWfSpec", withTask(extra)));
      expect(f.code, JSON.stringify(extra)).toBe("INVALID_ARGUMENT");
      expect(f.message, JSON.stringify(extra)).toMatch(field);
    }
    await stillServing();
  });

  it("B-SEC-4 a WfRun id that is too long or has forbidden characters is INVALID_ARGUMENT", async () => {
    for (const id of ["x".repeat(10_000), "has space", "slash/inside"]) {
      const f = await statusOf(c.call("RunWf", { wf_spec_name: "bad-input-wf", id }));
      expect(f.code, id.slice(0, 20)).toBe("INVALID_ARGUMENT");
    }
    await stillServing();
  });

  it("RunWf accepts upper-case ids that names may not have: an upper-case WfRun id is INVALID_ARGUMENT", async () => {
    for (const id of ["Upper", "MY-RUN", "runA"]) {
      const f = await statusOf(c.call("RunWf", { wf_spec_name: "bad-input-wf", id }));
      expect(f.code, id).toBe("INVALID_ARGUMENT");
      expect(f.message).toMatch(/lower-case/);
      expect((await statusOf(c.call("GetWfRun", { id }))).code).toBe("NOT_FOUND");
    }
    await c.call("RunWf", { wf_spec_name: "bad-input-wf", id: "lower-case.run_1" });
  });

  it("B-SEC-4 a variable value of the wrong type and a huge INT string are INVALID_ARGUMENT", async () => {
    const f1 = await statusOf(
      c.call("RunWf", { wf_spec_name: "bad-input-wf", variables: { n: str("seven") } }),
    );
    expect(f1.code).toBe("INVALID_ARGUMENT");
    expect(f1.message).toMatch(/\bn\b/);
    const f2 = await statusOf(
      rawCall(ts.address, "RunWf", Buffer.from([0x0a, 0x02, 0x62, 0x61])), // wf_spec_name "ba": unknown WfSpec
    );
    expect(f2.code).toBe("NOT_FOUND");
    await stillServing();
  });

  it("B-SEC-4 after all of the above the store is intact: a run still goes through", async () => {
    const run = await c.call("RunWf", {
      wf_spec_name: "bad-input-wf",
      id: "bad-input-ok",
      variables: { s: str("ok") },
    });
    expect(run.status).toBe("COMPLETED");
    const v = await c.call("GetVariable", {
      wf_run_id: { id: "bad-input-ok" },
      thread_run_number: 0,
      name: "s",
    });
    expect(v.value).toMatchObject({ str: "ok" });
  });
});
