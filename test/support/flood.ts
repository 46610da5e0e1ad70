/**
 * The flood (issue 13): one tenant keeps `concurrency` RunWfs of a self-spawning WfSpec in flight (a thread
 * that starts itself twice and then waits: thousands of threads per WfRun), while another tenant runs a small
 * WfSpec and calls GetServerVersion, timing each call. Shared by test/reliability/flood.test.ts and
 * `npm run bench:flood`.
 */
import { TestClient, type Msg } from "./client";
import { entry, exit, thread, wfSpec } from "./specs";
import { externalEventNode, startThreadNode } from "./threads";

export interface FloodFigures {
  /** the flooding tenant's RunWf calls: answered, and refused with RESOURCE_EXHAUSTED */
  floodRuns: number;
  floodRefused: number;
  /** other status codes the flooding tenant saw, by code */
  floodErrors: Record<number, number>;
  /** the other tenant's latencies (ms), sorted */
  versionMs: number[];
  runWfMs: number[];
}

export const percentile = (sorted: number[], p: number): number =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

/** Creates both tenants and their WfSpecs (the caller's client is the default tenant's admin). */
export async function prepareFlood(address: string): Promise<void> {
  const admin = new TestClient(address);
  for (const id of ["flooder", "bystander"]) {
    await admin.call("PutTenant", { id }).catch((e: { code?: number }) => {
      if (e.code !== 6) throw e; // ALREADY_EXISTS
    });
  }
  admin.close();
  const flooder = new TestClient(address, "flooder");
  await putSpawner(flooder);
  flooder.close();
  const bystander = new TestClient(address, "bystander");
  await bystander.call("PutWfSpec", wfSpec("bystander-nop", thread([entry(), exit("1-exit-EXIT")])));
  bystander.close();
}

/** Puts the self-spawning WfSpec `flood-spawner` (and its ExternalEventDef) in the client's tenant. */
export async function putSpawner(client: TestClient): Promise<void> {
  await client.call("PutExternalEventDef", { name: "flood-go" });
  const spawner = (): Msg =>
    thread([
      entry(),
      startThreadNode("1-spawn-START_THREAD", "again", {}, [{ sink_node_name: "2-spawn-START_THREAD" }]),
      startThreadNode("2-spawn-START_THREAD", "again", {}, [{ sink_node_name: "3-wait-EXTERNAL_EVENT" }]),
      externalEventNode("3-wait-EXTERNAL_EVENT", "flood-go", [{ sink_node_name: "4-exit-EXIT" }]),
      exit("4-exit-EXIT"),
    ]);
  await client.call(
    "PutWfSpec",
    wfSpec("flood-spawner", {}, { thread_specs: { entrypoint: spawner(), again: spawner() } }),
  );
}

/** Runs the flood for `durationMs`, measuring the bystander every `intervalMs`. */
export async function runFlood(
  address: string,
  opts: { durationMs: number; concurrency: number; intervalMs: number },
): Promise<FloodFigures> {
  const flooder = new TestClient(address, "flooder");
  const bystander = new TestClient(address, "bystander");
  const figures: FloodFigures = {
    floodRuns: 0,
    floodRefused: 0,
    floodErrors: {},
    versionMs: [],
    runWfMs: [],
  };
  const until = Date.now() + opts.durationMs;
  const flood = async () => {
    while (Date.now() < until) {
      try {
        await flooder.call("RunWf", { wf_spec_name: "flood-spawner" });
        figures.floodRuns++;
      } catch (e) {
        const code = (e as { code?: number }).code ?? -1;
        if (code === 8) {
          figures.floodRefused++;
          await new Promise((r) => setTimeout(r, 20)); // as a client backing off
        } else figures.floodErrors[code] = (figures.floodErrors[code] ?? 0) + 1;
      }
    }
  };
  const measure = async () => {
    while (Date.now() < until) {
      let t = performance.now();
      await bystander.call("GetServerVersion");
      figures.versionMs.push(performance.now() - t);
      t = performance.now();
      await bystander.call("RunWf", { wf_spec_name: "bystander-nop" });
      figures.runWfMs.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, opts.intervalMs));
    }
  };
  await Promise.all([...Array.from({ length: opts.concurrency }, flood), measure()]);
  figures.versionMs.sort((a, b) => a - b);
  figures.runWfMs.sort((a, b) => a - b);
  flooder.close();
  bystander.close();
  return figures;
}
