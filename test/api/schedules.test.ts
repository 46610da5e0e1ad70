/**
 * Black-box tests of scheduled WfRuns through gRPC (LittleHorse 1.x: ScheduleWf, GetScheduledWfRun,
 * SearchScheduledWfRun, DeleteScheduledWfRun). The server runs on a ManualClock the tests move forward, so a
 * tick of a cron schedule comes due at once instead of at the next minute; restarts reuse the data dir and
 * the clock, so a tick can come due while the server is down.
 */
import { ManualClock } from "@pony/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PgStore } from "../../packages/server/src/store/pg";
import { SqliteStore } from "../../packages/server/src/store/sqlite";
import type { Store } from "../../packages/server/src/store/store";
import type { Msg, TestClient } from "../support/client";
import { startTestServer, type TestServer } from "../support/server";
import { entry, exit, int, str, thread, varDef, wfSpec } from "../support/specs";
import { js, variablesOf } from "../support/values";
import { waitFor } from "../support/wait";

const MINUTE = 60_000;

/** ENTRYPOINT → EXIT with a required STR `who` and an INT `n` with a default */
const greetWf = (name: string) =>
  wfSpec(
    name,
    thread(
      [entry(), exit()],
      [varDef("who", "STR", { required: true }), varDef("n", "INT", { default_value: int(7) })],
    ),
  );

/** the WfRun id of a schedule's tick: the schedule id, then the tick's UTC time to the minute */
function tickId(scheduleId: string, tickMs: number): string {
  const iso = new Date(tickMs).toISOString();
  return `${scheduleId}-${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}`;
}

/** the first time after `ms` that is a whole multiple of `everyMs` */
const nextMultiple = (ms: number, everyMs: number) => Math.floor(ms / everyMs) * everyMs + everyMs;

async function runsOf(c: TestClient, wfSpecName: string): Promise<string[]> {
  const res = await c.call("SearchWfRun", { wf_spec_name: wfSpecName, limit: 1000 });
  return (res.results as Msg[]).map((r) => r.id as string).sort();
}

async function waitRuns(c: TestClient, wfSpecName: string, want: string[]): Promise<void> {
  await waitFor(
    async () => {
      const got = await runsOf(c, wfSpecName);
      return got.length === want.length && got.every((id, i) => id === [...want].sort()[i]) ? got : undefined;
    },
    10_000,
    `runs of ${wfSpecName} to be ${want.join(", ")}`,
  );
  // and no more come
  await new Promise((r) => setTimeout(r, 150));
  expect(await runsOf(c, wfSpecName)).toEqual([...want].sort());
}

describe("scheduled WfRuns", () => {
  let clock: ManualClock;
  let ts: TestServer;
  let c: TestClient;

  beforeAll(async () => {
    clock = new ManualClock();
    ts = await startTestServer({ clock });
    c = ts.client();
    await c.call("PutWfSpec", greetWf("greet"));
  });
  afterAll(async () => {
    await ts.close();
  });

  it("ScheduleWf answers the ScheduledWfRun and the first run comes at the next matching time, not at once", async () => {
    const s = await c.call("ScheduleWf", {
      id: "every-5",
      wf_spec_name: "greet",
      variables: { who: str("ada") },
      cron_expression: "*/5 * * * *",
    });
    expect(s.id).toEqual({ id: "every-5" });
    expect(s.wf_spec_id).toEqual({ name: "greet", major_version: 0, revision: 0 });
    expect(s.cron_expression).toBe("*/5 * * * *");
    expect(js((s.variables as Record<string, Msg>).who)).toBe("ada");
    expect(Math.abs(Number((s.created_at as Msg).seconds) * 1000 - clock.now())).toBeLessThan(2000);
    expect(await c.call("GetScheduledWfRun", { id: "every-5" })).toEqual(s);

    // nothing runs at once
    await new Promise((r) => setTimeout(r, 300));
    expect(await runsOf(c, "greet")).toEqual([]);

    const first = nextMultiple(clock.now(), 5 * MINUTE);
    clock.advance(first - clock.now() + 5);
    await waitRuns(c, "greet", [tickId("every-5", first)]);
    const run = await c.call("GetWfRun", { id: tickId("every-5", first) });
    expect(run.status).toBe("COMPLETED");
    expect(await variablesOf(c, { id: tickId("every-5", first) })).toEqual({ who: "ada", n: 7 });

    // the next tick, five minutes on
    clock.advance(5 * MINUTE);
    await waitRuns(c, "greet", [tickId("every-5", first), tickId("every-5", first + 5 * MINUTE)]);

    await c.call("DeleteScheduledWfRun", { id: { id: "every-5" } });
  });

  it("bad input: a cron expression that is not five valid fields is INVALID_ARGUMENT naming the problem", async () => {
    const schedule = (cron: string, extra: Msg = {}) =>
      c.fail("ScheduleWf", {
        wf_spec_name: "greet",
        variables: { who: str("x") },
        cron_expression: cron,
        ...extra,
      });
    let e = await schedule("* * * *");
    expect(e.code).toBe("INVALID_ARGUMENT");
    expect(e.message).toMatch(/'\* \* \* \*' has 4 fields: a cron expression has five \(minute, hour/);
    e = await schedule("0 0 * * * *");
    expect(e.message).toMatch(/has 6 fields/);
    e = await schedule("61 * * * *");
    expect(e.code).toBe("INVALID_ARGUMENT");
    expect(e.message).toMatch(/'61 \* \* \* \*' is not valid: .*61.*0-59/);
    e = await schedule("0 0 31 2 *");
    expect(e.code).toBe("INVALID_ARGUMENT");
    expect(e.message).toMatch(/'0 0 31 2 \*' is not valid: Invalid explicit day of month/);
    e = await schedule("");
    expect(e.message).toMatch(/has 0 fields/);
    e = await schedule("* * * * *", { wf_spec_name: "" });
    expect(e).toEqual({ code: "INVALID_ARGUMENT", message: "wf_spec_name is required" });
    e = await schedule("* * * * *", { wf_spec_name: "nope" });
    expect(e).toEqual({ code: "NOT_FOUND", message: "WfSpec 'nope' not found" });
    e = await schedule("* * * * *", { major_version: 3 });
    expect(e).toEqual({ code: "NOT_FOUND", message: "WfSpec 'greet' version 3 not found" });
    e = await schedule("* * * * *", { variables: {} });
    expect(e.code).toBe("INVALID_ARGUMENT");
    expect(e.message).toMatch(/who/);
    e = await schedule("* * * * *", { variables: { who: int(3) } });
    expect(e.code).toBe("INVALID_ARGUMENT");
    e = await schedule("* * * * *", { id: "Upper" });
    expect(e.code).toBe("INVALID_ARGUMENT");
    expect(e.message).toMatch(/invalid scheduled WfRun id 'Upper'/);
    e = await schedule("* * * * *", { id: "x".repeat(101) });
    expect(e.code).toBe("INVALID_ARGUMENT");
    e = await schedule("* * * * *", { parent_wf_run_id: { id: "missing" } });
    expect(e).toEqual({ code: "INVALID_ARGUMENT", message: "parent WfRun 'missing' does not exist" });
    // nothing was stored by any of them
    expect((await c.call("SearchScheduledWfRun", { wf_spec_name: "greet" })).results).toEqual([]);
  });

  it("a second ScheduleWf with the same id is ALREADY_EXISTS; Get and Delete of an unknown id are NOT_FOUND", async () => {
    const req = {
      id: "dup",
      wf_spec_name: "greet",
      variables: { who: str("x") },
      cron_expression: "0 0 1 1 *",
    };
    await c.call("ScheduleWf", req);
    expect((await c.fail("ScheduleWf", req)).code).toBe("ALREADY_EXISTS");
    expect(await c.fail("GetScheduledWfRun", { id: "nope" })).toEqual({
      code: "NOT_FOUND",
      message: "scheduled WfRun 'nope' not found",
    });
    expect((await c.fail("DeleteScheduledWfRun", { id: { id: "nope" } })).code).toBe("NOT_FOUND");
    expect(await c.fail("GetScheduledWfRun", { id: "" })).toEqual({
      code: "INVALID_ARGUMENT",
      message: "id is required",
    });
    await c.call("DeleteScheduledWfRun", { id: { id: "dup" } });
  });

  it("DeleteScheduledWfRun stops the schedule: no run comes after it", async () => {
    await c.call("PutWfSpec", greetWf("stopped"));
    await c.call("ScheduleWf", {
      id: "gone",
      wf_spec_name: "stopped",
      variables: { who: str("x") },
      cron_expression: "* * * * *",
    });
    await c.call("DeleteScheduledWfRun", { id: { id: "gone" } });
    expect((await c.fail("GetScheduledWfRun", { id: "gone" })).code).toBe("NOT_FOUND");
    clock.advance(3 * MINUTE);
    await waitRuns(c, "stopped", []);
  });

  it("deleting the WfSpec version deletes its schedules", async () => {
    await c.call("PutWfSpec", greetWf("doomed"));
    await c.call("ScheduleWf", {
      id: "doomed-sched",
      wf_spec_name: "doomed",
      variables: { who: str("x") },
      cron_expression: "* * * * *",
    });
    await c.call("DeleteWfSpec", { id: { name: "doomed", major_version: 0, revision: 0 } });
    expect((await c.fail("GetScheduledWfRun", { id: "doomed-sched" })).code).toBe("NOT_FOUND");
    expect((await c.call("SearchScheduledWfRun", { wf_spec_name: "doomed" })).results).toEqual([]);
    clock.advance(2 * MINUTE);
    await waitRuns(c, "doomed", []);
  });

  it("SearchScheduledWfRun finds a WfSpec's schedules in id order, by version, paged with a bookmark", async () => {
    await c.call("PutWfSpec", greetWf("paged"));
    const v1 = greetWf("paged");
    (v1.thread_specs as Record<string, Msg>).entrypoint!.variable_defs = [
      varDef("who", "STR", { required: true }),
    ];
    const spec1 = await c.call("PutWfSpec", v1);
    expect(spec1.id).toEqual({ name: "paged", major_version: 0, revision: 1 });
    for (const id of ["p-c", "p-a", "p-d", "p-b"]) {
      await c.call("ScheduleWf", {
        id,
        wf_spec_name: "paged",
        major_version: id === "p-d" ? 0 : undefined,
        revision: id === "p-d" ? 0 : undefined,
        variables: { who: str(id) },
        cron_expression: "0 0 1 1 *",
      });
    }
    const ids = (res: Msg) => (res.results as Msg[]).map((r) => r.id);
    let page = await c.call("SearchScheduledWfRun", { wf_spec_name: "paged", limit: 3 });
    expect(ids(page)).toEqual(["p-a", "p-b", "p-c"]);
    expect(page.bookmark).toBeTruthy();
    page = await c.call("SearchScheduledWfRun", { wf_spec_name: "paged", limit: 3, bookmark: page.bookmark });
    expect(ids(page)).toEqual(["p-d"]);
    expect(page.bookmark ?? null).toBeNull();
    const search = async (req: Msg) =>
      ids(await c.call("SearchScheduledWfRun", { wf_spec_name: "paged", ...req }));
    expect(await search({ major_version: 0 })).toEqual(["p-a", "p-b", "p-c", "p-d"]);
    expect(await search({ major_version: 0, revision: 0 })).toEqual(["p-d"]);
    expect(await search({ major_version: 0, revision: 1 })).toEqual(["p-a", "p-b", "p-c"]);
    expect(await search({ major_version: 2 })).toEqual([]);
    expect((await c.fail("SearchScheduledWfRun", { wf_spec_name: "" })).code).toBe("INVALID_ARGUMENT");
    expect((await c.fail("SearchScheduledWfRun", { wf_spec_name: "paged", revision: 0 })).code).toBe(
      "INVALID_ARGUMENT",
    );
    expect(
      (await c.fail("SearchScheduledWfRun", { wf_spec_name: "paged", bookmark: Buffer.from("junk") })).code,
    ).toBe("INVALID_ARGUMENT");
    // the runs use the version the schedule was made for
    expect((await c.call("GetScheduledWfRun", { id: "p-d" })).wf_spec_id).toEqual({
      name: "paged",
      major_version: 0,
      revision: 0,
    });
    for (const id of ["p-a", "p-b", "p-c", "p-d"]) await c.call("DeleteScheduledWfRun", { id: { id } });
  });

  it("a schedule with a parent WfRun starts each run as the parent's child", async () => {
    await c.call("PutWfSpec", greetWf("parent-wf"));
    await c.call("PutWfSpec", { ...greetWf("child-wf"), parent_wf_spec: { wf_spec_name: "parent-wf" } });
    await c.call("RunWf", { wf_spec_name: "parent-wf", id: "the-parent", variables: { who: str("p") } });
    const missing = await c.fail("ScheduleWf", {
      wf_spec_name: "child-wf",
      variables: { who: str("c") },
      cron_expression: "* * * * *",
    });
    expect(missing.code).toBe("INVALID_ARGUMENT");
    expect(missing.message).toMatch(/must run as a child of a WfRun of WfSpec 'parent-wf'/);
    await c.call("ScheduleWf", {
      id: "kids",
      wf_spec_name: "child-wf",
      variables: { who: str("c") },
      parent_wf_run_id: { id: "the-parent" },
      cron_expression: "* * * * *",
    });
    const tick = nextMultiple(clock.now(), MINUTE);
    clock.advance(tick - clock.now() + 5);
    const child = await waitFor(
      () =>
        c
          .call("GetWfRun", { id: tickId("kids", tick), parent_wf_run_id: { id: "the-parent" } })
          .catch(() => undefined),
      10_000,
      "the child run",
    );
    expect(child.status).toBe("COMPLETED");
    await c.call("DeleteScheduledWfRun", { id: { id: "kids" } });
  });
});

/** Opens the stopped server's store directly (to play a crash between a tick's run and its cursor's move). */
async function openStore(ts: TestServer): Promise<Store> {
  return ts.databaseUrl ? PgStore.open(ts.databaseUrl) : new SqliteStore(ts.dataDir);
}

describe("scheduled WfRuns across restarts", () => {
  const clock = new ManualClock();
  const servers: TestServer[] = [];
  afterAll(async () => {
    for (const s of servers) await s.close();
  });

  async function start(
    dataDir?: string,
    databaseUrl?: string,
    extraArgs: string[] = [],
  ): Promise<TestServer> {
    const ts = await startTestServer({ clock, dataDir, databaseUrl, extraArgs });
    servers.push(ts);
    return ts;
  }

  async function scheduleHourly(ts: TestServer, name: string): Promise<void> {
    const c = ts.client();
    await c.call("PutWfSpec", greetWf(name));
    await c.call("ScheduleWf", {
      id: name,
      wf_spec_name: name,
      variables: { who: str(name) },
      cron_expression: "0 * * * *",
    });
  }

  it("a tick that comes due while the server is down runs once when it is back, then the schedule goes on", async () => {
    const first = await start();
    await scheduleHourly(first, "down-one");
    const tick = nextMultiple(clock.now(), 60 * MINUTE);
    await first.stop();
    clock.advance(tick - clock.now() + 10 * MINUTE);
    const again = await start(first.dataDir, first.databaseUrl);
    const c = again.client();
    await waitRuns(c, "down-one", [tickId("down-one", tick)]);
    expect((await c.call("GetScheduledWfRun", { id: "down-one" })).cron_expression).toBe("0 * * * *");
    clock.advance(60 * MINUTE);
    await waitRuns(c, "down-one", [tickId("down-one", tick), tickId("down-one", tick + 60 * MINUTE)]);
    await again.stop();
  });

  it("after a long downtime only the newest missed tick runs by default; --schedule-catch-up sets how many, 0 none", async () => {
    for (const [catchUp, want] of [
      [undefined, 1],
      ["3", 3],
      ["0", 0],
    ] as const) {
      const name = `catch-up-${catchUp ?? "default"}`;
      const first = await start();
      await scheduleHourly(first, name);
      const tick = nextMultiple(clock.now(), 60 * MINUTE);
      await first.stop();
      // five ticks come due while it is down
      clock.advance(tick - clock.now() + 4 * 60 * MINUTE + 30 * MINUTE);
      const again = await start(
        first.dataDir,
        first.databaseUrl,
        catchUp ? ["--schedule-catch-up", catchUp] : [],
      );
      const c = again.client();
      const missed = [0, 1, 2, 3, 4].map((i) => tickId(name, tick + i * 60 * MINUTE));
      await waitRuns(c, name, want === 0 ? [] : missed.slice(-want));
      // the next tick after the downtime runs as usual
      clock.advance(60 * MINUTE);
      await waitRuns(c, name, [
        ...(want === 0 ? [] : missed.slice(-want)),
        tickId(name, tick + 5 * 60 * MINUTE),
      ]);
      await again.stop();
    }
  });

  it("a tick whose run started but whose cursor did not move (a crash between) is not run twice", async () => {
    const first = await start();
    await scheduleHourly(first, "crashy");
    const c = first.client();
    const tick = nextMultiple(clock.now(), 60 * MINUTE);
    clock.advance(tick - clock.now() + 5);
    await waitRuns(c, "crashy", [tickId("crashy", tick)]);
    await first.stop();
    // put the cursor back on the tick that already ran, as if the server died before moving it
    const store = await openStore(first);
    const stored = (await store.getScheduledWfRun("default", "crashy"))!;
    expect(stored.nextMs).toBe(tick + 60 * MINUTE);
    await store.commit([
      { op: "putScheduledWfRun", tenant: "default", schedule: stored.schedule, nextMs: tick },
    ]);
    await store.close();
    const again = await start(first.dataDir, first.databaseUrl);
    const c2 = again.client();
    // the tick is fired again after the restart: its run exists, so nothing new starts, and the cursor moves on
    await waitFor(
      async () => {
        const s = await again.server.runtime.store.getScheduledWfRun("default", "crashy");
        return s && s.nextMs === tick + 60 * MINUTE ? s : undefined;
      },
      10_000,
      "the cursor to move past the tick",
    );
    await waitRuns(c2, "crashy", [tickId("crashy", tick)]);
    await again.stop();
  });
});
