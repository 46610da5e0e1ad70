/** B-THR-11: child WfRuns and INHERITED_VAR / PUBLIC_VAR / PRIVATE_VAR access to the parent's variables. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server";
import type { Msg, TestClient } from "../support/client";
import { entry, exit, int, nop, str, thread, varDef, varRef, wfSpec } from "../support/specs";

let ts: TestServer;
let c: TestClient;

beforeAll(async () => {
  ts = await startTestServer();
  c = ts.client();
  await c.call("PutExternalEventDef", { name: "child-release" });
  // The parent waits for an event, so it is RUNNING while children use its variables.
  await c.call(
    "PutWfSpec",
    wfSpec(
      "family-parent",
      thread(
        [
          entry(),
          {
            name: "1-release-EXTERNAL_EVENT",
            node: { external_event: { external_event_def_id: { name: "child-release" } } },
          },
          exit("2-exit-EXIT"),
        ],
        [
          varDef("counter", "INT", { default_value: int(10), access_level: "PUBLIC_VAR", searchable: true }),
          varDef("secret", "STR", { default_value: str("hush"), access_level: "PRIVATE_VAR" }),
        ],
      ),
    ),
  );
});

afterAll(async () => ts.close());

function childSpec(name: string, mutations: Msg[], vars: Msg[]): Msg {
  return wfSpec(
    name,
    thread(
      [
        entry(),
        nop("1-nop-NOP", [{ sink_node_name: "2-exit-EXIT", variable_mutations: mutations }]),
        exit("2-exit-EXIT"),
      ],
      vars,
    ),
    { parent_wf_spec: { wf_spec_name: "family-parent" } },
  );
}

describe("child WfRuns", () => {
  it("B-THR-11 a child WfRun's id is {id, parent} and its INHERITED_VAR reads and writes the parent's PUBLIC_VAR", async () => {
    await c.call(
      "PutWfSpec",
      childSpec(
        "family-child",
        [
          { lhs_name: "counter", operation: "ADD", literal_value: int(5) },
          { lhs_name: "seen", operation: "ASSIGN", source_variable: varRef("counter") },
        ],
        [varDef("counter", "INT", { access_level: "INHERITED_VAR" }), varDef("seen", "INT")],
      ),
    );
    const parent = await c.call("RunWf", { wf_spec_name: "family-parent", id: "fam-1" });
    const child = await c.call("RunWf", {
      wf_spec_name: "family-child",
      id: "kid",
      parent_wf_run_id: parent.id,
    });
    expect(child.id).toMatchObject({ id: "kid", parent_wf_run_id: { id: "fam-1" } });
    expect(child.status).toBe("COMPLETED");
    const counter = await c.call("GetVariable", {
      wf_run_id: parent.id,
      thread_run_number: 0,
      name: "counter",
    });
    expect(counter.value.int).toBe("15");
    const seen = await c.call("GetVariable", { wf_run_id: child.id, thread_run_number: 0, name: "seen" });
    expect(seen.value.int).toBe("15");
    // the inherited variable is the parent's: the child has no copy of its own
    const childVars = await c.call("ListVariables", { wf_run_id: child.id });
    expect(childVars.results.map((v: Msg) => v.id.name)).toEqual(["seen"]);
    // the parent's search index follows the change the child made (B-SRCH-3)
    const found = await c.call("SearchVariable", {
      wf_spec_name: "family-parent",
      var_name: "counter",
      value: int(15),
    });
    expect(found.results).toEqual([
      expect.objectContaining({ wf_run_id: expect.objectContaining({ id: "fam-1" }) }),
    ]);
    // the child is found under its full id
    const again = await c.call("GetWfRun", child.id);
    expect(again.status).toBe("COMPLETED");
  });

  it("B-THR-11 a PRIVATE_VAR of the parent is hidden from the child", async () => {
    await c.call(
      "PutWfSpec",
      childSpec(
        "family-snoop",
        [{ lhs_name: "copy", operation: "ASSIGN", source_variable: varRef("secret") }],
        [varDef("secret", "STR", { access_level: "INHERITED_VAR" }), varDef("copy", "STR")],
      ),
    );
    const parent = await c.call("RunWf", { wf_spec_name: "family-parent", id: "fam-2" });
    const child = await c.call("RunWf", {
      wf_spec_name: "family-snoop",
      id: "snoop",
      parent_wf_run_id: parent.id,
    });
    expect(child.status).toBe("ERROR");
    const nodes = await c.call("ListNodeRuns", { wf_run_id: child.id });
    expect(nodes.results[1].failures[0].failure_name).toBe("VAR_MUTATION_ERROR");
    expect(nodes.results[1].failures[0].message).toMatch(/secret/);
  });

  it("B-THR-11 an inherited variable cannot be given to RunWf, and ExternalEvents reach a child WfRun", async () => {
    const parent = await c.call("RunWf", { wf_spec_name: "family-parent", id: "fam-3" });
    const bad = await c.fail("RunWf", {
      wf_spec_name: "family-child",
      id: "kid-bad",
      parent_wf_run_id: parent.id,
      variables: { counter: int(1) },
    });
    expect(bad.code).toBe("INVALID_ARGUMENT");
    expect(bad.message).toMatch(/inherited/);
    // a child that is itself a family-parent-shaped WfRun waits for an event posted to its full id
    await c.call(
      "PutWfSpec",
      wfSpec(
        "family-waiting-child",
        thread(
          [
            entry(),
            {
              name: "1-release-EXTERNAL_EVENT",
              node: { external_event: { external_event_def_id: { name: "child-release" } } },
            },
            exit("2-exit-EXIT"),
          ],
          [],
        ),
        { parent_wf_spec: { wf_spec_name: "family-parent" } },
      ),
    );
    const child = await c.call("RunWf", {
      wf_spec_name: "family-waiting-child",
      id: "waiter",
      parent_wf_run_id: parent.id,
    });
    expect(child.status).toBe("RUNNING");
    await c.call("PutExternalEvent", {
      wf_run_id: child.id,
      external_event_def_id: { name: "child-release" },
      content: str("go"),
    });
    expect((await c.call("GetWfRun", child.id)).status).toBe("COMPLETED");
    expect((await c.call("GetWfRun", parent.id)).status).toBe("RUNNING");
  });
});
