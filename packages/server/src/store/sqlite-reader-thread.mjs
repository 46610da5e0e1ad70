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

/**
 * The memory of the rows' BLOBs, each a buffer of its own, moved to the main thread with the message rather
 * than copied: a List page's objects come as one BLOB of up to a few MB (list-reads.ts), and copying it
 * again for every page made the main thread's garbage collector run more often.
 */
function ownBuffers(rows) {
  const moved = [];
  for (const row of rows) {
    for (const cell of row) {
      if (cell instanceof Uint8Array && cell.byteOffset === 0 && cell.byteLength === cell.buffer.byteLength)
        moved.push(cell.buffer);
    }
  }
  return moved;
}

parentPort.on("message", (msg) => {
  if (msg.kind === "close") {
    db.close();
    parentPort.postMessage({ id: msg.id, ok: true });
    return;
  }
  try {
    const rows = statement(msg.sql).all(...msg.params);
    parentPort.postMessage({ id: msg.id, ok: true, rows }, ownBuffers(rows));
  } catch (e) {
    parentPort.postMessage({
      id: msg.id,
      ok: false,
      error: e instanceof Error ? e.message : String(e),
      code: typeof e?.code === "string" ? e.code : undefined,
    });
  }
});
