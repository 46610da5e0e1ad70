/**
 * Issue 11: three Pony servers on one PostgreSQL, under load (one-task, threaded, sleeping, external-event
 * and user-task WfRuns), while one of them is killed with SIGKILL at random moments and started again.
 * Every acknowledged RunWf completes; no task attempt is handed to two workers; no timer fires twice to any
 * effect (each sleeping run has exactly its four NodeRuns). The failover time (the kill → the dead server's
 * partitions committed to by their new owners) is printed.
 */
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import type { Msg, TestClient } from "../support/client";
import { startCluster, type TestCluster } from "../support/cluster";
import {
  entry,
  exit,
  int,
  jsonArr,
  lit,
  str,
  taskDef,
  taskNode,
  thread,
  varDef,
  varRef,
  wfSpec,
} from "../support/specs";
import { edge, startMultipleNode, waitThreadsNode } from "../support/threads";
import { waitFor } from "../support/wait";
import { startRawWorker, type RawWorker } from "../support/worker";

let cluster: TestCluster | undefined;

afterAll(async () => {
  await cluster?.stop();
});

const LEASE_SECONDS = 2;
const KILLS = Number(process.env.CLUSTER_KILLS ?? 3);
const retrying = { timeout_seconds: 3, retries: 8 };

const SPECS: Msg[] = [
  wfSpec(
    "cl-one",
    thread(
      [entry(), taskNode("1-work-TASK", "cl-task", [varRef("input")], retrying), exit("2-exit-EXIT")],
      [varDef("input", "STR")],
    ),
  ),
  wfSpec(
    "cl-sleep",
    thread(
      [
        entry(),
        { name: "1-nap-SLEEP", node: { sleep: { raw_seconds: lit(int(1)) } } },
        taskNode("2-work-TASK", "cl-task", [varRef("input")], retrying),
        exit("3-exit-EXIT"),
      ],
      [varDef("input", "STR")],
    ),
  ),
  wfSpec(
    "cl-event",
    thread(
      [
        entry(),
        {
          name: "1-gate-EXTERNAL_EVENT",
          node: { external_event: { external_event_def_id: { name: "cl-go" } } },
        },
        exit("2-exit-EXIT"),
      ],
      [],
    ),
  ),
  wfSpec(
    "cl-user",
    thread(
      [
        entry(),
        {
          name: "1-approve-USER_TASK",
          node: { user_task: { user_task_def_name: "cl-approve", user_id: lit(str("ann")) } },
        },
        exit("2-exit-EXIT"),
      ],
      [],
    ),
  ),
  // fans out to one child thread per item (each runs a task) and waits for them
  wfSpec(
    "cl-threads",
    {},
    {
      thread_specs: {
        entrypoint: thread(
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
            exit("3-exit-EXIT"),
          ],
          [
            varDef("items", "JSON_ARR", { default_value: jsonArr(["a", "b", "c"]) }),
            varDef("numbers", "JSON_ARR"),
            varDef("input", "STR"),
          ],
        ),
        item: thread(
          [entry(), taskNode("1-item-TASK", "cl-task", [varRef("INPUT")], retrying), exit("2-exit-EXIT")],
          [varDef("INPUT", "STR")],
        ),
      },
    },
  ),
];

/** the one call that may fail while a server is down: tried on the other servers */
async function anyServer<T>(clients: () => TestClient[], call: (c: TestClient) => Promise<T>): Promise<T> {
  let last: unknown;
  for (let round = 0; round < 40; round++) {
    for (const c of clients()) {
      try {
        return await call(c);
      } catch (e) {
        last = e;
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw last instanceof Error ? last : new Error(String(last));
}

describe("a cluster of three servers on one PostgreSQL", () => {
  it("B-RUN-13 B-TASK-11 kill -9 of servers under load: every acknowledged RunWf completes, no attempt is delivered twice, no timer fires twice", async () => {
    cluster = await startCluster(3, { leaseSeconds: LEASE_SECONDS, extraArgs: ["--poll-wait-seconds", "1"] });
    const nodes = cluster.nodes;
    const live = new Set(nodes.map((n) => n.index));
    const clientsOf = new Map(nodes.map((n) => [n.index, n.server!.client()]));
    const liveClients = () => [...live].map((i) => clientsOf.get(i)!);
    const c0 = clientsOf.get(0)!;
    await c0.call("PutTaskDef", taskDef("cl-task", [["input", "STR"]]));
    await c0.call("PutExternalEventDef", { name: "cl-go" });
    await c0.call("PutUserTaskDef", {
      name: "cl-approve",
      fields: [{ name: "ok", type: "BOOL", display_name: "OK" }],
    });
    for (const spec of SPECS) await c0.call("PutWfSpec", spec);

    // a worker polling every server (each hands out its own partitions' tasks), reconnecting to one that
    // was killed once it is back; it records every task attempt it is given
    const deliveries = new Map<string, number>();
    let polling = true;
    const workers: RawWorker[] = [];
    const pollNode = (index: number): void => {
      if (!polling) return;
      if (!live.has(index)) {
        setTimeout(() => pollNode(index), 200);
        return;
      }
      let w: RawWorker;
      try {
        w = startRawWorker(
          clientsOf.get(index)!,
          "cl-task",
          (task) => {
            const id = task.task_run_id as Msg;
            const k = `${(id.wf_run_id as Msg).id as string}/${id.task_guid as string}/${task.attempt_number as number}`;
            deliveries.set(k, (deliveries.get(k) ?? 0) + 1);
            return { status: "TASK_SUCCESS", output: str("done") };
          },
          {
            clientId: `cl-worker-${index}`,
            concurrency: 8,
            onClose: () => setTimeout(() => pollNode(index), 200),
          },
        );
      } catch {
        // its client was closed (the server was killed since): poll again once it is back
        setTimeout(() => pollNode(index), 200);
        return;
      }
      workers.push(w);
    };
    for (const node of nodes) pollNode(node.index);

    const acked = new Map<string, string>(); // id → WfSpec
    let running = true;
    let n = 0;
    // eight lanes of RunWfs, each on the servers in turn
    const load = Promise.all(
      Array.from({ length: 8 }, async () => {
        while (running) {
          const i = n++;
          const spec = ["cl-one", "cl-sleep", "cl-event", "cl-user", "cl-threads"][i % 5]!;
          const id = `cl-${i}`;
          const clients = liveClients();
          try {
            await clients[i % clients.length]!.call(
              "RunWf",
              { wf_spec_name: spec, id, variables: { input: str(id) } },
              { deadlineMs: 10_000 },
            );
            acked.set(id, spec);
          } catch {
            // not acknowledged: no promise was made (it may or may not exist)
          }
          await new Promise((r) => setTimeout(r, 5));
        }
      }),
    );

    // the kills: servers 1 and 2, three times, at random moments
    const db = new pg.Client({ connectionString: cluster.databaseUrl });
    await db.connect();
    const failovers: number[] = [];
    try {
      await new Promise((r) => setTimeout(r, 3000));
      for (let k = 0; k < KILLS; k++) {
        await new Promise((r) => setTimeout(r, 1500 + Math.random() * 2000));
        const victim = nodes[1 + (k % 2)]!;
        const before = (
          await db.query("SELECT part, epoch FROM partitions WHERE owner = $1", [`127.0.0.1:${victim.port}`])
        ).rows as { part: number; epoch: string }[];
        live.delete(victim.index);
        const killedAt = Date.now();
        await victim.server!.kill("SIGKILL");
        // failover: until every partition the dead server held has a new owner (a higher epoch)
        await waitFor(
          async () => {
            const now = (await db.query("SELECT part, epoch FROM partitions")).rows as {
              part: number;
              epoch: string;
            }[];
            const epochs = new Map(now.map((r) => [r.part, Number(r.epoch)]));
            return before.every((b) => (epochs.get(b.part) ?? 0) > Number(b.epoch)) ? true : undefined;
          },
          20_000,
          "the dead server's partitions to be taken over",
        );
        failovers.push(Date.now() - killedAt);
        await new Promise((r) => setTimeout(r, 500));
        await victim.start();
        clientsOf.set(victim.index, victim.server!.client());
        live.add(victim.index);
      }
      await new Promise((r) => setTimeout(r, 1000));
    } finally {
      running = false;
      await load;
      await db.end();
    }
    console.log(
      `cluster: ${acked.size} acknowledged RunWfs; failover after kill -9: ${failovers.map((f) => `${f} ms`).join(", ")} (lease ${LEASE_SECONDS} s)`,
    );
    expect(acked.size).toBeGreaterThan(50);

    // drive the waiting runs: their event, their user task
    const pending = new Set(acked.keys());
    await waitFor(
      async () => {
        for (const id of [...pending]) {
          const run = await anyServer(liveClients, (c) => c.call("GetWfRun", { id }));
          if (run.status === "COMPLETED") {
            pending.delete(id);
            continue;
          }
          const spec = acked.get(id);
          if (spec === "cl-event") {
            await anyServer(liveClients, (c) =>
              c.call("PutExternalEvent", {
                wf_run_id: { id },
                external_event_def_id: { name: "cl-go" },
                guid: `go-${id}`,
                content: str("go"),
              }),
            );
          } else if (spec === "cl-user") {
            const list = await anyServer(liveClients, (c) =>
              c.call("ListUserTaskRuns", { wf_run_id: { id } }),
            );
            const utr = (list.results as Msg[])[0];
            if (utr && utr.status === "ASSIGNED") {
              await anyServer(liveClients, (c) =>
                c.call("CompleteUserTaskRun", {
                  user_task_run_id: utr.id,
                  results: { ok: { bool: true } },
                  user_id: "ann",
                }),
              ).catch(() => undefined);
            }
          }
        }
        return pending.size === 0 ? true : undefined;
      },
      90_000,
      "every acknowledged WfRun to complete",
    ).catch(async (e: unknown) => {
      polling = false;
      for (const w of workers) w.stop();
      const some = [];
      for (const id of [...pending].slice(0, 10)) {
        const run = await anyServer(liveClients, (c) => c.call("GetWfRun", { id })).catch((err: unknown) => ({
          status: String(err),
        }));
        const thr = (run as Msg).thread_runs as Msg[] | undefined;
        some.push(`${id} (${acked.get(id)}): ${String(run.status)} ${String(thr?.[0]?.error_message ?? "")}`);
      }
      const first = [...pending][0]!;
      console.log(
        "workers: received / reporting",
        workers.map((w) => `${w.received.length}/${w.reporting}`).join(" "),
      );
      const tasks = await anyServer(liveClients, (c) => c.call("ListTaskRuns", { wf_run_id: { id: first } }));
      const db2 = new pg.Client({ connectionString: cluster!.databaseUrl });
      await db2.connect();
      const parts = (await db2.query("SELECT part, owner, epoch FROM partitions ORDER BY part")).rows;
      const queue = (await db2.query("SELECT part, count(*) FROM task_queue GROUP BY part")).rows;
      await db2.end();
      throw new Error(
        `${(e as Error).message}; ${pending.size} not COMPLETED, such as ${some.join("; ")}; ` +
          `${first}'s tasks: ${JSON.stringify((tasks.results as Msg[]).map((t) => [t.status, (t.attempts as Msg[]).length]))}; ` +
          `nodes ${nodes.map((x) => x.port).join(", ")}; ` +
          `partitions ${JSON.stringify(parts)}; queued ${JSON.stringify(queue)}`,
      );
    });

    polling = false;
    for (const w of workers) w.stop();
    // no task attempt went to two workers (or twice to one)
    const twice = [...deliveries].filter(([, count]) => count > 1);
    expect(twice).toEqual([]);
    // a timer that fired twice would have moved a sleeping run twice: each has exactly its four NodeRuns
    for (const [id, spec] of acked) {
      if (spec !== "cl-sleep") continue;
      const list = await anyServer(liveClients, (c) => c.call("ListNodeRuns", { wf_run_id: { id } }));
      expect((list.results as Msg[]).map((r) => r.node_name)).toEqual([
        "0-entrypoint-ENTRYPOINT",
        "1-nap-SLEEP",
        "2-work-TASK",
        "3-exit-EXIT",
      ]);
    }
  }, 240_000);
});
