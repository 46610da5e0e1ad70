/**
 * `pony run` (variables typed by the WfSpec, a task completed by an LHTaskWorker), `get` / `list` of a
 * WfRun's objects, `delete wfRun`, `postEvent`, `stop`, `resume`, `rescue` and the searches over runs, as a
 * subprocess against a real server.
 */
import { VariableType } from "@pony/proto";
import { LHConfig, LHTaskWorker, silentLogger, Workflow } from "@pony/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../../test/support/server";
import { waitFor } from "../../../test/support/wait";
import { failsWith, ok, pony, ponyInProcess, usageError } from "./support";

let ts: TestServer;
let config: LHConfig;
const workers: LHTaskWorker[] = [];
const run = (...args: string[]) => pony(ts.address, args);
const inProcess = (...args: string[]) => ponyInProcess(ts.address, args);

const typedWorkflow = Workflow.newWorkflow("cli-typed", (wf) => {
  const str = wf.declareStr("str").searchable();
  const int = wf.declareInt("int");
  wf.declareDouble("dbl");
  wf.declareBool("bool");
  const obj = wf.declareJsonObj("obj");
  wf.declareJsonArr("arr");
  wf.declareBytes("bytes");
  const summary = wf.declareStr("summary");
  wf.mutate(summary, "ASSIGN", wf.execute("cli-describe", str, int, obj));
});

/** A task nobody polls: WfRuns of this WfSpec stay RUNNING. */
const waitingWorkflow = Workflow.newWorkflow("cli-waits", (wf) => {
  wf.execute("cli-never-polled");
});

const failingWorkflow = Workflow.newWorkflow("cli-fails", (wf) => {
  wf.execute("cli-always-fails");
});

const awaitingWorkflow = Workflow.newWorkflow("cli-awaits-event", (wf) => {
  const payload = wf.declareJsonObj("payload");
  wf.mutate(payload, "ASSIGN", wf.waitForEvent("cli-event"));
});

async function wfRunStatus(id: string, until: (status: string) => boolean): Promise<string> {
  const c = ts.client();
  return waitFor(async () => {
    const r = await c.call("GetWfRun", { id });
    return until(r.status) ? (r.status as string) : undefined;
  });
}

beforeAll(async () => {
  ts = await startTestServer({ extraArgs: ["--advertised-host", "127.0.0.1"] });
  const port = Number(ts.address.split(":")[1]);
  config = new LHConfig({ apiHost: "127.0.0.1", apiPort: port, configFile: null, env: {} });
  // metadata through the SDK (`pony deploy` itself is tested in metadata.test.ts)
  const lh = config.getClient();
  await lh.putTaskDef({
    name: "cli-describe",
    inputVars: [
      { name: "str", type: VariableType.STR },
      { name: "int", type: VariableType.INT },
      { name: "obj", type: VariableType.JSON_OBJ },
    ],
  });
  await lh.putTaskDef({ name: "cli-never-polled" });
  await lh.putTaskDef({ name: "cli-always-fails" });
  await lh.putExternalEventDef({ name: "cli-event" });
  for (const wf of [typedWorkflow, waitingWorkflow, failingWorkflow, awaitingWorkflow])
    await lh.putWfSpec(wf.compile());

  const describeTask = new LHTaskWorker(
    async (str: string, int: number, obj: { k: string }) => `${str}:${int * 2}:${obj.k}`,
    "cli-describe",
    config,
    { logger: silentLogger },
  );
  const failingTask = new LHTaskWorker(
    async () => {
      throw new Error("out of ink");
    },
    "cli-always-fails",
    config,
    { logger: silentLogger },
  );
  for (const w of [describeTask, failingTask]) {
    await w.start();
    workers.push(w);
  }
});

afterAll(async () => {
  for (const w of workers) await w.close();
  config.close();
  await ts.close();
});

describe("run, get, list", () => {
  it("runs a WfSpec with a value of every type; a worker completes its task", async () => {
    const started = ok(
      await run(
        "run",
        "cli-typed",
        "str",
        "hello",
        "int",
        "42",
        "dbl",
        "2.5",
        "bool",
        "TRUE",
        "obj",
        '{ "k": "v", "n": 1 }',
        "arr",
        '[1, "x"]',
        "bytes",
        "aGVsbG8=",
        "--id",
        "typed-1",
      ),
    );
    expect(started.id).toEqual({ id: "typed-1" });
    expect(started.wfSpecId.name).toBe("cli-typed");
    expect(await wfRunStatus("typed-1", (s) => s !== "RUNNING")).toBe("COMPLETED");

    const [wfRun, variables, one, taskRuns] = await Promise.all([
      run("get", "wfRun", "typed-1"),
      run("list", "variable", "typed-1"),
      run("get", "variable", "typed-1", "0", "int"),
      run("list", "taskRun", "typed-1"),
    ]);
    expect(ok(wfRun).status).toBe("COMPLETED");
    const values = Object.fromEntries(ok(variables).results.map((v: any) => [v.id.name, v.value]));
    expect(values).toEqual({
      str: { str: "hello" },
      int: { int: "42" },
      dbl: { double: 2.5 },
      bool: { bool: true },
      obj: { jsonObj: '{"k":"v","n":1}' },
      arr: { jsonArr: '[1,"x"]' },
      bytes: { bytes: "aGVsbG8=" },
      summary: { str: "hello:84:v" },
    });
    expect(ok(one).value).toEqual({ int: "42" });

    const [taskRun] = ok(taskRuns).results;
    expect(taskRun.status).toBe("TASK_SUCCESS");
    expect(taskRun.attempts[0].output).toEqual({ str: "hello:84:v" });
    const byId = ok(await run("get", "taskRun", "typed-1", taskRun.id.taskGuid));
    expect(byId).toEqual(taskRun);
  });

  it("lists and gets NodeRuns, with paging", async () => {
    ok(await run("run", "cli-typed", "str", "a", "int", "1", "obj", "{}", "--id", "typed-2"));
    await wfRunStatus("typed-2", (s) => s !== "RUNNING");
    const all = ok(await run("list", "nodeRun", "typed-2", "--threadRunNumber", "0")).results;
    expect(all.map((n: any) => n.nodeName)).toEqual([
      "0-entrypoint-ENTRYPOINT",
      "1-cli-describe-TASK",
      "2-exit-EXIT",
    ]);
    const page1 = ok(await run("list", "nodeRun", "typed-2", "--limit", "2"));
    expect(page1.results).toHaveLength(2);
    const page2 = ok(await run("list", "nodeRun", "typed-2", "--limit", "2", "--bookmark", page1.bookmark));
    expect(page2.results.map((n: any) => n.nodeName)).toEqual(["2-exit-EXIT"]);
    const node = ok(await run("get", "nodeRun", "typed-2", "0", "1"));
    expect(node.nodeName).toBe("1-cli-describe-TASK");
    expect(node.status).toBe("COMPLETED");
  });

  it("--major / --revision pick the version; a bad value never reaches the server (in-process)", async () => {
    const r = ok(
      await run("run", "cli-typed", "--major", "0", "--revision", "0", "str", "x", "int", "1", "obj", "{}"),
    );
    expect(r.wfSpecId.name).toBe("cli-typed");
    const errors = await Promise.all([
      inProcess("run", "cli-typed", "int", "forty-two"),
      inProcess("run", "cli-typed", "bool", "maybe"),
      inProcess("run", "cli-typed", "obj", "[1]"),
      inProcess("run", "cli-typed", "arr", "{"),
      inProcess("run", "cli-typed", "bytes", "***"),
      inProcess("run", "cli-typed", "dbl", "fast"),
      inProcess("run", "cli-typed", "nope", "1"),
      inProcess("run", "cli-typed", "str"),
      inProcess("run", "cli-typed", "--revision", "0"),
      inProcess("run", "cli-typed", "obj", '{"big": 12345678901234567890}'),
    ]);
    const messages = [
      /variable 'int' is an INT: 'forty-two' is not a whole number/,
      /variable 'bool' is a BOOL: 'maybe' is not true or false/,
      /variable 'obj' is a JSON_OBJ: '\[1\]' is not a JSON object/,
      /variable 'arr' is a JSON_ARR: '\{' is not JSON/,
      /variable 'bytes' is a BYTES: '\*\*\*' is not base64/,
      /variable 'dbl' is a DOUBLE: 'fast' is not a number/,
      /has no variable 'nope' in its entrypoint thread \(it has: str, int, dbl, bool, obj, arr, bytes, summary\)/,
      /variables come in pairs/,
      /--revision needs --major/,
      /the integer 12345678901234567890 cannot be kept exactly/,
    ];
    errors.forEach((e, i) => usageError(e, messages[i]!));
  });

  it("an unknown WfSpec or WfRun is NOT_FOUND", async () => {
    const [spec, specNoVars, wfRun, child, node, variable, task] = await Promise.all([
      run("run", "no-such-spec", "x", "1"),
      run("run", "no-such-spec"),
      run("get", "wfRun", "no-such-run"),
      run("get", "wfRun", "parent_child"),
      run("get", "nodeRun", "no-such-run", "0", "0"),
      run("get", "variable", "no-such-run", "0", "x"),
      run("get", "taskRun", "no-such-run", "guid"),
    ]);
    failsWith(spec, "NOT_FOUND", /no-such-spec/);
    failsWith(specNoVars, "NOT_FOUND", /no-such-spec/);
    failsWith(wfRun, "NOT_FOUND", /no-such-run/);
    failsWith(child, "NOT_FOUND", /parent_child/);
    failsWith(node, "NOT_FOUND");
    failsWith(variable, "NOT_FOUND");
    failsWith(task, "NOT_FOUND");
  });

  it("delete wfRun removes a finished WfRun; a running one must be stopped first", async () => {
    ok(await run("run", "cli-typed", "str", "x", "int", "1", "obj", "{}", "--id", "to-delete"));
    await wfRunStatus("to-delete", (s) => s !== "RUNNING");
    ok(await run("run", "cli-waits", "--id", "still-running"));
    const [deleted, refused] = await Promise.all([
      run("delete", "wfRun", "to-delete"),
      run("delete", "wfRun", "still-running"),
    ]);
    expect(ok(deleted)).toEqual({});
    failsWith(refused, "FAILED_PRECONDITION", /still-running/);
    failsWith(await run("get", "wfRun", "to-delete"), "NOT_FOUND");
  });
});

describe("events, halting, rescue and searches over runs", () => {
  it("postEvent delivers an ExternalEvent the WfRun waits for; get / list / search show it", async () => {
    ok(await run("run", "cli-awaits-event", "--id", "awaits-1"));
    const posted = ok(
      await run("postEvent", "awaits-1", "cli-event", "JSON_OBJ", '{"paid": true}', "--guid", "g1"),
    );
    expect(posted.id).toEqual({
      wfRunId: { id: "awaits-1" },
      externalEventDefId: { name: "cli-event" },
      guid: "g1",
    });
    expect(posted.content).toEqual({ jsonObj: '{"paid":true}' });
    expect(await wfRunStatus("awaits-1", (s) => s !== "RUNNING")).toBe("COMPLETED");

    const [got, listed, searched, payload] = await Promise.all([
      run("get", "externalEvent", "awaits-1", "cli-event", "g1"),
      run("list", "externalEvent", "awaits-1"),
      run("search", "externalEvent", "--externalEventDefName", "cli-event"),
      run("get", "variable", "awaits-1", "0", "payload"),
    ]);
    expect(ok(got).id.guid).toBe("g1");
    expect(ok(got).claimed).toBe(true);
    expect(ok(listed).results.map((e: any) => e.id.guid)).toEqual(["g1"]);
    expect(ok(searched).results).toContainEqual(expect.objectContaining({ guid: "g1" }));
    const [recent, old] = await Promise.all([
      run("search", "externalEvent", "--externalEventDefName", "cli-event", "--earliestMinutesAgo", "10"),
      run("search", "externalEvent", "--externalEventDefName", "cli-event", "--latestMinutesAgo", "10"),
    ]);
    expect(ok(recent).results).toContainEqual(expect.objectContaining({ guid: "g1" }));
    expect(ok(old).results ?? []).toEqual([]);
    expect(ok(payload).value).toEqual({ jsonObj: '{"paid":true}' });

    // the content's type and value are checked before any call
    const bad = await Promise.all([
      inProcess("postEvent", "awaits-1", "cli-event", "INT", "twelve"),
      inProcess("postEvent", "awaits-1", "cli-event", "STR"),
      inProcess("postEvent", "awaits-1", "cli-event", "MONEY", "12"),
    ]);
    usageError(bad[0], /the event's content: 'twelve' is not a whole number/);
    usageError(bad[1], /give the STR value after its type/);
    usageError(bad[2], /unknown type 'MONEY'/);
    failsWith(await run("get", "externalEvent", "awaits-1", "cli-event", "nope"), "NOT_FOUND");
  });

  it("stop and resume (also in lhctl's form `stop wfRun <id>`)", async () => {
    ok(await run("run", "cli-waits", "--id", "waits-stop"));
    expect(ok(await run("stop", "waits-stop"))).toEqual({});
    // HALTING while its scheduled task is outstanding, as in LittleHorse
    expect(await wfRunStatus("waits-stop", (s) => s.startsWith("HALT"))).toMatch(/^HALT(ING|ED)$/);
    expect(ok(await run("stop", "wfRun", "waits-stop", "--threadRunNumber", "0"))).toEqual({});
    expect(ok(await run("resume", "wfRun", "waits-stop"))).toEqual({});
    expect(await wfRunStatus("waits-stop", (s) => s === "RUNNING")).toBe("RUNNING");
    failsWith(await run("stop", "no-such-run"), "NOT_FOUND");
  });

  it("rescue a failed WfRun past its failed node", async () => {
    ok(await run("run", "cli-fails", "--id", "fails-1"));
    expect(await wfRunStatus("fails-1", (s) => s !== "RUNNING")).toBe("ERROR");
    const rescued = ok(await run("rescue", "fails-1", "0", "--skipCurrentNode"));
    expect(rescued.id).toEqual({ id: "fails-1" });
    expect(await wfRunStatus("fails-1", (s) => s !== "RUNNING" && s !== "ERROR")).toBe("COMPLETED");
    usageError(await inProcess("rescue", "fails-1"), /missing required argument 'threadRunNumber'/);
  });

  it("search wfRun, taskRun and variable", async () => {
    ok(await run("run", "cli-typed", "str", "findme", "int", "7", "obj", "{}", "--id", "typed-search"));
    await wfRunStatus("typed-search", (s) => s !== "RUNNING");
    const [wfRuns, taskRuns, variables] = await Promise.all([
      run("search", "wfRun", "--wfSpecName", "cli-typed", "--status", "COMPLETED", "--limit", "100"),
      run("search", "taskRun", "--taskDefName", "cli-describe", "--status", "TASK_SUCCESS"),
      run("search", "variable", "--wfSpecName", "cli-typed", "--name", "str", "--value", "findme"),
    ]);
    expect(ok(wfRuns).results).toContainEqual({ id: "typed-search" });
    expect(ok(taskRuns).results).toContainEqual(expect.objectContaining({ wfRunId: { id: "typed-search" } }));
    expect(ok(variables).results).toEqual([{ wfRunId: { id: "typed-search" }, name: "str" }]);
    // a time range, as lhctl gives it (minutes before now) or as times
    const search = (...range: string[]) =>
      run("search", "wfRun", "--wfSpecName", "cli-typed", "--limit", "1000", ...range);
    const [lastHour, beforeLastHour, inDays, tasksLastHour] = await Promise.all([
      search("--earliestMinutesAgo", "60"),
      search("--latestMinutesAgo", "60"),
      search("--earliest", "2000-01-01", "--latest", "2000-01-02"),
      run("search", "taskRun", "--taskDefName", "cli-describe", "--earliestMinutesAgo", "60"),
    ]);
    expect(ok(lastHour).results).toContainEqual({ id: "typed-search" });
    expect(ok(beforeLastHour).results ?? []).toEqual([]);
    expect(ok(inDays).results ?? []).toEqual([]);
    expect(ok(tasksLastHour).results).toContainEqual(
      expect.objectContaining({ wfRunId: { id: "typed-search" } }),
    );
    usageError(
      await inProcess(
        "search",
        "wfRun",
        "--wfSpecName",
        "x",
        "--earliest",
        "2026-01-01",
        "--earliestMinutesAgo",
        "5",
      ),
      /give at most one of --earliest, --earliestMinutesAgo/,
    );
    usageError(
      await inProcess(
        "search",
        "variable",
        "--wfSpecName",
        "cli-typed",
        "--name",
        "int",
        "--type",
        "INT",
        "--value",
        "x",
      ),
      /--value: 'x' is not a whole number/,
    );
  });
});
