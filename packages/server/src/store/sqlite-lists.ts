/**
 * The List RPCs' reads in SQLite: one page of one WfRun's objects, in the list's order, resuming strictly
 * after a position with a row-value comparison on the index columns (a keyset seek: the cost of a page does
 * not depend on how many objects come before it) and stopping after `limit` rows. The indexes are the
 * primary keys (NodeRuns, Variables) and those of migration 7. Objects come back as the protobuf bytes stored
 * (the List RPCs pass them through: api/encoded.ts); WorkflowEvents, read by the server itself, decoded.
 */
import type Database from "better-sqlite3";
import { fromBinary } from "@bufbuild/protobuf";
import { WorkflowEventSchema, type WorkflowEvent } from "@pony/proto";
import type {
  EventPosition,
  ListPage,
  NodeRunPosition,
  Positioned,
  ScheduledPosition,
  VariablePosition,
  WorkflowEventPosition,
} from "./store";

/** sorts before every stored position */
const FIRST_MS = Number.MIN_SAFE_INTEGER;

const SQL = {
  nodeRuns: `SELECT thread, position, bytes FROM node_runs
    WHERE tenant = ? AND wf_run_key = ? AND (thread, position) > (?, ?)
    ORDER BY thread, position LIMIT ?`,
  nodeRunsOfThread: `SELECT thread, position, bytes FROM node_runs
    WHERE tenant = ? AND wf_run_key = ? AND thread = ? AND position > ?
    ORDER BY position LIMIT ?`,
  variables: `SELECT thread, name, bytes FROM variables
    WHERE tenant = ? AND wf_run_key = ? AND (thread, name) > (?, ?)
    ORDER BY thread, name LIMIT ?`,
  taskRuns: `SELECT scheduled_ms AS ms, task_guid AS guid, bytes FROM task_runs INDEXED BY task_runs_by_run
    WHERE tenant = ? AND wf_run_key = ? AND (scheduled_ms, task_guid) > (?, ?)
    ORDER BY scheduled_ms, task_guid LIMIT ?`,
  userTaskRuns: `SELECT scheduled_ms AS ms, guid, bytes FROM user_task_runs INDEXED BY user_task_runs_by_run
    WHERE tenant = ? AND wf_run_key = ? AND (scheduled_ms, guid) > (?, ?)
    ORDER BY scheduled_ms, guid LIMIT ?`,
  externalEvents: `SELECT created_ms AS ms, created_sub AS sub, def_name, guid, bytes
    FROM external_events INDEXED BY external_events_by_run
    WHERE tenant = ? AND wf_run_key = ? AND (created_ms, created_sub, def_name, guid) > (?, ?, ?, ?)
    ORDER BY created_ms, created_sub, def_name, guid LIMIT ?`,
  workflowEvents: `SELECT created_ms AS ms, def_name, number, bytes FROM workflow_events INDEXED BY workflow_events_by_run
    WHERE tenant = ? AND wf_run_key = ? AND (created_ms, def_name, number) > (?, ?, ?)
    ORDER BY created_ms, def_name, number LIMIT ?`,
  // one WorkflowEventDef's events are numbered in the order they were thrown: the primary key is their order
  workflowEventsOfDef: `SELECT created_ms AS ms, def_name, number, bytes FROM workflow_events
    WHERE tenant = ? AND wf_run_key = ? AND def_name = ? AND number > ?
    ORDER BY number LIMIT ?`,
} as const;

interface Row {
  bytes: Buffer;
}

/** Rows read in one go: a page of up to 1,000 is read in slices, letting other calls run in between. */
const SLICE = 100;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** One slice of a list: rows after `after` (or from the start), at most `n`, as [bytes, ...position]. */
type Slice<P> = (after: P | undefined, n: number) => Positioned<Uint8Array, P>[];

/** Reads a page slice by slice, each resuming after the last row of the one before. */
async function sliced<P>(page: ListPage<P>, slice: Slice<P>): Promise<Positioned<Uint8Array, P>[]> {
  const out: Positioned<Uint8Array, P>[] = [];
  let after = page.after;
  for (;;) {
    const n = Math.min(SLICE, page.limit - out.length);
    const rows = slice(after, n);
    for (const r of rows) out.push(r);
    if (rows.length < n || out.length >= page.limit) return out;
    after = rows[rows.length - 1]!.position;
    await nextTurn();
  }
}

export class SqliteListReads {
  private readonly s: Record<keyof typeof SQL, Database.Statement>;

  constructor(private readonly db: Database.Database) {
    // raw: rows as arrays in the SELECT's column order (no object per row)
    this.s = Object.fromEntries(
      Object.entries(SQL).map(([k, sql]) => [
        k,
        k === "workflowEvents" || k === "workflowEventsOfDef" ? db.prepare(sql) : db.prepare(sql).raw(true),
      ]),
    ) as Record<keyof typeof SQL, Database.Statement>;
  }

  nodeRuns(
    tenant: string,
    key: string,
    page: ListPage<NodeRunPosition> & { thread?: number },
  ): Promise<Positioned<Uint8Array, NodeRunPosition>[]> {
    const { thread } = page;
    return sliced(page, (after, n) => {
      const rows = (
        thread === undefined
          ? this.s.nodeRuns.all(tenant, key, after?.thread ?? -1, after?.position ?? -1, n)
          : this.s.nodeRunsOfThread.all(
              tenant,
              key,
              thread,
              after?.thread === thread ? after.position : -1,
              n,
            )
      ) as [number, number, Buffer][];
      return rows.map(([t, position, bytes]) => ({ item: bytes, position: { thread: t, position } }));
    });
  }

  variables(
    tenant: string,
    key: string,
    page: ListPage<VariablePosition>,
  ): Promise<Positioned<Uint8Array, VariablePosition>[]> {
    return sliced(page, (after, n) => {
      const rows = this.s.variables.all(tenant, key, after?.thread ?? -1, after?.name ?? "", n) as [
        number,
        string,
        Buffer,
      ][];
      return rows.map(([thread, name, bytes]) => ({ item: bytes, position: { thread, name } }));
    });
  }

  taskRuns(
    tenant: string,
    key: string,
    page: ListPage<ScheduledPosition>,
  ): Promise<Positioned<Uint8Array, ScheduledPosition>[]> {
    return this.byScheduledTime(this.s.taskRuns, tenant, key, page);
  }

  userTaskRuns(
    tenant: string,
    key: string,
    page: ListPage<ScheduledPosition>,
  ): Promise<Positioned<Uint8Array, ScheduledPosition>[]> {
    return this.byScheduledTime(this.s.userTaskRuns, tenant, key, page);
  }

  /** TaskRuns and UserTaskRuns: the same (scheduled_ms, guid) order, each from its table's index */
  private byScheduledTime(
    stmt: Database.Statement,
    tenant: string,
    key: string,
    page: ListPage<ScheduledPosition>,
  ): Promise<Positioned<Uint8Array, ScheduledPosition>[]> {
    return sliced(page, (after, n) => {
      const rows = stmt.all(tenant, key, after?.ms ?? FIRST_MS, after?.guid ?? "", n) as [
        number,
        string,
        Buffer,
      ][];
      return rows.map(([ms, guid, bytes]) => ({ item: bytes, position: { ms, guid } }));
    });
  }

  externalEvents(
    tenant: string,
    key: string,
    page: ListPage<EventPosition>,
  ): Promise<Positioned<Uint8Array, EventPosition>[]> {
    return sliced(page, (a, n) => {
      const rows = this.s.externalEvents.all(
        tenant,
        key,
        a?.ms ?? FIRST_MS,
        a?.sub ?? -1,
        a?.defName ?? "",
        a?.guid ?? "",
        n,
      ) as [number, number, string, string, Buffer][];
      return rows.map(([ms, sub, defName, guid, bytes]) => ({
        item: bytes,
        position: { ms, sub, defName, guid },
      }));
    });
  }

  workflowEvents(
    tenant: string,
    key: string,
    page: ListPage<WorkflowEventPosition> & { defName?: string },
  ): Positioned<WorkflowEvent, WorkflowEventPosition>[] {
    const a = page.after;
    const rows = (
      page.defName === undefined
        ? this.s.workflowEvents.all(
            tenant,
            key,
            a?.ms ?? FIRST_MS,
            a?.defName ?? "",
            a?.number ?? -1,
            page.limit,
          )
        : this.s.workflowEventsOfDef.all(tenant, key, page.defName, a?.number ?? -1, page.limit)
    ) as (Row & { ms: number; def_name: string; number: number })[];
    return rows.map((r) => ({
      item: fromBinary(WorkflowEventSchema, r.bytes),
      position: { ms: r.ms, defName: r.def_name, number: r.number },
    }));
  }
}
