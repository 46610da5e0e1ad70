import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server";
import type { TestClient } from "../support/client";
import { oneTaskWf, str, taskDef } from "../support/specs";
import { startRawWorker } from "../support/worker";
import { waitFor } from "../support/wait";

let ts: TestServer;
let c: TestClient;

beforeAll(async () => {
  ts = await startTestServer();
  c = ts.client();
});
afterAll(async () => {
  await ts.close();
});

describe("a one-task workflow end to end", () => {
  it("B-TASK-1 B-TASK-4 runs a task through a worker and completes the WfRun", async () => {
    await c.call("PutTaskDef", taskDef("greet", [["name", "STR"]]));
    await c.call("PutWfSpec", oneTaskWf("greeting", "greet"));
    const worker = startRawWorker(c, "greet", (task) => ({
      status: "TASK_SUCCESS",
      output: str(`hello ${task.variables[0].value.str}`),
    }));
    try {
      const run = await c.call("RunWf", { wf_spec_name: "greeting", variables: { input: str("pony") } });
      expect(run.status).toMatch(/RUNNING|COMPLETED/);
      const done = await waitFor(async () => {
        const r = await c.call("GetWfRun", run.id);
        return r.status === "COMPLETED" ? r : undefined;
      });
      expect(done.end_time).toBeTruthy();
      const tasks = await c.call("ListTaskRuns", { wf_run_id: run.id });
      expect(tasks.results).toHaveLength(1);
      const t = tasks.results[0];
      expect(t.status).toBe("TASK_SUCCESS");
      expect(t.input_variables[0]).toMatchObject({ var_name: "name", value: { str: "pony" } });
      expect(t.attempts[0].output).toEqual({ str: "hello pony", value: "str" });
      const nodes = await c.call("ListNodeRuns", { wf_run_id: run.id });
      expect(nodes.results.map((n: { node_name: string }) => n.node_name)).toEqual([
        "0-entrypoint-ENTRYPOINT",
        "1-task-TASK",
        "2-exit-EXIT",
      ]);
    } finally {
      worker.stop();
    }
  });
});
