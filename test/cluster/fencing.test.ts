/**
 * Issue 11, fencing: a server that stops renewing its leases (as a long pause or a network split would make
 * it) loses its partitions to another server once they run out. Its next commit for such a partition is
 * refused (the epoch moved), it drops the partition, and nothing of the refused batch is visible; a command
 * sent to it afterwards runs at the new owner.
 */
import { create } from "@bufbuild/protobuf";
import { RunWfRequestSchema, type WfSpec } from "@pony/proto";
import { afterAll, describe, expect, it } from "vitest";
import { newWfRunId } from "../../packages/server/src/runtime/ids";
import { FencedError } from "../../packages/server/src/store/store";
import { startTestServer, type TestServer } from "../support/server";
import { entry, exit, thread, wfSpec } from "../support/specs";
import { waitFor } from "../support/wait";

let a: TestServer | undefined;
let b: TestServer | undefined;

afterAll(async () => {
  await b?.close();
  await a?.close();
});

const LEASE = ["--lease-seconds", "1", "--partitions", "6"];

describe("partition fencing", () => {
  it("a server whose leases ran out while it was paused has its next commit refused and drops the partition; nothing of it is visible", async () => {
    a = await startTestServer({ store: "postgres", extraArgs: LEASE });
    const ca = a.client();
    await ca.call("PutWfSpec", wfSpec("fence-wf", thread([entry(), exit("1-exit-EXIT")])));
    b = await startTestServer({ databaseUrl: a.databaseUrl, extraArgs: LEASE });
    const cb = b.client();
    const ra = a.server.runtime;
    const rb = b.server.runtime;
    // the two servers share the partitions
    await waitFor(
      async () => (ra.partitions.held().size === 3 && rb.partitions.held().size === 3 ? true : undefined),
      10_000,
      "the partitions to be shared",
    );

    // A is paused: it renews nothing from now on (its lease keeper's rounds do nothing)
    (a.server.leases as unknown as { round(): Promise<void> }).round = async () => {};
    const heldByA = new Map(ra.partitions.held());
    // B takes A's partitions once their leases run out
    await waitFor(
      async () => (rb.partitions.held().size === 6 ? true : undefined),
      10_000,
      "B to take A's partitions",
    );
    // A still believes it owns them
    expect(new Map(ra.partitions.held())).toEqual(heldByA);

    const refused: unknown[] = [];
    const commit = ra.store.commit.bind(ra.store);
    ra.store.commit = (ops, fence) =>
      commit(ops, fence).catch((e: unknown) => {
        refused.push(e);
        throw e;
      });
    let n = 0;
    const idIn = (parts: (p: number) => boolean) => {
      for (;;) {
        const id = `fence-${n++}`;
        if (parts(ra.partitionOf("default", id))) return id;
      }
    };

    // A's next commit for such a partition is refused: the WfRun it created in memory is nowhere
    const lostId = idIn((p) => heldByA.has(p));
    const part = ra.partitionOf("default", lostId);
    const spec = ra.metadata.get("default", "wf_spec", "fence-wf") as WfSpec;
    await expect(
      ra.runWf("default", newWfRunId(lostId), spec, create(RunWfRequestSchema, { wfSpecName: "fence-wf" })),
    ).rejects.toBeInstanceOf(FencedError);
    expect(refused).toHaveLength(1);
    expect((refused[0] as FencedError).parts).toEqual([part]);
    // …and it dropped that partition
    expect(ra.partitions.epochOf(part)).toBeUndefined();
    for (const c of [ca, cb]) {
      await expect(c.call("GetWfRun", { id: lostId })).rejects.toMatchObject({ code: 5 });
    }

    // a command sent to A for that partition now runs at its owner, B
    const id = idIn((p) => p === part);
    const run = await ca.call("RunWf", { wf_spec_name: "fence-wf", id });
    expect(run.status).toBe("COMPLETED");
    expect((await cb.call("GetWfRun", { id })).status).toBe("COMPLETED");
    expect(rb.partitions.owns(ra.partitionOf("default", id))).toBe(true);
    expect(refused).toHaveLength(1);
  }, 60_000);
});
