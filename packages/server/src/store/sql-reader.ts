/**
 * How the shared read code (sql-reads.ts, search-reads.ts, list-reads.ts, metrics-reads.ts) runs a query in
 * either store. Queries are written once, with `?` placeholders; each store's reader runs them its way
 * (SQLite: cached prepared statements on the main connection; PostgreSQL: named prepared statements on a
 * pool, `?` numbered as `$1, $2, …`).
 */
export interface SqlReader {
  /**
   * rows as arrays of column values, in the SELECT's order. `planEachRun`: plan the query for its
   * parameters at each run (PostgreSQL: an unnamed statement), for a read whose best plan depends on a
   * list parameter's length and the table's current size; a named statement may keep a plan made when the
   * table was empty (a scan of the whole table).
   */
  rows(sql: string, params: readonly unknown[], planEachRun?: boolean): Promise<unknown[][]>;
  /** rows as objects by column name */
  objects<T>(sql: string, params: readonly unknown[]): Promise<T[]>;
  /**
   * Writes outside the batches (partition leases, server heartbeats): the statements, in one transaction
   * of their own, off the main thread; for each, the rows it changed and those its RETURNING clause gives.
   */
  write(statements: readonly WriteStatement[]): Promise<WriteResult[]>;
  /** SQL for the store's clock in epoch ms (leases and heartbeats are measured by it) */
  readonly nowMs: string;
  /**
   * `table` (named `alias`, if given) read through `index`: SQLite is told the index (INDEXED BY),
   * PostgreSQL's planner chooses
   */
  from(table: string, index: string, alias?: string): string;
  /** a join that reads the left table first (SQLite: CROSS JOIN fixes the order; PostgreSQL: JOIN) */
  readonly joinInOrder: string;
  /**
   * Rows of a read that may be long (a List RPC's page of up to 1,000 objects), run where it cannot hold
   * the main thread: SQLite on its reader thread (sqlite-reader-thread.mjs); PostgreSQL as every query.
   */
  longRows(sql: string, params: readonly unknown[]): Promise<unknown[][]>;
  /**
   * The select list that folds a list page (a subquery `page` with key columns `keys` and bytes `b`, in
   * key order) into one row: a JSON array (text) with each object's [...keys, length of b], then every
   * b back to back, both in key order; NULLs when the page is empty. A page of many objects
   * then costs one row to read.
   */
  pageAggregate(keys: readonly string[]): string;
  /**
   * A condition that `column` is one of a list of texts passed as ONE parameter (textList): SQLite reads a
   * JSON array (json_each), PostgreSQL a text[] (= ANY). One statement, whatever the list's length.
   */
  inTextList(column: string): string;
  /** the parameter of an inTextList condition */
  textList(values: readonly string[]): unknown;
}

/** One statement of SqlReader.write: SQL with `?` placeholders, and its parameters. */
export type WriteStatement = readonly [string, readonly unknown[]];
export interface WriteResult {
  changes: number;
  rows: unknown[][];
}

/** `?` placeholders as PostgreSQL's `$1, $2, …` (the queries hold no `?` in literals) */
export function numberedPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}
