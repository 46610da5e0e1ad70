/**
 * Issue 13, "a 17-byte request kills the server": times at the ends of int64 (and negative nanos) in every
 * request that carries a time are refused as INVALID_ARGUMENT naming the field, answered at once, and the
 * server goes on answering. Before, a metrics window at int64 max looped forever (adding a window length to
 * ~9.2e21 ms no longer changes the number) and the process died at the heap limit; near int64 min the
 * metrics RPCs answered INTERNAL `invalid int64`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server";
import type { Msg, TestClient } from "../support/client";
import { entry, exit, lit, taskDef, thread, varDef, varRef, wfSpec, type NodeDef } from "../support/specs";
import { waitFor } from "../support/wait";

let ts: TestServer;
let c: TestClient;

const INT64_MAX = { seconds: "9223372036854775807", nanos: 0 };
const INT64_MIN = { seconds: "-9223372036854775808", nanos: -1 };
const JUST_PAST_DATE = { seconds: String(8.64e12 + 1), nanos: 0 };
const BAD_NANOS = { seconds: "0", nanos: -5 };

beforeAll(async () => {
  ts = await startTestServer();
  c = ts.client();
  await c.call("PutTaskDef", taskDef("times-td"));
  await c.call("PutWfSpec", wfSpec("times-wf", thread([entry(), exit()])));
});

afterAll(async () => {
  await ts?.close();
});

/** the call answers quickly, INVALID_ARGUMENT naming `field`; the server still answers afterwards */
async function refused(method: string, req: Msg, field: RegExp) {
  const started = Date.now();
  const e = await c.fail(method, req);
  expect(Date.now() - started).toBeLessThan(2000);
  expect(e.code).toBe("INVALID_ARGUMENT");
  expect(e.message).toMatch(field);
  expect((await c.call("GetServerVersion", {})).pre_release_identifier).toBe("pony");
}

describe("a 17-byte request kills the server: times at the ends of int64", () => {
  for (const [what, t] of [
    ["int64 max", INT64_MAX],
    ["int64 min with negative nanos", INT64_MIN],
    ["just past Date's range", JUST_PAST_DATE],
    ["negative nanos", BAD_NANOS],
  ] as const) {
    it(`metrics RPCs refuse a window at ${what} as INVALID_ARGUMENT naming the field`, async () => {
      await refused(
        "GetTaskDefMetricsWindow",
        { window_start: t, window_type: "MINUTES_5", task_def_name: "times-td" },
        /window_start/,
      );
      await refused(
        "GetWfSpecMetricsWindow",
        { wf_spec_id: { name: "times-wf" }, window_start: t, window_length: "DAYS_1" },
        /window_start/,
      );
      await refused(
        "ListTaskDefMetrics",
        { task_def_id: { name: "times-td" }, last_window_start: t, window_length: "HOURS_2", num_windows: 5 },
        /last_window_start/,
      );
      await refused(
        "ListWfSpecMetrics",
        {
          wf_spec_id: { name: "times-wf" },
          last_window_start: t,
          window_length: "MINUTES_5",
          num_windows: 5,
        },
        /last_window_start/,
      );
    });

    it(`searches refuse a time range at ${what} as INVALID_ARGUMENT naming the field`, async () => {
      await refused("SearchWfRun", { wf_spec_name: "times-wf", earliest_start: t }, /earliest_start/);
      await refused("SearchWfRun", { latest_start: t }, /latest_start/);
      await refused("SearchTaskRun", { task_def_name: "times-td", earliest_start: t }, /earliest_start/);
      await refused("SearchUserTaskRun", { latest_start: t }, /latest_start/);
      await refused("SearchNodeRun", { node_type: "TASK", earliest_start: t }, /earliest_start/);
    });
  }

  it("windows that would begin before the earliest instant are refused; the earliest window itself answers", async () => {
    const earliest = { seconds: String(-8.64e12), nanos: 0 };
    await refused(
      "ListTaskDefMetrics",
      {
        task_def_id: { name: "times-td" },
        last_window_start: earliest,
        window_length: "DAYS_1",
        num_windows: 3,
      },
      /first window/,
    );
    const one = await c.call("ListTaskDefMetrics", {
      task_def_id: { name: "times-td" },
      last_window_start: earliest,
      window_length: "DAYS_1",
      num_windows: 1,
    });
    expect(one.results).toHaveLength(1);
    expect(one.results[0].window_start.seconds).toBe(String(-8.64e12));
    // the latest window that exists answers too, with zeros
    const latest = await c.call("GetTaskDefMetricsWindow", {
      window_start: { seconds: String(8.64e12), nanos: 0 },
      window_type: "MINUTES_5",
      task_def_name: "times-td",
    });
    expect(latest.total_scheduled).toBe("0");
  });
});

const sleepNode = (length: Msg): NodeDef => ({ name: "1-sleep-SLEEP", node: { sleep: length } });
const sleepWf = (name: string, length: Msg, variables: Msg[] = []) =>
  wfSpec(name, thread([entry(), sleepNode(length), exit("2-exit-EXIT")], variables));

describe("huge durations answer INTERNAL: SLEEP lengths at the ends of int64", () => {
  it("PutWfSpec refuses a literal raw_seconds or timestamp out of range, naming it; nothing is stored", async () => {
    for (const [name, length, field] of [
      ["times-sleep-max", { raw_seconds: lit({ int: "9223372036854775807" }) }, /sleep raw_seconds/],
      ["times-sleep-min", { raw_seconds: lit({ int: "-9223372036854775808" }) }, /sleep raw_seconds/],
      ["times-sleep-ts", { timestamp: lit({ int: "9223372036854775807" }) }, /sleep timestamp/],
    ] as const) {
      const e = await c.fail("PutWfSpec", sleepWf(name, length));
      expect(e.code).toBe("INVALID_ARGUMENT");
      expect(e.message).toMatch(field);
      expect((await c.fail("GetWfSpec", { name, major_version: 0, revision: 0 })).code).toBe("NOT_FOUND");
    }
    // the largest sleep there is, is taken
    await c.call("PutWfSpec", sleepWf("times-sleep-long", { raw_seconds: lit({ int: String(8.64e12) }) }));
  });

  it("a raw_seconds variable at int64 max fails the SLEEP node with VAR_SUB_ERROR saying why; RunWf answers", async () => {
    await c.call(
      "PutWfSpec",
      sleepWf("times-sleep-var", { raw_seconds: varRef("seconds") }, [varDef("seconds", "INT")]),
    );
    for (const [id, seconds] of [
      ["times-sleep-var-max", "9223372036854775807"],
      ["times-sleep-var-min", "-9223372036854775808"],
    ]) {
      const run = await c.call("RunWf", {
        wf_spec_name: "times-sleep-var",
        id,
        variables: { seconds: { int: seconds } },
      });
      expect(run.id.id).toBe(id);
      const ended = await waitFor(async () => {
        const r = await c.call("GetWfRun", { id });
        return r.status === "RUNNING" ? undefined : r;
      });
      expect(ended.status).toBe("ERROR");
      const node = await c.call("GetNodeRun", { wf_run_id: { id }, thread_run_number: 0, position: 1 });
      expect(node.status).toBe("ERROR");
      expect(node.failures[0].failure_name).toBe("VAR_SUB_ERROR");
      expect(node.failures[0].message).toMatch(/raw_seconds.*(out of range|must be at least)/);
    }
    // a year is fine
    const ok = await c.call("RunWf", {
      wf_spec_name: "times-sleep-var",
      id: "times-sleep-var-year",
      variables: { seconds: { int: String(365 * 86400) } },
    });
    expect(ok.status).toBe("RUNNING");
  });
});

describe("List RPCs of an unknown WfRun answer an empty list", () => {
  it("ListNodeRuns, ListTaskRuns, ListVariables, ListExternalEvents and ListUserTaskRuns are NOT_FOUND for a WfRun that does not exist", async () => {
    for (const method of [
      "ListNodeRuns",
      "ListTaskRuns",
      "ListVariables",
      "ListExternalEvents",
      "ListUserTaskRuns",
    ]) {
      const e = await c.fail(method, { wf_run_id: { id: "no-such-run" } });
      expect(e.code, method).toBe("NOT_FOUND");
      expect(e.message).toMatch(/WfRun 'no-such-run' not found/);
    }
    // an existing WfRun with nothing of the kind is an empty list
    await c.call("RunWf", { wf_spec_name: "times-wf", id: "times-empty-lists" });
    expect((await c.call("ListExternalEvents", { wf_run_id: { id: "times-empty-lists" } })).results).toEqual(
      [],
    );
    expect((await c.call("ListUserTaskRuns", { wf_run_id: { id: "times-empty-lists" } })).results).toEqual(
      [],
    );
    expect((await c.call("ListNodeRuns", { wf_run_id: { id: "times-empty-lists" } })).results.length).toBe(2);
  });
});
