/**
 * issue 5 / B-TASK-*: LHTaskWorker against a real Pony server: registration and heartbeats, bounded
 * concurrency, the WorkerContext (B-KES-3), and how each way a task function can end becomes a report.
 */
import {
  LHErrorType,
  LHStatus,
  TaskStatus,
  VariableType,
  type TaskRun,
  type VariableValue,
} from "@pony/proto";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  LHTaskException,
  LHTaskWorker,
  fromVariableValue,
  type LHClient,
  type LHConfig,
  type LHTaskFunction,
  type LHTaskWorkerOptions,
  type WorkerContext,
} from "../src/index";
import { HANDLER_INPUT_VAR, Workflow } from "../src/workflow";
import {
  oneTaskWfSpec,
  quiet,
  sleep,
  startServer,
  theTaskRun,
  uniqueName,
  waitFor,
  waitForWfRunEnd,
  type SdkTestServer,
} from "./support";

let srv: SdkTestServer;
let client: LHClient;
const workers: LHTaskWorker[] = [];

beforeAll(async () => {
  srv = await startServer({ extraArgs: ["--poll-wait-seconds", "1"] });
  client = srv.config().getClient();
});
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.close()));
});
afterAll(async () => {
  await srv.stop();
});

const str = (value: string) => ({ value: { case: "str" as const, value } });
const int = (value: number) => ({ value: { case: "int" as const, value: BigInt(value) } });

/** Registers the TaskDef from the worker's inputs, a one-task WfSpec, and starts the worker. */
async function deploy(
  fn: LHTaskFunction,
  inputs: [string, VariableType][],
  opts: { threads?: number; retries?: number; config?: LHConfig; worker?: LHTaskWorkerOptions } = {},
) {
  const taskDefName = uniqueName("task");
  const wfSpecName = uniqueName("wf");
  const config = opts.config ?? srv.config({ numWorkerThreads: opts.threads ?? 2 });
  const worker = new LHTaskWorker(fn, taskDefName, config, {
    inputVars: inputs,
    logger: quiet,
    ...opts.worker,
  });
  workers.push(worker);
  await worker.registerTaskDef();
  await client.putWfSpec(oneTaskWfSpec(wfSpecName, taskDefName, inputs, { retries: opts.retries ?? 0 }));
  await worker.start();
  const run = async (variables: Record<string, { value: VariableValue["value"] }> = {}) => {
    const wfRun = await client.runWf({ wfSpecName, variables });
    return wfRun.id!.id;
  };
  return { worker, taskDefName, wfSpecName, run };
}

function attempts(taskRun: TaskRun) {
  return taskRun.attempts.map((a) => TaskStatus[a.status]);
}

describe("issue 5 task worker basics", () => {
  it("b-task-4 runs the function with converted inputs and reports its value as the output", async () => {
    const seen: unknown[][] = [];
    const { run } = await deploy(
      async (name: string, n: number, tags: unknown, ok: boolean, ratio: number, _ctx: WorkerContext) => {
        seen.push([name, n, tags, ok, ratio]);
        return { greeting: `hello ${name}`, n: n + 1 };
      },
      [
        ["name", VariableType.STR],
        ["n", VariableType.INT],
        ["tags", VariableType.JSON_ARR],
        ["ok", VariableType.BOOL],
        ["ratio", VariableType.DOUBLE],
      ],
    );
    const id = await run({
      name: str("Ada"),
      n: int(41),
      tags: { value: { case: "jsonArr", value: '["a",{"b":1}]' } },
      ok: { value: { case: "bool", value: true } },
      ratio: { value: { case: "double", value: 0.5 } },
    });
    const wfRun = await waitForWfRunEnd(client, id);
    expect(LHStatus[wfRun.status]).toBe("COMPLETED");
    expect(seen).toEqual([["Ada", 41, ["a", { b: 1 }], true, 0.5]]);
    const taskRun = await theTaskRun(client, id);
    expect(attempts(taskRun)).toEqual(["TASK_SUCCESS"]);
    const result = taskRun.attempts[0]!.result;
    expect(result.case).toBe("output");
    expect(fromVariableValue(result.value as VariableValue)).toEqual({ greeting: "hello Ada", n: 42 });
  });

  it("b-task-4 reports no output when the function returns undefined", async () => {
    const { run } = await deploy(async () => undefined, []);
    const id = await run();
    expect(LHStatus[(await waitForWfRunEnd(client, id)).status]).toBe("COMPLETED");
    const attempt = (await theTaskRun(client, id)).attempts[0]!;
    expect(TaskStatus[attempt.status]).toBe("TASK_SUCCESS");
    expect(attempt.result.case).toBeUndefined();
  });

  it("b-task-9 registers with RegisterTaskWorker heartbeats under its LHW_TASK_WORKER_ID", async () => {
    const config = srv.config({ taskWorkerId: "heartbeat-worker-1", taskWorkerVersion: "v7" });
    const { taskDefName, worker, run } = await deploy(async () => "ok", [], {
      config,
      worker: { heartbeatIntervalMs: 200 },
    });
    const group = await client.getTaskWorkerGroup({ name: taskDefName });
    const first = group.taskWorkers["heartbeat-worker-1"]?.latestHeartbeat;
    expect(first).toBeDefined();
    await waitFor(async () => {
      const g = await client.getTaskWorkerGroup({ name: taskDefName });
      const latest = g.taskWorkers["heartbeat-worker-1"]?.latestHeartbeat;
      return latest && timestampMs(latest) > timestampMs(first!) ? true : undefined;
    }, 3_000);
    expect(worker.connectedHosts).toEqual([`127.0.0.1:${srv.port}`]);
    // B-TASK-3: the claim records the worker's id and version
    const id = await run();
    await waitForWfRunEnd(client, id);
    const attempt = (await theTaskRun(client, id)).attempts[0]!;
    expect(attempt.taskWorkerId).toBe("heartbeat-worker-1");
    expect(attempt.taskWorkerVersion).toBe("v7");
  });

  it("issue 5 start() rejects for a missing TaskDef or inputs that differ from the TaskDef's", async () => {
    const config = srv.config();
    const missing = new LHTaskWorker(async () => 1, uniqueName("missing"), config, { logger: quiet });
    await expect(missing.start()).rejects.toThrow(/does not exist: call registerTaskDef\(\) first/);

    const name = uniqueName("typed");
    await client.putTaskDef({ name, inputVars: [{ name: "a", type: VariableType.STR }] });
    const wrong = new LHTaskWorker(async () => 1, name, config, {
      inputVars: [["a", VariableType.INT]],
      logger: quiet,
    });
    await expect(wrong.start()).rejects.toThrow(
      `TaskDef '${name}' takes (a: STR) but the worker declares (a: INT)`,
    );
  });

  it("issue 5 without inputVars the worker converts inputs by the TaskDef's types", async () => {
    const taskDefName = uniqueName("untyped");
    const wfSpecName = uniqueName("wf");
    await client.putTaskDef({ name: taskDefName, inputVars: [{ name: "n", type: VariableType.INT }] });
    await client.putWfSpec(oneTaskWfSpec(wfSpecName, taskDefName, [["n", VariableType.INT]]));
    const got: unknown[] = [];
    const worker = new LHTaskWorker(
      async (n: unknown) => {
        got.push(n);
        return n;
      },
      taskDefName,
      srv.config(),
      { logger: quiet },
    );
    workers.push(worker);
    await worker.start();
    const big = 2n ** 60n;
    const a = (await client.runWf({ wfSpecName, variables: { n: int(7) } })).id!.id;
    const b = (await client.runWf({ wfSpecName, variables: { n: { value: { case: "int", value: big } } } }))
      .id!.id;
    await waitForWfRunEnd(client, a);
    await waitForWfRunEnd(client, b);
    expect(got).toContain(7);
    expect(got).toContain(big); // beyond 2^53 an INT arrives as a bigint
  });
});

describe("issue 5 bounded concurrency", () => {
  it("b-task-2 with LHW_NUM_WORKER_THREADS=2, six 300 ms tasks never run more than two at once", async () => {
    let now = 0;
    let max = 0;
    const { run, worker } = await deploy(
      async () => {
        now++;
        max = Math.max(max, now);
        await sleep(300);
        now--;
        return "done";
      },
      [],
      { threads: 2 },
    );
    const started = Date.now();
    const ids = await Promise.all(Array.from({ length: 6 }, () => run()));
    for (const id of ids) expect(LHStatus[(await waitForWfRunEnd(client, id)).status]).toBe("COMPLETED");
    expect(max).toBe(2);
    // three rounds of two
    expect(Date.now() - started).toBeGreaterThanOrEqual(850);
    expect(worker.runningTasks).toBe(0);
  });

  it("b-task-2 with one thread the tasks run one after another", async () => {
    let now = 0;
    let max = 0;
    const { run } = await deploy(
      async () => {
        now++;
        max = Math.max(max, now);
        await sleep(50);
        now--;
      },
      [],
      { threads: 1 },
    );
    const ids = await Promise.all(Array.from({ length: 5 }, () => run()));
    for (const id of ids) await waitForWfRunEnd(client, id);
    expect(max).toBe(1);
  });
});

describe("b-kes-3 worker context", () => {
  it("exposes the WfRun, NodeRun and TaskRun ids, attempt number, scheduled time, idempotency key and log", async () => {
    const contexts: WorkerContext[] = [];
    const { run } = await deploy(
      async (who: string, ctx: WorkerContext) => {
        contexts.push(ctx);
        ctx.log("attempt", ctx.attemptNumber, "for", who);
        ctx.log({ step: 2 });
        if (ctx.attemptNumber === 0) throw new Error("first attempt fails");
        return "second attempt works";
      },
      [["who", VariableType.STR]],
      { retries: 1 },
    );
    const before = Date.now();
    const id = await run({ who: str("Ada") });
    expect(LHStatus[(await waitForWfRunEnd(client, id)).status]).toBe("COMPLETED");
    const taskRun = await theTaskRun(client, id);
    expect(attempts(taskRun)).toEqual(["TASK_FAILED", "TASK_SUCCESS"]);
    expect(contexts).toHaveLength(2);
    const [first, second] = contexts as [WorkerContext, WorkerContext];

    expect(first.wfRunId.id).toBe(id);
    expect(first.wfRunIdString).toBe(id);
    expect(first.nodeRunId).toMatchObject({ wfRunId: { id }, threadRunNumber: 0, position: 1 });
    expect(first.threadRunNumber).toBe(0);
    expect(first.taskRunId).toEqual(taskRun.id);
    expect([first.attemptNumber, second.attemptNumber]).toEqual([0, 1]);
    expect(first.idempotencyKey).toBe(`${id}/${taskRun.id!.taskGuid}`);
    expect(second.idempotencyKey).toBe(first.idempotencyKey); // stable across attempts
    expect(first.scheduledTime.getTime()).toBe(timestampMs(taskRun.scheduledAt!));
    expect(first.scheduledTime.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(first.startTime.getTime()).toBeGreaterThanOrEqual(first.scheduledTime.getTime());
    expect(first.variables.map((v) => [v.varName, fromVariableValue(v.value)])).toEqual([["who", "Ada"]]);
    expect(first.source?.wfSpecId?.name).toBeDefined();
    expect(await first.forEachItem()).toBeUndefined(); // not in a for-each child thread

    const logs = taskRun.attempts.map((a) => fromVariableValue(a.logOutput));
    expect(logs).toEqual(["attempt 0 for Ada\n{ step: 2 }", "attempt 1 for Ada\n{ step: 2 }"]);
    expect(taskRun.attempts[1]!.logOutput?.value.case).toBe("str");
  });
});

describe("b-kes-3 for-each item", () => {
  it("inside a spawnThreadForEach child thread, forEachItem() is the item that thread was started for", async () => {
    const taskDefName = uniqueName("item-task");
    const wfSpecName = uniqueName("item-wf");
    const seen: { thread: number | undefined; item: unknown }[] = [];
    const worker = new LHTaskWorker(
      async (label: string, ctx: WorkerContext) => {
        seen.push({ thread: ctx.threadRunNumber, item: await ctx.forEachItem() });
        return label;
      },
      taskDefName,
      srv.config({ numWorkerThreads: 2 }),
      { inputVars: [["label", VariableType.STR]], logger: quiet },
    );
    workers.push(worker);
    await worker.registerTaskDef();
    const wf = Workflow.newWorkflow(wfSpecName, (wf) => {
      const items = wf.declareJsonArr("items");
      const each = wf.spawnThreadForEach(items, "per-item", (t) => {
        const item = t.declareJsonObj(HANDLER_INPUT_VAR);
        t.execute(taskDefName, t.format("item {0}", item.jsonPath("$.sku")));
      });
      wf.waitForThreads(each);
    }).withTaskDefs({ [taskDefName]: ["STR"] });
    await client.putWfSpec(wf.compile());
    await worker.start();
    const items = [
      { sku: "w-1", qty: 2 },
      { sku: "w-2", qty: 5 },
    ];
    const run = await client.runWf({
      wfSpecName,
      variables: { items: { value: { case: "jsonArr", value: JSON.stringify(items) } } },
    });
    expect(LHStatus[(await waitForWfRunEnd(client, run.id!.id)).status]).toBe("COMPLETED");
    expect(seen).toHaveLength(2);
    // each child thread (not the entrypoint) sees its own item, with every field
    expect(seen.every((s) => s.thread !== undefined && s.thread > 0)).toBe(true);
    expect(
      seen.map((s) => s.item).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    ).toEqual(items);
  });
});

describe("issue 5 outcome mapping", () => {
  it("b-task-5 LHTaskException → TASK_EXCEPTION with name, message and content; never retried; WfRun EXCEPTION", async () => {
    let calls = 0;
    const { run } = await deploy(
      async () => {
        calls++;
        throw new LHTaskException("out-of-stock", "no more widgets", { sku: "w-1", left: 0 });
      },
      [],
      { retries: 2 },
    );
    const id = await run();
    const wfRun = await waitForWfRunEnd(client, id);
    expect(LHStatus[wfRun.status]).toBe("EXCEPTION");
    const taskRun = await theTaskRun(client, id);
    expect(attempts(taskRun)).toEqual(["TASK_EXCEPTION"]);
    expect(calls).toBe(1);
    const result = taskRun.attempts[0]!.result;
    expect(result.case).toBe("exception");
    if (result.case !== "exception") return;
    expect(result.value.name).toBe("out-of-stock");
    expect(result.value.message).toBe("no more widgets");
    expect(fromVariableValue(result.value.content)).toEqual({ sku: "w-1", left: 0 });
    // B-TASK-6: the NodeRun fails with a business EXCEPTION under the exception's name
    const nodeRun = await client.getNodeRun({ wfRunId: { id }, threadRunNumber: 0, position: 1 });
    expect(nodeRun.failures.map((f) => [f.failureName, f.message])).toEqual([
      ["out-of-stock", "no more widgets"],
    ]);
    expect(fromVariableValue(nodeRun.failures[0]!.content)).toEqual({ sku: "w-1", left: 0 });
  });

  it("b-task-5 any other throw → TASK_FAILED with error TASK_FAILURE and the message; retried; WfRun ERROR", async () => {
    let calls = 0;
    const { run } = await deploy(
      async () => {
        calls++;
        throw new TypeError(`boom ${calls}`);
      },
      [],
      { retries: 1 },
    );
    const id = await run();
    const wfRun = await waitForWfRunEnd(client, id);
    expect(LHStatus[wfRun.status]).toBe("ERROR");
    const taskRun = await theTaskRun(client, id);
    expect(attempts(taskRun)).toEqual(["TASK_FAILED", "TASK_FAILED"]);
    expect(calls).toBe(2);
    expect(
      taskRun.attempts.map(
        (a) => a.result.case === "error" && [LHErrorType[a.result.value.type], a.result.value.message],
      ),
    ).toEqual([
      ["TASK_FAILURE", "boom 1"],
      ["TASK_FAILURE", "boom 2"],
    ]);
  });

  it("b-task-5 a thrown non-Error is a TASK_FAILED with its string form", async () => {
    const { run } = await deploy(() => {
      // eslint-disable-next-line @typescript-eslint/only-throw-error
      throw "plain string";
    }, []);
    const id = await run();
    await waitForWfRunEnd(client, id);
    const attempt = (await theTaskRun(client, id)).attempts[0]!;
    expect(TaskStatus[attempt.status]).toBe("TASK_FAILED");
    expect(attempt.result.case === "error" && attempt.result.value.message).toBe("plain string");
  });

  it("b-task-5 an output with no VariableValue form → TASK_OUTPUT_SERIALIZING_ERROR, not retried; WfRun ERROR", async () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const outputs: unknown[] = [{ total: 10n }, { f: () => 1 }, cyclic, Symbol("s")];
    let calls = 0;
    const { run } = await deploy(
      async (i: number) => {
        calls++;
        return outputs[i];
      },
      [["i", VariableType.INT]],
      { retries: 2 },
    );
    const ids = await Promise.all(outputs.map((_, i) => run({ i: int(i) })));
    const messages: string[] = [];
    for (const id of ids) {
      expect(LHStatus[(await waitForWfRunEnd(client, id)).status]).toBe("ERROR");
      const taskRun = await theTaskRun(client, id);
      expect(attempts(taskRun)).toEqual(["TASK_OUTPUT_SERIALIZING_ERROR"]);
      const result = taskRun.attempts[0]!.result;
      expect(result.case === "error" && LHErrorType[result.value.type]).toBe("VAR_MUTATION_ERROR");
      messages.push(result.case === "error" ? result.value.message : "");
    }
    expect(calls).toBe(outputs.length);
    expect(messages[0]).toContain("the value.total is a bigint");
    expect(messages[1]).toContain("the value.f is a function");
    expect(messages[2]).toContain("the value.self refers back to itself");
    expect(messages[3]).toContain("a symbol has no VariableValue form");
  });

  it("b-kes-3 inputs that do not convert to the declared types → TASK_INPUT_VAR_SUB_ERROR without calling the function", async () => {
    // The server checks inputs against the TaskDef, so a worker sees a mismatch only when the TaskDef
    // changed under it: here it is deleted and put again with an INT input while a STR worker runs.
    let calls = 0;
    const { run, taskDefName, wfSpecName } = await deploy(
      async (s: string) => {
        calls++;
        return s;
      },
      [["s", VariableType.STR]],
    );
    await client.deleteTaskDef({ id: { name: taskDefName } });
    await client.putTaskDef({ name: taskDefName, inputVars: [{ name: "s", type: VariableType.INT }] });
    await client.putWfSpec(oneTaskWfSpec(wfSpecName, taskDefName, [["s", VariableType.INT]]));
    const id = await run({ s: int(5) });
    expect(LHStatus[(await waitForWfRunEnd(client, id)).status]).toBe("ERROR");
    const taskRun = await theTaskRun(client, id);
    expect(attempts(taskRun)).toEqual(["TASK_INPUT_VAR_SUB_ERROR"]);
    const result = taskRun.attempts[0]!.result;
    expect(result.case === "error" && LHErrorType[result.value.type]).toBe("VAR_SUB_ERROR");
    expect(result.case === "error" && result.value.message).toBe(
      "input 's' (declared STR): the value is an INT but STR is expected",
    );
    expect(calls).toBe(0);
  });
});

describe("issue 5 close()", () => {
  it("waits for running tasks to finish and be reported, then takes no more", async () => {
    let finished = 0;
    const { run, worker } = await deploy(async () => {
      await sleep(300);
      finished++;
      return "late";
    }, []);
    const first = await run();
    await waitFor(() => (worker.runningTasks > 0 ? true : undefined), 5_000, "the task to start");
    await worker.close();
    expect(finished).toBe(1);
    expect(LHStatus[(await waitForWfRunEnd(client, first)).status]).toBe("COMPLETED");
    const second = await run();
    await sleep(500);
    expect(finished).toBe(1);
    expect(LHStatus[(await client.getWfRun({ id: second })).status]).toBe("RUNNING");
  });
});
