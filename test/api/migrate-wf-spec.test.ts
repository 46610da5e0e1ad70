/**
 * Black-box tests of MigrateWfSpec through gRPC: live WfRuns of an old WfSpec version move to a newer one
 * where the migration maps each thread's current node (waiting at an event, HALTED, with a task in flight),
 * a WfRun at an unmapped node or with a variable that does not fit is left unchanged and named in the
 * answer, bad migrations are INVALID_ARGUMENT / NOT_FOUND, and a migration stored before a crash resumes
 * after the restart without moving any WfRun twice.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PgStore } from "../../packages/server/src/store/pg";
import { SqliteStore } from "../../packages/server/src/store/sqlite";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { WfSpecSchema } from "@pony/proto";
import type { Msg, TestClient } from "../support/client";
import { startTestServer, type TestServer } from "../support/server";
import {
  entrypointMigration as migration,
  entry,
  exit,
  str,
  taskNode,
  thread,
  varDef,
  wfSpec,
  type NodeDef,
} from "../support/specs";
import { variablesOf } from "../support/values";
import { waitFor } from "../support/wait";
import { startRawWorker } from "../support/worker";

const waitNode = (name: string, defName: string, edges?: Msg[]): NodeDef => ({
  name,
  node: { external_event: { external_event_def_id: { name: defName } } },
  edges,
});
const setFlag = (next: string, value: string): Msg => ({
  sink_node_name: next,
  variable_mutations: [{ lhs_name: "flag", operation: "ASSIGN", literal_value: str(value) }],
});

/** v0: ENTRYPOINT → wait(go) → wait(go2) → EXIT, with a STR `who` */
const v0 = (name: string) =>
  wfSpec(
    name,
    thread(
      [entry(), waitNode("1-wait-go", "mig-go"), waitNode("2-wait-go2", "mig-go2"), exit("3-exit-EXIT")],
      [varDef("who", "STR")],
    ),
  );

/** the newer version: its wait nodes have other names, set `flag` (a new variable) on the way out */
const v1 = (name: string, extraVars: Msg[] = []) =>
  wfSpec(
    name,
    thread(
      [
        entry(),
        waitNode("1-wait-go-v1", "mig-go", [setFlag("2-wait-go2-v1", "after-go")]),
        waitNode("2-wait-go2-v1", "mig-go2", [setFlag("3-exit-EXIT", "after-go2")]),
        exit("3-exit-EXIT"),
      ],
      [varDef("who", "STR"), varDef("flag", "STR", { default_value: str("unset") }), ...extraVars],
    ),
  );

let ts: TestServer;
let c: TestClient;

async function deploy(name: string): Promise<{ from: Msg; to: Msg }> {
  const from = (await c.call("PutWfSpec", v0(name))).id as Msg;
  const to = (await c.call("PutWfSpec", v1(name))).id as Msg;
  expect(to).not.toEqual(from);
  return { from, to };
}

async function runAt(name: string, id: string, events: string[] = []): Promise<void> {
  await c.call("RunWf", { wf_spec_name: name, id, variables: { who: str(id) }, ...versionOf(name) });
  for (const e of events)
    await c.call("PutExternalEvent", {
      wf_run_id: { id },
      external_event_def_id: { name: e },
      content: str("x"),
    });
  // it waits at the node after the events
  await waitFor(async () => {
    const r = await c.call("GetWfRun", { id });
    return r.thread_runs[0].current_node_position === 1 + events.length ? r : undefined;
  });
}

const pinned = new Map<string, Msg>();
const versionOf = (name: string) => {
  const id = pinned.get(name);
  return id ? { major_version: id.major_version, revision: id.revision } : {};
};

beforeAll(async () => {
  ts = await startTestServer();
  c = ts.client();
  await c.call("PutExternalEventDef", { name: "mig-go" });
  await c.call("PutExternalEventDef", { name: "mig-go2" });
  await c.call("PutTaskDef", { name: "mig-task" });
});
afterAll(async () => {
  await ts.close();
});

describe("MigrateWfSpec", () => {
  it("moves every waiting WfRun to the new version: new variables get their defaults, the run goes on along the new nodes", async () => {
    const { from, to } = await deploy("mig-basic");
    pinned.set("mig-basic", from);
    await runAt("mig-basic", "basic-1");
    await runAt("mig-basic", "basic-2");
    const answer = await c.call("MigrateWfSpec", {
      old_wf_spec: from,
      migration: migration(to, { "1-wait-go": "1-wait-go-v1", "2-wait-go2": "2-wait-go2-v1" }),
    });
    expect(answer.id).toEqual(from);
    expect(answer.migration.new_major_version).toBe(to.major_version);
    expect((await c.call("GetWfSpec", from)).migration).toEqual(answer.migration);
    for (const id of ["basic-1", "basic-2"]) {
      const run = await c.call("GetWfRun", { id });
      expect(run.wf_spec_id).toEqual(to);
      expect(run.old_wf_spec_versions).toEqual([from]);
      expect(run.thread_runs[0].wf_spec_id).toEqual(to);
      expect(run.status).toBe("RUNNING");
      const node = await c.call("GetNodeRun", { wf_run_id: { id }, thread_run_number: 0, position: 1 });
      expect(node.node_name).toBe("1-wait-go-v1");
      expect(node.wf_spec_id).toEqual(from); // created under the old version
      expect(await variablesOf(c, { id })).toEqual({ who: id, flag: "unset" });
    }
    // the run continues under the new version: its edges set the new variable
    await c.call("PutExternalEvent", {
      wf_run_id: { id: "basic-1" },
      external_event_def_id: { name: "mig-go" },
      content: str("x"),
    });
    await c.call("PutExternalEvent", {
      wf_run_id: { id: "basic-1" },
      external_event_def_id: { name: "mig-go2" },
      content: str("x"),
    });
    const done = await waitFor(async () => {
      const r = await c.call("GetWfRun", { id: "basic-1" });
      return r.status === "COMPLETED" ? r : undefined;
    });
    expect(done.wf_spec_id).toEqual(to);
    expect(await variablesOf(c, { id: "basic-1" })).toEqual({ who: "basic-1", flag: "after-go2" });
    const nodes = await c.call("ListNodeRuns", { wf_run_id: { id: "basic-1" } });
    expect(nodes.results.map((n: Msg) => n.node_name)).toEqual([
      "0-entrypoint-ENTRYPOINT",
      "1-wait-go-v1",
      "2-wait-go2-v1",
      "3-exit-EXIT",
    ]);
  });

  it("a migrated WfRun, and its searchable variables, are searched under the new version, no longer the old", async () => {
    const name = "mig-search";
    const searchableWho = (spec: Msg) => {
      const thread = (spec.thread_specs as Record<string, Msg>).entrypoint!;
      thread.variable_defs = (thread.variable_defs as Msg[]).map((d) =>
        (d.var_def as Msg).name === "who" ? varDef("who", "STR", { searchable: true }) : d,
      );
      return spec;
    };
    const from = (await c.call("PutWfSpec", searchableWho(v0(name)))).id as Msg;
    const to = (await c.call("PutWfSpec", searchableWho(v1(name)))).id as Msg;
    pinned.set(name, from);
    await runAt(name, "search-1");
    await runAt(name, "search-2");
    await c.call("MigrateWfSpec", {
      old_wf_spec: from,
      migration: migration(to, { "1-wait-go": "1-wait-go-v1", "2-wait-go2": "2-wait-go2-v1" }),
    });
    const version = (v: Msg) => ({ wf_spec_major_version: v.major_version, wf_spec_revision: v.revision });
    const runsAt = async (v: Msg) =>
      (((await c.call("SearchWfRun", { wf_spec_name: name, ...version(v) })).results ?? []) as Msg[]).map(
        (r) => r.id,
      );
    expect(await runsAt(from)).toEqual([]);
    expect((await runsAt(to)).sort()).toEqual(["search-1", "search-2"]);
    const whoAt = async (v: Msg) =>
      (
        ((
          await c.call("SearchVariable", {
            wf_spec_name: name,
            var_name: "who",
            value: str("search-1"),
            ...version(v),
          })
        ).results ?? []) as Msg[]
      ).map((r) => r.wf_run_id.id);
    expect(await whoAt(from)).toEqual([]);
    expect(await whoAt(to)).toEqual(["search-1"]);
  });

  it("a WfRun at a node the migration does not map is left unchanged and named; a fuller migration moves it later, the others not twice", async () => {
    const { from, to } = await deploy("mig-partial");
    pinned.set("mig-partial", from);
    await runAt("mig-partial", "part-first");
    await runAt("mig-partial", "part-second", ["mig-go"]);
    const partial = migration(to, { "1-wait-go": "1-wait-go-v1" });
    const e = await c.fail("MigrateWfSpec", { old_wf_spec: from, migration: partial });
    expect(e.code).toBe("FAILED_PRECONDITION");
    expect(e.message).toContain("migrated 1 WfRun of WfSpec 'mig-partial'");
    expect(e.message).toContain(
      "'part-second': thread 0 ('entrypoint') is at node '2-wait-go2', which the migration does not map",
    );
    expect((await c.call("GetWfRun", { id: "part-first" })).wf_spec_id).toEqual(to);
    const second = await c.call("GetWfRun", { id: "part-second" });
    expect(second.wf_spec_id).toEqual(from);
    expect(second.old_wf_spec_versions).toEqual([]);
    // nothing of it changed: it still completes on the old version
    await c.call("MigrateWfSpec", {
      old_wf_spec: from,
      migration: migration(to, { "1-wait-go": "1-wait-go-v1", "2-wait-go2": "2-wait-go2-v1" }),
    });
    expect((await c.call("GetWfRun", { id: "part-second" })).wf_spec_id).toEqual(to);
    expect((await c.call("GetWfRun", { id: "part-first" })).old_wf_spec_versions).toEqual([from]);
  });

  it("a HALTED WfRun migrates and stays HALTED; resumed, it goes on under the new version", async () => {
    const { from, to } = await deploy("mig-halted");
    pinned.set("mig-halted", from);
    await runAt("mig-halted", "halted-1");
    await c.call("StopWfRun", { wf_run_id: { id: "halted-1" } });
    await waitFor(async () => {
      const r = await c.call("GetWfRun", { id: "halted-1" });
      return r.status === "HALTED" ? r : undefined;
    });
    await c.call("MigrateWfSpec", {
      old_wf_spec: from,
      migration: migration(to, { "1-wait-go": "1-wait-go-v1", "2-wait-go2": "2-wait-go2-v1" }),
    });
    const halted = await c.call("GetWfRun", { id: "halted-1" });
    expect(halted.status).toBe("HALTED");
    expect(halted.wf_spec_id).toEqual(to);
    await c.call("ResumeWfRun", { wf_run_id: { id: "halted-1" } });
    await c.call("PutExternalEvent", {
      wf_run_id: { id: "halted-1" },
      external_event_def_id: { name: "mig-go" },
      content: str("x"),
    });
    await waitFor(async () => {
      const vars = await variablesOf(c, { id: "halted-1" });
      return vars.flag === "after-go" ? vars : undefined;
    });
  });

  it("a WfRun with a task in flight migrates; when the worker reports, the run follows the new node's edges", async () => {
    const name = "mig-task-flight";
    const from = (
      await c.call(
        "PutWfSpec",
        wfSpec(name, thread([entry(), taskNode("1-task-TASK", "mig-task"), exit("2-exit-EXIT")])),
      )
    ).id as Msg;
    const to = (
      await c.call(
        "PutWfSpec",
        wfSpec(
          name,
          thread(
            [
              entry(),
              {
                ...taskNode("1-task-v1-TASK", "mig-task"),
                edges: [setFlag("2-exit-EXIT", "reported-under-v1")],
              },
              exit("2-exit-EXIT"),
            ],
            [varDef("flag", "STR")],
          ),
        ),
      )
    ).id as Msg;
    await c.call("RunWf", {
      wf_spec_name: name,
      id: "flight-1",
      major_version: from.major_version,
      revision: from.revision,
    });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const worker = startRawWorker(c, "mig-task", async () => {
      await gate;
      return { status: "TASK_SUCCESS", output: str("done") };
    });
    try {
      await waitFor(async () => (worker.received.length > 0 ? true : undefined));
      const before = await c.call("GetNodeRun", {
        wf_run_id: { id: "flight-1" },
        thread_run_number: 0,
        position: 1,
      });
      expect(before.status).toBe("RUNNING");
      await c.call("MigrateWfSpec", {
        old_wf_spec: from,
        migration: migration(to, { "1-task-TASK": "1-task-v1-TASK" }),
      });
      expect((await c.call("GetWfRun", { id: "flight-1" })).wf_spec_id).toEqual(to);
      release();
      const done = await waitFor(async () => {
        const r = await c.call("GetWfRun", { id: "flight-1" });
        return r.status === "COMPLETED" ? r : undefined;
      });
      expect(done.wf_spec_id).toEqual(to);
      expect(await variablesOf(c, { id: "flight-1" })).toEqual({ flag: "reported-under-v1" });
      const task = await c.call("ListTaskRuns", { wf_run_id: { id: "flight-1" } });
      expect(task.results).toHaveLength(1);
      expect(task.results[0].status).toBe("TASK_SUCCESS");
    } finally {
      release();
      worker.stop();
    }
  });

  it("a WfRun whose variable does not fit the new version's declaration is left unchanged, and the answer says why", async () => {
    const name = "mig-var-type";
    const from = (await c.call("PutWfSpec", v0(name))).id as Msg;
    pinned.set(name, from);
    await runAt(name, "typed-1");
    const retyped = v1(name);
    (retyped.thread_specs as Record<string, Msg>).entrypoint!.variable_defs = [
      varDef("who", "INT"),
      varDef("flag", "STR"),
    ];
    const to = (await c.call("PutWfSpec", retyped)).id as Msg;
    const e = await c.fail("MigrateWfSpec", {
      old_wf_spec: from,
      migration: migration(to, { "1-wait-go": "1-wait-go-v1" }),
    });
    expect(e.code).toBe("FAILED_PRECONDITION");
    expect(e.message).toContain("'typed-1': variable 'who' of thread 0 holds STR, but version");
    expect(e.message).toContain("declares it INT");
    expect((await c.call("GetWfRun", { id: "typed-1" })).wf_spec_id).toEqual(from);
  });

  it("bad migrations are INVALID_ARGUMENT or NOT_FOUND naming what is wrong, and store nothing", async () => {
    const { from, to } = await deploy("mig-bad");
    const ask = (req: Msg) => c.fail("MigrateWfSpec", req);
    const good = migration(to, { "1-wait-go": "1-wait-go-v1" });
    expect(await ask({ migration: good })).toEqual({
      code: "INVALID_ARGUMENT",
      message: "old_wf_spec.name is required",
    });
    expect(await ask({ old_wf_spec: from })).toEqual({
      code: "INVALID_ARGUMENT",
      message: "migration is required",
    });
    expect((await ask({ old_wf_spec: { ...from, major_version: 9 }, migration: good })).code).toBe(
      "NOT_FOUND",
    );
    const missingTarget = await ask({ old_wf_spec: from, migration: { ...good, new_major_version: 7 } });
    expect(missingTarget.code).toBe("NOT_FOUND");
    expect(missingTarget.message).toMatch(/7\.\d+ \(the migration's new version\) not found/);
    const backwards = await ask({
      old_wf_spec: to,
      migration: migration(from, { "1-wait-go-v1": "1-wait-go" }),
    });
    expect(backwards.code).toBe("INVALID_ARGUMENT");
    expect(backwards.message).toMatch(/is not newer than/);
    let e = await ask({ old_wf_spec: from, migration: { ...good, thread_spec_migrations: {} } });
    expect(e).toEqual({ code: "INVALID_ARGUMENT", message: "migration.thread_spec_migrations is empty" });
    e = await ask({
      old_wf_spec: from,
      migration: { ...good, thread_spec_migrations: { nope: { new_thread_spec_name: "entrypoint" } } },
    });
    expect(e.code).toBe("INVALID_ARGUMENT");
    expect(e.message).toMatch(/thread_spec_migrations\['nope'\].*has no ThreadSpec 'nope'/);
    e = await ask({ old_wf_spec: from, migration: migration(to, { "9-nope": "1-wait-go-v1" }) });
    expect(e.message).toMatch(/has no node '9-nope'/);
    e = await ask({ old_wf_spec: from, migration: migration(to, { "1-wait-go": "9-nope" }) });
    expect(e.message).toMatch(
      /new_node_name: ThreadSpec 'entrypoint' of the new version has no node '9-nope'/,
    );
    e = await ask({ old_wf_spec: from, migration: migration(to, { "1-wait-go": "3-exit-EXIT" }) });
    expect(e.code).toBe("INVALID_ARGUMENT");
    expect(e.message).toMatch(/a externalEvent node cannot become '3-exit-EXIT', a exit node/);
    expect((await c.call("GetWfSpec", from)).migration ?? null).toBeNull();
  });
});

describe("MigrateWfSpec across a crash", () => {
  it("a migration stored before the server died resumes when it starts again, moving each WfRun once", async () => {
    const first = await startTestServer();
    let again: TestServer | undefined;
    try {
      const c1 = first.client();
      await c1.call("PutExternalEventDef", { name: "mig-go" });
      await c1.call("PutExternalEventDef", { name: "mig-go2" });
      const from = (await c1.call("PutWfSpec", v0("mig-crash"))).id as Msg;
      const to = (await c1.call("PutWfSpec", v1("mig-crash"))).id as Msg;
      for (const id of ["crash-1", "crash-2", "crash-3"]) {
        await c1.call("RunWf", {
          wf_spec_name: "mig-crash",
          id,
          major_version: from.major_version,
          revision: from.revision,
        });
      }
      // one WfRun moved before the crash (by an earlier, partial migration)
      await c1.call("RunWf", {
        wf_spec_name: "mig-crash",
        id: "crash-moved",
        major_version: from.major_version,
        revision: from.revision,
      });
      await c1.call("PutExternalEvent", {
        wf_run_id: { id: "crash-1" },
        external_event_def_id: { name: "mig-go" },
        content: str("x"),
      });
      await waitFor(async () => {
        const r = await c1.call("GetWfRun", { id: "crash-1" });
        return r.thread_runs[0].current_node_position === 2 ? r : undefined;
      });
      await c1.fail("MigrateWfSpec", {
        old_wf_spec: from,
        migration: migration(to, { "1-wait-go": "1-wait-go-v1" }),
      });
      await first.stop();
      // the server died right after storing a fuller migration, before moving any WfRun
      const store = first.databaseUrl
        ? await PgStore.open(first.databaseUrl)
        : new SqliteStore(first.dataDir);
      const row = (await store.listMetadata()).find(
        (r) =>
          r.kind === "wf_spec" &&
          r.name === "mig-crash" &&
          r.major === from.major_version &&
          r.minor === from.revision,
      )!;
      const spec = fromBinary(WfSpecSchema, row.bytes);
      spec.migration!.threadSpecMigrations.entrypoint!.nodeMigrations["2-wait-go2"] = {
        $typeName: "littlehorse.NodeMigration",
        newNodeName: "2-wait-go2-v1",
      };
      await store.commit([{ op: "putMetadata", row: { ...row, bytes: toBinary(WfSpecSchema, spec) } }]);
      await store.close();

      again = await startTestServer({ dataDir: first.dataDir, databaseUrl: first.databaseUrl });
      const c2 = again.client();
      await waitFor(async () => {
        const r = await c2.call("GetWfRun", { id: "crash-1" });
        return r.wf_spec_id.major_version === to.major_version && r.wf_spec_id.revision === to.revision
          ? r
          : undefined;
      });
      for (const id of ["crash-1", "crash-2", "crash-3", "crash-moved"]) {
        const r = await c2.call("GetWfRun", { id });
        expect(r.wf_spec_id, id).toEqual(to);
        expect(r.old_wf_spec_versions, id).toEqual([from]);
      }
    } finally {
      await again?.close();
      await first.close();
    }
  });
});
