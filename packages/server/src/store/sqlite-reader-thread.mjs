// The SQLite reader thread: a read-only connection of its own for the reads that may be long (a List
// RPC's page of up to 1,000 objects), so that they never hold the main thread. Each message is one query,
// [sql, params], answered with its rows as arrays. In WAL mode a read sees every transaction committed
// before it started, on whichever connection: a page read here after a commit was answered includes it.
// Plain JavaScript so it loads the same way under node, tsx and vitest.
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";

const db = new Database(workerData.file, { readonly: true });
// the store's clock, as on the main connection (sqlite.ts)
db.function("pony_now_ms", { deterministic: false }, () => Date.now());
const statements = new Map();

function statement(sql) {
  let s = statements.get(sql);
  if (!s) {
    s = db.prepare(sql);
    s.raw(true);
    statements.set(sql, s);
  }
  return s;
}

parentPort.on("message", (msg) => {
  if (msg.kind === "close") {
    db.close();
    parentPort.postMessage({ id: msg.id, ok: true });
    return;
  }
  try {
    parentPort.postMessage({ id: msg.id, ok: true, rows: statement(msg.sql).all(...msg.params) });
  } catch (e) {
    parentPort.postMessage({
      id: msg.id,
      ok: false,
      error: e instanceof Error ? e.message : String(e),
      code: typeof e?.code === "string" ? e.code : undefined,
    });
  }
});
