/**
 * `get` / `search` / `delete workflowEventDef` and `get` / `list` / `search workflowEvent`, as a subprocess
 * against a real server: JSON when piped, tables with `-o table`, paging with `--limit` / `--bookmark`,
 * lhctl's `<wfRunId>/<defName>/<number>` id and `--earliestMinutesAgo` / `--latestMinutesAgo`.
 */
import { VariableType } from "@pony/proto";
import { LHConfig, Workflow, type LHClient } from "@pony/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../../test/support/server";
import { failsWith, ok, pony, ponyInProcess, usageError } from "./support";

let ts: TestServer;
let config: LHConfig;
let lh: LHClient;
const run = (...args: string[]) => pony(ts.address, args);
const inProcess = (...args: string[]) => ponyInProcess(ts.address, args);

/** throws cli-we-done twice ("first", "second") and cli-we-other once */
const throwing = Workflow.newWorkflow("cli-we-throws", (wf) => {
  wf.throwEvent("cli-we-done", "first");
  wf.throwEvent("cli-we-other", "other");
  wf.throwEvent("cli-we-done", "second");
});

beforeAll(async () => {
  ts = await startTestServer();
  const port = Number(ts.address.split(":")[1]);
  config = new LHConfig({ apiHost: "127.0.0.1", apiPort: port, configFile: null, env: {} });
  lh = config.getClient();
  await lh.putWorkflowEventDef({ name: "cli-we-done", type: VariableType.STR });
  await lh.putWorkflowEventDef({ name: "cli-we-other", type: VariableType.STR });
  await lh.putWfSpec(throwing.compile());
  for (const id of ["cli-we-1", "cli-we-2"]) await lh.runWf({ wfSpecName: "cli-we-throws", id });
});

afterAll(async () => {
  config.close();
  await ts.close();
});

describe("workflowEventDef", () => {
  it("get, search (paged, by prefix) and delete; afterwards it is NOT_FOUND", async () => {
    const got = ok(await run("get", "workflowEventDef", "cli-we-done"));
    expect(got).toMatchObject({ id: { name: "cli-we-done" }, type: "STR" });

    const first = ok(await run("search", "workflowEventDef", "--prefix", "cli-we-", "--limit", "1"));
    expect(first.results).toEqual([{ name: "cli-we-done" }]);
    const next = ok(
      await run(
        "search",
        "workflowEventDef",
        "--prefix",
        "cli-we-",
        "--limit",
        "1",
        "--bookmark",
        first.bookmark,
      ),
    );
    expect(next.results).toEqual([{ name: "cli-we-other" }]);
    expect(next.bookmark).toBeUndefined();

    await lh.putWorkflowEventDef({ name: "cli-we-gone", type: VariableType.INT });
    expect(ok(await run("delete", "workflowEventDef", "cli-we-gone"))).toEqual({});
    const [gone, again] = await Promise.all([
      run("get", "workflowEventDef", "cli-we-gone"),
      inProcess("delete", "workflowEventDef", "cli-we-gone"),
    ]);
    failsWith(gone, "NOT_FOUND", /cli-we-gone/);
    failsWith(again, "NOT_FOUND", /cli-we-gone/);
  });

  it("prints a WorkflowEventDef as field rows with -o table", async () => {
    const table = await run("-o", "table", "get", "workflowEventDef", "cli-we-done");
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^FIELD +VALUE\n/);
    expect(table.stdout).toMatch(/\nid +cli-we-done\n/);
    expect(table.stdout).toMatch(/\ntype +STR\n/);
  });
});

describe("workflowEvent", () => {
  it("get, in three arguments or in lhctl's one <wfRunId>/<defName>/<number>; NOT_FOUND for an unknown one", async () => {
    const [three, one, unknown] = await Promise.all([
      run("get", "workflowEvent", "cli-we-1", "cli-we-done", "1"),
      run("get", "workflowEvent", "cli-we-1/cli-we-done/1"),
      inProcess("get", "workflowEvent", "cli-we-1", "cli-we-done", "7"),
    ]);
    expect(ok(three)).toMatchObject({
      id: { wfRunId: { id: "cli-we-1" }, workflowEventDefId: { name: "cli-we-done" }, number: 1 },
      content: { str: "second" },
    });
    expect(ok(one)).toEqual(ok(three));
    failsWith(unknown, "NOT_FOUND", /cli-we-1\/cli-we-done\/7/);
  });

  it("list: a WfRun's events, paged with --limit and --bookmark", async () => {
    const all = ok(await run("list", "workflowEvent", "cli-we-2"));
    expect(all.results.map((e: any) => e.content.str).sort()).toEqual(["first", "other", "second"]);
    const first = ok(await run("list", "workflowEvent", "cli-we-2", "--limit", "2"));
    expect(first.results).toEqual(all.results.slice(0, 2));
    const rest = ok(
      await run("list", "workflowEvent", "cli-we-2", "--limit", "2", "--bookmark", first.bookmark),
    );
    expect(rest.results).toEqual(all.results.slice(2));
    failsWith(await inProcess("list", "workflowEvent", "cli-we-nope"), "NOT_FOUND", /cli-we-nope/);
  });

  it("search: a def's events of every WfRun, oldest first, paged; bounded in minutes ago or by time", async () => {
    const ids = (r: any) => r.results.map((id: any) => `${id.wfRunId.id}/${id.number ?? 0}`);
    const all = ok(await run("search", "workflowEvent", "cli-we-done"));
    expect(ids(all)).toEqual(["cli-we-1/0", "cli-we-1/1", "cli-we-2/0", "cli-we-2/1"]);
    const page = ok(await run("search", "workflowEvent", "cli-we-done", "--limit", "3"));
    const rest = ok(await run("search", "workflowEvent", "cli-we-done", "--bookmark", page.bookmark));
    expect([...ids(page), ...ids(rest)]).toEqual(ids(all));

    const [recent, old, fromTomorrow, untilTomorrow] = await Promise.all([
      inProcess("search", "workflowEvent", "cli-we-done", "--earliestMinutesAgo", "10"),
      inProcess("search", "workflowEvent", "cli-we-done", "--latestMinutesAgo", "10"),
      run(
        "search",
        "workflowEvent",
        "cli-we-done",
        "--earliest",
        new Date(Date.now() + 86_400_000).toISOString(),
      ),
      run(
        "search",
        "workflowEvent",
        "cli-we-done",
        "--latest",
        new Date(Date.now() + 86_400_000).toISOString(),
      ),
    ]);
    expect(ids(ok(recent))).toEqual(ids(all));
    expect(ok(old).results ?? []).toEqual([]);
    expect(ok(fromTomorrow).results ?? []).toEqual([]);
    expect(ids(ok(untilTomorrow))).toEqual(ids(all));
    failsWith(await inProcess("search", "workflowEvent", "cli-we-nope"), "INVALID_ARGUMENT", /cli-we-nope/);
  });

  it("tables with -o table: events one row each, search ids in columns", async () => {
    const list = await run("-o", "table", "list", "workflowEvent", "cli-we-1");
    expect(list.code).toBe(0);
    const lines = list.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^WORKFLOWEVENTDEF +NUMBER +CREATED +CONTENT$/);
    expect(
      lines
        .slice(1)
        .map((l) => l.split(/ +/)[0])
        .sort(),
    ).toEqual(["cli-we-done", "cli-we-done", "cli-we-other"]);
    expect(list.stdout).toMatch(/cli-we-done +1 +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} +second/);

    const get = await run("-o", "table", "get", "workflowEvent", "cli-we-1/cli-we-other/0");
    expect(get.stdout).toMatch(
      /^WORKFLOWEVENTDEF +NUMBER +CREATED +CONTENT\ncli-we-other +0 +\S+ \S+ +other\n$/,
    );

    const search = await run("-o", "table", "search", "workflowEvent", "cli-we-done", "--limit", "1");
    expect(search.stdout).toMatch(/^WF RUN ID +WORKFLOW EVENT DEF ID +NUMBER\n/);
    // the first event's number is 0, printed as such
    expect(search.stdout).toMatch(/\ncli-we-1 +cli-we-done +0\n/);
    expect(search.stdout).toMatch(/\nmore: --bookmark \S+\n$/);
  });

  it("shell completion offers the new kinds and their options", async () => {
    const script = (await inProcess("completion", "bash")).stdout;
    for (const verb of ["get", "list", "search"])
      expect(script).toMatch(new RegExp(`"${verb}"\\) words="[^"]*\\bworkflowEvent\\b`));
    for (const verb of ["get", "search", "delete"])
      expect(script).toMatch(new RegExp(`"${verb}"\\) words="[^"]*\\bworkflowEventDef\\b`));
    expect(script).toMatch(
      /"search workflowEvent"\) words="[^"]*--earliestMinutesAgo[^"]*--latestMinutesAgo/,
    );
  });

  it("a malformed id or two bounds of one kind are usage errors, before any call", async () => {
    const [oneArg, twoArgs, badNumber, slashAndMore, bothBounds] = await Promise.all([
      inProcess("get", "workflowEvent", "cli-we-1"),
      inProcess("get", "workflowEvent", "cli-we-1", "cli-we-done"),
      inProcess("get", "workflowEvent", "cli-we-1/cli-we-done/one"),
      inProcess("get", "workflowEvent", "cli-we-1/cli-we-done", "1", "2"),
      inProcess(
        "search",
        "workflowEvent",
        "cli-we-done",
        "--earliest",
        "2026-01-01",
        "--earliestMinutesAgo",
        "5",
      ),
    ]);
    usageError(oneArg, /<wfRunId>\/<workflowEventDefName>\/<number>/);
    usageError(twoArgs, /<wfRunId> <workflowEventDefName> <number>/);
    usageError(badNumber, /invalid for argument 'number'/);
    usageError(slashAndMore, /<wfRunId> <workflowEventDefName> <number>/);
    usageError(bothBounds, /at most one of --earliest, --earliestMinutesAgo/);
    usageError(
      await inProcess("search", "workflowEvent", "cli-we-done", "--latestMinutesAgo", "soon"),
      /latestMinutesAgo/,
    );
  });
});
