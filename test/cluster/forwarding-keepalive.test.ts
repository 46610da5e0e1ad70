/**
 * Issue 11, a silent peer: a server paused with SIGSTOP keeps its connections open and answers nothing. A
 * command forwarded to it with no deadline fails UNAVAILABLE once HTTP/2 keepalive finds the peer silent,
 * instead of waiting for it to come back; the partition moves to the server left once the lease runs out,
 * and the command sent again runs there, once, as the paused server sees when it wakes.
 */
import { afterAll, describe, expect, it } from "vitest";
import { partitionOf } from "../../packages/server/src/store/placement";
import { statusOf } from "../support/client";
import { partitionOwners, startCluster, type TestCluster } from "../support/cluster";
import { entry, exit, thread, wfSpec } from "../support/specs";
import { waitFor } from "../support/wait";

const PARTITIONS = 6;
let cluster: TestCluster | undefined;

afterAll(async () => {
  // a stopped process acts on SIGTERM only once it runs again
  for (const node of cluster?.nodes ?? []) node.server?.proc.kill("SIGCONT");
  await cluster?.stop();
});

/** the partitions each server owns now, by server id */
async function owners(databaseUrl: string): Promise<Map<string, Set<number>>> {
  const out = new Map<string, Set<number>>();
  for (const [part, owner] of await partitionOwners(databaseUrl)) {
    if (!out.has(owner)) out.set(owner, new Set());
    out.get(owner)!.add(part);
  }
  return out;
}

let n = 0;
function idIn(parts: Set<number>, prefix: string): string {
  for (;;) {
    const id = `${prefix}-${n++}`;
    if (parts.has(partitionOf("default", id, PARTITIONS))) return id;
  }
}

describe("a peer that goes silent", () => {
  it("B-RUN-1 a command forwarded to a paused server fails UNAVAILABLE within two lease times, and runs once at the new owner when sent again", async () => {
    cluster = await startCluster(2, { leaseSeconds: 1, partitions: PARTITIONS });
    const [first, second] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]];
    const c = first.server!.client();
    await c.call("PutWfSpec", wfSpec("ka-wf", thread([entry(), exit("1-exit-EXIT")])));
    const secondId = `127.0.0.1:${second.port}`;
    const held = await waitFor(
      async () => {
        const o = await owners(cluster!.databaseUrl);
        const parts = o.get(secondId);
        return parts && parts.size > 0 && parts.size < PARTITIONS ? parts : undefined;
      },
      15_000,
      "the second server to own some partitions",
    );
    // the forwarding stream between them is open and working
    const warm = idIn(held, "ka-warm");
    expect((await c.call("RunWf", { wf_spec_name: "ka-wf", id: warm })).status).toBe("COMPLETED");

    second.server!.proc.kill("SIGSTOP");
    const id = idIn(held, "ka-silent");
    const t0 = performance.now();
    // no deadline: only keepalive can end this call while the owner is paused
    const outcome = await statusOf(c.call("RunWf", { wf_spec_name: "ka-wf", id }));
    const waitedMs = performance.now() - t0;
    expect(outcome.code).toBe("UNAVAILABLE");
    expect(outcome.message).toMatch(/partition's owner/);
    // keepalive pings every lease time (1 s) and waits as long for the answer
    expect(waitedMs).toBeLessThan(5_000);

    // the first server takes the paused server's partitions once their leases run out; sent again, the
    // RunWf runs there
    const run = await waitFor(
      async () => {
        try {
          return await c.call("RunWf", { wf_spec_name: "ka-wf", id }, { deadlineMs: 3_000 });
        } catch {
          return undefined;
        }
      },
      20_000,
      "the RunWf to run at the new owner",
    );
    expect(run.status).toBe("COMPLETED");

    // woken, the paused server reads the same single WfRun: what it had been sent never committed
    second.server!.proc.kill("SIGCONT");
    const c2 = second.server!.client();
    const seen = await waitFor(
      async () => {
        try {
          return await c2.call("GetWfRun", { id }, { deadlineMs: 3_000 });
        } catch {
          return undefined;
        }
      },
      20_000,
      "the woken server to answer",
    );
    expect(seen).toEqual(run);
    const runs = await c.call("SearchWfRun", { wf_spec_name: "ka-wf" });
    expect(runs.results.map((r: { id: string }) => r.id).sort()).toEqual([id, warm].sort());
    c2.close();
    c.close();
  }, 90_000);
});
