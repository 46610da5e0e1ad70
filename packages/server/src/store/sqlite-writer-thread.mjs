// The SQLite writer thread. It owns the write connection: each message is one batch of
// [sql, params] statements, applied in one transaction (one fsync), answered in order. A statement with a
// third element is a partition fence: it must change exactly one row, else the batch is rolled back and
// answered with `fenced` (every partition whose fence failed).
// After a failed batch it refuses every later batch until told to reset, because those batches
// were computed on top of the failed one. Plain JavaScript so it loads the same way under node,
// tsx and vitest.
import { performance } from "node:perf_hooks";
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";

const db = new Database(workerData.file);
db.pragma("journal_mode = WAL");
db.pragma("synchronous = FULL");
// Batches written here (a slow disk sends every batch here for a while) checkpoint as they go, about as
// often as the main connection has this thread checkpoint its own (every 50 commits of a few pages): with
// SQLite's default of 1,000 pages the WAL grew to about 4 MB before its first checkpoint.
db.pragma("wal_autocheckpoint = 200");
// the store's clock, as on the main connection (sqlite.ts): leases and heartbeats are written here
db.function("pony_now_ms", { deterministic: false }, () => Date.now());
const statements = new Map();
let failed = false;

function statement(sql) {
  let s = statements.get(sql);
  if (!s) {
    s = db.prepare(sql);
    statements.set(sql, s);
  }
  return s;
}

class Fenced extends Error {
  constructor(parts) {
    super(`partitions ${parts.join(", ")} fenced`);
    this.parts = parts;
  }
}

class Exists extends Error {
  constructor(wfRuns) {
    super(`WfRuns ${wfRuns.map((r) => r.key).join(", ")} exist`);
    this.wfRuns = wfRuns;
  }
}

// as applyChecked in sqlite-committer.ts (the same rules on the main thread)
const applyBatch = db.transaction((ops) => {
  const fenced = [];
  const existing = [];
  for (const [sql, params, check] of ops) {
    // the checks come first: once past them, refuse the batch naming every lost partition or existing WfRun
    if (check === undefined && (fenced.length > 0 || existing.length > 0)) break;
    const { changes } = statement(sql).run(...params);
    if (typeof check === "number") {
      if (changes !== 1) fenced.push(check);
    } else if (check !== undefined && changes !== 0) existing.push(check);
  }
  if (fenced.length > 0) throw new Fenced(fenced);
  if (existing.length > 0) throw new Exists(existing);
});

// writes outside the batches (partition leases, server rows): their own transaction, whatever the batches did
const applyWrite = db.transaction((writes) =>
  writes.map(([sql, params]) => {
    const s = statement(sql);
    if (s.reader) {
      const rows = s.raw(true).all(...params);
      return { changes: rows.length, rows };
    }
    return { changes: s.run(...params).changes, rows: [] };
  }),
);

parentPort.on("message", (msg) => {
  if (msg.kind === "write") {
    try {
      const started = performance.now();
      const results = applyWrite(msg.statements);
      parentPort.postMessage({ id: msg.id, ok: true, results, took: performance.now() - started });
    } catch (e) {
      parentPort.postMessage({
        id: msg.id,
        ok: false,
        outside: true,
        error: e instanceof Error ? e.message : String(e),
        code: typeof e?.code === "string" ? e.code : undefined,
      });
    }
    return;
  }
  if (msg.kind === "reset") {
    failed = false;
    parentPort.postMessage({ id: msg.id, ok: true });
    return;
  }
  if (msg.kind === "checkpoint") {
    // asked for after commits made on the main connection, which does not checkpoint itself
    db.pragma("wal_checkpoint(PASSIVE)");
    parentPort.postMessage({ id: msg.id, ok: true });
    return;
  }
  if (msg.kind === "close") {
    db.close();
    parentPort.postMessage({ id: msg.id, ok: true });
    return;
  }
  if (failed) {
    parentPort.postMessage({ id: msg.id, ok: false, error: "an earlier commit failed; batch refused" });
    return;
  }
  try {
    const started = performance.now();
    applyBatch(msg.ops);
    parentPort.postMessage({ id: msg.id, ok: true, took: performance.now() - started });
  } catch (e) {
    failed = true;
    parentPort.postMessage({
      id: msg.id,
      ok: false,
      error: e instanceof Error ? e.message : String(e),
      code: typeof e?.code === "string" ? e.code : undefined,
      fenced: e instanceof Fenced ? e.parts : undefined,
      existing: e instanceof Exists ? e.wfRuns : undefined,
    });
  }
});
