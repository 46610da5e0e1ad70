/**
 * The List RPCs' reads, in both stores: one page of one WfRun's objects, in the list's order, resuming strictly
 * after a position with a row-value comparison on the index columns (a keyset seek: the cost of a page does
 * not depend on how many objects come before it) and stopping after `limit` rows. The indexes are the
 * primary keys (NodeRuns, Variables) and those of migration 7. Objects come back as the protobuf bytes stored
 * (the List RPCs pass them through: api/encoded.ts); WorkflowEvents, read by the server itself, decoded.
 */
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
import type { SqlReader } from "./sql-reader";

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
  taskRuns: `SELECT scheduled_ms AS ms, task_guid AS guid, bytes FROM {{task_runs:task_runs_by_run}}
    WHERE tenant = ? AND wf_run_key = ? AND (scheduled_ms, task_guid) > (?, ?)
    ORDER BY scheduled_ms, task_guid LIMIT ?`,
  userTaskRuns: `SELECT scheduled_ms AS ms, guid, bytes FROM {{user_task_runs:user_task_runs_by_run}}
    WHERE tenant = ? AND wf_run_key = ? AND (scheduled_ms, guid) > (?, ?)
    ORDER BY scheduled_ms, guid LIMIT ?`,
  externalEvents: `SELECT created_ms AS ms, created_sub AS sub, def_name, guid, bytes
    FROM {{external_events:external_events_by_run}}
    WHERE tenant = ? AND wf_run_key = ? AND (created_ms, created_sub, def_name, guid) > (?, ?, ?, ?)
    ORDER BY created_ms, created_sub, def_name, guid LIMIT ?`,
  workflowEvents: `SELECT created_ms AS ms, def_name, number, bytes FROM {{workflow_events:workflow_events_by_run}}
    WHERE tenant = ? AND wf_run_key = ? AND (created_ms, def_name, number) > (?, ?, ?)
    ORDER BY created_ms, def_name, number LIMIT ?`,
  // one WorkflowEventDef's events are numbered in the order they were thrown: the primary key is their order
  workflowEventsOfDef: `SELECT created_ms AS ms, def_name, number, bytes FROM workflow_events
    WHERE tenant = ? AND wf_run_key = ? AND def_name = ? AND number > ?
    ORDER BY number LIMIT ?`,
} as const;

/** The reader's page is read in slices of `sliceRows`, letting other calls run in between. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** One slice of a list: rows after `after` (or from the start), at most `n`, as [bytes, ...position]. */
type Slice<P> = (after: P | undefined, n: number) => Promise<Positioned<Uint8Array, P>[]>;

/** Reads a page slice by slice, each resuming after the last row of the one before. */
async function sliced<P>(
  sliceRows: number,
  page: ListPage<P>,
  slice: Slice<P>,
): Promise<Positioned<Uint8Array, P>[]> {
  const out: Positioned<Uint8Array, P>[] = [];
  let after = page.after;
  for (;;) {
    const n = Math.min(sliceRows, page.limit - out.length);
    const rows = await slice(after, n);
    for (const r of rows) out.push(r);
    if (rows.length < n || out.length >= page.limit) return out;
    after = rows[rows.length - 1]!.position;
    await nextTurn();
  }
}

export class ListReads {
  private readonly sql: Record<keyof typeof SQL, string>;

  constructor(private readonly db: SqlReader) {
    // each {{table:index}} is the table read through that index, as the store names it
    this.sql = Object.fromEntries(
      Object.entries(SQL).map(([k, sql]) => [
        k,
        sql.replace(/\{\{(\w+):(\w+)\}\}/g, (_m, table: string, index: string) => db.from(table, index)),
      ]),
    ) as Record<keyof typeof SQL, string>;
  }

  nodeRuns(
    tenant: string,
    key: string,
    page: ListPage<NodeRunPosition> & { thread?: number },
  ): Promise<Positioned<Uint8Array, NodeRunPosition>[]> {
    const { thread } = page;
    return sliced(this.db.sliceRows, page, async (after, n) => {
      const rows = (await (thread === undefined
        ? this.db.rows(this.sql.nodeRuns, [tenant, key, after?.thread ?? -1, after?.position ?? -1, n])
        : this.db.rows(this.sql.nodeRunsOfThread, [
            tenant,
            key,
            thread,
            after?.thread === thread ? after.position : -1,
            n,
          ]))) as [number, number, Uint8Array][];
      return rows.map(([t, position, bytes]) => ({ item: bytes, position: { thread: t, position } }));
    });
  }

  variables(
    tenant: string,
    key: string,
    page: ListPage<VariablePosition>,
  ): Promise<Positioned<Uint8Array, VariablePosition>[]> {
    return sliced(this.db.sliceRows, page, async (after, n) => {
      const rows = (await this.db.rows(this.sql.variables, [
        tenant,
        key,
        after?.thread ?? -1,
        after?.name ?? "",
        n,
      ])) as [number, string, Uint8Array][];
      return rows.map(([thread, name, bytes]) => ({ item: bytes, position: { thread, name } }));
    });
  }

  taskRuns(
    tenant: string,
    key: string,
    page: ListPage<ScheduledPosition>,
  ): Promise<Positioned<Uint8Array, ScheduledPosition>[]> {
    return this.byScheduledTime(this.sql.taskRuns, tenant, key, page);
  }

  userTaskRuns(
    tenant: string,
    key: string,
    page: ListPage<ScheduledPosition>,
  ): Promise<Positioned<Uint8Array, ScheduledPosition>[]> {
    return this.byScheduledTime(this.sql.userTaskRuns, tenant, key, page);
  }

  /** TaskRuns and UserTaskRuns: the same (scheduled_ms, guid) order, each from its table's index */
  private byScheduledTime(
    sql: string,
    tenant: string,
    key: string,
    page: ListPage<ScheduledPosition>,
  ): Promise<Positioned<Uint8Array, ScheduledPosition>[]> {
    return sliced(this.db.sliceRows, page, async (after, n) => {
      const rows = (await this.db.rows(sql, [tenant, key, after?.ms ?? FIRST_MS, after?.guid ?? "", n])) as [
        number,
        string,
        Uint8Array,
      ][];
      return rows.map(([ms, guid, bytes]) => ({ item: bytes, position: { ms, guid } }));
    });
  }

  externalEvents(
    tenant: string,
    key: string,
    page: ListPage<EventPosition>,
  ): Promise<Positioned<Uint8Array, EventPosition>[]> {
    return sliced(this.db.sliceRows, page, async (a, n) => {
      const rows = (await this.db.rows(this.sql.externalEvents, [
        tenant,
        key,
        a?.ms ?? FIRST_MS,
        a?.sub ?? -1,
        a?.defName ?? "",
        a?.guid ?? "",
        n,
      ])) as [number, number, string, string, Uint8Array][];
      return rows.map(([ms, sub, defName, guid, bytes]) => ({
        item: bytes,
        position: { ms, sub, defName, guid },
      }));
    });
  }

  async workflowEvents(
    tenant: string,
    key: string,
    page: ListPage<WorkflowEventPosition> & { defName?: string },
  ): Promise<Positioned<WorkflowEvent, WorkflowEventPosition>[]> {
    const a = page.after;
    const rows = (await (page.defName === undefined
      ? this.db.rows(this.sql.workflowEvents, [
          tenant,
          key,
          a?.ms ?? FIRST_MS,
          a?.defName ?? "",
          a?.number ?? -1,
          page.limit,
        ])
      : this.db.rows(this.sql.workflowEventsOfDef, [
          tenant,
          key,
          page.defName,
          a?.number ?? -1,
          page.limit,
        ]))) as [number, string, number, Uint8Array][];
    return rows.map(([ms, defName, number, bytes]) => ({
      item: fromBinary(WorkflowEventSchema, bytes),
      position: { ms, defName, number },
    }));
  }
}
