/**
 * The PostgreSQL store prepares each shape of batch statement once (pg.ts, batchStatementName). A prepared
 * statement's generic plan is made from the statistics of the moment: on a new cluster, a table nearly empty.
 * These tests check that a batch still finds its rows by key once the table has grown, before any ANALYZE,
 * as the database's own counters show (pg_stat_user_tables: index scans, not whole-table scans), and that
 * each commit of a shape runs that one plan instead of being planned again (pg_prepared_statements).
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PgStore } from "../../src/store/pg";
import type { WriteOp } from "../../src/store/store";
import { startThrowawayPostgres, type ThrowawayPostgres } from "../../../../test/support/postgres";
import { indexInfo, keyOf, putVariable, variable, wfRunIdOf } from "./conformance-fixtures";

let postgres: ThrowawayPostgres;

beforeAll(async () => {
  postgres = await startThrowawayPostgres({ fsync: false });
});
afterAll(async () => {
  await postgres?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Scans {
  seq: number;
  idx: number;
  inserted: number;
}

async function scansOf(db: pg.Client, table: string): Promise<Scans> {
  // a new snapshot of the statistics each time (they are cached per transaction otherwise)
  await db.query("SELECT pg_stat_clear_snapshot()");
  const r = await db.query<{ seq: string; idx: string; ins: string }>(
    `SELECT seq_scan AS seq, coalesce(idx_scan, 0) AS idx, n_tup_ins AS ins
       FROM pg_stat_user_tables WHERE relname = $1`,
    [table],
  );
  const row = r.rows[0]!;
  return { seq: Number(row.seq), idx: Number(row.idx), inserted: Number(row.ins) };
}

/** Waits until the backends' counters (flushed within seconds of going idle) satisfy `done`. */
async function scansWhen(db: pg.Client, table: string, done: (s: Scans) => boolean): Promise<Scans> {
  const until = Date.now() + 20_000;
  for (;;) {
    const s = await scansOf(db, table);
    if (done(s) || Date.now() > until) return s;
    await sleep(200);
  }
}

/** a searchable variable's write whose index entry is removed: a put of the variable, a delete by key */
const clearIndexed = (run: string): WriteOp =>
  putVariable(variable(run, 0, "v", "x"), indexInfo([{ field: "v", key: undefined }]));

describe("PostgreSQL store: prepared batch statements", () => {
  it("a batch deletes by key after its table grew from empty, before any ANALYZE", async () => {
    const url = await postgres.createDatabase();
    const store = await PgStore.open(url);
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    try {
      // the same shape of batch, again and again while the index table is empty: PostgreSQL settles on a
      // generic plan after five runs
      for (let i = 0; i < 8; i++) await store.commit([clearIndexed(`empty-${i}`)]);

      // the table grows to thousands of rows
      const fill: WriteOp[] = [];
      for (let i = 0; i < 5_000; i++) {
        fill.push(
          putVariable(variable(`run-${i}`, 0, "v", `value-${i}`), indexInfo([{ field: "v", key: `k${i}` }])),
        );
      }
      await store.commit(fill);
      const before = await scansWhen(db, "variable_index", (s) => s.inserted >= 5_000);
      expect(before.inserted).toBeGreaterThanOrEqual(5_000);

      // the same shape once more, now deleting one of those rows
      await store.commit([clearIndexed("run-17")]);
      const after = await scansWhen(db, "variable_index", (s) => s.seq + s.idx > before.seq + before.idx);
      expect(after.idx).toBeGreaterThan(before.idx);
      expect(after.seq).toBe(before.seq);

      const left = await db.query(`SELECT count(*)::int AS n FROM variable_index WHERE wf_run_key = $1`, [
        keyOf(wfRunIdOf("run-17")),
      ]);
      expect(left.rows[0].n).toBe(0);
      const kept = await db.query(`SELECT count(*)::int AS n FROM variable_index`);
      expect(kept.rows[0].n).toBe(4_999);
    } finally {
      await db.end();
      await store.close();
    }
  });

  it("a batch shape is planned once: every commit of it runs the same generic plan", async () => {
    const store = await PgStore.open(await postgres.createDatabase());
    try {
      for (let i = 0; i < 12; i++) await store.commit([clearIndexed(`run-${i}`)]);
      // the prepared statements are the batch writer's own: ask on its connection
      const writer = (store as unknown as { writer: pg.Client }).writer;
      const r = await writer.query<{ name: string; generic: number; custom: number }>(
        `SELECT name, generic_plans::int AS generic, custom_plans::int AS custom
           FROM pg_prepared_statements WHERE name LIKE 'pony_batch_%'`,
      );
      expect(r.rows).toEqual([{ name: "pony_batch_0", generic: 12, custom: 0 }]);
    } finally {
      await store.close();
    }
  });
});
