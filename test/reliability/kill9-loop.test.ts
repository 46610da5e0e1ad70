/**
 * Issue 13, kill -9 loops under load: WfRuns that sleep (a timer), wait for a person (a user task), wait for
 * an external event and run a task, driven by clients and a worker, while the server is killed with SIGKILL
 * three times and started again. Every acknowledged RunWf, PutExternalEvent and CompleteUserTaskRun is there
 * afterwards and every run completes.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, expect, it } from "vitest";
import { freePort, startChildServer, type ChildServer } from "../support/process-server";
import type { Msg, TestClient } from "../support/client";
import { entry, exit, str, taskDef, taskNode, thread, wfSpec } from "../support/specs";
import { externalEventNode, sleepNode } from "../support/threads";
import { startRawWorker, type RawWorker } from "../support/worker";
import { waitFor } from "../support/wait";

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "pony-kill9-loop-"));
let server: ChildServer | undefined;

afterAll(async () => {
  await server?.kill("SIGKILL");
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const spec = wfSpec(
  "k9l-wf",
  thread([
    entry(),
    sleepNode("1-nap-SLEEP", 1),
    {
      name: "2-approve-USER_TASK",
      node: {
        user_task: { user_task_def_name: "k9l-approve", user_group: { literal_value: { str: "ops" } } },
      },
    },
    externalEventNode("3-go-EXTERNAL_EVENT", "k9l-go"),
    taskNode("4-work-TASK", "k9l-task", [], { timeout_seconds: 2, retries: 10 }),
    exit("5-exit-EXIT"),
  ]),
);

/** Completes every user task waiting for the `ops` group; resolves to the ids it completed. */
async function completeWaiting(c: TestClient, done: Set<string>): Promise<void> {
  const found = await c.call("SearchUserTaskRun", { user_group: "ops", status: "UNASSIGNED", limit: 100 });
  for (const id of found.results as Msg[]) {
    await c.call("CompleteUserTaskRun", {
      user_task_run_id: id,
      user_id: "ada",
      results: { ok: { bool: true } },
    });
    done.add(`${id.wf_run_id.id}`);
  }
}

it("kill -9 three times under load with timers, user tasks, external events and tasks in flight: nothing acknowledged is lost, every run completes", async () => {
  const port = await freePort();
  server = await startChildServer(dataDir, ["--http-port", "0"], port);
  let c: TestClient = server.client();
  await c.call("PutTaskDef", taskDef("k9l-task"));
  await c.call("PutExternalEventDef", { name: "k9l-go" });
  await c.call("PutUserTaskDef", {
    name: "k9l-approve",
    fields: [{ name: "ok", type: "BOOL", display_name: "OK?" }],
  });
  await c.call("PutWfSpec", spec);

  const acked = new Set<string>();
  const eventsPosted = new Set<string>();
  const approved = new Set<string>();
  let n = 0;
  for (let round = 0; round < 3; round++) {
    const client = c;
    const worker: RawWorker = startRawWorker(
      client,
      "k9l-task",
      () => ({ status: "TASK_SUCCESS", output: str("ok") }),
      {
        concurrency: 8,
      },
    );
    let killed = false;
    const runners = Array.from({ length: 4 }, async () => {
      while (!killed) {
        const id = `k9l-${n++}`;
        try {
          await client.call("RunWf", { wf_spec_name: "k9l-wf", id });
          acked.add(id);
          // posted before the thread waits for it: kept until claimed
          await client.call("PutExternalEvent", {
            wf_run_id: { id },
            external_event_def_id: { name: "k9l-go" },
            content: str(id),
          });
          eventsPosted.add(id);
        } catch {
          return;
        }
      }
    });
    const approver = (async () => {
      while (!killed) {
        await completeWaiting(client, approved).catch(() => undefined);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    await new Promise((r) => setTimeout(r, 1500));
    killed = true;
    await server.kill("SIGKILL");
    worker.stop();
    await Promise.allSettled([...runners, approver]);
    const t = Date.now();
    server = await startChildServer(dataDir, ["--http-port", "0"], port);
    console.log(`restart ${round + 1}: ${Date.now() - t} ms`);
    c = server.client();
  }
  expect(acked.size).toBeGreaterThan(20);
  expect(approved.size).toBeGreaterThan(0);

  // everything acknowledged is there; the runs whose event was lost with a kill get it now
  for (const id of acked) {
    expect((await c.call("GetWfRun", { id })).id.id).toBe(id);
    if (!eventsPosted.has(id))
      await c.call("PutExternalEvent", {
        wf_run_id: { id },
        external_event_def_id: { name: "k9l-go" },
        content: str(id),
      });
  }
  const worker = startRawWorker(c, "k9l-task", () => ({ status: "TASK_SUCCESS", output: str("ok") }), {
    concurrency: 16,
  });
  try {
    const pending = new Set(acked);
    const t0 = Date.now();
    await waitFor(
      async () => {
        await completeWaiting(c, approved);
        for (const id of [...pending]) {
          if ((await c.call("GetWfRun", { id })).status !== "COMPLETED") return undefined;
          pending.delete(id);
        }
        return true;
      },
      60_000,
      "every acknowledged WfRun to complete",
    );
    console.log(
      `kill -9 loop: ${acked.size} WfRuns acknowledged, all completed ${Date.now() - t0} ms after the last restart`,
    );
  } finally {
    worker.stop();
  }
  // an acknowledged completion was kept: its user task is DONE by ada
  for (const id of [...approved].slice(0, 20)) {
    const list = await c.call("ListUserTaskRuns", { wf_run_id: { id } });
    expect(list.results[0]).toMatchObject({ status: "DONE", user_id: "ada" });
  }
}, 180_000);
