/**
 * `pony schedule`, `get|search|delete scheduledWfRun` as a subprocess against a real server whose clock the
 * test moves forward, so a tick comes due at once.
 */
import { ManualClock } from "@pony/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../../test/support/server";
import { waitFor } from "../../../test/support/wait";
import { failsWith, ok, pony, usageError } from "./support";

let ts: TestServer;
const clock = new ManualClock();
const run = (...args: string[]) => pony(ts.address, args);

beforeAll(async () => {
  ts = await startTestServer({ clock });
  await ts.client().call("PutWfSpec", {
    name: "cli-sched",
    entrypoint_thread_name: "entrypoint",
    thread_specs: {
      entrypoint: {
        nodes: {
          "0-entrypoint-ENTRYPOINT": { entrypoint: {}, outgoing_edges: [{ sink_node_name: "1-exit-EXIT" }] },
          "1-exit-EXIT": { exit: {} },
        },
        variable_defs: [{ var_def: { name: "count", type: "INT" }, required: true }],
      },
    },
  });
});
afterAll(async () => {
  await ts.close();
});

describe("pony schedule", () => {
  it("schedules a WfSpec with typed variables; get, search and delete show and remove the schedule", async () => {
    const made = ok(await run("schedule", "cli-sched", "*/10 * * * *", "count", "42", "--id", "every-ten"));
    expect(made).toMatchObject({
      id: { id: "every-ten" },
      wfSpecId: { name: "cli-sched" },
      cronExpression: "*/10 * * * *",
      variables: { count: { int: "42" } },
    });
    expect(ok(await run("get", "scheduledWfRun", "every-ten"))).toEqual(made);
    expect(ok(await run("search", "scheduledWfRun", "--wfSpecName", "cli-sched"))).toEqual({
      results: [{ id: "every-ten" }],
    });

    // the next tick starts a WfRun with the schedule's variables
    const tick = Math.floor(clock.now() / 600_000) * 600_000 + 600_000;
    clock.advance(tick - clock.now() + 5);
    const iso = new Date(tick).toISOString().replace(/[-:T]/g, "").slice(0, 12);
    const runId = `every-ten-${iso}`;
    const wfRun = await waitFor(async () => {
      const r = await run("get", "wfRun", runId);
      return r.code === 0 ? r.json() : undefined;
    });
    expect(wfRun.status).toBe("COMPLETED");

    expect(ok(await run("delete", "scheduledWfRun", "every-ten"))).toEqual({});
    failsWith(await run("get", "scheduledWfRun", "every-ten"), "NOT_FOUND", /every-ten/);
  });

  it("a bad cron expression is the server's INVALID_ARGUMENT; a bad variable never reaches it", async () => {
    failsWith(
      await run("schedule", "cli-sched", "* * *", "count", "1"),
      "INVALID_ARGUMENT",
      /has 3 fields: a cron expression has five/,
    );
    usageError(
      await run("schedule", "cli-sched", "* * * * *", "count", "many"),
      /variable 'count' is an INT/,
    );
    usageError(
      await run("schedule", "cli-sched", "* * * * *", "--revision", "1"),
      /--revision needs --major/,
    );
    failsWith(await run("delete", "scheduledWfRun", "nope"), "NOT_FOUND");
  });
});
