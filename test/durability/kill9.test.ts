/**
 * B-RUN-13 / B-TASK-11: a server killed with SIGKILL in the middle of load and started again shows every
 * acknowledged effect and continues every run to the end.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startChildServer, type ChildServer } from "../support/process-server";
import type { Msg, TestClient } from "../support/client";
import { entry, exit, str, taskDef, taskNode, thread, varDef, varRef, wfSpec } from "../support/specs";
import { startRawWorker } from "../support/worker";
import { waitFor } from "../support/wait";

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "pony-kill9-"));
let server: ChildServer | undefined;

afterAll(async () => {
  await server?.kill();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const twoTaskWf = wfSpec(
  "crash-wf",
  thread(
    [
      entry(),
      taskNode("1-first-TASK", "crash-task", [varRef("input")], { timeout_seconds: 2, retries: 5 }),
      taskNode("2-second-TASK", "crash-task", [varRef("input")], { timeout_seconds: 2, retries: 5 }),
      exit("3-exit-EXIT"),
    ],
    [varDef("input", "STR")],
  ),
);

describe("crash safety", () => {
  it("B-RUN-13 B-TASK-11 a SIGKILL mid-load loses no acknowledged RunWf or ReportTask and every run completes after restart", async () => {
    server = await startChildServer(dataDir);
    let c: TestClient = server.client();
    await c.call("PutTaskDef", taskDef("crash-task", [["input", "STR"]]));
    await c.call("PutWfSpec", twoTaskWf);

    const ackedRuns = new Set<string>();
    const ackedReports: { taskRunId: Msg; attempt: number }[] = [];
    const reportingClient = server.client();
    const worker = startRawWorker(
      c,
      "crash-task",
      async (task) => {
        try {
          await reportingClient.call("ReportTask", {
            task_run_id: task.task_run_id,
            attempt_number: task.attempt_number,
            status: "TASK_SUCCESS",
            output: str("ok"),
          });
          ackedReports.push({ taskRunId: task.task_run_id as Msg, attempt: task.attempt_number as number });
        } catch {
          // the server died before acknowledging: no promise was made
        }
        return { status: "NO_REPORT" };
      },
      { concurrency: 16 },
    );

    // Keep 32 RunWf calls in flight until the kill.
    let n = 0;
    let killed = false;
    const loaders = Array.from({ length: 32 }, async () => {
      while (!killed) {
        const id = `run-${n++}`;
        try {
          await c.call("RunWf", { wf_spec_name: "crash-wf", id, variables: { input: str(id) } });
          if (!killed) ackedRuns.add(id);
        } catch {
          return;
        }
      }
    });
    await waitFor(
      async () => (ackedRuns.size > 300 && ackedReports.length > 200 ? true : undefined),
      30_000,
      "load",
    );
    killed = true;
    const runsAtKill = new Set(ackedRuns);
    const reportsAtKill = [...ackedReports];
    await server.kill("SIGKILL");
    worker.stop();
    await Promise.allSettled(loaders);

    server = await startChildServer(dataDir);
    c = server.client();
    // Every acknowledged RunWf exists; every acknowledged report is recorded as the attempt's success.
    for (const id of runsAtKill) {
      const run = await c.call("GetWfRun", { id });
      expect(run.id.id).toBe(id);
    }
    for (const r of reportsAtKill) {
      const taskRun = await c.call("GetTaskRun", r.taskRunId);
      expect(taskRun.attempts[r.attempt].status).toBe("TASK_SUCCESS");
    }

    // Every run continues: tasks claimed before the crash time out (2 s) and are retried.
    const worker2 = startRawWorker(c, "crash-task", () => ({ status: "TASK_SUCCESS", output: str("ok") }), {
      concurrency: 16,
    });
    try {
      for (const id of runsAtKill) {
        await waitFor(
          async () => ((await c.call("GetWfRun", { id })).status === "COMPLETED" ? true : undefined),
          30_000,
          `WfRun ${id} to complete`,
        );
      }
    } finally {
      worker2.stop();
    }
  }, 120_000);
});
