/**
 * `pony assign`, `execute` (answers written to the child's stdin), `cancel`, and `get` / `list` / `search`
 * of UserTaskRuns, as a subprocess against a real server.
 */
import { toJson } from "@bufbuild/protobuf";
import { PutWfSpecRequestSchema } from "@pony/proto";
import { Workflow } from "@pony/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../../test/support/server";
import { waitFor } from "../../../test/support/wait";
import { failsWith, jsonFile, ok, pony, usageError } from "./support";

let ts: TestServer;
const run = (...args: string[]) => pony(ts.address, args);

const approval = Workflow.newWorkflow("cli-approval", (wf) => {
  const result = wf.declareJsonObj("result");
  wf.mutate(result, "ASSIGN", wf.assignUserTask("cli-approve", "ada", "finance"));
});

beforeAll(async () => {
  ts = await startTestServer();
  ok(
    await run(
      "deploy",
      "userTaskDef",
      jsonFile("u.json", {
        name: "cli-approve",
        description: "approve a payment",
        fields: [
          { name: "approved", type: "BOOL", displayName: "Approved?", required: true },
          { name: "amount", type: "DOUBLE", displayName: "Amount" },
          { name: "note", type: "STR", displayName: "Note", description: "why" },
        ],
      }),
    ),
  );
  ok(await run("deploy", "wfSpec", jsonFile("wf.json", toJson(PutWfSpecRequestSchema, approval.compile()))));
});

afterAll(async () => {
  await ts.close();
});

/** Starts a WfRun of cli-approval; the guid of its UserTaskRun (`pony list userTaskRun`). */
async function startApproval(id: string): Promise<string> {
  ok(await run("run", "cli-approval", "--id", id));
  const results = ok(await run("list", "userTaskRun", id)).results as any[];
  expect(results).toHaveLength(1);
  expect(results[0].status ?? "UNASSIGNED").toBe("ASSIGNED");
  return results[0].id.userTaskGuid as string;
}

describe("user task runs", () => {
  it("get, assign, execute (prompting on stdin) and search", async () => {
    const guid = await startApproval("approval-1");
    const got = ok(await run("get", "userTaskRun", "approval-1", guid));
    expect(got.userTaskDefId.name).toBe("cli-approve");
    expect(got.userId).toBe("ada");

    expect(ok(await run("assign", "approval-1", guid, "--userId", "bob", "--overrideClaim"))).toEqual({});
    expect(ok(await run("get", "userTaskRun", "approval-1", guid)).userId).toBe("bob");

    // a wrong answer is asked again; an empty answer skips an optional field
    const executed = await pony(ts.address, ["execute", "userTaskRun", "approval-1", guid], {
      input: "maybe\ntrue\n\nlooks good\n",
    });
    expect(executed.code).toBe(0);
    expect(executed.json()).toEqual({});
    expect(executed.stderr).toMatch(/Approved\? \[approved, BOOL: true or false, required\]: /);
    expect(executed.stderr).toMatch(/'maybe' is not true or false/);
    expect(executed.stderr).toMatch(/Note: why/);

    const done = ok(await run("get", "userTaskRun", "approval-1", guid));
    expect(done.status).toBe("DONE");
    expect(done.results).toEqual({ approved: { bool: true }, note: { str: "looks good" } });

    // the form's answers are the USER_TASK node's output
    const c = ts.client();
    const status = await waitFor(async () => {
      const r = await c.call("GetWfRun", { id: "approval-1" });
      return r.status === "RUNNING" ? undefined : (r.status as string);
    });
    expect(status).toBe("COMPLETED");
    const result = ok(await run("get", "variable", "approval-1", "0", "result"));
    expect(JSON.parse(result.value.jsonObj)).toEqual({ approved: true, note: "looks good" });

    const searched = ok(
      await run("search", "userTaskRun", "--userTaskDefName", "cli-approve", "--status", "DONE"),
    );
    expect(searched.results).toContainEqual({ wfRunId: { id: "approval-1" }, userTaskGuid: guid });
  });

  it("an unknown UserTaskRun is NOT_FOUND, before execute asks anything", async () => {
    const [got, executed] = await Promise.all([
      run("get", "userTaskRun", "approval-1", "no-such-guid"),
      pony(ts.address, ["execute", "approval-1", "no-such-guid", "--userId", "ada"], { input: "true\n" }),
    ]);
    failsWith(got, "NOT_FOUND");
    failsWith(executed, "NOT_FOUND");
  });

  it("cancel", async () => {
    const guid = await startApproval("approval-2");
    expect(ok(await run("cancel", "userTaskRun", "approval-2", guid))).toEqual({});
    expect(ok(await run("get", "userTaskRun", "approval-2", guid)).status).toBe("CANCELLED");
    // nothing left to execute
    const again = await pony(ts.address, ["execute", "approval-2", guid, "--userId", "ada"], {
      input: "true\n",
    });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/is CANCELLED: nothing to execute/);
  });

  it("usage errors are caught before any call", async () => {
    const [noAssignee, noGuid] = await Promise.all([
      run("assign", "approval-1", "some-guid"),
      run("execute", "approval-1"),
    ]);
    usageError(noAssignee, /give --userId, --userGroup or both/);
    usageError(noGuid, /missing required argument 'userTaskGuid'/);
  });
});
