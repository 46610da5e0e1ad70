/**
 * The List RPCs' reads, in both stores: one page of one WfRun's objects, in the list's order, resuming strictly
 * after a position with a row-value comparison on the index columns (a keyset seek: the cost of a page does
 * not depend on how many objects come before it) and stopping after `limit` rows. The indexes are the
 * primary keys (NodeRuns, Variables) and those of migration 7. Objects come back as the protobuf bytes stored
 * (the List RPCs pass them through: api/encoded.ts); WorkflowEvents read by the server itself (to answer
 * AwaitWorkflowEvent), decoded.
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

/**
 * Each list's page: its key columns as k0, k1, … and the stored bytes as b, in the list's order from right
 * after a position. The reader reads it as one aggregated row (SqlReader.pageAggregate), not row by row.
 */
const PAGES = {
  nodeRuns: `SELECT thread AS k0, position AS k1, bytes AS b FROM node_runs
    WHERE tenant = ? AND wf_run_key = ? AND (thread, position) > (?, ?)
    ORDER BY thread, position LIMIT ?`,
  nodeRunsOfThread: `SELECT thread AS k0, position AS k1, bytes AS b FROM node_runs
    WHERE tenant = ? AND wf_run_key = ? AND thread = ? AND position > ?
    ORDER BY position LIMIT ?`,
  variables: `SELECT thread AS k0, name AS k1, bytes AS b FROM variables
    WHERE tenant = ? AND wf_run_key = ? AND (thread, name) > (?, ?)
    ORDER BY thread, name LIMIT ?`,
  taskRuns: `SELECT scheduled_ms AS k0, task_guid AS k1, bytes AS b FROM {{task_runs:task_runs_by_run}}
    WHERE tenant = ? AND wf_run_key = ? AND (scheduled_ms, task_guid) > (?, ?)
    ORDER BY scheduled_ms, task_guid LIMIT ?`,
  userTaskRuns: `SELECT scheduled_ms AS k0, guid AS k1, bytes AS b FROM {{user_task_runs:user_task_runs_by_run}}
    WHERE tenant = ? AND wf_run_key = ? AND (scheduled_ms, guid) > (?, ?)
    ORDER BY scheduled_ms, guid LIMIT ?`,
  externalEvents: `SELECT created_ms AS k0, created_sub AS k1, def_name AS k2, guid AS k3, bytes AS b
    FROM {{external_events:external_events_by_run}}
    WHERE tenant = ? AND wf_run_key = ? AND (created_ms, created_sub, def_name, guid) > (?, ?, ?, ?)
    ORDER BY created_ms, created_sub, def_name, guid LIMIT ?`,
  workflowEvents: `SELECT created_ms AS k0, def_name AS k1, number AS k2, bytes AS b
    FROM {{workflow_events:workflow_events_by_run}}
    WHERE tenant = ? AND wf_run_key = ? AND (created_ms, def_name, number) > (?, ?, ?)
    ORDER BY created_ms, def_name, number LIMIT ?`,
} as const;
/** how many key columns each page has */
const KEYS: Record<keyof typeof PAGES, number> = {
  nodeRuns: 2,
  nodeRunsOfThread: 2,
  variables: 2,
  taskRuns: 2,
  userTaskRuns: 2,
  externalEvents: 4,
  workflowEvents: 3,
};

/** WorkflowEvents the server reads itself, a few at a time, and decodes: plain rows (ms, def, number, bytes). */
const WORKFLOW_EVENTS = {
  workflowEvents: PAGES.workflowEvents,
  // one WorkflowEventDef's events are numbered in the order they were thrown: the primary key is their order
  workflowEventsOfDef: `SELECT created_ms AS ms, def_name, number, bytes FROM workflow_events
    WHERE tenant = ? AND wf_run_key = ? AND def_name = ? AND number > ?
    ORDER BY number LIMIT ?`,
} as const;

/** each {{table:index}} as the table read through that index, as the store names it */
function withIndexes(db: SqlReader, sql: string): string {
  return sql.replace(/\{\{(\w+):(\w+)\}\}/g, (_m, table: string, index: string) => db.from(table, index));
}

export class ListReads {
  /** each page's SQL: one row, its objects' keys and lengths and their bytes back to back */
  private readonly sql: Record<keyof typeof PAGES, string>;
  private readonly events: Record<keyof typeof WORKFLOW_EVENTS, string>;

  constructor(private readonly db: SqlReader) {
    this.sql = Object.fromEntries(
      Object.entries(PAGES).map(([k, sql]) => {
        const keys = Array.from({ length: KEYS[k as keyof typeof PAGES] }, (_, i) => `k${i}`);
        return [k, `SELECT ${db.pageAggregate(keys)} FROM (${withIndexes(db, sql)}) AS page`];
      }),
    ) as Record<keyof typeof PAGES, string>;
    this.events = Object.fromEntries(
      Object.entries(WORKFLOW_EVENTS).map(([k, sql]) => [k, withIndexes(db, sql)]),
    ) as Record<keyof typeof WORKFLOW_EVENTS, string>;
  }

  /**
   * One page, read as one row off the main thread (SqlReader.longRows): the objects come back as subarrays
   * of one buffer, so a page of hundreds of rows costs one row's allocations rather than an array and a
   * buffer per row.
   */
  private async page<P>(
    text: string,
    params: readonly unknown[],
    position: (keys: unknown[]) => P,
  ): Promise<Positioned<Uint8Array, P>[]> {
    const [row] = await this.db.longRows(text, params);
    const meta = row?.[0];
    if (typeof meta !== "string") return [];
    // [[...keys, length], …]
    const entries = JSON.parse(meta) as unknown[][];
    const bytes = (row![1] as Uint8Array | null) ?? new Uint8Array(0);
    const out = new Array<Positioned<Uint8Array, P>>(entries.length);
    for (let i = 0, at = 0; i < entries.length; i++) {
      const e = entries[i]!;
      out[i] = { item: bytes.subarray(at, (at += e[e.length - 1] as number)), position: position(e) };
    }
    return out;
  }

  nodeRuns(
    tenant: string,
    key: string,
    page: ListPage<NodeRunPosition> & { thread?: number },
  ): Promise<Positioned<Uint8Array, NodeRunPosition>[]> {
    const { thread, after, limit: n } = page;
    const at = (k: unknown[]) => ({ thread: k[0] as number, position: k[1] as number });
    return thread === undefined
      ? this.page(this.sql.nodeRuns, [tenant, key, after?.thread ?? -1, after?.position ?? -1, n], at)
      : this.page(
          this.sql.nodeRunsOfThread,
          [tenant, key, thread, after?.thread === thread ? after.position : -1, n],
          at,
        );
  }

  variables(
    tenant: string,
    key: string,
    page: ListPage<VariablePosition>,
  ): Promise<Positioned<Uint8Array, VariablePosition>[]> {
    const { after, limit: n } = page;
    return this.page(this.sql.variables, [tenant, key, after?.thread ?? -1, after?.name ?? "", n], (k) => ({
      thread: k[0] as number,
      name: k[1] as string,
    }));
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
    const { after, limit: n } = page;
    return this.page(sql, [tenant, key, after?.ms ?? FIRST_MS, after?.guid ?? "", n], (k) => ({
      ms: k[0] as number,
      guid: k[1] as string,
    }));
  }

  externalEvents(
    tenant: string,
    key: string,
    page: ListPage<EventPosition>,
  ): Promise<Positioned<Uint8Array, EventPosition>[]> {
    const { after: a, limit: n } = page;
    return this.page(
      this.sql.externalEvents,
      [tenant, key, a?.ms ?? FIRST_MS, a?.sub ?? -1, a?.defName ?? "", a?.guid ?? "", n],
      (k) => ({
        ms: k[0] as number,
        sub: k[1] as number,
        defName: k[2] as string,
        guid: k[3] as string,
      }),
    );
  }

  /** ListWorkflowEvents: every def's events by creation time, as stored bytes */
  encodedWorkflowEvents(
    tenant: string,
    key: string,
    page: ListPage<WorkflowEventPosition>,
  ): Promise<Positioned<Uint8Array, WorkflowEventPosition>[]> {
    return this.page(this.sql.workflowEvents, workflowEventsAfter(tenant, key, page), (k) => ({
      ms: k[0] as number,
      defName: k[1] as string,
      number: k[2] as number,
    }));
  }

  async workflowEvents(
    tenant: string,
    key: string,
    page: ListPage<WorkflowEventPosition> & { defName?: string },
  ): Promise<Positioned<WorkflowEvent, WorkflowEventPosition>[]> {
    const a = page.after;
    const rows = (await (page.defName === undefined
      ? this.db.rows(this.events.workflowEvents, workflowEventsAfter(tenant, key, page))
      : this.db.rows(this.events.workflowEventsOfDef, [
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

/** the parameters of a page of every def's WorkflowEvents, from right after `page.after` */
function workflowEventsAfter(tenant: string, key: string, page: ListPage<WorkflowEventPosition>): unknown[] {
  const a = page.after;
  return [tenant, key, a?.ms ?? FIRST_MS, a?.defName ?? "", a?.number ?? -1, page.limit];
}
