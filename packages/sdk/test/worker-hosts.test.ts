/**
 * issue 5 / B-TASK-9: the worker polls every host of RegisterTaskWorker's `your_hosts`, opening a stream to
 * a host that appears and draining the stream of a host that leaves. The bootstrap server here is a small
 * fake whose `your_hosts` the test changes; the hosts are two real Pony servers.
 */
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary, type DescMessage } from "@bufbuild/protobuf";
import {
  LHStatus,
  LittleHorse,
  RegisterTaskWorkerResponseSchema,
  TaskDefSchema,
  type RegisterTaskWorkerRequest,
} from "@pony/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LHConfig, LHTaskWorker, type LHClient, type WorkerContext } from "../src/index";
import {
  oneTaskWfSpec,
  quiet,
  sleep,
  startServer,
  uniqueName,
  waitFor,
  waitForWfRunEnd,
  type SdkTestServer,
} from "./support";

let a: SdkTestServer;
let b: SdkTestServer;
let bootstrap: { port: number; stop(): Promise<void> };
let yourHosts: SdkTestServer[] = [];
const registrations: RegisterTaskWorkerRequest[] = [];

/** A server that answers only GetTaskDef and RegisterTaskWorker, with `your_hosts` = `yourHosts`. */
async function startBootstrap(taskDefName: string) {
  const server = new grpc.Server();
  const def: Record<string, grpc.MethodDefinition<object, object>> = {};
  const impl: grpc.UntypedServiceImplementation = {};
  const ser = (s: DescMessage) => (m: object) => Buffer.from(toBinary(s, m as never));
  const de = (s: DescMessage) => (buf: Buffer) => fromBinary(s, buf);
  const answers: Record<string, (req: object) => object> = {
    getTaskDef: () => create(TaskDefSchema, { id: { name: taskDefName } }),
    registerTaskWorker: (req) => {
      registrations.push(req as RegisterTaskWorkerRequest);
      return create(RegisterTaskWorkerResponseSchema, {
        yourHosts: yourHosts.map((s) => ({ host: "127.0.0.1", port: s.port })),
      });
    },
  };
  for (const m of LittleHorse.methods) {
    const answer = answers[m.localName];
    if (!answer) continue;
    def[m.localName] = {
      path: `/${LittleHorse.typeName}/${m.name}`,
      requestStream: false,
      responseStream: false,
      requestSerialize: ser(m.input),
      requestDeserialize: de(m.input),
      responseSerialize: ser(m.output),
      responseDeserialize: de(m.output),
    };
    impl[m.localName] = (call: grpc.ServerUnaryCall<object, object>, cb: grpc.sendUnaryData<object>) =>
      cb(null, answer(call.request));
  }
  server.addService(def, impl);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return { port, stop: () => new Promise<void>((r) => server.tryShutdown(() => r())) };
}

const taskDefName = uniqueName("hosts-task");
const wfSpecName = uniqueName("hosts-wf");
let worker: LHTaskWorker;
let config: LHConfig;
const servedBy = new Map<string, string>();

beforeAll(async () => {
  a = await startServer({ extraArgs: ["--poll-wait-seconds", "1"] });
  b = await startServer({ extraArgs: ["--poll-wait-seconds", "1"] });
  for (const s of [a, b]) {
    const c = s.config().getClient();
    await c.putTaskDef({ name: taskDefName });
    await c.putWfSpec(oneTaskWfSpec(wfSpecName, taskDefName));
  }
  bootstrap = await startBootstrap(taskDefName);
  config = new LHConfig({
    apiHost: "127.0.0.1",
    apiPort: bootstrap.port,
    configFile: null,
    env: {},
    taskWorkerId: "hosts-worker",
  });
});
afterAll(async () => {
  await worker?.close();
  config?.close();
  await bootstrap?.stop();
  await a?.stop();
  await b?.stop();
});

async function runOn(s: SdkTestServer): Promise<{ id: string; client: LHClient }> {
  const client = s.config().getClient();
  return { id: (await client.runWf({ wfSpecName })).id!.id, client };
}

describe("issue 5 your_hosts", () => {
  it("b-task-9 polls each host of your_hosts, follows it as it changes, and heartbeats with its id", async () => {
    yourHosts = [a];
    worker = new LHTaskWorker(
      async (ctx: WorkerContext) => {
        servedBy.set(ctx.wfRunId.id, "worker");
        return "ok";
      },
      taskDefName,
      config,
      { heartbeatIntervalMs: 150, logger: quiet },
    );
    await worker.start();
    expect(worker.connectedHosts).toEqual([`127.0.0.1:${a.port}`]);
    expect(registrations[0]).toMatchObject({
      taskWorkerId: "hosts-worker",
      taskDefId: { name: taskDefName },
    });

    const onA = await runOn(a);
    expect(LHStatus[(await waitForWfRunEnd(onA.client, onA.id)).status]).toBe("COMPLETED");

    // B joins, A leaves
    yourHosts = [b];
    await waitFor(
      () => (worker.connectedHosts.join() === `127.0.0.1:${b.port}` ? true : undefined),
      3_000,
      "the worker to move to B",
    );
    const onB = await runOn(b);
    expect(LHStatus[(await waitForWfRunEnd(onB.client, onB.id)).status]).toBe("COMPLETED");
    const leftOnA = await runOn(a);
    await sleep(500);
    expect(LHStatus[(await leftOnA.client.getWfRun({ id: leftOnA.id })).status]).toBe("RUNNING");

    // both: the task left on A is taken as soon as A is back in your_hosts
    yourHosts = [a, b];
    await waitFor(() => (worker.connectedHosts.length === 2 ? true : undefined), 3_000, "two hosts");
    expect(LHStatus[(await waitForWfRunEnd(leftOnA.client, leftOnA.id)).status]).toBe("COMPLETED");
    const both = await Promise.all([runOn(a), runOn(b), runOn(a), runOn(b)]);
    for (const r of both) expect(LHStatus[(await waitForWfRunEnd(r.client, r.id)).status]).toBe("COMPLETED");
    expect(registrations.length).toBeGreaterThan(3);
  });
});
