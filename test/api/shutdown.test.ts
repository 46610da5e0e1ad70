/**
 * Issue 13, "a stopped server looks like a finished stream": on a graceful stop (SIGTERM), an open PollTask
 * stream ends with UNAVAILABLE — a worker that reconnects only on errors then reconnects — not with OK.
 */
import { describe, expect, it } from "vitest";
import type * as grpc from "@grpc/grpc-js";
import { startTestServer } from "../support/server";
import type { Msg } from "../support/client";
import { entry, exit, taskDef, thread, wfSpec } from "../support/specs";
import { externalEventNode } from "../support/threads";

describe("a stopped server looks like a finished stream", () => {
  it("an open PollTask stream ends with UNAVAILABLE when the server stops", async () => {
    const ts = await startTestServer();
    try {
      const c = ts.client();
      await c.call("PutTaskDef", taskDef("shutdown-td"));
      const stream = c.raw.PollTask(c.metadata()) as grpc.ClientDuplexStream<Msg, Msg>;
      const ended = new Promise<{ code: number; details: string }>((resolve) => {
        stream.on("error", (e: grpc.ServiceError) => resolve({ code: e.code, details: e.details }));
        stream.on("status", (s: grpc.StatusObject) => resolve({ code: s.code, details: s.details }));
      });
      stream.on("data", () => undefined);
      stream.write({ task_def_id: { name: "shutdown-td" }, client_id: "w1" });
      // the poll is open on the server before it stops
      await new Promise((r) => setTimeout(r, 200));
      await ts.stop();
      const outcome = await ended;
      expect(outcome.code).toBe(14); // UNAVAILABLE
      expect(outcome.details).toMatch(/server is stopping/);
    } finally {
      await ts.close();
    }
  });

  it("a waiting AwaitWorkflowEvent ends with UNAVAILABLE at once when the server stops, not CANCELLED after 5 s", async () => {
    const ts = await startTestServer();
    try {
      const c = ts.client();
      await c.call("PutExternalEventDef", { name: "shutdown-go" });
      await c.call(
        "PutWfSpec",
        wfSpec(
          "shutdown-wf",
          thread([entry(), externalEventNode("1-wait-EXTERNAL_EVENT", "shutdown-go"), exit("2-exit-EXIT")]),
        ),
      );
      await c.call("RunWf", { wf_spec_name: "shutdown-wf", id: "shutdown-run" });
      const waiting = c.fail("AwaitWorkflowEvent", { wf_run_id: { id: "shutdown-run" } });
      await new Promise((r) => setTimeout(r, 200));
      const started = Date.now();
      await ts.stop();
      const outcome = await waiting;
      expect(outcome.code).toBe("UNAVAILABLE");
      expect(outcome.message).toMatch(/server is stopping/);
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await ts.close();
    }
  });
});
