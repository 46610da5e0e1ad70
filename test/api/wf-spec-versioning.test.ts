/**
 * Black-box tests of WfSpec versioning through real gRPC: B-META-4 (what makes a revision or a major
 * version), B-META-5 (allowed_updates), B-META-6 (GetWfSpec / GetLatestWfSpec), B-RUN-1 (which version
 * RunWf runs) and B-RUN-3 (RunWf input variables).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server";
import type { Msg, TestClient } from "../support/client";
import { dbl, entry, exit, int, lit, nop, str, thread, varDef, wfSpec } from "../support/specs";

let ts: TestServer;
let c: TestClient;

beforeAll(async () => {
  ts = await startTestServer();
  c = ts.client();
});
afterAll(async () => {
  await ts?.close();
});

/**
 * A WfSpec whose entrypoint thread declares `vars` and runs ENTRYPOINT → `nops` NOP nodes → EXIT, so that
 * the number of NOP nodes is a change that is never breaking.
 */
function spec(name: string, vars: Msg[] = [], nops = 0, extra: Msg = {}): Msg {
  const nodes = [entry()];
  for (let i = 1; i <= nops; i++) nodes.push(nop(`${i}-nop-NOP`));
  nodes.push(exit());
  return wfSpec(name, thread(nodes, vars), extra);
}

const version = (s: Msg) => `${String(s.id.major_version)}.${String(s.id.revision)}`;

async function put(req: Msg): Promise<Msg> {
  return c.call("PutWfSpec", req);
}

async function latest(name: string): Promise<Msg> {
  return c.call("GetLatestWfSpec", { name });
}

describe("B-META-4 WfSpec versioning", () => {
  it("B-META-4 the first PutWfSpec of a name creates version 0.0", async () => {
    const created = await put(spec("v4-first", [varDef("a", "STR")]));
    expect(created.id).toEqual({ name: "v4-first", major_version: 0, revision: 0 });
    expect(created.status).toBe("ACTIVE");
    expect(created.created_at).toBeTruthy();
    expect(created.entrypoint_thread_name).toBe("entrypoint");
    expect(Object.keys(created.thread_specs.entrypoint.nodes).sort()).toEqual([
      "0-entrypoint-ENTRYPOINT",
      "exit-EXIT",
    ]);
    expect(await c.call("GetWfSpec", created.id)).toEqual(created);
  });

  it("B-META-4 an identical PutWfSpec returns the existing WfSpec", async () => {
    const first = await put(spec("v4-same", [varDef("a", "STR", { required: true })], 1));
    await new Promise((r) => setTimeout(r, 20));
    const again = await put(spec("v4-same", [varDef("a", "STR", { required: true })], 1));
    expect(again).toEqual(first);
    expect(version(again)).toBe("0.0");
    const versions = await c.call("SearchWfSpec", { name: "v4-same" });
    expect(versions.results).toEqual([{ name: "v4-same", major_version: 0, revision: 0 }]);
  });

  it("B-META-4 a change that is not breaking (another node) creates revision + 1", async () => {
    expect(version(await put(spec("v4-revision", [varDef("a", "STR")], 0)))).toBe("0.0");
    expect(version(await put(spec("v4-revision", [varDef("a", "STR")], 1)))).toBe("0.1");
    const third = await put(spec("v4-revision", [varDef("a", "STR")], 2));
    expect(third.id).toEqual({ name: "v4-revision", major_version: 0, revision: 2 });
    expect(Object.keys(third.thread_specs.entrypoint.nodes)).toHaveLength(4);
    // going back to an older shape is a change against the latest, so it is a new revision too
    expect(version(await put(spec("v4-revision", [varDef("a", "STR")], 0)))).toBe("0.3");
  });

  it("B-META-4 adding an optional entrypoint variable or changing a default is a revision", async () => {
    await put(spec("v4-optional", [varDef("a", "STR")]));
    expect(version(await put(spec("v4-optional", [varDef("a", "STR"), varDef("b", "INT")])))).toBe("0.1");
    const withDefault = await put(
      spec("v4-optional", [varDef("a", "STR"), varDef("b", "INT", { default_value: int(7) })]),
    );
    expect(version(withDefault)).toBe("0.2");
  });

  it("B-META-4 changing the type of a variable that is neither required nor searchable is a revision", async () => {
    await put(spec("v4-free-type", [varDef("a", "STR")]));
    const changed = await put(spec("v4-free-type", [varDef("a", "INT")]));
    expect(version(changed)).toBe("0.1");
    expect(changed.thread_specs.entrypoint.variable_defs[0].var_def.type).toBe("INT");
  });

  it("B-META-4 adding a required entrypoint variable is breaking: major + 1, revision 0", async () => {
    await put(spec("v4-add-required", [varDef("a", "STR")]));
    expect(version(await put(spec("v4-add-required", [varDef("a", "STR")], 1)))).toBe("0.1");
    const breaking = await put(
      spec("v4-add-required", [varDef("a", "STR"), varDef("r", "INT", { required: true })], 1),
    );
    expect(breaking.id).toEqual({ name: "v4-add-required", major_version: 1, revision: 0 });
    expect(
      version(
        await put(spec("v4-add-required", [varDef("a", "STR"), varDef("r", "INT", { required: true })], 2)),
      ),
    ).toBe("1.1");
  });

  it("B-META-4 making an existing entrypoint variable required is breaking", async () => {
    await put(spec("v4-make-required", [varDef("a", "STR")]));
    expect(version(await put(spec("v4-make-required", [varDef("a", "STR", { required: true })])))).toBe(
      "1.0",
    );
  });

  it("B-META-4 removing a required entrypoint variable is breaking", async () => {
    await put(spec("v4-drop-required", [varDef("a", "STR", { required: true }), varDef("b", "STR")]));
    expect(version(await put(spec("v4-drop-required", [varDef("b", "STR")])))).toBe("1.0");
  });

  it("B-META-4 making an entrypoint variable searchable (or not) is breaking", async () => {
    await put(spec("v4-searchable", [varDef("a", "STR")]));
    expect(version(await put(spec("v4-searchable", [varDef("a", "STR", { searchable: true })])))).toBe("1.0");
    expect(version(await put(spec("v4-searchable", [varDef("a", "STR")])))).toBe("2.0");
  });

  it("B-META-4 changing the access level of an entrypoint variable is breaking", async () => {
    await put(spec("v4-access", [varDef("a", "STR", { access_level: "PRIVATE_VAR" })]));
    const changed = await put(spec("v4-access", [varDef("a", "STR", { access_level: "PUBLIC_VAR" })]));
    expect(version(changed)).toBe("1.0");
    expect(changed.thread_specs.entrypoint.variable_defs[0].access_level).toBe("PUBLIC_VAR");
  });

  it("B-META-4 a required variable in a thread other than the entrypoint is not breaking", async () => {
    const withChild = (required: boolean): Msg => {
      const s = spec("v4-child-required", [], 0);
      s.thread_specs.entrypoint = thread([
        entry(),
        {
          name: "1-start-START_THREAD",
          node: { start_thread: { thread_spec_name: "child", variables: { c: lit(str("x")) } } },
        },
        exit(),
      ]);
      s.thread_specs.child = thread([entry(), exit()], [varDef("c", "STR", { required })]);
      return s;
    };
    await put(withChild(false));
    expect(version(await put(withChild(true)))).toBe("0.1");
  });

  it("B-META-4 frozen_variables lists the required and searchable entrypoint variables", async () => {
    const created = await put(
      spec("v4-frozen-list", [
        varDef("req", "STR", { required: true }),
        varDef("find", "INT", { searchable: true }),
        varDef("free", "BOOL"),
      ]),
    );
    const frozen = created.frozen_variables.map((v: Msg) => [v.var_def.name, v.var_def.type]);
    expect(frozen.sort()).toEqual([
      ["find", "INT"],
      ["req", "STR"],
    ]);
  });

  it("B-META-4 changing the type of a frozen (required) variable is FAILED_PRECONDITION", async () => {
    const original = await put(spec("v4-frozen", [varDef("amount", "INT", { required: true })]));
    const err = await c.fail("PutWfSpec", spec("v4-frozen", [varDef("amount", "STR", { required: true })]));
    expect(err.code).toBe("FAILED_PRECONDITION");
    expect(err.message).toMatch(/amount/);
    expect(err.message).toMatch(/frozen/i);
    expect(err.message).toMatch(/INT/);
    expect(err.message).toMatch(/STR/);
    expect(await latest("v4-frozen")).toEqual(original);
  });

  it("B-META-4 changing the type of a frozen (searchable) variable is FAILED_PRECONDITION", async () => {
    await put(spec("v4-frozen-search", [varDef("score", "DOUBLE", { searchable: true })]));
    const err = await c.fail(
      "PutWfSpec",
      spec("v4-frozen-search", [varDef("score", "INT", { searchable: true })]),
    );
    expect(err.code).toBe("FAILED_PRECONDITION");
    expect(err.message).toMatch(/score/);
    expect(err.message).toMatch(/DOUBLE/);
  });
});

describe("B-META-5 allowed_updates", () => {
  it("B-META-5 NO_UPDATES with a changed spec is ALREADY_EXISTS and stores nothing", async () => {
    const original = await put(spec("v5-none", [varDef("a", "STR")]));
    const err = await c.fail(
      "PutWfSpec",
      spec("v5-none", [varDef("a", "STR")], 1, { allowed_updates: "NO_UPDATES" }),
    );
    expect(err.code).toBe("ALREADY_EXISTS");
    expect(err.message).toMatch(/v5-none/);
    expect(err.message).toMatch(/NO_UPDATES/);
    expect(await latest("v5-none")).toEqual(original);
  });

  it("B-META-5 NO_UPDATES with an identical spec returns the existing WfSpec", async () => {
    const original = await put(spec("v5-none-same", [varDef("a", "STR")]));
    const again = await put(spec("v5-none-same", [varDef("a", "STR")], 0, { allowed_updates: "NO_UPDATES" }));
    expect(again).toEqual(original);
  });

  it("B-META-5 NO_UPDATES for a new name creates version 0.0", async () => {
    const created = await put(spec("v5-none-new", [], 0, { allowed_updates: "NO_UPDATES" }));
    expect(version(created)).toBe("0.0");
  });

  it("B-META-5 MINOR_REVISION_UPDATES with a breaking change is FAILED_PRECONDITION", async () => {
    const original = await put(spec("v5-minor", [varDef("a", "STR")]));
    const err = await c.fail(
      "PutWfSpec",
      spec("v5-minor", [varDef("a", "STR", { required: true })], 0, {
        allowed_updates: "MINOR_REVISION_UPDATES",
      }),
    );
    expect(err.code).toBe("FAILED_PRECONDITION");
    expect(err.message).toMatch(/breaking/i);
    expect(err.message).toMatch(/MINOR_REVISION_UPDATES/);
    expect(await latest("v5-minor")).toEqual(original);
  });

  it("B-META-5 MINOR_REVISION_UPDATES with a non-breaking change creates revision + 1", async () => {
    await put(spec("v5-minor-ok", [varDef("a", "STR")]));
    const next = await put(
      spec("v5-minor-ok", [varDef("a", "STR")], 1, { allowed_updates: "MINOR_REVISION_UPDATES" }),
    );
    expect(version(next)).toBe("0.1");
  });

  it("B-META-5 ALL_UPDATES (the default) allows both revisions and breaking changes", async () => {
    await put(spec("v5-all", [varDef("a", "STR")]));
    expect(
      version(await put(spec("v5-all", [varDef("a", "STR")], 1, { allowed_updates: "ALL_UPDATES" }))),
    ).toBe("0.1");
    expect(
      version(
        await put(
          spec("v5-all", [varDef("a", "STR", { required: true })], 1, { allowed_updates: "ALL_UPDATES" }),
        ),
      ),
    ).toBe("1.0");
    expect(version(await put(spec("v5-all", [varDef("a", "STR", { required: true })], 2)))).toBe("1.1");
    expect(version(await put(spec("v5-all", [varDef("a", "STR", { searchable: true })], 2)))).toBe("2.0");
  });
});

describe("B-META-6 GetWfSpec and GetLatestWfSpec", () => {
  // versions 0.0, 0.1, 0.2, 1.0, 1.1 of v6-get
  const versions: Msg[] = [];
  beforeAll(async () => {
    versions.push(await put(spec("v6-get", [varDef("a", "STR")], 0)));
    versions.push(await put(spec("v6-get", [varDef("a", "STR")], 1)));
    versions.push(await put(spec("v6-get", [varDef("a", "STR")], 2)));
    versions.push(await put(spec("v6-get", [varDef("a", "STR", { required: true })], 0)));
    versions.push(await put(spec("v6-get", [varDef("a", "STR", { required: true })], 3)));
    expect(versions.map(version)).toEqual(["0.0", "0.1", "0.2", "1.0", "1.1"]);
  });

  it("B-META-6 GetWfSpec by full id returns exactly that version", async () => {
    for (const v of versions) expect(await c.call("GetWfSpec", v.id)).toEqual(v);
    const v01 = await c.call("GetWfSpec", { name: "v6-get", major_version: 0, revision: 1 });
    expect(Object.keys(v01.thread_specs.entrypoint.nodes)).toHaveLength(3);
  });

  it("B-META-6 GetLatestWfSpec by name returns the highest version", async () => {
    const got = await latest("v6-get");
    expect(got.id).toEqual({ name: "v6-get", major_version: 1, revision: 1 });
    expect(got).toEqual(versions[4]);
  });

  it("B-META-6 GetLatestWfSpec pinned to a major version returns its highest revision", async () => {
    const major0 = await c.call("GetLatestWfSpec", { name: "v6-get", major_version: 0 });
    expect(major0.id).toEqual({ name: "v6-get", major_version: 0, revision: 2 });
    const major1 = await c.call("GetLatestWfSpec", { name: "v6-get", major_version: 1 });
    expect(major1.id).toEqual({ name: "v6-get", major_version: 1, revision: 1 });
  });

  it("B-META-6 an unknown WfSpec name, major version or revision is NOT_FOUND", async () => {
    const unknownName = await c.fail("GetLatestWfSpec", { name: "v6-nope" });
    expect(unknownName.code).toBe("NOT_FOUND");
    expect(unknownName.message).toMatch(/v6-nope/);
    const unknownMajor = await c.fail("GetLatestWfSpec", { name: "v6-get", major_version: 7 });
    expect(unknownMajor.code).toBe("NOT_FOUND");
    expect(unknownMajor.message).toMatch(/v6-get/);
    expect(unknownMajor.message).toMatch(/7/);
    const unknownRevision = await c.fail("GetWfSpec", { name: "v6-get", major_version: 0, revision: 9 });
    expect(unknownRevision.code).toBe("NOT_FOUND");
    expect(unknownRevision.message).toMatch(/v6-get/);
    const unknownId = await c.fail("GetWfSpec", { name: "v6-nope", major_version: 0, revision: 0 });
    expect(unknownId.code).toBe("NOT_FOUND");
  });
});

describe("B-RUN-1 which WfSpec version RunWf runs", () => {
  // versions 0.0, 0.1, 1.0, 1.1 of run1-wf; major 1 makes `must` required
  beforeAll(async () => {
    const made = [
      await put(spec("run1-wf", [varDef("must", "STR")], 0)),
      await put(spec("run1-wf", [varDef("must", "STR")], 1)),
      await put(spec("run1-wf", [varDef("must", "STR", { required: true })], 0)),
      await put(spec("run1-wf", [varDef("must", "STR", { required: true })], 2)),
    ];
    expect(made.map(version)).toEqual(["0.0", "0.1", "1.0", "1.1"]);
  });

  it("B-RUN-1 RunWf by name runs the latest version", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "run1-wf", variables: { must: str("x") } });
    expect(run.wf_spec_id).toEqual({ name: "run1-wf", major_version: 1, revision: 1 });
    const got = await c.call("GetWfRun", run.id);
    expect(got.wf_spec_id).toEqual(run.wf_spec_id);
    expect(got.status).toBe("COMPLETED");
    const nodes = await c.call("ListNodeRuns", { wf_run_id: run.id });
    expect(nodes.results).toHaveLength(4);
  });

  it("B-RUN-1 major_version pins the major version and runs its latest revision", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "run1-wf", major_version: 0 });
    expect(run.wf_spec_id).toEqual({ name: "run1-wf", major_version: 0, revision: 1 });
    const nodes = await c.call("ListNodeRuns", { wf_run_id: run.id });
    expect(nodes.results.map((n: Msg) => n.node_name)).toEqual([
      "0-entrypoint-ENTRYPOINT",
      "1-nop-NOP",
      "exit-EXIT",
    ]);
  });

  it("B-RUN-1 major_version and revision pin exactly one version", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "run1-wf", major_version: 0, revision: 0 });
    expect(run.wf_spec_id).toEqual({ name: "run1-wf", major_version: 0, revision: 0 });
    const nodes = await c.call("ListNodeRuns", { wf_run_id: run.id });
    expect(nodes.results.map((n: Msg) => n.node_name)).toEqual(["0-entrypoint-ENTRYPOINT", "exit-EXIT"]);
    const v10 = await c.call("RunWf", {
      wf_spec_name: "run1-wf",
      major_version: 1,
      revision: 0,
      variables: { must: str("y") },
    });
    expect(v10.wf_spec_id).toEqual({ name: "run1-wf", major_version: 1, revision: 0 });
  });

  it("B-RUN-1 the pinned version's variables apply (required only from major 1 on)", async () => {
    const missing = await c.fail("RunWf", { wf_spec_name: "run1-wf", id: "run1-missing" });
    expect(missing.code).toBe("INVALID_ARGUMENT");
    expect(missing.message).toMatch(/must/);
    const old = await c.call("RunWf", { wf_spec_name: "run1-wf", major_version: 0, id: "run1-old" });
    expect(old.status).toBe("COMPLETED");
  });

  it("B-RUN-1 an unknown WfSpec, major version or revision is NOT_FOUND and creates no WfRun", async () => {
    const cases: Msg[] = [
      { wf_spec_name: "run1-nope", id: "run1-nf-1" },
      { wf_spec_name: "run1-wf", major_version: 5, id: "run1-nf-2", variables: { must: str("x") } },
      { wf_spec_name: "run1-wf", major_version: 0, revision: 9, id: "run1-nf-3" },
    ];
    for (const req of cases) {
      const err = await c.fail("RunWf", req);
      expect(err.code, JSON.stringify(req)).toBe("NOT_FOUND");
      expect(err.message).toMatch(new RegExp(String(req.wf_spec_name)));
      expect((await c.fail("GetWfRun", { id: req.id })).code).toBe("NOT_FOUND");
    }
  });
});

describe("B-RUN-3 RunWf input variables", () => {
  beforeAll(async () => {
    await put(
      spec("run3-wf", [
        varDef("name", "STR", { required: true }),
        varDef("count", "INT", { default_value: int(3) }),
        varDef("ratio", "DOUBLE"),
        varDef("note", "STR"),
      ]),
    );
  });

  it("B-RUN-3 a missing required variable is INVALID_ARGUMENT and creates no WfRun", async () => {
    const err = await c.fail("RunWf", {
      wf_spec_name: "run3-wf",
      id: "run3-missing",
      variables: { count: int(1) },
    });
    expect(err.code).toBe("INVALID_ARGUMENT");
    expect(err.message).toMatch(/name/);
    expect(err.message).toMatch(/required|missing/i);
    expect((await c.fail("GetWfRun", { id: "run3-missing" })).code).toBe("NOT_FOUND");
  });

  it("B-RUN-3 an undeclared variable is INVALID_ARGUMENT and creates no WfRun", async () => {
    const err = await c.fail("RunWf", {
      wf_spec_name: "run3-wf",
      id: "run3-undeclared",
      variables: { name: str("a"), stray: str("b") },
    });
    expect(err.code).toBe("INVALID_ARGUMENT");
    expect(err.message).toMatch(/stray/);
    expect((await c.fail("GetWfRun", { id: "run3-undeclared" })).code).toBe("NOT_FOUND");
  });

  it("B-RUN-3 a value of the wrong type is INVALID_ARGUMENT and creates no WfRun", async () => {
    const err = await c.fail("RunWf", {
      wf_spec_name: "run3-wf",
      id: "run3-wrong-type",
      variables: { name: str("a"), count: str("three") },
    });
    expect(err.code).toBe("INVALID_ARGUMENT");
    expect(err.message).toMatch(/count/);
    expect(err.message).toMatch(/INT/);
    expect((await c.fail("GetWfRun", { id: "run3-wrong-type" })).code).toBe("NOT_FOUND");
  });

  it("B-RUN-3 unset variables take their default value, else stay unset", async () => {
    const run = await c.call("RunWf", {
      wf_spec_name: "run3-wf",
      id: "run3-defaults",
      variables: { name: str("pony"), ratio: dbl(0.5) },
    });
    expect(run.status).toBe("COMPLETED");
    const value = async (name: string) =>
      (await c.call("GetVariable", { wf_run_id: run.id, thread_run_number: 0, name })).value as Msg;
    expect((await value("name")).str).toBe("pony");
    expect((await value("count")).int).toBe("3");
    expect((await value("ratio")).double).toBe(0.5);
    expect((await value("note")).value).toBeUndefined();
  });
});
