/**
 * issue 5 / B-TASK-11: a running LHTaskWorker survives its server being killed (SIGKILL) and started again
 * on the same port and data dir: its PollTask stream reconnects with backoff, and a report that met the
 * outage is retried until the server is back. The server runs as a child process so it can really die.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { LHStatus, TaskStatus, VariableType } from "@pony/proto";
import { afterAll, describe, expect, it } from "vitest";
import { LHConfig, LHTaskWorker, type WorkerContext } from "../src/index";
import {
  freePort,
  oneTaskWfSpec,
  quiet,
  sleep,
  startChildServer,
  theTaskRun,
  uniqueName,
  waitFor,
  waitForWfRunEnd,
  type ChildServer,
} from "./support";

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "pony-sdk-restart-"));
let server: ChildServer | undefined;
let worker: LHTaskWorker | undefined;
let config: LHConfig | undefined;

afterAll(async () => {
  await worker?.close();
  config?.close();
  await server?.kill();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("issue 5 worker reconnects after a server restart", () => {
  it("b-task-11 keeps polling through a kill -9 and restart on the same port, and retries the report that met the outage", async () => {
    const port = await freePort();
    server = await startChildServer(port, dataDir);
    config = new LHConfig({ apiHost: "127.0.0.1", apiPort: port, configFile: null, env: {} });
    const client = config.getClient();
    const taskDefName = uniqueName("restart-task");
    const wfSpecName = uniqueName("restart-wf");

    const started: string[] = [];
    const logged: string[] = [];
    const logger = { ...quiet, info: (m: string) => logged.push(m), warn: (m: string) => logged.push(m) };
    worker = new LHTaskWorker(
      async (ms: number, ctx: WorkerContext) => {
        started.push(ctx.wfRunId.id);
        await sleep(ms);
        return `slept ${ms}`;
      },
      taskDefName,
      config,
      { inputVars: [["ms", "INT"]], heartbeatIntervalMs: 300, logger },
    );
    await worker.registerTaskDef();
    await client.putWfSpec(oneTaskWfSpec(wfSpecName, taskDefName, [["ms", VariableType.INT]]));
    await worker.start();

    const run = async (ms: number) =>
      (await client.runWf({ wfSpecName, variables: { ms: { value: { case: "int", value: BigInt(ms) } } } }))
        .id!.id;

    const before = await run(0);
    expect(LHStatus[(await waitForWfRunEnd(client, before)).status]).toBe("COMPLETED");

    // a task still running when the server dies: its report has to wait for the restart
    const inFlight = await run(1_500);
    await waitFor(() => (started.includes(inFlight) ? true : undefined), 5_000, "the long task to start");
    await server.kill("SIGKILL");
    const reportRetried = () => logged.some((l) => /^ReportTask for .* met UNAVAILABLE; retrying/.test(l));
    await waitFor(() => (reportRetried() ? true : undefined), 5_000, "the report to meet the outage");

    server = await startChildServer(port, dataDir);
    const after = await run(0);
    expect(LHStatus[(await waitForWfRunEnd(client, after, 20_000)).status]).toBe("COMPLETED");
    expect(started).toContain(after);

    expect(LHStatus[(await waitForWfRunEnd(client, inFlight, 20_000)).status]).toBe("COMPLETED");
    const taskRun = await theTaskRun(client, inFlight);
    expect(taskRun.attempts.map((a) => TaskStatus[a.status])).toEqual(["TASK_SUCCESS"]);
    expect(worker.connectedHosts).toEqual([`127.0.0.1:${port}`]);
    expect(logged.some((l) => /^PollTask to 127\.0\.0\.1:\d+ failed \(UNAVAILABLE/.test(l))).toBe(true);
    expect(logged.some((l) => /^PollTask to .* works again/.test(l))).toBe(true);
  });
});
