/**
 * Search in SQLite (B-SRCH-1…4): the index writes for searchable variables and the one-page reads of the
 * Search RPCs. Every read names its index (INDEXED BY: SQLite fails the query rather than scan a table),
 * seeks to the bookmark with a row-value comparison on the index's sort columns, and stops after `limit`
 * rows. Indexes and the variable_index table are created by migration 4 (sqlite-migrations.ts).
 */
import type Database from "better-sqlite3";
import { create, fromBinary } from "@bufbuild/protobuf";
import { WfRunIdSchema, WfRunSchema, type WfRunId } from "@pony/proto";
import type {
  ExternalEventHit,
  ExternalEventQuery,
  NodeRunHit,
  NodeRunQuery,
  TaskRunHit,
  TaskRunQuery,
  TimeRange,
  VariableHit,
  VariableIndexInfo,
  VariableQuery,
  WfRunHit,
  WfRunQuery,
} from "./search-types";

type Statement = [string, unknown[]];

const PUT_INDEX = `INSERT INTO variable_index (tenant, wf_run_key, thread, field, var_name, value_key,
    wf_spec_name, wf_spec_major, wf_spec_revision, start_ms)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (tenant, wf_run_key, thread, field) DO UPDATE SET value_key = excluded.value_key`;
const DELETE_INDEX = `DELETE FROM variable_index WHERE tenant = ? AND wf_run_key = ? AND thread = ? AND field = ?`;
/** with DeleteWfRun (and retention): a WfRun's index entries go with its variables */
export const DELETE_VARIABLE_INDEX_OF_RUN = `DELETE FROM variable_index WHERE tenant = ? AND wf_run_key = ?`;

/** The statements that bring a variable's index entries up to date (same transaction as the variable). */
export function encodeVariableIndex(
  tenant: string,
  wfRunKey: string,
  thread: number,
  name: string,
  index: VariableIndexInfo,
  out: Statement[],
): void {
  for (const e of index.entries) {
    if (e.key === undefined) {
      out.push([DELETE_INDEX, [tenant, wfRunKey, thread, e.field]]);
    } else {
      out.push([
        PUT_INDEX,
        [
          tenant,
          wfRunKey,
          thread,
          e.field,
          name,
          e.key,
          index.wfSpecName,
          index.wfSpecMajor,
          index.wfSpecRevision,
          index.wfRunStartMs,
        ],
      ]);
    }
  }
}

/** One page query: equality filters, then a seek past the bookmark on the sort columns, then `limit`. */
interface Page {
  select: string;
  from: string;
  where: string[];
  params: unknown[];
  /** sort columns, the first one is the time the range applies to */
  order: string[];
  range: TimeRange;
  after: unknown[] | undefined;
  limit: number;
}

export class SqliteSearchReads {
  private readonly cache = new Map<string, Database.Statement>();
  private readonly wfRunBytes: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.wfRunBytes = db.prepare(`SELECT bytes FROM wf_runs WHERE tenant = ? AND wf_run_key = ?`);
  }

  private page(p: Page): Record<string, unknown>[] {
    const where = [...p.where];
    const params = [...p.params];
    const time = p.order[0]!;
    const earliest = p.range.earliestMs;
    if (p.after && (earliest === undefined || (p.after[0] as number) >= earliest)) {
      // the bookmark is inside the range: seeking past it also keeps the lower time bound
      where.push(`(${p.order.join(", ")}) > (${p.order.map(() => "?").join(", ")})`);
      params.push(...p.after);
    } else if (earliest !== undefined) {
      where.push(`${time} >= ?`);
      params.push(earliest);
    }
    if (p.range.latestMs !== undefined) {
      where.push(`${time} <= ?`);
      params.push(p.range.latestMs);
    }
    const sql = `SELECT ${p.select} FROM ${p.from} WHERE ${where.join(" AND ")} ORDER BY ${p.order.join(", ")} LIMIT ?`;
    let stmt = this.cache.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.cache.set(sql, stmt);
    }
    return stmt.all(...params, p.limit) as Record<string, unknown>[];
  }

  /**
   * The WfRunId of a stored key. Keys are `parent_child`, and ids may contain '_' themselves, so a key with
   * '_' is resolved from the stored WfRun (its id is the first field of the bytes: decode just that).
   */
  wfRunId(tenant: string, key: string): WfRunId {
    if (!key.includes("_")) return create(WfRunIdSchema, { id: key });
    const row = this.wfRunBytes.get(tenant, key) as { bytes: Buffer } | undefined;
    if (!row) return create(WfRunIdSchema, { id: key });
    const b = row.bytes;
    if (b[0] === 0x0a) {
      let len = 0;
      let shift = 0;
      let i = 1;
      for (;;) {
        const byte = b[i++]!;
        len += (byte & 0x7f) * 2 ** shift;
        if (byte < 0x80) break;
        shift += 7;
      }
      return fromBinary(WfRunIdSchema, b.subarray(i, i + len));
    }
    return fromBinary(WfRunSchema, b).id ?? create(WfRunIdSchema, { id: key });
  }

  wfRuns(q: WfRunQuery): WfRunHit[] {
    const after = q.after ? [q.after.startMs, q.after.wfRunKey] : undefined;
    let rows: Record<string, unknown>[];
    if (q.variables.length > 0) {
      // driven by the first variable's index entries (the most selective filter there usually is)
      const [first, ...rest] = q.variables;
      const where = [
        "vi.tenant = ?",
        "vi.wf_spec_name = ?",
        "vi.field = ?",
        "vi.value_key = ?",
        "vi.thread = 0",
      ];
      const params: unknown[] = [q.tenant, q.wfSpecName, first!.field, first!.key];
      if (q.major !== undefined) {
        where.push("vi.wf_spec_major = ?");
        params.push(q.major);
      }
      if (q.revision !== undefined) {
        where.push("vi.wf_spec_revision = ?");
        params.push(q.revision);
      }
      for (const v of rest) {
        where.push(
          `EXISTS (SELECT 1 FROM variable_index v2 WHERE v2.tenant = vi.tenant AND v2.wf_run_key = vi.wf_run_key AND v2.thread = 0 AND v2.field = ? AND v2.value_key = ?)`,
        );
        params.push(v.field, v.key);
      }
      let from = "variable_index vi INDEXED BY variable_index_by_value";
      if (q.status !== undefined) {
        from += " CROSS JOIN wf_runs w ON w.tenant = vi.tenant AND w.wf_run_key = vi.wf_run_key";
        where.push("w.status = ?");
        params.push(q.status);
      }
      rows = this.page({
        select: "vi.start_ms AS t, vi.wf_run_key AS k",
        from,
        where,
        params,
        order: ["vi.start_ms", "vi.wf_run_key"],
        range: q,
        after,
        limit: q.limit,
      });
    } else {
      const where = ["tenant = ?", "wf_spec_name = ?"];
      const params: unknown[] = [q.tenant, q.wfSpecName];
      let index = "wf_runs_by_spec";
      if (q.major !== undefined) {
        index = "wf_runs_by_spec_major";
        where.push("wf_spec_major = ?");
        params.push(q.major);
      }
      if (q.status !== undefined) {
        index += "_status";
        where.push("status = ?");
        params.push(q.status);
      }
      if (q.revision !== undefined) {
        where.push("wf_spec_revision = ?");
        params.push(q.revision);
      }
      rows = this.page({
        select: "start_ms AS t, wf_run_key AS k",
        from: `wf_runs INDEXED BY ${index}`,
        where,
        params,
        order: ["start_ms", "wf_run_key"],
        range: q,
        after,
        limit: q.limit,
      });
    }
    return rows.map((r) => ({
      startMs: r.t as number,
      wfRunKey: r.k as string,
      wfRunId: this.wfRunId(q.tenant, r.k as string),
    }));
  }

  variables(q: VariableQuery): VariableHit[] {
    const where = ["tenant = ?", "wf_spec_name = ?", "field = ?", "value_key = ?"];
    const params: unknown[] = [q.tenant, q.wfSpecName, q.field, q.key];
    if (q.major !== undefined) {
      where.push("wf_spec_major = ?");
      params.push(q.major);
    }
    if (q.revision !== undefined) {
      where.push("wf_spec_revision = ?");
      params.push(q.revision);
    }
    const rows = this.page({
      select: "start_ms, wf_run_key, thread, var_name",
      from: "variable_index INDEXED BY variable_index_by_value",
      where,
      params,
      order: ["start_ms", "wf_run_key", "thread"],
      range: {},
      after: q.after ? [q.after.startMs, q.after.wfRunKey, q.after.thread] : undefined,
      limit: q.limit,
    });
    return rows.map((r) => ({
      startMs: r.start_ms as number,
      wfRunKey: r.wf_run_key as string,
      wfRunId: this.wfRunId(q.tenant, r.wf_run_key as string),
      thread: r.thread as number,
      name: r.var_name as string,
    }));
  }

  nodeRuns(q: NodeRunQuery): NodeRunHit[] {
    const rows = this.page({
      select: "arrival_ms, wf_run_key, thread, position",
      from: "node_runs INDEXED BY node_runs_by_type_status",
      where: ["tenant = ?", "node_type = ?", "status = ?"],
      params: [q.tenant, q.nodeType, q.status],
      order: ["arrival_ms", "wf_run_key", "thread", "position"],
      range: q,
      after: q.after ? [q.after.arrivalMs, q.after.wfRunKey, q.after.thread, q.after.position] : undefined,
      limit: q.limit,
    });
    return rows.map((r) => ({
      arrivalMs: r.arrival_ms as number,
      wfRunKey: r.wf_run_key as string,
      wfRunId: this.wfRunId(q.tenant, r.wf_run_key as string),
      thread: r.thread as number,
      position: r.position as number,
    }));
  }

  taskRuns(q: TaskRunQuery): TaskRunHit[] {
    const where = ["tenant = ?", "task_def_name = ?"];
    const params: unknown[] = [q.tenant, q.taskDefName];
    if (q.status !== undefined) {
      where.push("status = ?");
      params.push(q.status);
    }
    const rows = this.page({
      select: "scheduled_ms, wf_run_key, task_guid",
      from: `task_runs INDEXED BY ${q.status === undefined ? "task_runs_by_def" : "task_runs_by_def_status"}`,
      where,
      params,
      order: ["scheduled_ms", "wf_run_key", "task_guid"],
      range: q,
      after: q.after ? [q.after.scheduledMs, q.after.wfRunKey, q.after.taskGuid] : undefined,
      limit: q.limit,
    });
    return rows.map((r) => ({
      scheduledMs: r.scheduled_ms as number,
      wfRunKey: r.wf_run_key as string,
      wfRunId: this.wfRunId(q.tenant, r.wf_run_key as string),
      taskGuid: r.task_guid as string,
    }));
  }

  externalEvents(q: ExternalEventQuery): ExternalEventHit[] {
    const where = ["tenant = ?", "def_name = ?"];
    const params: unknown[] = [q.tenant, q.defName];
    if (q.claimed !== undefined) {
      where.push("claimed = ?");
      params.push(q.claimed ? 1 : 0);
    }
    const rows = this.page({
      select: "created_ms, wf_run_key, guid",
      from: `external_events INDEXED BY ${q.claimed === undefined ? "external_events_by_def" : "external_events_by_def_claimed"}`,
      where,
      params,
      order: ["created_ms", "wf_run_key", "guid"],
      range: q,
      after: q.after ? [q.after.createdMs, q.after.wfRunKey, q.after.guid] : undefined,
      limit: q.limit,
    });
    return rows.map((r) => ({
      createdMs: r.created_ms as number,
      wfRunKey: r.wf_run_key as string,
      wfRunId: this.wfRunId(q.tenant, r.wf_run_key as string),
      guid: r.guid as string,
    }));
  }
}
