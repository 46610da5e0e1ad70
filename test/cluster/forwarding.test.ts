/**
 * Issue 11, forwarding: two servers on one PostgreSQL share the partitions, and a command sent to the server
 * that does not own its WfRun's partition runs at the owner, over the one forwarding stream between them.
 * Answers and errors come back as the owner gave them; a deadline and the cluster secret hold; and a server
 * that stops gracefully while commands are forwarded to it fails none of them.
 */
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Msg, TestClient } from "../support/client";
import { startTestServer, type TestServer } from "../support/server";
import { entry, exit, int, lit, thread, wfSpec } from "../support/specs";
import { waitFor } from "../support/wait";

const ARGS = ["--lease-seconds", "2", "--partitions", "6", "--cluster-secret", "s3cret"];

let a: TestServer | undefined;
let b: TestServer | undefined;
let ca: TestClient;
let cb: TestClient;

beforeAll(async () => {
  a = await startTestServer({ store: "postgres", extraArgs: ARGS });
  ca = a.client();
  await ca.call("PutWfSpec", wfSpec("fw-wf", thread([entry(), exit("1-exit-EXIT")])));
  await ca.call(
    "PutWfSpec",
    wfSpec(
      "fw-sleep",
      thread([
        entry(),
        { name: "1-nap-SLEEP", node: { sleep: { raw_seconds: lit(int(30)) } } },
        exit("2-exit-EXIT"),
      ]),
    ),
  );
  b = await startTestServer({ databaseUrl: a.databaseUrl, extraArgs: ARGS });
  cb = b.client();
  const [ra, rb] = [a.server.runtime, b.server.runtime];
  await waitFor(
    async () => (ra.partitions.held().size === 3 && rb.partitions.held().size === 3 ? true : undefined),
    15_000,
    "the partitions to be shared",
  );
}, 60_000);

afterAll(async () => {
  await b?.close();
  await a?.close();
});

let n = 0;
/** a WfRun id in one of the partitions (by default, those B owns now) */
function idOwnedByB(prefix: string, parts = new Set(b!.server.runtime.partitions.held().keys())): string {
  if (parts.size === 0) throw new Error("no partition to pick an id in");
  for (;;) {
    const id = `${prefix}-${n++}`;
    if (parts.has(a!.server.runtime.partitionOf("default", id))) return id;
  }
}

describe("forwarding between two servers", () => {
  it("B-RUN-1 a RunWf sent to the server that does not own the partition runs at the owner, and both read it", async () => {
    const id = idOwnedByB("fw-run");
    const run = await ca.call("RunWf", { wf_spec_name: "fw-wf", id });
    expect(run.status).toBe("COMPLETED");
    expect(run.id.id).toBe(id);
    expect(await cb.call("GetWfRun", { id })).toEqual(run);
    expect(await ca.call("GetWfRun", { id })).toEqual(run);
    // commands on the existing WfRun go the same way
    const sleeping = idOwnedByB("fw-sleep");
    await ca.call("RunWf", { wf_spec_name: "fw-sleep", id: sleeping });
    const stopped = await ca.call("StopWfRun", { wf_run_id: { id: sleeping } });
    expect(stopped).toEqual({});
    expect((await cb.call("GetWfRun", { id: sleeping })).status).toBe("HALTED");
  });

  it("B-RUN-1 a RunWf without an id runs at the server called: the id it is given falls in one of that server's partitions", async () => {
    for (const [c, rt] of [
      [ca, a!.server.runtime],
      [cb, b!.server.runtime],
    ] as const) {
      const held = new Set(rt.partitions.held().keys());
      const runs = await Promise.all(
        Array.from({ length: 12 }, () => c.call("RunWf", { wf_spec_name: "fw-wf" })),
      );
      for (const run of runs) {
        expect(run.status).toBe("COMPLETED");
        expect(run.id.id).toMatch(/^[0-9a-f]{32}$/);
        expect(held.has(rt.partitionOf("default", run.id.id))).toBe(true);
      }
      // every one is stored once, and read alike from the other server
      const other = c === ca ? cb : ca;
      for (const run of runs) expect(await other.call("GetWfRun", { id: run.id.id })).toEqual(run);
    }
  });

  it("B-RUN-1 the owner's refusals come back as it gave them: ALREADY_EXISTS, NOT_FOUND, INVALID_ARGUMENT", async () => {
    const id = idOwnedByB("fw-twice");
    await ca.call("RunWf", { wf_spec_name: "fw-wf", id });
    await expect(ca.call("RunWf", { wf_spec_name: "fw-wf", id })).rejects.toMatchObject({
      code: grpc.status.ALREADY_EXISTS,
    });
    const missing = idOwnedByB("fw-missing");
    await expect(ca.call("StopWfRun", { wf_run_id: { id: missing } })).rejects.toMatchObject({
      code: grpc.status.NOT_FOUND,
      details: expect.stringContaining(missing),
    });
    await expect(
      ca.call("RunWf", { wf_spec_name: "fw-wf", id: idOwnedByB("fw-bad"), variables: { nope: int(1) } }),
    ).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringContaining("nope") });
  });

  it("B-RUN-1 commands forwarded at the same moment (sent together on the stream) each get their own answer", async () => {
    const taken = idOwnedByB("fw-taken");
    await ca.call("RunWf", { wf_spec_name: "fw-wf", id: taken });
    const fresh = Array.from({ length: 40 }, () => idOwnedByB("fw-many"));
    const missing = Array.from({ length: 10 }, () => idOwnedByB("fw-none"));
    const outcome = (p: Promise<Msg>) =>
      p.then(
        (run) => `ran ${(run.id as Msg).id} ${run.status}`,
        (e: { code: number; details: string }) => `failed ${e.code} ${e.details}`,
      );
    // interleaved, all sent before any answer comes back
    const calls: Promise<string>[] = [];
    for (let i = 0; i < fresh.length; i++) {
      calls.push(outcome(ca.call("RunWf", { wf_spec_name: "fw-wf", id: fresh[i]! })));
      if (i % 4 === 0) calls.push(outcome(ca.call("RunWf", { wf_spec_name: "fw-wf", id: taken })));
      if (i % 4 === 1)
        calls.push(
          ca.call("StopWfRun", { wf_run_id: { id: missing[(i - 1) / 4]! } }).then(
            () => "stopped",
            (e: { code: number; details: string }) => `failed ${e.code} ${e.details}`,
          ),
        );
    }
    const got = await Promise.all(calls);
    let k = 0;
    for (let i = 0; i < fresh.length; i++) {
      expect(got[k++]).toBe(`ran ${fresh[i]} COMPLETED`);
      if (i % 4 === 0) expect(got[k++]).toMatch(new RegExp(`^failed ${grpc.status.ALREADY_EXISTS} `));
      if (i % 4 === 1) {
        const answer = got[k++]!;
        expect(answer).toMatch(new RegExp(`^failed ${grpc.status.NOT_FOUND} `));
        expect(answer).toContain(missing[(i - 1) / 4]);
      }
    }
    expect(k).toBe(got.length);
    // each ran once, at the owner, and reads the same from both servers
    for (const id of fresh)
      expect(await cb.call("GetWfRun", { id })).toEqual(await ca.call("GetWfRun", { id }));
  });

  it("a forwarded command whose deadline passes while the owner holds it ends DEADLINE_EXCEEDED; the link goes on", async () => {
    const store = b!.server.runtime.store;
    const commit = store.commit.bind(store);
    // the owner's commits take 1.5 s for a while
    store.commit = async (ops, fence) => {
      await new Promise((r) => setTimeout(r, 1500));
      return commit(ops, fence);
    };
    try {
      const started = Date.now();
      await expect(
        ca.call("RunWf", { wf_spec_name: "fw-wf", id: idOwnedByB("fw-late") }, { deadlineMs: 300 }),
      ).rejects.toMatchObject({ code: grpc.status.DEADLINE_EXCEEDED });
      expect(Date.now() - started).toBeLessThan(1200);
    } finally {
      store.commit = commit;
    }
    const id = idOwnedByB("fw-after");
    expect((await ca.call("RunWf", { wf_spec_name: "fw-wf", id })).status).toBe("COMPLETED");
  });

  it("the forwarding port refuses a stream without the cluster secret", async () => {
    const servers = await a!.server.runtime.store.listServers();
    const internal = servers.find((s) => s.id !== a!.server.runtime.partitions.serverId)!.internalAddress;
    const client = new grpc.Client(internal, grpc.credentials.createInsecure());
    try {
      // a wrong secret, a longer one that starts with the right one, and none at all
      for (const secret of ["wrong", "s3cret-and-more", undefined]) {
        const md = new grpc.Metadata();
        if (secret !== undefined) md.set("x-pony-cluster-secret", secret);
        const stream = client.makeBidiStreamRequest(
          "/pony.cluster.Cluster/ForwardBatched",
          (b: Buffer) => b,
          (b: Buffer) => b,
          md,
        );
        const status = await new Promise<grpc.StatusObject>((resolve) => {
          stream.on("error", () => undefined);
          stream.on("status", resolve);
        });
        expect(status.code, String(secret)).toBe(grpc.status.UNAUTHENTICATED);
        expect(status.details).toContain("cluster secret");
      }
    } finally {
      client.close();
    }
  });

  it("B-RUN-13 a server that stops gracefully while RunWfs are forwarded to it fails none of them", async () => {
    const ids: string[] = [];
    const errors: unknown[] = [];
    // B's partitions as they are before it stops: A takes them over while the load goes on
    const partsOfB = new Set(b!.server.runtime.partitions.held().keys());
    let running = true;
    const load = Promise.all(
      Array.from({ length: 4 }, async () => {
        while (running) {
          const id = idOwnedByB("fw-stop", partsOfB);
          try {
            await ca.call("RunWf", { wf_spec_name: "fw-wf", id }, { deadlineMs: 10_000 });
            ids.push(id);
          } catch (e) {
            errors.push(e);
          }
        }
      }),
    );
    await new Promise((r) => setTimeout(r, 500));
    const before = ids.length;
    await b!.stop();
    b = undefined;
    await new Promise((r) => setTimeout(r, 500));
    running = false;
    await load;
    expect(errors).toEqual([]);
    expect(before).toBeGreaterThan(5);
    expect(ids.length).toBeGreaterThan(before);
    // A owns every partition now, and each acknowledged WfRun is there, COMPLETED
    expect(a!.server.runtime.partitions.held().size).toBe(6);
    for (const id of ids) expect((await ca.call("GetWfRun", { id })).status).toBe("COMPLETED");
  }, 60_000);
});
