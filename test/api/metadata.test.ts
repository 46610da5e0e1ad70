/**
 * Black-box tests of the metadata RPCs (B-META-1…3, B-META-7…9, Search and Delete RPCs) through real gRPC.
 * WfSpec versioning (B-META-4…6) is in wf-spec-versioning.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server";
import type { Msg, TestClient } from "../support/client";
import {
  entry,
  exit,
  int,
  lit,
  nop,
  oneTaskWf,
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

let ts: TestServer;
let c: TestClient;

beforeAll(async () => {
  ts = await startTestServer();
  c = ts.client();
});
afterAll(async () => {
  await ts?.close();
});

/** A WfSpec of one entrypoint thread made of `nodes`, declaring `vars`. */
function simpleWf(name: string, nodes: NodeDef[], vars: Msg[] = []): Msg {
  return wfSpec(name, thread(nodes, vars));
}

/** The simplest valid WfSpec: ENTRYPOINT → EXIT. */
function trivialWf(name: string): Msg {
  return simpleWf(name, [entry(), exit()]);
}

/** Expects PutWfSpec to fail INVALID_ARGUMENT with a message matching every pattern, storing nothing. */
async function expectRejectedWfSpec(req: Msg, ...patterns: RegExp[]): Promise<string> {
  const err = await c.fail("PutWfSpec", req);
  expect(err.code).toBe("INVALID_ARGUMENT");
  for (const p of patterns) expect(err.message).toMatch(p);
  const lookup = await c.fail("GetLatestWfSpec", { name: req.name });
  expect(lookup.code).toBe("NOT_FOUND");
  return err.message;
}

/** Pages through a Search* RPC with `limit`, returning every page's results. */
async function pageAll(method: string, req: Msg, limit: number): Promise<Msg[][]> {
  const pages: Msg[][] = [];
  let bookmark: Buffer | undefined;
  for (let i = 0; i < 50; i++) {
    const res = await c.call(method, { ...req, limit, ...(bookmark ? { bookmark } : {}) });
    pages.push(res.results as Msg[]);
    if (!res.bookmark || (res.bookmark as Buffer).length === 0) return pages;
    bookmark = res.bookmark as Buffer;
  }
  throw new Error(`${method} paging did not end`);
}

async function waitForStatus(id: Msg, status: string): Promise<Msg> {
  return waitFor(
    async () => {
      const r = await c.call("GetWfRun", id);
      return r.status === status ? r : undefined;
    },
    10_000,
    `WfRun ${String(id.id)} to be ${status}`,
  );
}

describe("B-META-1 PutTaskDef", () => {
  it("B-META-1 creates a TaskDef with a new name and GetTaskDef returns it", async () => {
    const created = await c.call(
      "PutTaskDef",
      taskDef("meta1-create", [
        ["who", "STR"],
        ["times", "INT"],
      ]),
    );
    expect(created.id).toEqual({ name: "meta1-create" });
    expect(created.input_vars.map((v: Msg) => [v.name, v.type])).toEqual([
      ["who", "STR"],
      ["times", "INT"],
    ]);
    expect(created.created_at).toBeTruthy();
    const got = await c.call("GetTaskDef", { name: "meta1-create" });
    expect(got).toEqual(created);
  });

  it("B-META-1 the same PutTaskDef again returns the existing TaskDef unchanged (idempotent)", async () => {
    const first = await c.call("PutTaskDef", taskDef("meta1-idem", [["who", "STR"]]));
    await new Promise((r) => setTimeout(r, 20));
    const again = await c.call("PutTaskDef", taskDef("meta1-idem", [["who", "STR"]]));
    expect(again).toEqual(first);
    expect(again.created_at).toEqual(first.created_at);
    const search = await c.call("SearchTaskDef", { prefix: "meta1-idem" });
    expect(search.results).toEqual([{ name: "meta1-idem" }]);
  });

  it("B-META-1 a different input_vars for an existing name fails ALREADY_EXISTS and keeps the original", async () => {
    const original = await c.call("PutTaskDef", taskDef("meta1-clash", [["who", "STR"]]));
    const otherType = await c.fail("PutTaskDef", taskDef("meta1-clash", [["who", "INT"]]));
    expect(otherType.code).toBe("ALREADY_EXISTS");
    expect(otherType.message).toMatch(/meta1-clash/);
    expect(otherType.message).toMatch(/already exists/i);
    expect(otherType.message).toMatch(/input_vars/);
    const extraVar = await c.fail(
      "PutTaskDef",
      taskDef("meta1-clash", [
        ["who", "STR"],
        ["n", "INT"],
      ]),
    );
    expect(extraVar.code).toBe("ALREADY_EXISTS");
    const noVars = await c.fail("PutTaskDef", taskDef("meta1-clash", []));
    expect(noVars.code).toBe("ALREADY_EXISTS");
    expect(await c.call("GetTaskDef", { name: "meta1-clash" })).toEqual(original);
  });
});

describe("B-META-2 metadata names", () => {
  const BAD_NAMES = [
    "Upper",
    "camelCase",
    "with_underscore",
    "-leading",
    "trailing-",
    "has space",
    "dot.name",
    "",
  ];
  const GOOD_NAMES = ["a", "0", "abc-123", "1-a-2-b", "x9"];

  const putters: Record<string, (name: string) => Msg> = {
    PutTaskDef: (name) => taskDef(name, [["v", "STR"]]),
    PutWfSpec: (name) => trivialWf(name),
    PutExternalEventDef: (name) => ({ name }),
    PutWorkflowEventDef: (name) => ({ name, type: "STR" }),
    PutUserTaskDef: (name) => ({ name, fields: [{ name: "ok", type: "BOOL", display_name: "OK" }] }),
  };

  it("B-META-2 rejects a TaskDef name with upper-case letters as INVALID_ARGUMENT", async () => {
    const err = await c.fail("PutTaskDef", taskDef("GreetTask", [["v", "STR"]]));
    expect(err.code).toBe("INVALID_ARGUMENT");
    expect(err.message).toMatch(/TaskDef/);
    expect(err.message).toMatch(/GreetTask/);
    expect(err.message).toMatch(/name/i);
    expect((await c.fail("GetTaskDef", { name: "GreetTask" })).code).toBe("NOT_FOUND");
  });

  for (const [method, build] of Object.entries(putters)) {
    it(`B-META-2 ${method} rejects names outside [a-z0-9]([-a-z0-9]*[a-z0-9])? as INVALID_ARGUMENT`, async () => {
      for (const name of BAD_NAMES) {
        const err = await c.fail(method, build(name));
        expect(err.code, `name '${name}'`).toBe("INVALID_ARGUMENT");
        expect(err.message, `name '${name}'`).toMatch(/name/i);
        if (name !== "") expect(err.message).toContain(name);
      }
    });

    it(`B-META-2 ${method} accepts lower-case letters, digits and inner hyphens`, async () => {
      for (const name of GOOD_NAMES) {
        const created = await c.call(method, build(name));
        expect(created.id?.name ?? created.name, name).toBe(name);
      }
    });
  }
});

describe("B-META-3 PutWfSpec validation", () => {
  beforeAll(async () => {
    await c.call("PutTaskDef", taskDef("meta3-task", [["n", "INT"]]));
    await c.call("PutTaskDef", taskDef("meta3-str-task", [["s", "STR"]]));
  });

  it("B-META-3 rejects a TASK node that uses an unknown TaskDef", async () => {
    await expectRejectedWfSpec(
      simpleWf("meta3-unknown-task", [entry(), taskNode("1-task-TASK", "no-such-task"), exit()]),
      /TaskDef/,
      /no-such-task/,
      /unknown|not exist|not found/i,
      /1-task-TASK/,
    );
  });

  it("B-META-3 rejects an EXTERNAL_EVENT node that uses an unknown ExternalEventDef", async () => {
    await expectRejectedWfSpec(
      simpleWf("meta3-unknown-event", [
        entry(),
        {
          name: "1-wait-EXTERNAL_EVENT",
          node: { external_event: { external_event_def_id: { name: "no-such-event" } } },
        },
        exit(),
      ]),
      /ExternalEventDef/,
      /no-such-event/,
      /unknown|not exist|not found/i,
    );
  });

  it("B-META-3 rejects a USER_TASK node that uses an unknown UserTaskDef", async () => {
    await expectRejectedWfSpec(
      simpleWf("meta3-unknown-form", [
        entry(),
        {
          name: "1-form-USER_TASK",
          node: { user_task: { user_task_def_name: "no-such-form", user_id: lit(str("ann")) } },
        },
        exit(),
      ]),
      /UserTaskDef/,
      /no-such-form/,
      /unknown|not exist|not found/i,
    );
  });

  it("B-META-3 rejects a THROW_EVENT node that uses an unknown WorkflowEventDef", async () => {
    await expectRejectedWfSpec(
      simpleWf("meta3-unknown-wf-event", [
        entry(),
        {
          name: "1-throw-THROW_EVENT",
          node: { throw_event: { event_def_id: { name: "no-such-wf-event" }, content: lit(str("x")) } },
        },
        exit(),
      ]),
      /WorkflowEventDef/,
      /no-such-wf-event/,
      /unknown|not exist|not found/i,
    );
  });

  it("B-META-3 rejects a START_THREAD node that names an unknown ThreadSpec", async () => {
    await expectRejectedWfSpec(
      simpleWf("meta3-unknown-thread", [
        entry(),
        { name: "1-start-START_THREAD", node: { start_thread: { thread_spec_name: "no-such-thread" } } },
        exit(),
      ]),
      /thread/i,
      /no-such-thread/,
      /unknown|not exist|not found/i,
    );
  });

  it("B-META-3 rejects a failure handler that names an unknown ThreadSpec", async () => {
    const spec = simpleWf("meta3-unknown-handler", [entry(), nop("1-nop-NOP"), exit()]);
    spec.thread_specs.entrypoint.nodes["1-nop-NOP"].failure_handlers = [
      { handler_spec_name: "no-such-handler" },
    ];
    await expectRejectedWfSpec(spec, /handler/i, /no-such-handler/, /unknown|not exist|not found/i);
  });

  it("B-META-3 rejects an edge to a missing node", async () => {
    await expectRejectedWfSpec(
      simpleWf("meta3-bad-edge", [entry(), nop("1-nop-NOP", [{ sink_node_name: "nowhere" }]), exit()]),
      /edge/i,
      /nowhere/,
      /missing|unknown|not exist/i,
    );
  });

  it("B-META-3 rejects a WfSpec whose entrypoint thread is missing", async () => {
    const spec = trivialWf("meta3-no-entry-thread");
    spec.entrypoint_thread_name = "main";
    await expectRejectedWfSpec(spec, /entrypoint/i, /main/);
    const empty = trivialWf("meta3-empty-entry-thread");
    empty.entrypoint_thread_name = "";
    await expectRejectedWfSpec(empty, /entrypoint/i);
  });

  it("B-META-3 rejects a thread without an ENTRYPOINT node", async () => {
    await expectRejectedWfSpec(
      simpleWf("meta3-no-entrypoint-node", [nop("1-nop-NOP"), exit()]),
      /ENTRYPOINT/,
      /entrypoint/,
    );
  });

  it("B-META-3 rejects a non-entrypoint thread without an ENTRYPOINT node", async () => {
    const spec = simpleWf("meta3-child-no-entrypoint", [
      entry(),
      { name: "1-start-START_THREAD", node: { start_thread: { thread_spec_name: "child" } } },
      exit(),
    ]);
    spec.thread_specs.child = thread([nop("1-nop-NOP"), exit()]);
    await expectRejectedWfSpec(spec, /ENTRYPOINT/, /child/);
  });

  it("B-META-3 rejects a thread without an EXIT node", async () => {
    await expectRejectedWfSpec(
      simpleWf("meta3-no-exit-node", [entry(), nop("1-nop-NOP")]),
      /EXIT/,
      /entrypoint/,
    );
  });

  it("B-META-3 rejects a task input that uses an undeclared variable", async () => {
    await expectRejectedWfSpec(
      simpleWf("meta3-undeclared-var", [
        entry(),
        taskNode("1-task-TASK", "meta3-task", [varRef("ghost")]),
        exit(),
      ]),
      /undeclared|not declared/i,
      /ghost/,
    );
  });

  it("B-META-3 rejects an edge condition that uses an undeclared variable", async () => {
    const spec = simpleWf(
      "meta3-undeclared-in-edge",
      [
        entry(),
        nop("1-nop-NOP", [
          {
            sink_node_name: "exit-EXIT",
            condition: { comparator: "EQUALS", left: varRef("phantom"), right: lit(int(1)) },
          },
        ]),
        exit(),
      ],
      [varDef("declared", "INT")],
    );
    await expectRejectedWfSpec(spec, /undeclared|not declared/i, /phantom/);
  });

  it("B-META-3 rejects a task node whose input count does not match the TaskDef", async () => {
    await expectRejectedWfSpec(
      simpleWf(
        "meta3-input-count",
        [entry(), taskNode("1-task-TASK", "meta3-task", [varRef("n"), varRef("n")]), exit()],
        [varDef("n", "INT")],
      ),
      /meta3-task/,
      /2/,
      /1/,
      /input/i,
    );
    await expectRejectedWfSpec(
      simpleWf("meta3-input-count-0", [entry(), taskNode("1-task-TASK", "meta3-task", []), exit()]),
      /meta3-task/,
      /0/,
      /input/i,
    );
  });

  it("B-META-3 rejects a task input whose primitive type cannot match the TaskDef", async () => {
    await expectRejectedWfSpec(
      simpleWf(
        "meta3-input-type",
        [entry(), taskNode("1-task-TASK", "meta3-task", [varRef("s")]), exit()],
        [varDef("s", "STR")],
      ),
      /meta3-task/,
      /INT/,
      /STR/,
    );
    await expectRejectedWfSpec(
      simpleWf("meta3-input-literal-type", [
        entry(),
        taskNode("1-task-TASK", "meta3-str-task", [lit({ bool: true })]),
        exit(),
      ]),
      /meta3-str-task/,
      /STR/,
      /BOOL/,
    );
  });

  it("B-META-3 accepts a task input of a matching type", async () => {
    const spec = await c.call(
      "PutWfSpec",
      simpleWf(
        "meta3-input-ok",
        [entry(), taskNode("1-task-TASK", "meta3-task", [varRef("n")]), exit()],
        [varDef("n", "INT")],
      ),
    );
    expect(spec.id).toMatchObject({ name: "meta3-input-ok", major_version: 0, revision: 0 });
  });

  it("B-META-3 rejects a mutation on an undeclared variable", async () => {
    await expectRejectedWfSpec(
      simpleWf(
        "meta3-undeclared-mutation",
        [
          entry(),
          nop("1-nop-NOP", [
            {
              sink_node_name: "exit-EXIT",
              variable_mutations: [{ lhs_name: "ghost", operation: "ASSIGN", literal_value: int(1) }],
            },
          ]),
          exit(),
        ],
        [varDef("counter", "INT")],
      ),
      /mutat/i,
      /ghost/,
      /undeclared|not declared/i,
    );
  });
});

describe("B-META-7 UserTaskDef versioning", () => {
  const form = (description: string): Msg => ({
    name: "meta7-form",
    description,
    fields: [{ name: "approved", type: "BOOL", display_name: "Approved?", required: true }],
  });

  it("B-META-7 the first PutUserTaskDef is version 0 and an identical put returns it (idempotent)", async () => {
    const first = await c.call("PutUserTaskDef", form("first"));
    expect(first).toMatchObject({ name: "meta7-form", version: 0, description: "first" });
    expect(first.fields).toEqual([
      expect.objectContaining({ name: "approved", type: "BOOL", display_name: "Approved?", required: true }),
    ]);
    expect(first.created_at).toBeTruthy();
    const again = await c.call("PutUserTaskDef", form("first"));
    expect(again).toEqual(first);
    expect(await c.call("GetUserTaskDef", { name: "meta7-form", version: 0 })).toEqual(first);
  });

  it("B-META-7 a changed PutUserTaskDef creates version + 1 and keeps the older version", async () => {
    const v0 = await c.call("GetUserTaskDef", { name: "meta7-form", version: 0 });
    const v1 = await c.call("PutUserTaskDef", form("second"));
    expect(v1).toMatchObject({ name: "meta7-form", version: 1, description: "second" });
    const changedFields = await c.call("PutUserTaskDef", {
      name: "meta7-form",
      description: "second",
      fields: [{ name: "approved", type: "STR", display_name: "Approved?", required: true }],
    });
    expect(changedFields.version).toBe(2);
    expect(await c.call("GetUserTaskDef", { name: "meta7-form", version: 0 })).toEqual(v0);
    expect(await c.call("GetUserTaskDef", { name: "meta7-form", version: 1 })).toEqual(v1);
  });

  it("B-META-7 GetLatestUserTaskDef returns the highest version", async () => {
    const latest = await c.call("GetLatestUserTaskDef", { name: "meta7-form" });
    expect(latest.version).toBe(2);
    expect(latest.fields[0].type).toBe("STR");
  });

  it("B-META-7 an unknown UserTaskDef or version is NOT_FOUND", async () => {
    const unknown = await c.fail("GetLatestUserTaskDef", { name: "meta7-nope" });
    expect(unknown.code).toBe("NOT_FOUND");
    expect(unknown.message).toMatch(/meta7-nope/);
    const version = await c.fail("GetUserTaskDef", { name: "meta7-form", version: 9 });
    expect(version.code).toBe("NOT_FOUND");
    expect(version.message).toMatch(/meta7-form/);
  });
});

describe("Search* over metadata (prefix, bookmark paging)", () => {
  it("B-SRCH-4 SearchTaskDef by prefix pages with limit 1 through every match, no duplicates or gaps", async () => {
    const names = ["srch-td-c", "srch-td-a", "srch-td-e", "srch-td-b", "srch-td-d"];
    for (const n of names) await c.call("PutTaskDef", taskDef(n, [["v", "STR"]]));
    await c.call("PutTaskDef", taskDef("srch-tdx-other", [["v", "STR"]]));
    const pages = await pageAll("SearchTaskDef", { prefix: "srch-td-" }, 1);
    expect(pages.every((p) => p.length === 1)).toBe(true);
    expect(pages.flat()).toEqual([...names].sort().map((name) => ({ name })));
    const twoByTwo = await pageAll("SearchTaskDef", { prefix: "srch-td-" }, 2);
    expect(twoByTwo.map((p) => p.length)).toEqual([2, 2, 1]);
    expect(twoByTwo.flat()).toEqual(pages.flat());
    const all = await c.call("SearchTaskDef", { prefix: "srch-td" });
    expect(all.results.map((r: Msg) => r.name)).toEqual([...[...names].sort(), "srch-tdx-other"]);
  });

  it("B-SRCH-4 SearchExternalEventDef by prefix pages with limit 1, no duplicates or gaps", async () => {
    const names = ["srch-eed-b", "srch-eed-a", "srch-eed-c"];
    for (const n of names) await c.call("PutExternalEventDef", { name: n });
    const pages = await pageAll("SearchExternalEventDef", { prefix: "srch-eed-" }, 1);
    expect(pages.map((p) => p.length)).toEqual([1, 1, 1]);
    expect(pages.flat()).toEqual([...names].sort().map((name) => ({ name })));
  });

  it("B-SRCH-4 SearchUserTaskDef by prefix and by name pages through every version", async () => {
    const put = (name: string, description: string) =>
      c.call("PutUserTaskDef", {
        name,
        description,
        fields: [{ name: "f", type: "STR", display_name: "F" }],
      });
    await put("srch-utd-b", "one");
    await put("srch-utd-a", "one");
    await put("srch-utd-a", "two");
    const pages = await pageAll("SearchUserTaskDef", { prefix: "srch-utd-" }, 1);
    expect(pages.map((p) => p.length)).toEqual([1, 1, 1]);
    expect(pages.flat()).toEqual([
      { name: "srch-utd-a", version: 0 },
      { name: "srch-utd-a", version: 1 },
      { name: "srch-utd-b", version: 0 },
    ]);
    const byName = await pageAll("SearchUserTaskDef", { name: "srch-utd-a" }, 1);
    expect(byName.flat()).toEqual([
      { name: "srch-utd-a", version: 0 },
      { name: "srch-utd-a", version: 1 },
    ]);
  });

  it("B-SRCH-4 SearchWfSpec by prefix, name and TaskDef used pages through every version", async () => {
    await c.call("PutTaskDef", taskDef("srch-wf-task", [["input", "STR"]]));
    await c.call("PutWfSpec", trivialWf("srch-wf-b"));
    await c.call("PutWfSpec", trivialWf("srch-wf-a"));
    await c.call("PutWfSpec", simpleWf("srch-wf-a", [entry(), nop("1-nop-NOP"), exit()]));
    await c.call("PutWfSpec", oneTaskWf("srch-wf-c", "srch-wf-task"));
    const pages = await pageAll("SearchWfSpec", { prefix: "srch-wf-" }, 1);
    expect(pages.map((p) => p.length)).toEqual([1, 1, 1, 1]);
    expect(pages.flat()).toEqual([
      { name: "srch-wf-a", major_version: 0, revision: 0 },
      { name: "srch-wf-a", major_version: 0, revision: 1 },
      { name: "srch-wf-b", major_version: 0, revision: 0 },
      { name: "srch-wf-c", major_version: 0, revision: 0 },
    ]);
    const byName = await pageAll("SearchWfSpec", { name: "srch-wf-a" }, 1);
    expect(byName.flat()).toEqual([
      { name: "srch-wf-a", major_version: 0, revision: 0 },
      { name: "srch-wf-a", major_version: 0, revision: 1 },
    ]);
    const byTask = await c.call("SearchWfSpec", { task_def_name: "srch-wf-task" });
    expect(byTask.results).toEqual([{ name: "srch-wf-c", major_version: 0, revision: 0 }]);
  });

  it("B-SRCH-1 a bookmark resumes after the last item even when an earlier name is added meanwhile", async () => {
    for (const n of ["srch-live-b", "srch-live-d"]) await c.call("PutTaskDef", taskDef(n, [["v", "STR"]]));
    const first = await c.call("SearchTaskDef", { prefix: "srch-live-", limit: 1 });
    expect(first.results).toEqual([{ name: "srch-live-b" }]);
    await c.call("PutTaskDef", taskDef("srch-live-a", [["v", "STR"]]));
    await c.call("PutTaskDef", taskDef("srch-live-c", [["v", "STR"]]));
    const rest = await c.call("SearchTaskDef", { prefix: "srch-live-", limit: 10, bookmark: first.bookmark });
    expect(rest.results).toEqual([{ name: "srch-live-c" }, { name: "srch-live-d" }]);
  });

  it("B-SRCH-1 limit 0 is INVALID_ARGUMENT on every metadata Search*", async () => {
    for (const method of ["SearchTaskDef", "SearchExternalEventDef", "SearchUserTaskDef", "SearchWfSpec"]) {
      const err = await c.fail(method, { limit: 0 });
      expect(err.code, method).toBe("INVALID_ARGUMENT");
      expect(err.message, method).toMatch(/limit/);
    }
  });

  it("B-SRCH-1 a bookmark this server did not give out is INVALID_ARGUMENT", async () => {
    const err = await c.fail("SearchTaskDef", { bookmark: Buffer.from("garbage"), limit: 1 });
    expect(err.code).toBe("INVALID_ARGUMENT");
    expect(err.message).toMatch(/bookmark/);
  });
});

describe("B-META-8 deleting metadata", () => {
  it("B-META-8 DeleteTaskDef removes it: GetTaskDef is NOT_FOUND and Search no longer lists it", async () => {
    await c.call("PutTaskDef", taskDef("del-td", [["v", "STR"]]));
    expect(await c.call("DeleteTaskDef", { id: { name: "del-td" } })).toEqual({});
    const err = await c.fail("GetTaskDef", { name: "del-td" });
    expect(err.code).toBe("NOT_FOUND");
    expect(err.message).toMatch(/del-td/);
    expect((await c.call("SearchTaskDef", { prefix: "del-td" })).results).toEqual([]);
    // the name is free again, also with other input vars
    const again = await c.call("PutTaskDef", taskDef("del-td", [["n", "INT"]]));
    expect(again.input_vars[0]).toMatchObject({ name: "n", type: "INT" });
  });

  it("B-META-8 deleting an unknown TaskDef, ExternalEventDef, UserTaskDef or WfSpec is NOT_FOUND", async () => {
    const cases: [string, Msg][] = [
      ["DeleteTaskDef", { id: { name: "del-nope" } }],
      ["DeleteExternalEventDef", { id: { name: "del-nope" } }],
      ["DeleteUserTaskDef", { id: { name: "del-nope", version: 0 } }],
      ["DeleteWfSpec", { id: { name: "del-nope", major_version: 0, revision: 0 } }],
    ];
    for (const [method, req] of cases) {
      const err = await c.fail(method, req);
      expect(err.code, method).toBe("NOT_FOUND");
      expect(err.message, method).toMatch(/del-nope/);
    }
  });

  it("B-META-8 DeleteExternalEventDef removes it: GetExternalEventDef is NOT_FOUND", async () => {
    const def = await c.call("PutExternalEventDef", { name: "del-eed" });
    expect(await c.call("GetExternalEventDef", { name: "del-eed" })).toEqual(def);
    await c.call("DeleteExternalEventDef", { id: { name: "del-eed" } });
    const err = await c.fail("GetExternalEventDef", { name: "del-eed" });
    expect(err.code).toBe("NOT_FOUND");
    expect(err.message).toMatch(/del-eed/);
    expect((await c.call("SearchExternalEventDef", { prefix: "del-eed" })).results).toEqual([]);
  });

  it("B-META-8 DeleteUserTaskDef removes that version only; GetLatestUserTaskDef falls back", async () => {
    const put = (description: string) =>
      c.call("PutUserTaskDef", {
        name: "del-utd",
        description,
        fields: [{ name: "f", type: "STR", display_name: "F" }],
      });
    const v0 = await put("zero");
    const v1 = await put("one");
    expect(v1.version).toBe(1);
    await c.call("DeleteUserTaskDef", { id: { name: "del-utd", version: 1 } });
    const err = await c.fail("GetUserTaskDef", { name: "del-utd", version: 1 });
    expect(err.code).toBe("NOT_FOUND");
    expect(err.message).toMatch(/del-utd/);
    expect(await c.call("GetLatestUserTaskDef", { name: "del-utd" })).toEqual(v0);
    await c.call("DeleteUserTaskDef", { id: { name: "del-utd", version: 0 } });
    expect((await c.fail("GetLatestUserTaskDef", { name: "del-utd" })).code).toBe("NOT_FOUND");
    expect((await c.call("SearchUserTaskDef", { prefix: "del-utd" })).results).toEqual([]);
  });

  it("B-META-8 DeleteWfSpec removes that version: GetWfSpec is NOT_FOUND, GetLatestWfSpec falls back", async () => {
    await c.call("PutWfSpec", trivialWf("del-wf"));
    const v01 = await c.call("PutWfSpec", simpleWf("del-wf", [entry(), nop("1-nop-NOP"), exit()]));
    expect(v01.id).toEqual({ name: "del-wf", major_version: 0, revision: 1 });
    await c.call("DeleteWfSpec", { id: { name: "del-wf", major_version: 0, revision: 1 } });
    const err = await c.fail("GetWfSpec", { name: "del-wf", major_version: 0, revision: 1 });
    expect(err.code).toBe("NOT_FOUND");
    expect(err.message).toMatch(/del-wf/);
    const latest = await c.call("GetLatestWfSpec", { name: "del-wf" });
    expect(latest.id).toEqual({ name: "del-wf", major_version: 0, revision: 0 });
    await c.call("DeleteWfSpec", { id: { name: "del-wf", major_version: 0, revision: 0 } });
    expect((await c.fail("GetLatestWfSpec", { name: "del-wf" })).code).toBe("NOT_FOUND");
    expect((await c.fail("RunWf", { wf_spec_name: "del-wf" })).code).toBe("NOT_FOUND");
    expect((await c.call("SearchWfSpec", { prefix: "del-wf" })).results).toEqual([]);
  });

  it("B-META-8 a WfRun started before its WfSpec is deleted still completes when a worker does its task", async () => {
    await c.call("PutTaskDef", taskDef("del-running-task", [["input", "STR"]]));
    const spec = await c.call("PutWfSpec", oneTaskWf("del-running-wf", "del-running-task"));
    const run = await c.call("RunWf", {
      wf_spec_name: "del-running-wf",
      id: "del-running-1",
      variables: { input: str("x") },
    });
    expect(run.status).toBe("RUNNING");
    await c.call("DeleteWfSpec", { id: spec.id });
    expect((await c.fail("GetWfSpec", spec.id)).code).toBe("NOT_FOUND");
    let worker: RawWorker | undefined;
    try {
      worker = startRawWorker(c, "del-running-task", () => ({ status: "TASK_SUCCESS", output: str("done") }));
      const done = await waitForStatus(run.id, "COMPLETED");
      expect(done.wf_spec_id).toEqual(spec.id);
      const nodes = await c.call("ListNodeRuns", { wf_run_id: run.id });
      expect(nodes.results.map((n: Msg) => [n.node_name, n.status])).toEqual([
        ["0-entrypoint-ENTRYPOINT", "COMPLETED"],
        ["1-task-TASK", "COMPLETED"],
        ["2-exit-EXIT", "COMPLETED"],
      ]);
    } finally {
      worker?.stop();
    }
  });

  it("B-META-8 a WfSpec put again after its version was deleted does not take over that version from a running WfRun", async () => {
    // its own server, so that it can be restarted: a running WfRun reloads its WfSpec version from the store
    let own = await startTestServer();
    let oc = own.client();
    let worker: RawWorker | undefined;
    try {
      await oc.call("PutTaskDef", taskDef("reput-task", [["input", "STR"]]));
      const spec = await oc.call("PutWfSpec", oneTaskWf("reput-wf", "reput-task"));
      const run = await oc.call("RunWf", {
        wf_spec_name: "reput-wf",
        id: "reput-1",
        variables: { input: str("x") },
      });
      await oc.call("DeleteWfSpec", { id: spec.id });
      const replacement = await oc.call(
        "PutWfSpec",
        simpleWf("reput-wf", [entry(), nop("1-other-NOP"), exit()]),
      );
      expect(replacement.id).not.toEqual(spec.id);
      expect((await oc.fail("GetWfSpec", spec.id)).code).toBe("NOT_FOUND");
      expect((await oc.call("GetLatestWfSpec", { name: "reput-wf" })).id).toEqual(replacement.id);
      await own.stop();
      own = await startTestServer({ dataDir: own.dataDir });
      oc = own.client();
      worker = startRawWorker(oc, "reput-task", () => ({ status: "TASK_SUCCESS", output: str("done") }));
      const done = await waitFor(
        async () => {
          const r = await oc.call("GetWfRun", run.id);
          return r.status === "COMPLETED" ? r : undefined;
        },
        10_000,
        "the WfRun of the deleted version to complete",
      );
      expect(done.wf_spec_id).toEqual(spec.id);
      expect((await oc.call("RunWf", { wf_spec_name: "reput-wf" })).wf_spec_id).toEqual(replacement.id);
    } finally {
      worker?.stop();
      await own.close();
    }
  });

  it("B-META-8 a run reaching a TASK node whose TaskDef was deleted fails that node with a clear error", async () => {
    await c.call("PutTaskDef", taskDef("del-first-task", [["input", "STR"]]));
    await c.call("PutTaskDef", taskDef("del-gone-task", [["input", "STR"]]));
    await c.call(
      "PutWfSpec",
      simpleWf(
        "del-gone-wf",
        [
          entry(),
          taskNode("1-first-TASK", "del-first-task", [varRef("input")]),
          taskNode("2-gone-TASK", "del-gone-task", [varRef("input")]),
          exit("3-exit-EXIT"),
        ],
        [varDef("input", "STR")],
      ),
    );
    const run = await c.call("RunWf", {
      wf_spec_name: "del-gone-wf",
      id: "del-gone-1",
      variables: { input: str("x") },
    });
    expect(run.status).toBe("RUNNING");
    await c.call("DeleteTaskDef", { id: { name: "del-gone-task" } });
    let worker: RawWorker | undefined;
    try {
      worker = startRawWorker(c, "del-first-task", () => ({ status: "TASK_SUCCESS", output: str("ok") }));
      const failed = await waitForStatus(run.id, "ERROR");
      expect(failed.end_time).toBeTruthy();
      const node = await c.call("GetNodeRun", { wf_run_id: run.id, thread_run_number: 0, position: 2 });
      expect(node.node_name).toBe("2-gone-TASK");
      expect(node.status).toBe("ERROR");
      expect(node.error_message).toMatch(/del-gone-task/);
      expect(node.error_message).toMatch(/TaskDef/);
      expect(node.error_message).toMatch(/not exist|deleted|not found/i);
      expect(node.failures[0].message).toMatch(/del-gone-task/);
      const tasks = await c.call("ListTaskRuns", { wf_run_id: run.id });
      expect(tasks.results.map((t: Msg) => t.task_def_id.name)).toEqual(["del-first-task"]);
    } finally {
      worker?.stop();
    }
  });
});

describe("B-META-9 ParentWfSpecReference", () => {
  beforeAll(async () => {
    await c.call("PutWfSpec", trivialWf("meta9-parent"));
    await c.call("PutWfSpec", trivialWf("meta9-stranger"));
    await c.call(
      "PutWfSpec",
      wfSpec("meta9-child", thread([entry(), exit()]), {
        parent_wf_spec: { wf_spec_name: "meta9-parent", wf_spec_major_version: 0 },
      }),
    );
  });

  it("B-META-9 PutWfSpec stores the parent reference", async () => {
    const child = await c.call("GetLatestWfSpec", { name: "meta9-child" });
    expect(child.parent_wf_spec).toEqual({ wf_spec_name: "meta9-parent", wf_spec_major_version: 0 });
  });

  it("B-META-9 PutWfSpec with a parent WfSpec that does not exist is INVALID_ARGUMENT", async () => {
    await expectRejectedWfSpec(
      wfSpec("meta9-orphan", thread([entry(), exit()]), {
        parent_wf_spec: { wf_spec_name: "meta9-no-such-parent", wf_spec_major_version: 0 },
      }),
      /parent/i,
      /meta9-no-such-parent/,
    );
  });

  it("B-META-9 RunWf of a WfSpec with a parent but without parent_wf_run_id is INVALID_ARGUMENT", async () => {
    const err = await c.fail("RunWf", { wf_spec_name: "meta9-child", id: "meta9-no-parent" });
    expect(err.code).toBe("INVALID_ARGUMENT");
    expect(err.message).toMatch(/parent/);
    expect(err.message).toMatch(/meta9-parent/);
    expect((await c.fail("GetWfRun", { id: "meta9-no-parent" })).code).toBe("NOT_FOUND");
  });

  it("B-META-9 RunWf with a parent WfRun of another WfSpec is INVALID_ARGUMENT", async () => {
    const stranger = await c.call("RunWf", { wf_spec_name: "meta9-stranger", id: "meta9-stranger-run" });
    const err = await c.fail("RunWf", {
      wf_spec_name: "meta9-child",
      id: "meta9-wrong-parent",
      parent_wf_run_id: stranger.id,
    });
    expect(err.code).toBe("INVALID_ARGUMENT");
    expect(err.message).toMatch(/meta9-parent/);
    expect(err.message).toMatch(/meta9-stranger/);
    const childId = { id: "meta9-wrong-parent", parent_wf_run_id: stranger.id };
    expect((await c.fail("GetWfRun", childId)).code).toBe("NOT_FOUND");
  });

  it("B-META-9 RunWf with a parent WfRun that does not exist is INVALID_ARGUMENT", async () => {
    const err = await c.fail("RunWf", {
      wf_spec_name: "meta9-child",
      id: "meta9-ghost-parent",
      parent_wf_run_id: { id: "meta9-no-such-run" },
    });
    expect(err.code).toBe("INVALID_ARGUMENT");
    expect(err.message).toMatch(/meta9-no-such-run/);
  });

  it("B-META-9 RunWf with a parent WfRun of the parent WfSpec runs the child with id {id, parent}", async () => {
    const parent = await c.call("RunWf", { wf_spec_name: "meta9-parent", id: "meta9-parent-run" });
    const child = await c.call("RunWf", {
      wf_spec_name: "meta9-child",
      id: "meta9-child-run",
      parent_wf_run_id: parent.id,
    });
    expect(child.id).toMatchObject({ id: "meta9-child-run", parent_wf_run_id: { id: "meta9-parent-run" } });
    expect(child.wf_spec_id).toEqual({ name: "meta9-child", major_version: 0, revision: 0 });
    const got = await c.call("GetWfRun", child.id);
    expect(got.status).toBe("COMPLETED");
  });
});
