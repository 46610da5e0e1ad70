/**
 * `pony version`, `whoami`, `deploy`, and `get` / `search` / `delete` of metadata, run as a subprocess
 * against a real server.
 */
import { toJson } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { PutWfSpecRequestSchema, VariableType } from "@pony/proto";
import { LHConfig, Workflow, type LHClient } from "@pony/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../../test/support/server";
import {
  failsWith,
  jsonFile,
  ok,
  pony,
  ponyInProcess,
  runCommand,
  PONY_BIN,
  uniqueName,
  usageError,
} from "./support";

let ts: TestServer;
let config: LHConfig;
/** the SDK's client, to set up what a test does not check (faster than a `pony deploy` each) */
let lh: LHClient;
const run = (...args: string[]) => pony(ts.address, args);
const inProcess = (...args: string[]) => ponyInProcess(ts.address, args);

beforeAll(async () => {
  ts = await startTestServer();
  const port = Number(ts.address.split(":")[1]);
  config = new LHConfig({ apiHost: "127.0.0.1", apiPort: port, configFile: null, env: {} });
  lh = config.getClient();
  await lh.putTaskDef({ name: "meta-greet", inputVars: [{ name: "who", type: VariableType.STR }] });
});

afterAll(async () => {
  config.close();
  await ts.close();
});

function greetingWorkflow(name: string, extraVariable = false) {
  return Workflow.newWorkflow(name, (t) => {
    const who = t.declareStr("who").required();
    if (extraVariable) t.declareInt("count").required();
    t.execute("meta-greet", who);
  });
}

function greetingSpec(name: string, extraVariable = false) {
  return toJson(PutWfSpecRequestSchema, greetingWorkflow(name, extraVariable).compile());
}

describe("version and whoami", () => {
  it("version prints the client's and the server's version", async () => {
    const out = ok(await run("version"));
    expect(out.clientVersion).toBe("0.1.0");
    expect(out.serverVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(typeof out.server.minorVersion).toBe("number");
    expect(out.apiAddress).toBe(ts.address);
  });

  it("whoami --json prints the Principal (the table is tested in security.test.ts)", async () => {
    const out = ok(await run("whoami", "--json"));
    expect(out.id.id).toBe("anonymous");
    expect(out.globalAcls.acls[0].allowedActions).toContain("ALL_ACTIONS");
  });

  it("an unreachable server is UNAVAILABLE, with a hint", async () => {
    const r = await pony("127.0.0.1:1", ["version"]);
    failsWith(r, "UNAVAILABLE", /no Pony server answered at 127\.0\.0\.1:1/);
  });

  it("an RPC the server does not have prints UNIMPLEMENTED", async () => {
    // a gRPC server with no services: every call is UNIMPLEMENTED, as Pony's are until they are built
    const bare = new grpc.Server();
    const port = await new Promise<number>((resolve, reject) =>
      bare.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    );
    try {
      const [version, stop] = await Promise.all([
        pony(`127.0.0.1:${port}`, ["version"]),
        pony(`127.0.0.1:${port}`, ["stop", "some-run"]),
      ]);
      failsWith(version, "UNIMPLEMENTED", /GetServerVersion/);
      failsWith(stop, "UNIMPLEMENTED", /StopWfRun/);
    } finally {
      bare.forceShutdown();
    }
  });

  it("a bad setting is reported by its LittleHorse name", async () => {
    const r = await pony(ts.address, ["version"], { env: { LHC_API_PORT: "many" } });
    usageError(r, /LHC_API_PORT/);
  });

  it("reads a littlehorse.config file given with --config", async () => {
    const port = ts.address.split(":")[1]!;
    const file = jsonFile("littlehorse.config", `LHC_API_HOST=127.0.0.1\nLHC_API_PORT=${port}\n`);
    const r = await runCommand(process.execPath, [PONY_BIN, "--config", file, "version"]);
    expect(ok(r).apiAddress).toBe(ts.address);
  });
});

describe("deploy", () => {
  it("deploys a TaskDef, a WfSpec and new versions of both kinds of versioned metadata", async () => {
    const taskDef = ok(
      await run(
        "deploy",
        "taskDef",
        jsonFile("td.json", { name: "meta-greet", inputVars: [{ name: "who", type: "STR" }] }),
      ),
    );
    expect(taskDef.id).toEqual({ name: "meta-greet" });
    expect(taskDef.inputVars).toEqual([{ name: "who", type: "STR" }]);

    const name = uniqueName("meta-wf");
    const v0 = ok(await run("deploy", "wfSpec", jsonFile("wf.json", greetingSpec(name))));
    expect(v0.id.name).toBe(name);
    expect(v0.id.majorVersion ?? 0).toBe(0);
    expect(Object.keys(v0.threadSpecs.entrypoint.nodes)).toContain("1-meta-greet-TASK");
    // a new required variable is a new major version
    const v1 = ok(await run("deploy", "wfSpec", jsonFile("wf.json", greetingSpec(name, true))));
    expect(v1.id.majorVersion).toBe(1);

    const [latest, latestOf0, exact] = await Promise.all([
      run("get", "wfSpec", name),
      run("get", "wfSpec", name, "0"),
      run("get", "wfSpec", name, "0", "0"),
    ]);
    expect(ok(latest).id).toEqual(v1.id);
    expect(ok(latestOf0).id).toEqual(v0.id);
    expect(ok(exact).id).toEqual(v0.id);
  });

  it("deploys ExternalEventDefs, WorkflowEventDefs and UserTaskDefs (versioned)", async () => {
    const [event, wfEvent] = await Promise.all([
      run("deploy", "externalEventDef", jsonFile("e.json", { name: "meta-paid" })),
      run("deploy", "workflowEventDef", jsonFile("w.json", { name: "meta-done", type: "STR" })),
    ]);
    expect(ok(event).id).toEqual({ name: "meta-paid" });
    expect(ok(wfEvent).id).toEqual({ name: "meta-done" });

    const name = uniqueName("meta-approve");
    const fields = [{ name: "ok", type: "BOOL", displayName: "OK?", required: true }];
    const u0 = ok(await run("deploy", "userTaskDef", jsonFile("u.json", { name, fields })));
    expect(u0.name).toBe(name);
    expect(u0.fields).toEqual(fields);
    const u1 = ok(
      await run(
        "deploy",
        "userTaskDef",
        jsonFile("u.json", { name, fields: [...fields, { name: "note", type: "STR", displayName: "Note" }] }),
      ),
    );
    expect(u1.version).toBe(1);
    const [latest, first] = await Promise.all([
      run("get", "userTaskDef", name),
      run("get", "userTaskDef", name, "0"),
    ]);
    expect(ok(latest).version).toBe(1);
    expect(ok(first).version ?? 0).toBe(0);
    expect(ok(first).fields).toEqual(fields);
  });

  it("reads the request from stdin with -", async () => {
    const r = await pony(ts.address, ["deploy", "externalEventDef", "-"], {
      input: JSON.stringify({ name: "meta-from-stdin" }),
    });
    expect(ok(r).id.name).toBe("meta-from-stdin");
  });

  it("refuses files that are not the request in protobuf JSON, before calling the server", async () => {
    const [unknownKey, notJson, missing, wrongType] = await Promise.all([
      run("deploy", "taskDef", jsonFile("a.json", { name: "x", bogus: 1 })),
      run("deploy", "taskDef", jsonFile("b.json", "{ name: ")),
      run("deploy", "taskDef", "/nonexistent/td.json"),
      run("deploy", "workflowEventDef", jsonFile("c.json", { name: "x", type: "NOT_A_TYPE" })),
    ]);
    usageError(unknownKey, /is not a PutTaskDefRequest in protobuf JSON: .*"bogus" is unknown/);
    usageError(notJson, /is not JSON/);
    usageError(missing, /cannot read \/nonexistent\/td\.json/);
    usageError(wrongType, /PutWorkflowEventDefRequest/);
  });

  it("prints the server's refusal", async () => {
    const r = await run("deploy", "taskDef", jsonFile("td.json", { name: "Not A Valid Name!" }));
    failsWith(r, "INVALID_ARGUMENT");
  });

  it("an unknown kind is a usage error", async () => {
    usageError(await run("deploy", "wfRun", "x.json"), /unknown command 'wfRun'/);
  });
});

describe("get", () => {
  it("prints TaskDefs and ExternalEventDefs, NOT_FOUND for unknown ones", async () => {
    await lh.putTaskDef({ name: "meta-get" });
    await lh.putExternalEventDef({ name: "meta-get-event" });
    const [taskDef, event, noTask, noEvent, noSpec, noUserTask, noVersion] = await Promise.all([
      run("get", "taskDef", "meta-get"),
      run("get", "externalEventDef", "meta-get-event"),
      run("get", "taskDef", "nope"),
      inProcess("get", "externalEventDef", "nope"),
      inProcess("get", "wfSpec", "nope"),
      inProcess("get", "userTaskDef", "nope"),
      inProcess("get", "userTaskDef", "nope", "3"),
    ]);
    expect(ok(taskDef).id.name).toBe("meta-get");
    expect(ok(event).id.name).toBe("meta-get-event");
    failsWith(noTask, "NOT_FOUND", /nope/);
    failsWith(noEvent, "NOT_FOUND", /nope/);
    failsWith(noSpec, "NOT_FOUND", /nope/);
    failsWith(noUserTask, "NOT_FOUND", /nope/);
    failsWith(noVersion, "NOT_FOUND", /nope/);
  });

  it("prints a TaskWorkerGroup once a worker has registered", async () => {
    await lh.putTaskDef({ name: "meta-workers" });
    failsWith(await run("get", "taskWorkerGroup", "meta-workers"), "NOT_FOUND");
    const c = ts.client();
    await c.call("RegisterTaskWorker", {
      task_worker_id: "cli-test-worker",
      task_def_id: { name: "meta-workers" },
      listener_name: "",
    });
    const group = ok(await run("get", "taskWorkerGroup", "meta-workers"));
    expect(group.id.taskDefId.name).toBe("meta-workers");
    expect(Object.keys(group.taskWorkers)).toEqual(["cli-test-worker"]);
  });

  it("checks numeric arguments", async () => {
    usageError(await run("get", "wfSpec", "x", "one"), /invalid for argument 'majorVersion'/);
  });
});

describe("search", () => {
  it("pages TaskDefs by prefix with --limit and --bookmark", async () => {
    for (const name of ["srch-a", "srch-b", "srch-c"]) await lh.putTaskDef({ name });
    const first = ok(await run("search", "taskDef", "--prefix", "srch-", "--limit", "2"));
    expect(first.results).toEqual([{ name: "srch-a" }, { name: "srch-b" }]);
    expect(typeof first.bookmark).toBe("string");
    const second = ok(
      await run("search", "taskDef", "--prefix", "srch-", "--limit", "2", "--bookmark", first.bookmark),
    );
    expect(second.results).toEqual([{ name: "srch-c" }]);
    expect(second.bookmark).toBeUndefined();
  });

  it("searches WfSpecs by name, prefix and TaskDef; ExternalEventDefs and UserTaskDefs", async () => {
    const name = uniqueName("srch-wf");
    await lh.putWfSpec(greetingWorkflow(name).compile());
    await lh.putExternalEventDef({ name: "srch-event" });
    await lh.putUserTaskDef({ name: "srch-form" });
    const [byName, byPrefix, byTask, events, forms, formsByName] = await Promise.all([
      run("search", "wfSpec", "--name", name),
      run("search", "wfSpec", "--prefix", "srch-wf"),
      run("search", "wfSpec", "--taskDef", "meta-greet"),
      run("search", "externalEventDef", "--prefix", "srch-"),
      run("search", "userTaskDef", "--prefix", "srch-"),
      run("search", "userTaskDef", "--name", "srch-form"),
    ]);
    expect(ok(byName).results).toEqual([{ name }]);
    expect(ok(byPrefix).results).toContainEqual({ name });
    expect(ok(byTask).results).toContainEqual({ name });
    expect(ok(events).results).toEqual([{ name: "srch-event" }]);
    expect(ok(forms).results).toEqual([{ name: "srch-form" }]);
    expect(ok(formsByName).results).toEqual([{ name: "srch-form" }]);
  });

  it("refuses contradictory or malformed filters", async () => {
    const [two, limit, status] = await Promise.all([
      inProcess("search", "wfSpec", "--name", "a", "--prefix", "b"),
      inProcess("search", "taskDef", "--limit", "0"),
      inProcess("search", "wfRun", "--wfSpecName", "x", "--status", "SLEEPY"),
    ]);
    usageError(two, /give at most one of --prefix, --name, --taskDef/);
    usageError(limit, /option '--limit <n>' argument '0' is invalid/);
    usageError(status, /expected one of STARTING, RUNNING, COMPLETED/);
  });
});

describe("delete", () => {
  it("deletes each kind of metadata; afterwards it is NOT_FOUND", async () => {
    const wf = uniqueName("del-wf");
    await lh.putTaskDef({ name: "del-task" });
    await lh.putWfSpec(greetingWorkflow(wf).compile());
    await lh.putExternalEventDef({ name: "del-event" });
    await lh.putUserTaskDef({ name: "del-form" });

    const deleted = await Promise.all([
      run("delete", "taskDef", "del-task"),
      run("delete", "wfSpec", wf, "0", "0"),
      run("delete", "externalEventDef", "del-event"),
      run("delete", "userTaskDef", "del-form", "0"),
    ]);
    for (const r of deleted) expect(ok(r)).toEqual({});

    const gone = await Promise.all([
      run("get", "taskDef", "del-task"),
      run("get", "wfSpec", wf),
      run("get", "externalEventDef", "del-event"),
      run("get", "userTaskDef", "del-form"),
    ]);
    for (const r of gone) failsWith(r, "NOT_FOUND");
  });

  it("deleting what does not exist is NOT_FOUND, or a usage error without the whole id", async () => {
    const [task, spec] = await Promise.all([
      run("delete", "taskDef", "never-was"),
      run("delete", "wfSpec", "never-was"),
    ]);
    failsWith(task, "NOT_FOUND");
    usageError(spec, /missing required argument 'majorVersion'/);
  });
});
