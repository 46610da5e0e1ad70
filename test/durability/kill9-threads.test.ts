/**
 * B-RUN-13 with threads and interrupts in flight: WfRuns that start children, wait for them and get
 * interrupted by PutExternalEvent while tasks are running; the server is killed with SIGKILL in the middle of
 * that load and started again. Every acknowledged RunWf, ReportTask and PutExternalEvent is there afterwards,
 * every interrupt runs its handler, and every run completes.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startChildServer, type ChildServer } from "../support/process-server";
import type { Msg, TestClient } from "../support/client";
import {
  entry,
  exit,
  jsonArr,
  str,
  taskDef,
  taskNode,
  thread,
  varDef,
  varRef,
  wfSpec,
} from "../support/specs";
import {
  edge,
  externalEventNode,
  interruptDef,
  startMultipleNode,
  waitThreadsNode,
} from "../support/threads";
import { startRawWorker } from "../support/worker";
import { waitFor } from "../support/wait";

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "pony-kill9-threads-"));
let server: ChildServer | undefined;

afterAll(async () => {
  await server?.kill();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const TASK = "k9t-task";
const retrying = { timeout_seconds: 2, retries: 10 };

// The entrypoint fans out to one child per item (each runs a task), waits for them, runs a task of its own
// and then waits for k9t-finish, so it is still running whenever the test interrupts it with k9t-stop.
const spec = wfSpec(
  "k9t-wf",
  {},
  {
    thread_specs: {
      entrypoint: {
        ...thread(
          [
            entry(),
            {
              ...startMultipleNode("1-fan-START_MULTIPLE_THREADS", "item", varRef("items")),
              edges: [
                edge("2-wait-WAIT_FOR_THREADS", {
                  variable_mutations: [{ lhs_name: "numbers", operation: "ASSIGN", node_output: {} }],
                }),
              ],
            },
            waitThreadsNode("2-wait-WAIT_FOR_THREADS", varRef("numbers")),
            taskNode("3-own-TASK", TASK, [varRef("name")], retrying),
            externalEventNode("4-finish-EXTERNAL_EVENT", "k9t-finish"),
            exit("5-exit-EXIT"),
          ],
          [
            varDef("items", "JSON_ARR", { default_value: jsonArr(["a", "b", "c"]) }),
            varDef("numbers", "JSON_ARR"),
            varDef("name", "STR"),
          ],
        ),
        interrupt_defs: [interruptDef("k9t-stop", "on-stop")],
      },
      item: thread(
        [entry(), taskNode("1-item-TASK", TASK, [varRef("INPUT")], retrying), exit("2-exit-EXIT")],
        [varDef("INPUT", "STR")],
      ),
      "on-stop": thread(
        [entry(), taskNode("1-handle-TASK", TASK, [varRef("INPUT")], retrying), exit("2-exit-EXIT")],
        [varDef("INPUT", "STR")],
      ),
    },
  },
);

describe("crash safety with threads and interrupts", () => {
  it("B-RUN-13 B-THR-7 B-THR-2 a SIGKILL while children, waits and interrupts are in flight loses nothing acknowledged and every run completes after restart", async () => {
    server = await startChildServer(dataDir);
    let c: TestClient = server.client();
    await c.call("PutTaskDef", taskDef(TASK, [["input", "STR"]]));
    for (const name of ["k9t-stop", "k9t-finish"]) await c.call("PutExternalEventDef", { name });
    await c.call("PutWfSpec", spec);

    const ackedRuns: string[] = [];
    const ackedReports: { taskRunId: Msg; attempt: number }[] = [];
    const ackedStops: { wfRunId: string; guid: string }[] = [];
    let killed = false;

    // A worker that reports through its own client and remembers what the server acknowledged; it takes its
    // time so that interrupts find tasks in flight.
    const reportingClient = server.client();
    const worker = startRawWorker(
      c,
      TASK,
      async (task) => {
        await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
        try {
          await reportingClient.call("ReportTask", {
            task_run_id: task.task_run_id,
            attempt_number: task.attempt_number,
            status: "TASK_SUCCESS",
            output: str("ok"),
          });
          if (!killed)
            ackedReports.push({ taskRunId: task.task_run_id as Msg, attempt: task.attempt_number as number });
        } catch {
          // the server died before acknowledging: no promise was made
        }
        return { status: "NO_REPORT" };
      },
      { concurrency: 32 },
    );

    let n = 0;
    const loaders = Array.from({ length: 12 }, async () => {
      while (!killed) {
        const id = `k9t-${n++}`;
        try {
          await c.call("RunWf", { wf_spec_name: "k9t-wf", id, variables: { name: str(id) } });
          if (!killed) ackedRuns.push(id);
        } catch {
          return;
        }
      }
    });
    // Interrupt runs shortly after they start, while their children's or their own tasks run.
    const eventClient = server.client();
    let next = 0;
    const interrupters = Array.from({ length: 4 }, async () => {
      while (!killed) {
        const id = ackedRuns[next];
        if (id === undefined) {
          await new Promise((r) => setTimeout(r, 5));
          continue;
        }
        next++;
        const guid = `stop-${id}`;
        try {
          await eventClient.call("PutExternalEvent", {
            wf_run_id: { id },
            external_event_def_id: { name: "k9t-stop" },
            guid,
            content: str(`interrupt ${id}`),
          });
          if (!killed) ackedStops.push({ wfRunId: id, guid });
        } catch {
          return;
        }
      }
    });

    await waitFor(
      async () =>
        ackedRuns.length > 150 && ackedReports.length > 300 && ackedStops.length > 100 ? true : undefined,
      60_000,
      "load",
    );
    killed = true;
    const runsAtKill = [...ackedRuns];
    const reportsAtKill = [...ackedReports];
    const stopsAtKill = [...ackedStops];
    await server.kill("SIGKILL");
    worker.stop();
    await Promise.allSettled([...loaders, ...interrupters]);

    server = await startChildServer(dataDir);
    c = server.client();
    for (const id of runsAtKill) expect((await c.call("GetWfRun", { id })).id.id).toBe(id);
    for (const r of reportsAtKill) {
      const taskRun = await c.call("GetTaskRun", r.taskRunId);
      expect(taskRun.attempts[r.attempt].status).toBe("TASK_SUCCESS");
    }
    for (const s of stopsAtKill) {
      const event = await c.call("GetExternalEvent", {
        wf_run_id: { id: s.wfRunId },
        external_event_def_id: { name: "k9t-stop" },
        guid: s.guid,
      });
      expect(event.content).toMatchObject({ str: `interrupt ${s.wfRunId}` });
    }

    // The crash caught interrupts waiting for tasks in flight (HALTING, with a pending interrupt): the case
    // this test is about. (Interrupts follow RunWf at once and the worker takes its time, so there are many.)
    let pendingAtRestart = 0;
    for (const id of runsAtKill) {
      const run = await c.call("GetWfRun", { id });
      if (run.status === "HALTING" && run.pending_interrupts.length > 0) pendingAtRestart++;
    }
    expect(pendingAtRestart).toBeGreaterThan(0);
    // Tasks taken before the crash time out (2 s) and are retried; then every run is told to finish.
    const worker2 = startRawWorker(c, TASK, () => ({ status: "TASK_SUCCESS", output: str("ok") }), {
      concurrency: 32,
    });
    try {
      for (const id of runsAtKill) {
        await c.call("PutExternalEvent", {
          wf_run_id: { id },
          external_event_def_id: { name: "k9t-finish" },
          guid: `finish-${id}`,
        });
      }
      const stopOf = new Map(stopsAtKill.map((s) => [s.wfRunId, s.guid]));
      for (const id of runsAtKill) {
        const done = await waitFor(
          async () => {
            const run = await c.call("GetWfRun", { id });
            return run.status === "COMPLETED" ? run : undefined;
          },
          60_000,
          `WfRun ${id} to complete`,
        );
        const children = done.thread_runs.filter((t: Msg) => t.type === "CHILD");
        expect(children.map((t: Msg) => t.status)).toEqual(["COMPLETED", "COMPLETED", "COMPLETED"]);
        const interrupts = done.thread_runs.filter((t: Msg) => t.type === "INTERRUPT");
        const guid = stopOf.get(id);
        if (guid !== undefined) {
          // the acknowledged interrupt ran its handler exactly once
          expect(interrupts.map((t: Msg) => [t.interrupt_trigger_id.guid, t.status])).toEqual([
            [guid, "COMPLETED"],
          ]);
        }
        expect(done.pending_interrupts).toEqual([]);
        expect(done.thread_runs[0].halt_reasons).toEqual([]);
      }
    } finally {
      worker2.stop();
    }
  }, 240_000);
});
