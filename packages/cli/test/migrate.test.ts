/** `pony migrate wfSpec` as a subprocess against a real server. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../../test/support/server";
import { failsWith, ok, pony, usageError } from "./support";

let ts: TestServer;
const run = (...args: string[]) => pony(ts.address, args);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pony-cli-migrate-"));

const spec = (waitNode: string) => ({
  name: "cli-mig",
  entrypoint_thread_name: "entrypoint",
  thread_specs: {
    entrypoint: {
      nodes: {
        "0-entrypoint-ENTRYPOINT": { entrypoint: {}, outgoing_edges: [{ sink_node_name: waitNode }] },
        [waitNode]: {
          external_event: { external_event_def_id: { name: "cli-mig-go" } },
          outgoing_edges: [{ sink_node_name: "2-exit-EXIT" }],
        },
        "2-exit-EXIT": { exit: {} },
      },
    },
  },
});

beforeAll(async () => {
  ts = await startTestServer();
  const c = ts.client();
  await c.call("PutExternalEventDef", { name: "cli-mig-go" });
  await c.call("PutWfSpec", spec("1-wait"));
  await c.call("RunWf", { wf_spec_name: "cli-mig", id: "mig-a" });
  expect((await c.call("PutWfSpec", spec("1-wait-v2"))).id).toEqual({
    name: "cli-mig",
    major_version: 0,
    revision: 1,
  });
});
afterAll(async () => {
  await ts.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("pony migrate wfSpec", () => {
  it("moves the WfRuns of a version with the migration in a file; an unmapped node is the server's FAILED_PRECONDITION", async () => {
    const unmapped = path.join(dir, "unmapped.json");
    fs.writeFileSync(
      unmapped,
      JSON.stringify({
        newMajorVersion: 0,
        newRevision: 1,
        threadSpecMigrations: { entrypoint: { newThreadSpecName: "entrypoint", nodeMigrations: {} } },
      }),
    );
    failsWith(
      await run("migrate", "wfSpec", "cli-mig", "0", "0", unmapped),
      "FAILED_PRECONDITION",
      /'mig-a'.*'1-wait'/,
    );

    const file = path.join(dir, "migration.json");
    fs.writeFileSync(
      file,
      JSON.stringify({
        newMajorVersion: 0,
        newRevision: 1,
        threadSpecMigrations: {
          entrypoint: {
            newThreadSpecName: "entrypoint",
            nodeMigrations: { "1-wait": { newNodeName: "1-wait-v2" } },
          },
        },
      }),
    );
    const answer = ok(await run("migrate", "wfSpec", "cli-mig", "0", "0", file));
    expect(answer.id).toEqual({ name: "cli-mig" });
    expect(answer.migration.newRevision).toBe(1);
    const wfRun = ok(await run("get", "wfRun", "mig-a"));
    expect(wfRun.wfSpecId).toEqual({ name: "cli-mig", revision: 1 });
    expect(wfRun.oldWfSpecVersions).toEqual([{ name: "cli-mig" }]);
  });

  it("a file that is not a WfSpecVersionMigration never reaches the server", async () => {
    const bad = path.join(dir, "bad.json");
    fs.writeFileSync(bad, JSON.stringify({ newRevision: "one" }));
    usageError(await run("migrate", "wfSpec", "cli-mig", "0", "0", bad), /is not a .*WfSpecVersionMigration/);
    usageError(
      await run("migrate", "wfSpec", "cli-mig", "0", "0", path.join(dir, "missing.json")),
      /cannot read/,
    );
  });
});
