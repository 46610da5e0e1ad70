/**
 * issue 5: the typed client has every RPC of the LittleHorse service, sends the tenant header (Pony keys
 * objects by tenant) and surfaces failures as LHApiError with the status code's name.
 */
import { create } from "@bufbuild/protobuf";
import { LHStatus, LittleHorse, TaskDefIdSchema, VariableType } from "@pony/proto";
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import type { ScheduledWfRun, TaskDef, WfRun, WorkflowEventDef } from "@pony/proto";
import { LHApiError, type LHClient } from "../src/index";
import { oneTaskWfSpec, startServer, uniqueName, type SdkTestServer } from "./support";

let srv: SdkTestServer;
let client: LHClient;

beforeAll(async () => {
  srv = await startServer();
  client = srv.config().getClient();
});
afterAll(async () => {
  await srv.stop();
});

describe("issue 5 typed client", () => {
  it("has a method for each of the service's 74 RPCs (LittleHorse 0.10.1's 63, GetPrincipal, and 1.x's four for scheduled WfRuns and six WorkflowEvent reads)", () => {
    expect(LittleHorse.methods).toHaveLength(74);
    for (const m of LittleHorse.methods) {
      expect(typeof (client as unknown as Record<string, unknown>)[m.localName], m.name).toBe("function");
    }
    expectTypeOf(client.putTaskDef).returns.resolves.toEqualTypeOf<TaskDef>();
    expectTypeOf(client.runWf).returns.resolves.toEqualTypeOf<WfRun>();
    expectTypeOf(client.scheduleWf).returns.resolves.toEqualTypeOf<ScheduledWfRun>();
    expectTypeOf(client.getWorkflowEventDef).returns.resolves.toEqualTypeOf<WorkflowEventDef>();
  });

  it("reads a WorkflowEventDef back (GetWorkflowEventDef, SearchWorkflowEventDef, LittleHorse 1.x)", async () => {
    const name = uniqueName("done");
    const put = await client.putWorkflowEventDef({ name, type: VariableType.STR });
    const got = await client.getWorkflowEventDef({ name });
    expect(got.$typeName).toBe("littlehorse.WorkflowEventDef");
    expect(got).toEqual(put);
    const found = await client.searchWorkflowEventDef({ prefix: name });
    expect(found.results.map((id) => id.name)).toEqual([name]);
  });

  it("takes partial init objects or messages and resolves with the response message", async () => {
    const name = uniqueName("greet");
    const taskDef = await client.putTaskDef({ name, inputVars: [{ name: "who", type: VariableType.STR }] });
    expect(taskDef.$typeName).toBe("littlehorse.TaskDef");
    expect(taskDef.id?.name).toBe(name);
    expect(taskDef.inputVars.map((v) => [v.name, v.type])).toEqual([["who", VariableType.STR]]);
    const again = await client.getTaskDef(create(TaskDefIdSchema, { name }));
    expect(again.createdAt).toEqual(taskDef.createdAt);

    const wfName = uniqueName("wf");
    const wfSpec = await client.putWfSpec(oneTaskWfSpec(wfName, name, [["who", VariableType.STR]]));
    expect(wfSpec.id?.name).toBe(wfName);
    const run = await client.runWf({
      wfSpecName: wfName,
      variables: { who: { value: { case: "str", value: "Ada" } } },
    });
    expect(run.status).toBe(LHStatus.RUNNING);
    expect((await client.getWfRun(run.id)).wfSpecId?.name).toBe(wfName);
    expect((await client.getServerVersion()).$typeName).toBe("littlehorse.ServerVersionResponse");
  });

  it("rejects with LHApiError carrying the status code name and the server's message", async () => {
    const err = (await client.getTaskDef({ name: "no-such-task" }).catch((e: unknown) => e)) as LHApiError;
    expect(err).toBeInstanceOf(LHApiError);
    expect(err.code).toBe("NOT_FOUND");
    expect(err.codeNumber).toBe(5);
    expect(err.rpc).toBe("GetTaskDef");
    expect(err.details).toContain("no-such-task");
    expect(err.message).toBe(`GetTaskDef failed: NOT_FOUND: ${err.details}`);

    await expect(client.putTaskDef({ name: "" })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });

  it("rejects with UNAVAILABLE when no server listens", async () => {
    const config = srv.config({ apiPort: 1 });
    await expect(config.getClient().getServerVersion({}, { timeoutMs: 5_000 })).rejects.toMatchObject({
      name: "LHApiError",
      code: "UNAVAILABLE",
    });
  });
});

describe("issue 5 closed client", () => {
  it("fails calls and streams on a closed client with LHApiError UNAVAILABLE instead of throwing", async () => {
    const closed = srv.config().getClient();
    closed.close();
    await expect(closed.getServerVersion()).rejects.toMatchObject({
      name: "LHApiError",
      code: "UNAVAILABLE",
    });
    const stream = closed.pollTask();
    const err = await new Promise((resolve) => stream.on("error", resolve));
    expect(err).toMatchObject({ name: "LHApiError", rpc: "PollTask", code: "UNAVAILABLE" });
  });
});

describe("issue 5 tenant header", () => {
  it("sends LHC_TENANT_ID as `tenantid`: a TaskDef put for tenant 'other' is NOT_FOUND for the default tenant", async () => {
    const name = uniqueName("tenant-task");
    await client.putTenant({ id: "other" }).catch((e: unknown) => {
      if ((e as { code?: string }).code !== "ALREADY_EXISTS") throw e;
    });
    await client.putTenant({ id: "third" }).catch((e: unknown) => {
      if ((e as { code?: string }).code !== "ALREADY_EXISTS") throw e;
    });
    const other = srv.config({ env: { LHC_TENANT_ID: "other" } }).getClient();
    const other2 = srv.config({ tenantId: "other" }).getClient();
    await other.putTaskDef({ name });
    expect((await other2.getTaskDef({ name })).id?.name).toBe(name);
    await expect(client.getTaskDef({ name })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(srv.config({ tenantId: "third" }).getClient().getTaskDef({ name })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
  });
});
