/**
 * Black-box tests of SLEEP nodes through gRPC (B-EVT-5): `raw_seconds`, `timestamp` (epoch ms) and
 * `iso_date`, a time in the past, `maturation_time` set on arrival, bad lengths, a sleep that matures while
 * the thread is HALTED, sleeps longer than a Node timer can hold, and sleeps (and an EXTERNAL_EVENT timeout)
 * that span a server restart, in a child-process server killed with SIGKILL.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server";
import type { Msg, TestClient } from "../support/client";
import { startChildServer, type ChildServer } from "../support/process-server";
import { entry, exit, int, lit, str, thread, varDef, varRef, wfSpec, type NodeDef } from "../support/specs";
import { waitFor } from "../support/wait";
import { partitionOf } from "../../packages/server/src/store/placement";

let ts: TestServer;
let c: TestClient;

const tsMs = (t: Msg | undefined | null): number => Number(t!.seconds) * 1000 + Math.floor(t!.nanos / 1e6);

/** Slack for a timer on a loaded 2-core machine: the design aims well under 100 ms. */
const LATE_MS = 500;

const sleepNode = (name: string, length: Msg): NodeDef => ({ name, node: { sleep: length } });

/** ENTRYPOINT → SLEEP(length) → EXIT, with the given variables */
const sleepWf = (name: string, length: Msg, variables: Msg[] = []) =>
  wfSpec(name, thread([entry(), sleepNode("1-sleep-SLEEP", length), exit("2-exit-EXIT")], variables));

async function sleepRun(id: string, client = c): Promise<Msg> {
  return client.call("GetNodeRun", { wf_run_id: { id }, thread_run_number: 0, position: 1 });
}

async function waitStatus(id: string, status: string, client = c, timeoutMs = 15_000): Promise<Msg> {
  return waitFor(
    async () => {
      const r = await client.call("GetWfRun", { id });
      return r.status === status ? r : undefined;
    },
    timeoutMs,
    `WfRun ${id} to be ${status}`,
  );
}

/** Checks a finished SLEEP NodeRun against its due time, on the server's clock. */
function expectMaturedOnTime(n: Msg, dueMs: number, wfRun?: Msg): void {
  expect(n.status).toBe("COMPLETED");
  expect(n.sleep.matured).toBe(true);
  expect(tsMs(n.sleep.maturation_time)).toBe(dueMs);
  const late = tsMs(n.end_time) - dueMs;
  expect(late).toBeGreaterThanOrEqual(0);
  expect(late).toBeLessThan(LATE_MS);
  if (wfRun) {
    expect(wfRun.status).toBe("COMPLETED");
    expect(tsMs(wfRun.end_time)).toBe(tsMs(n.end_time));
  }
}

beforeAll(async () => {
  ts = await startTestServer();
  c = ts.client();
  await c.call("PutWfSpec", sleepWf("sl-raw", { raw_seconds: lit(int(1)) }));
  await c.call(
    "PutWfSpec",
    sleepWf("sl-raw-var", { raw_seconds: varRef("seconds") }, [
      varDef("seconds", "INT", { default_value: int(1) }),
    ]),
  );
  await c.call("PutWfSpec", sleepWf("sl-until", { timestamp: varRef("until") }, [varDef("until", "INT")]));
  await c.call("PutWfSpec", sleepWf("sl-iso", { iso_date: varRef("date") }, [varDef("date", "STR")]));
  await c.call("PutWfSpec", sleepWf("sl-raw-str", { raw_seconds: varRef("s") }, [varDef("s", "STR")]));
});

afterAll(async () => {
  await ts.close();
});

describe("SLEEP nodes", () => {
  it("B-EVT-5 raw_seconds: maturation_time is set on arrival and the node completes once it has passed", async () => {
    const run = await c.call("RunWf", { wf_spec_name: "sl-raw", id: "sl-raw-1" });
    expect(run.status).toBe("RUNNING");
    const waiting = await sleepRun("sl-raw-1");
    expect(waiting.status).toBe("RUNNING");
    expect(waiting.sleep.matured).toBe(false);
    const dueMs = tsMs(waiting.arrival_time) + 1000;
    expect(tsMs(waiting.sleep.maturation_time)).toBe(dueMs);
    const done = await waitStatus("sl-raw-1", "COMPLETED");
    expectMaturedOnTime(await sleepRun("sl-raw-1"), dueMs, done);
  });

  it("B-EVT-5 raw_seconds from a variable", async () => {
    await c.call("RunWf", { wf_spec_name: "sl-raw-var", id: "sl-raw-var", variables: { seconds: int(2) } });
    const waiting = await sleepRun("sl-raw-var");
    const dueMs = tsMs(waiting.arrival_time) + 2000;
    expect(tsMs(waiting.sleep.maturation_time)).toBe(dueMs);
    const done = await waitStatus("sl-raw-var", "COMPLETED");
    expectMaturedOnTime(await sleepRun("sl-raw-var"), dueMs, done);
  });

  it("B-EVT-5 timestamp sleeps until that epoch millisecond", async () => {
    const until = Date.now() + 1234;
    await c.call("RunWf", { wf_spec_name: "sl-until", id: "sl-until", variables: { until: int(until) } });
    const waiting = await sleepRun("sl-until");
    expect(waiting.status).toBe("RUNNING");
    expect(tsMs(waiting.sleep.maturation_time)).toBe(until);
    const done = await waitStatus("sl-until", "COMPLETED");
    expectMaturedOnTime(await sleepRun("sl-until"), until, done);
  });

  it("B-EVT-5 iso_date sleeps until that date", async () => {
    const dueMs = Date.now() + 1200;
    const date = new Date(dueMs).toISOString();
    await c.call("RunWf", { wf_spec_name: "sl-iso", id: "sl-iso", variables: { date: str(date) } });
    const waiting = await sleepRun("sl-iso");
    expect(waiting.status).toBe("RUNNING");
    expect(tsMs(waiting.sleep.maturation_time)).toBe(dueMs);
    const done = await waitStatus("sl-iso", "COMPLETED");
    expectMaturedOnTime(await sleepRun("sl-iso"), dueMs, done);
  });

  it("B-EVT-5 an iso_date with a time zone offset is read in that zone", async () => {
    const dueMs = Math.ceil((Date.now() + 1000) / 1000) * 1000;
    // the same instant written in UTC+02:00
    const local = new Date(dueMs + 2 * 60 * 60_000).toISOString().replace("Z", "+02:00");
    await c.call("RunWf", { wf_spec_name: "sl-iso", id: "sl-iso-tz", variables: { date: str(local) } });
    const waiting = await sleepRun("sl-iso-tz");
    expect(waiting.status).toBe("RUNNING");
    expect(tsMs(waiting.sleep.maturation_time)).toBe(dueMs);
    const done = await waitStatus("sl-iso-tz", "COMPLETED");
    expectMaturedOnTime(await sleepRun("sl-iso-tz"), dueMs, done);
  });

  it("B-EVT-5 a time in the past (or zero seconds) completes the node at once", async () => {
    const past = Date.now() - 60_000;
    const runs = [
      { id: "sl-past-ts", wf_spec_name: "sl-until", variables: { until: int(past) }, due: past },
      {
        id: "sl-past-iso",
        wf_spec_name: "sl-iso",
        variables: { date: str(new Date(past).toISOString()) },
        due: past,
      },
      { id: "sl-zero", wf_spec_name: "sl-raw-var", variables: { seconds: int(0) }, due: undefined },
      { id: "sl-negative", wf_spec_name: "sl-raw-var", variables: { seconds: int(-5) }, due: undefined },
    ];
    for (const { due, ...req } of runs) {
      // RunWf answers once the run went as far as it can: through the SLEEP to the end
      const run = await c.call("RunWf", req);
      expect(run.status).toBe("COMPLETED");
      const n = await sleepRun(req.id);
      expect(n.status).toBe("COMPLETED");
      expect(n.sleep.matured).toBe(true);
      expect(tsMs(n.end_time)).toBe(tsMs(n.arrival_time));
      if (due !== undefined) expect(tsMs(n.sleep.maturation_time)).toBe(due);
      else expect(tsMs(n.sleep.maturation_time)).toBeLessThanOrEqual(tsMs(n.arrival_time));
    }
  });

  it("B-EVT-5 a length that is not a date or a number fails the node with VAR_SUB_ERROR", async () => {
    const bad = [
      { id: "sl-bad-iso", wf_spec_name: "sl-iso", variables: { date: str("next tuesday-ish") } },
      { id: "sl-bad-raw", wf_spec_name: "sl-raw-str", variables: { s: str("ten") } },
      { id: "sl-null-ts", wf_spec_name: "sl-until" },
    ];
    for (const req of bad) {
      const run = await c.call("RunWf", req);
      expect(run.status).toBe("ERROR");
      const n = await sleepRun(req.id);
      expect(n.status).toBe("ERROR");
      expect(n.failures[0].failure_name).toBe("VAR_SUB_ERROR");
    }
  });

  it("B-EVT-5 a sleep that matures while the thread is HALTED lets the thread go on after ResumeWfRun", async () => {
    await c.call("RunWf", { wf_spec_name: "sl-raw", id: "sl-halted" });
    await c.call("StopWfRun", { wf_run_id: { id: "sl-halted" }, thread_run_number: 0 });
    expect((await c.call("GetWfRun", { id: "sl-halted" })).status).toBe("HALTED");
    const dueMs = tsMs((await sleepRun("sl-halted")).sleep.maturation_time);
    await waitFor(
      async () => ((await sleepRun("sl-halted")).sleep.matured ? true : undefined),
      10_000,
      "maturity",
    );
    expect((await c.call("GetWfRun", { id: "sl-halted" })).status).toBe("HALTED");
    const matured = await sleepRun("sl-halted");
    expect(tsMs(matured.end_time) - dueMs).toBeLessThan(LATE_MS);
    await c.call("ResumeWfRun", { wf_run_id: { id: "sl-halted" }, thread_run_number: 0 });
    expect((await c.call("GetWfRun", { id: "sl-halted" })).status).toBe("COMPLETED");
  });

  it("B-EVT-5 a sleep whose batch the store refuses (a store failure, another partition's fence) matures at the next try, once", async () => {
    const store = ts.server.runtime.store;
    const commit = store.commit.bind(store);
    let refused = 0;
    // the first batch that carries this run's timer firing is refused, as a failed commit would be
    store.commit = (ops, fence) => {
      if (refused === 0 && ops.some((op) => op.op === "deleteTimer" && op.wfRunKey === "sl-refused")) {
        refused++;
        return Promise.reject(new Error("the test refuses this batch"));
      }
      return commit(ops, fence);
    };
    try {
      const until = Date.now() + 300;
      await c.call("RunWf", { wf_spec_name: "sl-until", id: "sl-refused", variables: { until: int(until) } });
      const done = await waitStatus("sl-refused", "COMPLETED");
      expect(refused).toBe(1);
      const n = await sleepRun("sl-refused");
      expect(n.sleep.matured).toBe(true);
      // tried again a second later, not at the next takeover of the partition
      expect(tsMs(n.end_time) - until).toBeGreaterThanOrEqual(900);
      expect(tsMs(n.end_time) - until).toBeLessThan(1000 + LATE_MS);
      expect(tsMs(done.end_time)).toBe(tsMs(n.end_time));
      const nodes = await c.call("ListNodeRuns", { wf_run_id: { id: "sl-refused" } });
      expect((nodes.results as Msg[]).map((r) => r.node_name)).toEqual([
        "0-entrypoint-ENTRYPOINT",
        "1-sleep-SLEEP",
        "2-exit-EXIT",
      ]);
    } finally {
      store.commit = commit;
    }
  });

  it("B-EVT-5 a sleep longer than a Node timer can hold (24.8 days) waits, without waking the server early", async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on("warning", onWarning);
    try {
      const days = 40;
      await c.call("RunWf", {
        wf_spec_name: "sl-raw-var",
        id: "sl-long",
        variables: { seconds: int(days * 86_400) },
      });
      const n = await sleepRun("sl-long");
      expect(tsMs(n.sleep.maturation_time)).toBe(tsMs(n.arrival_time) + days * 86_400_000);
      await new Promise((r) => setTimeout(r, 300));
      expect((await sleepRun("sl-long")).status).toBe("RUNNING");
      expect((await c.call("GetWfRun", { id: "sl-long" })).status).toBe("RUNNING");
      expect(warnings).not.toContain("TimeoutOverflowWarning");
    } finally {
      process.off("warning", onWarning);
    }
  });
});

describe("timers across a restart", () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "pony-sleep-restart-"));
  let child: ChildServer | undefined;

  afterAll(async () => {
    await child?.kill();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("B-EVT-5 sleeps and an EXTERNAL_EVENT timeout armed before a SIGKILL fire on time after the restart", async () => {
    child = await startChildServer(dataDir);
    let cc = child.client();
    await cc.call("PutExternalEventDef", { name: "sl-never" });
    await cc.call("PutWfSpec", sleepWf("sl-r-raw", { raw_seconds: lit(int(5)) }));
    await cc.call(
      "PutWfSpec",
      sleepWf("sl-r-until", { timestamp: varRef("until") }, [varDef("until", "INT")]),
    );
    await cc.call(
      "PutWfSpec",
      wfSpec(
        "sl-r-timeout",
        thread([
          entry(),
          {
            name: "1-never-EXTERNAL_EVENT",
            node: {
              external_event: { external_event_def_id: { name: "sl-never" }, timeout_seconds: lit(int(5)) },
            },
          },
          exit("2-exit-EXIT"),
        ]),
      ),
    );
    await cc.call("RunWf", { wf_spec_name: "sl-r-raw", id: "r-raw" });
    const until = Date.now() + 5000;
    await cc.call("RunWf", { wf_spec_name: "sl-r-until", id: "r-until", variables: { until: int(until) } });
    await cc.call("RunWf", { wf_spec_name: "sl-r-timeout", id: "r-timeout" });
    // one that comes due while the server is down
    await cc.call("RunWf", {
      wf_spec_name: "sl-r-until",
      id: "r-overdue",
      variables: { until: int(Date.now() + 300) },
    });
    // and one due while the server is down in each of the 12 partitions: the metadata partition (0), taken
    // with an await between loading its timers and owning it, once dropped a timer that fired meanwhile
    const perPartition = new Map<number, string>();
    for (let i = 0; perPartition.size < 12; i++) {
      const id = `r-overdue-${i}`;
      const part = partitionOf("default", id, 12);
      if (perPartition.has(part)) continue;
      perPartition.set(part, id);
      await cc.call("RunWf", {
        wf_spec_name: "sl-r-until",
        id,
        variables: { until: int(Date.now() + 300) },
      });
    }
    const rawDue = tsMs((await sleepRun("r-raw", cc)).sleep.maturation_time);
    const timeoutArrival = tsMs(
      (await cc.call("GetNodeRun", { wf_run_id: { id: "r-timeout" }, thread_run_number: 0, position: 1 }))
        .arrival_time,
    );

    await child.kill("SIGKILL");
    await new Promise((r) => setTimeout(r, 500));
    child = await startChildServer(dataDir);
    cc = child.client();
    const restartedMs = Date.now();
    expect((await cc.call("GetWfRun", { id: "r-raw" })).status).toBe("RUNNING");

    const overdue = await waitStatus("r-overdue", "COMPLETED", cc);
    const overdueNode = await sleepRun("r-overdue", cc);
    expect(overdueNode.sleep.matured).toBe(true);
    // fired as soon as the restarted server got to it (it was due while the server was down)
    expect(tsMs(overdue.end_time)).toBeLessThan(restartedMs + 2000);

    for (const id of perPartition.values()) {
      const run = await waitStatus(id, "COMPLETED", cc);
      expect(tsMs(run.end_time)).toBeLessThan(restartedMs + 2000);
    }

    const raw = await waitStatus("r-raw", "COMPLETED", cc);
    expectMaturedOnTime(await sleepRun("r-raw", cc), rawDue, raw);
    const untilRun = await waitStatus("r-until", "COMPLETED", cc);
    expectMaturedOnTime(await sleepRun("r-until", cc), until, untilRun);
    const timedOut = await waitStatus("r-timeout", "ERROR", cc);
    const t = await cc.call("GetNodeRun", {
      wf_run_id: { id: "r-timeout" },
      thread_run_number: 0,
      position: 1,
    });
    expect(t.external_event.timed_out).toBe(true);
    expect(t.failures[0].failure_name).toBe("TIMEOUT");
    const late = tsMs(t.end_time) - (timeoutArrival + 5000);
    expect(late).toBeGreaterThanOrEqual(0);
    expect(late).toBeLessThan(LATE_MS);
    expect(tsMs(timedOut.end_time)).toBe(tsMs(t.end_time));
  }, 60_000);
});
