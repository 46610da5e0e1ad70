/**
 * Issue 11, takeover: a server on PostgreSQL killed with SIGKILL while timers and queued tasks wait in every
 * partition. Once restarted it takes every partition again and rebuilds them from the store: each sleep that
 * came due while it was down fires, and each queued task reaches a worker — in the metadata partition (0)
 * too, which is taken with an await (its schedules) between reading its state and owning it.
 */
import { afterAll, describe, expect, it } from "vitest";
import { partitionOf } from "../../packages/server/src/store/placement";
import type { Msg } from "../support/client";
import { startCluster, type TestCluster } from "../support/cluster";
import { entry, exit, int, oneTaskWf, str, taskDef, thread, varDef, varRef, wfSpec } from "../support/specs";
import { tsMs } from "../support/threads";
import { waitFor } from "../support/wait";
import { startRawWorker, type RawWorker } from "../support/worker";

let cluster: TestCluster | undefined;
const workers: RawWorker[] = [];

afterAll(async () => {
  for (const w of workers) w.stop();
  await cluster?.stop();
});

const PARTITIONS = 12;

/** one WfRun id in each partition, with the prefix */
function onePerPartition(prefix: string): string[] {
  const ids = new Map<number, string>();
  for (let i = 0; ids.size < PARTITIONS; i++) {
    const id = `${prefix}-${i}`;
    const part = partitionOf("default", id, PARTITIONS);
    if (!ids.has(part)) ids.set(part, id);
  }
  return [...ids.values()];
}

describe("partition takeover after kill -9", () => {
  it("B-EVT-5 B-TASK-11 timers due and tasks queued in every partition while the server was down fire and reach a worker after its restart", async () => {
    cluster = await startCluster(1, { leaseSeconds: 1, partitions: PARTITIONS });
    const node = cluster.nodes[0]!;
    let c = node.server!.client();
    await c.call("PutTaskDef", taskDef("to-task", [["input", "STR"]]));
    await c.call(
      "PutWfSpec",
      wfSpec(
        "to-sleep",
        thread(
          [
            entry(),
            { name: "1-nap-SLEEP", node: { sleep: { timestamp: varRef("until") } } },
            exit("2-exit-EXIT"),
          ],
          [varDef("until", "INT")],
        ),
      ),
    );
    await c.call("PutWfSpec", oneTaskWf("to-task", "to-task"));
    const sleeps = onePerPartition("to-sleep");
    const tasks = onePerPartition("to-task");
    const due = Date.now() + 300;
    for (const id of sleeps)
      await c.call("RunWf", { wf_spec_name: "to-sleep", id, variables: { until: int(due) } });
    for (const id of tasks)
      await c.call("RunWf", { wf_spec_name: "to-task", id, variables: { input: str(id) } });

    await node.server!.kill("SIGKILL");
    await new Promise((r) => setTimeout(r, 500));
    const restarted = await node.start();
    const restartedMs = Date.now();
    c = restarted.client();
    // a worker polling from the start: its requests wait while the partitions are taken
    const worker = startRawWorker(c, "to-task", () => ({ status: "TASK_SUCCESS", output: str("ok") }), {
      concurrency: 4,
    });
    workers.push(worker);

    const ended = new Map<string, Msg>();
    await waitFor(
      async () => {
        for (const id of [...sleeps, ...tasks]) {
          if (ended.has(id)) continue;
          const run = await c.call("GetWfRun", { id });
          if (run.status === "COMPLETED") ended.set(id, run);
        }
        return ended.size === sleeps.length + tasks.length ? true : undefined;
      },
      20_000,
      "every sleep and task run to complete after the restart",
    ).catch((e: unknown) => {
      const left = [...sleeps, ...tasks].filter((id) => !ended.has(id));
      throw new Error(
        `${(e as Error).message}: not completed ${left.map((id) => `${id} (partition ${partitionOf("default", id, PARTITIONS)})`).join(", ")}`,
      );
    });
    // at once, not at the next poll timeout or the next takeover: within the lease wait and a little
    for (const run of ended.values()) {
      const end = tsMs(run.end_time as Msg);
      expect(end - restartedMs).toBeLessThan(5000);
    }
    expect(worker.received.map((t) => ((t.task_run_id as Msg).wf_run_id as Msg).id).sort()).toEqual(
      [...tasks].sort(),
    );
  }, 60_000);
});
