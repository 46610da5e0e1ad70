/**
 * The SQLite store's commit paths (store/sqlite-committer.ts): a batch is committed on the main connection when
 * the server is idle, or by the writer thread when it is busy or another connection holds the write lock; a
 * failed batch makes every later one fail until resetAfterFailure, and nothing of it is stored.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SqliteStore } from "../../src/store/sqlite";
import type { WriteOp } from "../../src/store/store";

let dir: string;
let store: SqliteStore;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "pony-commit-"));
  store = new SqliteStore(dir);
});

afterEach(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const timer = (key: string, dueMs = 1000): WriteOp => ({
  op: "putTimer",
  timer: { part: 0, tenant: "default", wfRunKey: "run-1", key, dueMs, command: { kind: "wfRunExpired" } },
});

const timerKeys = async () => (await store.loadTimers([0])).map((t) => t.key).sort();

describe("SQLite group commit", () => {
  it("B-RUN-13: batches commit in the order given, whether on the main connection or the writer thread", async () => {
    await store.commit([timer("a", 1)]); // idle: on the main connection
    const other = new Database(path.join(dir, "pony.db"));
    other.exec("BEGIN IMMEDIATE");
    // the write lock is taken: these go to the writer thread, which waits for it, in order
    const queued = [
      store.commit([timer("a", 2)]),
      store.commit([timer("b", 2)]),
      store.commit([timer("a", 3)]),
    ];
    await new Promise((r) => setTimeout(r, 20));
    other.exec("COMMIT");
    other.close();
    await Promise.all(queued);
    await store.commit([timer("c", 4)]);
    // the main connection waits for a lock again as configured once it has committed
    expect(store["db"].pragma("busy_timeout", { simple: true })).toBe(5000);
    const timers = new Map((await store.loadTimers([0])).map((t) => [t.key, t.dueMs]));
    expect(Object.fromEntries(timers)).toEqual({ a: 3, b: 2, c: 4 });
  });

  it("B-RUN-13: a small batch handed in while a large one is on the writer thread does not overtake it", async () => {
    const large = [timer("a", 1), ...Array.from({ length: 300 }, (_, i) => timer(`bulk${i}`))];
    const first = store.commit(large); // too large for the main connection: the writer thread writes it
    const second = store.commit([timer("a", 2)]); // the thread is busy: queued behind the first
    await Promise.all([first, second]);
    expect((await store.loadTimers([0])).find((t) => t.key === "a")?.dueMs).toBe(2);
  });

  it("B-RUN-13: after a batch fails on the writer thread, later batches are refused there and on the main connection", async () => {
    const other = new Database(path.join(dir, "pony.db"));
    other.exec("ALTER TABLE timers RENAME TO timers_gone");
    const large = Array.from({ length: 300 }, (_, i) => timer(`bulk${i}`));
    await expect(store.commit(large)).rejects.toThrow(/the store could not write \(.*timers/);
    other.exec("ALTER TABLE timers_gone RENAME TO timers");
    other.close();
    // small, and the thread has nothing to write: still refused, it was computed on top of the failed one
    await expect(store.commit([timer("small")])).rejects.toThrow(/the store could not write/);
    await store.resetAfterFailure();
    await store.commit([timer("after")]);
    expect(await timerKeys()).toEqual(["after"]);
  });

  it("B-RUN-13: after a failed batch every later batch fails until resetAfterFailure, and none of it is stored", async () => {
    await store.commit([timer("before")]);
    const other = new Database(path.join(dir, "pony.db"));
    other.exec("ALTER TABLE timers RENAME TO timers_gone");
    await expect(store.commit([timer("x")])).rejects.toThrow(/the store could not write \(.*timers/);
    // a later batch was computed on top of the failed one: refused, even though it alone would work
    await expect(store.commit([{ op: "deleteWfRun", tenant: "default", wfRunKey: "zzz" }])).rejects.toThrow(
      /the store could not write/,
    );
    other.exec("ALTER TABLE timers_gone RENAME TO timers");
    other.close();
    await expect(store.commit([timer("y")])).rejects.toThrow(/the store could not write/);
    await store.resetAfterFailure();
    await store.commit([timer("after")]);
    expect(await timerKeys()).toEqual(["after", "before"]);
  });

  it("B-RUN-13: while another connection holds the write lock the main thread keeps serving; the batch commits once it is released", async () => {
    const other = new Database(path.join(dir, "pony.db"));
    other.exec("BEGIN IMMEDIATE");
    let committed = false;
    const commit = store.commit([timer("waited")]).then(() => (committed = true));
    // the event loop is not blocked by the waiting commit (waiting on the lock would take the 5 s busy timeout)
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      let n = 0;
      const t = setInterval(() => {
        if (++n === 5) {
          clearInterval(t);
          resolve();
        }
      }, 10);
    });
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(committed).toBe(false);
    other.exec("COMMIT");
    other.close();
    await commit;
    expect(await timerKeys()).toEqual(["waited"]);
  });

  it("keeps the WAL file bounded while an idle server commits on the main connection", async () => {
    for (let i = 0; i < 600; i++) await store.commit([timer(`t${i}`)]);
    await store.flushed();
    const wal = fs.statSync(path.join(dir, "pony.db-wal")).size;
    // 600 commits of ~3 pages each, never checkpointed, would be ~7 MB
    expect(wal).toBeLessThan(2 * 1024 * 1024);
    expect((await timerKeys()).length).toBe(600);
  });

  it("keeps the WAL file bounded while a slow disk sends every commit to the writer thread", async () => {
    // as after a commit that took longer than SLOW_COMMIT_MS: the thread writes everything for a while
    store["writer"]["writer"].slowUntil = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 600; i++) await store.commit([timer(`t${i}`)]);
    await store.flushed();
    const wal = fs.statSync(path.join(dir, "pony.db-wal")).size;
    expect(wal).toBeLessThan(2 * 1024 * 1024);
    expect((await timerKeys()).length).toBe(600);
  });
});
