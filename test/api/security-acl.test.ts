/**
 * B-SEC-2 every RPC is authorized against the caller's ACLs. One server with OAuth (tokens from a test
 * issuer); for each ACLResource and action, a principal holding exactly that permission may make the call
 * and a principal holding everything but it gets PERMISSION_DENIED naming what is missing. Plus name and
 * prefix filters, a task worker limited to one TaskDef, per-tenant against global ACLs, and the table that
 * declares each RPC's permission.
 */
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LittleHorse } from "@pony/proto";
import { RPC_PERMISSIONS } from "../../packages/server/src/api/permissions";
import { startTestServer, type TestServer } from "../support/server";
import { statusOf, type Msg, type TestClient } from "../support/client";
import { TestIssuer } from "../support/oauth";
import { entry, exit, lit, oneTaskWf, str, taskDef, thread, wfSpec } from "../support/specs";
import { firstPollOutcome, startRawWorker } from "../support/worker";
import { waitFor } from "../support/wait";

const RESOURCES = [
  "ACL_WORKFLOW",
  "ACL_TASK",
  "ACL_EXTERNAL_EVENT",
  "ACL_USER_TASK",
  "ACL_PRINCIPAL",
  "ACL_TENANT",
  "ACL_TASK_WORKER_GROUP",
] as const;
const ACTIONS = ["READ", "RUN", "WRITE_METADATA"] as const;
type Resource = (typeof RESOURCES)[number];
type Action = (typeof ACTIONS)[number];

let issuer: TestIssuer;
let ts: TestServer;
let admin: TestClient;
let n = 0;

/** A client for `principal`, created with these global and per-tenant ACLs. */
async function principal(
  id: string,
  globalAcls: Msg[],
  perTenant: Record<string, Msg[]> = {},
): Promise<TestClient> {
  await admin.call("PutPrincipal", {
    id,
    global_acls: { acls: globalAcls },
    per_tenant_acls: Object.fromEntries(Object.entries(perTenant).map(([t, acls]) => [t, { acls }])),
    overwrite: true,
  });
  return ts.client(undefined, { token: await issuer.token(id) });
}

const userTaskWf = (name: string): Msg =>
  wfSpec(
    name,
    thread([
      entry(),
      {
        name: "1-ut-USER_TASK",
        node: { user_task: { user_task_def_name: "sec-ut", user_id: lit(str("ann")) } },
      },
      exit("2-exit-EXIT"),
    ]),
  );

beforeAll(async () => {
  issuer = await TestIssuer.create();
  ts = await startTestServer({ extraArgs: [...issuer.serverArgs(), "--bootstrap-admin", "root"] });
  admin = ts.client(undefined, { token: await issuer.token("root") });
  await admin.call("PutTaskDef", taskDef("sec-task", [["input", "STR"]]));
  await admin.call("PutTaskDef", taskDef("my-task", [["input", "STR"]]));
  await admin.call("PutTaskDef", taskDef("other-task", [["input", "STR"]]));
  await admin.call("PutExternalEventDef", { name: "sec-evt" });
  await admin.call("PutUserTaskDef", {
    name: "sec-ut",
    fields: [{ name: "ok", type: "BOOL", display_name: "OK" }],
  });
  await admin.call("PutWfSpec", oneTaskWf("sec-wf", "sec-task"));
  await admin.call("PutWfSpec", oneTaskWf("my-wf", "my-task"));
  await admin.call("PutWfSpec", oneTaskWf("other-wf", "other-task"));
  await admin.call("PutWfSpec", userTaskWf("sec-ut-wf"));
  await admin.call("RunWf", { wf_spec_name: "sec-wf", id: "sec-run", variables: { input: str("x") } });
  await admin.call("RunWf", { wf_spec_name: "sec-ut-wf", id: "sec-ut-run" });
  await admin.call("RegisterTaskWorker", { task_def_id: { name: "sec-task" }, task_worker_id: "w0" });
  await admin.call("PutTenant", { id: "sec-other" });
});

afterAll(async () => {
  await ts?.close();
  issuer?.close();
});

async function userTaskRunId(): Promise<Msg> {
  const list = await waitFor(async () => {
    const l = await admin.call("ListUserTaskRuns", { wf_run_id: { id: "sec-ut-run" } });
    return l.results.length > 0 ? l : undefined;
  });
  return list.results[0].id;
}

/** One call per (resource, action): a request that succeeds for a caller allowed to make it. */
const CASES: { resource: Resource; action: Action; rpc: string; req: () => Promise<Msg> | Msg }[] = [
  { resource: "ACL_WORKFLOW", action: "READ", rpc: "GetWfRun", req: () => ({ id: "sec-run" }) },
  { resource: "ACL_WORKFLOW", action: "READ", rpc: "SearchWfRun", req: () => ({ wf_spec_name: "sec-wf" }) },
  {
    resource: "ACL_WORKFLOW",
    action: "READ",
    rpc: "ListNodeRuns",
    req: () => ({ wf_run_id: { id: "sec-run" } }),
  },
  {
    resource: "ACL_WORKFLOW",
    action: "RUN",
    rpc: "RunWf",
    req: () => ({ wf_spec_name: "sec-wf", variables: { input: str("y") } }),
  },
  {
    resource: "ACL_WORKFLOW",
    action: "WRITE_METADATA",
    rpc: "PutWfSpec",
    req: () => oneTaskWf("sec-wf", "sec-task"),
  },
  { resource: "ACL_TASK", action: "READ", rpc: "GetTaskDef", req: () => ({ name: "sec-task" }) },
  { resource: "ACL_TASK", action: "READ", rpc: "SearchTaskRun", req: () => ({ task_def_name: "sec-task" }) },
  {
    resource: "ACL_TASK",
    action: "RUN",
    rpc: "RegisterTaskWorker",
    req: () => ({ task_def_id: { name: "sec-task" }, task_worker_id: `w${++n}` }),
  },
  {
    resource: "ACL_TASK",
    action: "WRITE_METADATA",
    rpc: "PutTaskDef",
    req: () => taskDef(`sec-new-task-${++n}`),
  },
  {
    resource: "ACL_EXTERNAL_EVENT",
    action: "READ",
    rpc: "GetExternalEventDef",
    req: () => ({ name: "sec-evt" }),
  },
  {
    resource: "ACL_EXTERNAL_EVENT",
    action: "RUN",
    rpc: "PutExternalEvent",
    req: () => ({
      wf_run_id: { id: "sec-run" },
      external_event_def_id: { name: "sec-evt" },
      content: str("e"),
    }),
  },
  {
    resource: "ACL_EXTERNAL_EVENT",
    action: "WRITE_METADATA",
    rpc: "PutExternalEventDef",
    req: () => ({ name: `sec-new-evt-${++n}` }),
  },
  {
    resource: "ACL_USER_TASK",
    action: "READ",
    rpc: "GetUserTaskDef",
    req: () => ({ name: "sec-ut", version: 0 }),
  },
  { resource: "ACL_USER_TASK", action: "READ", rpc: "GetUserTaskRun", req: () => userTaskRunId() },
  {
    resource: "ACL_USER_TASK",
    action: "RUN",
    rpc: "AssignUserTaskRun",
    req: async () => ({ user_task_run_id: await userTaskRunId(), user_id: `u${++n}`, override_claim: true }),
  },
  {
    resource: "ACL_USER_TASK",
    action: "WRITE_METADATA",
    rpc: "PutUserTaskDef",
    req: () => ({ name: `sec-new-ut-${++n}`, fields: [{ name: "x", type: "STR", display_name: "X" }] }),
  },
  { resource: "ACL_PRINCIPAL", action: "READ", rpc: "GetPrincipal", req: () => ({ id: "root" }) },
  { resource: "ACL_PRINCIPAL", action: "READ", rpc: "SearchPrincipal", req: () => ({}) },
  {
    resource: "ACL_PRINCIPAL",
    action: "WRITE_METADATA",
    rpc: "PutPrincipal",
    req: () => ({ id: `p${++n}` }),
  },
  { resource: "ACL_TENANT", action: "WRITE_METADATA", rpc: "PutTenant", req: () => ({ id: `t${++n}` }) },
  {
    resource: "ACL_TASK_WORKER_GROUP",
    action: "READ",
    rpc: "GetTaskWorkerGroup",
    req: () => ({ name: "sec-task" }),
  },
];

describe("B-SEC-2 a denial test per ACLResource", () => {
  for (const c of CASES) {
    it(`B-SEC-2 ${c.rpc} needs ${c.action} on ${c.resource}: with exactly it OK, with everything else PERMISSION_DENIED`, async () => {
      const tag = `${c.rpc}-${c.action}`.toLowerCase();
      const allowed = await principal(`with-${tag}`, [
        { resources: [c.resource], allowed_actions: [c.action] },
      ]);
      await allowed.call(c.rpc, await c.req());

      // every resource with every action, but this resource without this action
      const others = ACTIONS.filter((a) => a !== c.action);
      const lacking = await principal(`without-${tag}`, [
        { resources: RESOURCES.filter((r) => r !== c.resource), allowed_actions: ["ALL_ACTIONS"] },
        { resources: [c.resource], allowed_actions: others },
      ]);
      const denied = await lacking.fail(c.rpc, await c.req());
      expect(denied.code).toBe("PERMISSION_DENIED");
      expect(denied.message).toContain(`${c.action} on ${c.resource}`);
      expect(denied.message).toContain(`without-${tag}`);
    });
  }

  it("B-SEC-2 ACL_ALL_RESOURCES in a tenant's ACLs grants that tenant's objects but never tenants or principals", async () => {
    const c = await principal("tenant-all", [], {
      default: [{ resources: ["ACL_ALL_RESOURCES"], allowed_actions: ["ALL_ACTIONS"] }],
    });
    await c.call("PutTaskDef", taskDef("tenant-all-task"));
    expect((await c.fail("PutTenant", { id: "tenant-all-t" })).code).toBe("PERMISSION_DENIED");
    expect((await c.fail("PutPrincipal", { id: "tenant-all-p" })).code).toBe("PERMISSION_DENIED");
    // its ACLs are for `default` only
    const elsewhere = ts.client("sec-other", { token: await issuer.token("tenant-all") });
    const denied = await elsewhere.fail("GetTaskDef", { name: "sec-task" });
    expect(denied.code).toBe("PERMISSION_DENIED");
    expect(denied.message).toContain("tenant 'sec-other'");
  });

  it("B-SEC-2 a principal granted cluster resources only in a tenant's ACLs is refused at PutPrincipal", async () => {
    const bad = await admin.fail("PutPrincipal", {
      id: "bad-scope",
      per_tenant_acls: { default: { acls: [{ resources: ["ACL_PRINCIPAL"], allowed_actions: ["READ"] }] } },
    });
    expect(bad.code).toBe("INVALID_ARGUMENT");
    expect(bad.message).toMatch(/ACL_PRINCIPAL is cluster-scoped/);
    expect((await admin.fail("GetPrincipal", { id: "bad-scope" })).code).toBe("NOT_FOUND");
  });

  it("B-SEC-2 Whoami and GetServerVersion need no ACL at all", async () => {
    const c = await principal("no-acls", []);
    expect((await c.call("Whoami", {})).id.id).toBe("no-acls");
    await c.call("GetServerVersion", {});
    expect((await c.fail("GetTaskDef", { name: "sec-task" })).code).toBe("PERMISSION_DENIED");
  });
});

describe("B-SEC-2 name and prefix filters", () => {
  it("B-SEC-2 a task worker limited to READ+RUN on ACL_TASK 'my-task' polls and reports my-task and nothing else", async () => {
    const worker = await principal("worker-my-task", [
      { resources: ["ACL_TASK"], allowed_actions: ["READ", "RUN"], name: "my-task" },
    ]);
    await worker.call("GetTaskDef", { name: "my-task" });
    await worker.call("RegisterTaskWorker", { task_def_id: { name: "my-task" }, task_worker_id: "w-my" });
    const w = startRawWorker(worker, "my-task", () => ({ status: "TASK_SUCCESS", output: str("done") }));
    try {
      await admin.call("RunWf", { wf_spec_name: "my-wf", id: "my-run", variables: { input: str("a") } });
      await waitFor(async () =>
        (await admin.call("GetWfRun", { id: "my-run" })).status === "COMPLETED" ? true : undefined,
      );
    } finally {
      w.stop();
    }
    // nothing else: not another TaskDef, not its TaskRuns, not metadata writes, not workflows
    expect((await worker.fail("GetTaskDef", { name: "other-task" })).code).toBe("PERMISSION_DENIED");
    expect((await worker.fail("PutTaskDef", taskDef("my-task"))).code).toBe("PERMISSION_DENIED");
    expect((await worker.fail("RunWf", { wf_spec_name: "my-wf" })).code).toBe("PERMISSION_DENIED");
    expect((await worker.fail("GetWfRun", { id: "my-run" })).code).toBe("PERMISSION_DENIED");

    // PollTask on another TaskDef: the stream fails with PERMISSION_DENIED
    const outcome = await firstPollOutcome(worker, "other-task", "w-my");
    expect(outcome.code).toBe("PERMISSION_DENIED");
    expect(outcome.message).toContain("RUN on ACL_TASK 'other-task'");

    // ReportTask for a TaskRun of another TaskDef: refused, and the TaskRun is untouched
    await admin.call("RunWf", { wf_spec_name: "other-wf", id: "other-run", variables: { input: str("b") } });
    const nodeRun = await waitFor(async () => {
      const nr = await admin.call("GetNodeRun", {
        wf_run_id: { id: "other-run" },
        thread_run_number: 0,
        position: 1,
      });
      return nr.task?.task_run_id ? nr : undefined;
    });
    const report = await worker.fail("ReportTask", {
      task_run_id: nodeRun.task.task_run_id,
      attempt_number: 0,
      status: "TASK_SUCCESS",
      output: str("forged"),
    });
    expect(report.code).toBe("PERMISSION_DENIED");
    // the TaskDef was read from the store: the refusal does not tell a caller that may not read it
    expect(report.message).toContain("RUN on ACL_TASK for the object the request names");
    expect(report.message).not.toContain("other-task");
    const taskRun = await admin.call("GetTaskRun", nodeRun.task.task_run_id);
    expect(taskRun.status).not.toBe("TASK_SUCCESS");
  });

  it("B-SEC-2 a prefix filter admits matching names; searches answer only what the caller may read", async () => {
    await admin.call("PutTaskDef", taskDef("billing-charge"));
    await admin.call("PutTaskDef", taskDef("billing-refund"));
    const c = await principal("billing-reader", [
      { resources: ["ACL_TASK"], allowed_actions: ["READ"], prefix: "billing-" },
    ]);
    await c.call("GetTaskDef", { name: "billing-charge" });
    const denied = await c.fail("GetTaskDef", { name: "sec-task" });
    expect(denied.code).toBe("PERMISSION_DENIED");
    expect(denied.message).toContain("READ on ACL_TASK 'sec-task'");
    const found = (await c.call("SearchTaskDef", {})).results.map((r: Msg) => r.name);
    expect(found).toEqual(["billing-charge", "billing-refund"]);
    // the TaskRuns of a WfRun are read as part of the WfRun: READ over its WfSpec
    const list = await c.fail("ListTaskRuns", { wf_run_id: { id: "sec-run" } });
    expect(list.code).toBe("PERMISSION_DENIED");
    expect(list.message).toContain("READ on ACL_WORKFLOW for the object the request names");
    expect(list.message).not.toContain("sec-wf");
    // an RPC that names no single object needs a grant without a name filter
    const nodes = await (
      await principal("sec-wf-reader", [
        { resources: ["ACL_WORKFLOW"], allowed_actions: ["READ"], name: "sec-wf" },
      ])
    ).fail("SearchNodeRun", { node_type: "TASK", status: "RUNNING" });
    expect(nodes.code).toBe("PERMISSION_DENIED");
    expect(nodes.message).toContain("READ on ACL_WORKFLOW (every name)");
  });

  it("B-SEC-2 a WfRun's reads and commands are authorized by its WfSpec's name", async () => {
    const c = await principal("my-wf-runner", [
      { resources: ["ACL_WORKFLOW"], allowed_actions: ["READ", "RUN"], name: "my-wf" },
    ]);
    await c.call("RunWf", { wf_spec_name: "my-wf", id: "my-run-2", variables: { input: str("c") } });
    await c.call("GetWfRun", { id: "my-run-2" });
    await c.call("ListVariables", { wf_run_id: { id: "my-run-2" } });
    await c.call("StopWfRun", { wf_run_id: { id: "my-run-2" } });
    const denied = await c.fail("StopWfRun", { wf_run_id: { id: "sec-run" } });
    expect(denied.code).toBe("PERMISSION_DENIED");
    expect(denied.message).toContain("RUN on ACL_WORKFLOW for the object the request names");
    expect(denied.message).not.toContain("sec-wf");
    expect((await admin.call("GetWfRun", { id: "sec-run" })).status).toBe("RUNNING");
  });
});

describe("B-SEC-2 the permission table", () => {
  it("B-SEC-2 every RPC of the service declares its permission", () => {
    for (const m of LittleHorse.methods) {
      expect(RPC_PERMISSIONS[m.localName as keyof typeof RPC_PERMISSIONS], m.name).toBeDefined();
    }
    expect(Object.keys(RPC_PERMISSIONS).sort()).toEqual(LittleHorse.methods.map((m) => m.localName).sort());
  });
});

describe("B-SEC-2 no way around the ACLs", () => {
  it("B-SEC-2 a principal without ACLs is refused by every RPC but Whoami and GetServerVersion", async () => {
    const c = await principal("nothing-at-all", []);
    for (const m of LittleHorse.methods) {
      if (m.methodKind !== "unary") continue;
      const outcome = await statusOf(c.call(m.name, {}));
      if (m.name === "Whoami" || m.name === "GetServerVersion") expect(outcome.code, m.name).toBe("OK");
      else expect(outcome.code, `${m.name}: ${outcome.message}`).toBe("PERMISSION_DENIED");
    }
    const poll = await firstPollOutcome(c, "sec-task");
    expect(poll.code).toBe("PERMISSION_DENIED");
  });

  it("B-SEC-2 an open PollTask stream follows the principal: once it is deleted, its next request is refused", async () => {
    const worker = await principal("short-lived-worker", [
      { resources: ["ACL_TASK"], allowed_actions: ["READ", "RUN"], name: "other-task" },
    ]);
    const stream = worker.raw.PollTask(worker.metadata()) as grpc.ClientDuplexStream<Msg, Msg>;
    const ended = new Promise<{ code: string; message: string }>((resolve) => {
      stream.on("data", () => undefined);
      stream.on("error", (e: grpc.ServiceError) =>
        resolve({ code: grpc.status[e.code], message: e.details }),
      );
    });
    stream.write({ task_def_id: { name: "other-task" }, client_id: "short-lived" });
    await new Promise((r) => setTimeout(r, 200));
    await admin.call("DeletePrincipal", { id: { id: "short-lived-worker" } });
    stream.write({ task_def_id: { name: "other-task" }, client_id: "short-lived" });
    const outcome = await ended;
    stream.cancel();
    expect(outcome.code).toBe("PERMISSION_DENIED");
    expect(outcome.message).toMatch(/short-lived-worker/);
  });

  it("B-SEC-2 WRITE_METADATA on ACL_PRINCIPAL grants only rights the granter holds: no self-promotion", async () => {
    const manager = await principal("team-manager", [
      { resources: ["ACL_PRINCIPAL"], allowed_actions: ["WRITE_METADATA"] },
      { resources: ["ACL_TASK"], allowed_actions: ["READ"] },
    ]);
    // what it holds, it may hand out
    await manager.call("PutPrincipal", {
      id: "team-member",
      global_acls: { acls: [{ resources: ["ACL_TASK"], allowed_actions: ["READ"], name: "sec-task" }] },
    });
    // not more, not to itself
    for (const [id, acls] of [
      ["team-member", [{ resources: ["ACL_TASK"], allowed_actions: ["RUN"] }]],
      ["team-manager", [{ resources: ["ACL_ALL_RESOURCES"], allowed_actions: ["ALL_ACTIONS"] }]],
    ] as const) {
      const refused = await manager.fail("PutPrincipal", { id, global_acls: { acls }, overwrite: true });
      expect(refused.code, id).toBe("PERMISSION_DENIED");
      expect(refused.message).toMatch(/only an admin may/);
    }
    expect((await admin.call("GetPrincipal", { id: "team-manager" })).global_acls.acls).toHaveLength(2);
    // nor take away or remove rights beyond its own (an admin)
    expect((await manager.fail("DeletePrincipal", { id: { id: "root" } })).code).toBe("PERMISSION_DENIED");
    await admin.call("GetPrincipal", { id: "root" });
  });

  it("B-SEC-2 a child WfRun needs RUN over its parent WfRun's WfSpec too", async () => {
    await admin.call("PutWfSpec", {
      ...oneTaskWf("sec-child", "sec-task"),
      parent_wf_spec: { wf_spec_name: "sec-wf", wf_spec_major_version: 0 },
    });
    const c = await principal("child-runner", [
      { resources: ["ACL_WORKFLOW"], allowed_actions: ["RUN", "READ"], name: "sec-child" },
    ]);
    const refused = await c.fail("RunWf", {
      wf_spec_name: "sec-child",
      parent_wf_run_id: { id: "sec-run" },
      variables: { input: str("x") },
    });
    expect(refused.code).toBe("PERMISSION_DENIED");
    expect(refused.message).toMatch(/parent WfRun's WfSpec/);
    expect(refused.message).not.toContain("sec-wf");
  });

  it("B-SEC-1 a caller that cannot work in a tenant cannot tell whether it exists", async () => {
    const c = await principal("default-only", [], {
      default: [{ resources: ["ACL_TASK"], allowed_actions: ["READ"] }],
    });
    const token = await issuer.token("default-only");
    const inExisting = await ts.client("sec-other", { token }).fail("GetTaskDef", { name: "sec-task" });
    const inMissing = await ts.client("no-such-tenant", { token }).fail("GetTaskDef", { name: "sec-task" });
    expect(inExisting.code).toBe("PERMISSION_DENIED");
    expect(inMissing.code).toBe("PERMISSION_DENIED");
    expect(inMissing.message.replace("no-such-tenant", "sec-other")).toBe(inExisting.message);
    await c.call("GetTaskDef", { name: "sec-task" });
  });
});
