/**
 * The one-page reads of the Search RPCs (B-SRCH-1…4), in both stores. Every read names its index (SQLite
 * is told it with INDEXED BY and fails the query rather than scan a table), seeks to the bookmark with a
 * row-value comparison on the index's sort columns, and stops after `limit` rows. The indexes and the
 * variable_index table (written with each searchable variable: row-writes.ts) come from migration 4 (the
 * WorkflowEvents' from migration 15).
 */
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
  VariableQuery,
  WfRunHit,
  WfRunQuery,
  WorkflowEventHit,
  WorkflowEventQuery,
} from "./search-types";

import type { SqlReader } from "./sql-reader";

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

export class SearchReads {
  constructor(private readonly db: SqlReader) {}

  private page(p: Page): Promise<Record<string, unknown>[]> {
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
    return this.db.objects<Record<string, unknown>>(sql, [...params, p.limit]);
  }

  /**
   * The WfRunId of a stored key. Keys are `parent_child`, and ids may contain '_' themselves, so a key with
   * '_' is resolved from the stored WfRun (its id is the first field of the bytes: decode just that).
   */
  /** Turns a page's rows into hits, one after another (a WfRunId may need a read). */
  private async hits<H>(rows: Record<string, unknown>[], hit: (r: Record<string, unknown>) => Promise<H>) {
    const out: H[] = [];
    for (const r of rows) out.push(await hit(r));
    return out;
  }

  async wfRunId(tenant: string, key: string): Promise<WfRunId> {
    if (!key.includes("_")) return create(WfRunIdSchema, { id: key });
    const [row] = await this.db.rows(`SELECT bytes FROM wf_runs WHERE tenant = ? AND wf_run_key = ?`, [
      tenant,
      key,
    ]);
    if (!row) return create(WfRunIdSchema, { id: key });
    const b = row[0] as Uint8Array;
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

  async wfRuns(q: WfRunQuery): Promise<WfRunHit[]> {
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
      let from = this.db.from("variable_index", "variable_index_by_value", "vi");
      if (q.status !== undefined) {
        from += ` ${this.db.joinInOrder} wf_runs w ON w.tenant = vi.tenant AND w.wf_run_key = vi.wf_run_key`;
        where.push("w.status = ?");
        params.push(q.status);
      }
      rows = await this.page({
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
      const where = ["tenant = ?"];
      const params: unknown[] = [q.tenant];
      let index = "wf_runs_by_time";
      if (q.wfSpecName !== undefined) {
        index = "wf_runs_by_spec";
        where.push("wf_spec_name = ?");
        params.push(q.wfSpecName);
      }
      if (q.major !== undefined) {
        index = "wf_runs_by_spec_major";
        where.push("wf_spec_major = ?");
        params.push(q.major);
      }
      if (q.status !== undefined) {
        index = index === "wf_runs_by_time" ? "wf_runs_by_status" : `${index}_status`;
        where.push("status = ?");
        params.push(q.status);
      }
      if (q.revision !== undefined) {
        where.push("wf_spec_revision = ?");
        params.push(q.revision);
      }
      rows = await this.page({
        select: "start_ms AS t, wf_run_key AS k",
        from: this.db.from("wf_runs", index),
        where,
        params,
        order: ["start_ms", "wf_run_key"],
        range: q,
        after,
        limit: q.limit,
      });
    }
    return this.hits(rows, async (r) => ({
      startMs: r.t as number,
      wfRunKey: r.k as string,
      wfRunId: await this.wfRunId(q.tenant, r.k as string),
    }));
  }

  async variables(q: VariableQuery): Promise<VariableHit[]> {
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
    const rows = await this.page({
      select: "start_ms, wf_run_key, thread, var_name",
      from: this.db.from("variable_index", "variable_index_by_value"),
      where,
      params,
      order: ["start_ms", "wf_run_key", "thread"],
      range: {},
      after: q.after ? [q.after.startMs, q.after.wfRunKey, q.after.thread] : undefined,
      limit: q.limit,
    });
    return this.hits(rows, async (r) => ({
      startMs: r.start_ms as number,
      wfRunKey: r.wf_run_key as string,
      wfRunId: await this.wfRunId(q.tenant, r.wf_run_key as string),
      thread: r.thread as number,
      name: r.var_name as string,
    }));
  }

  async nodeRuns(q: NodeRunQuery): Promise<NodeRunHit[]> {
    const rows = await this.page({
      select: "arrival_ms, wf_run_key, thread, position",
      from: this.db.from("node_runs", "node_runs_by_type_status"),
      where: ["tenant = ?", "node_type = ?", "status = ?"],
      params: [q.tenant, q.nodeType, q.status],
      order: ["arrival_ms", "wf_run_key", "thread", "position"],
      range: q,
      after: q.after ? [q.after.arrivalMs, q.after.wfRunKey, q.after.thread, q.after.position] : undefined,
      limit: q.limit,
    });
    return this.hits(rows, async (r) => ({
      arrivalMs: r.arrival_ms as number,
      wfRunKey: r.wf_run_key as string,
      wfRunId: await this.wfRunId(q.tenant, r.wf_run_key as string),
      thread: r.thread as number,
      position: r.position as number,
    }));
  }

  async taskRuns(q: TaskRunQuery): Promise<TaskRunHit[]> {
    const where = ["tenant = ?"];
    const params: unknown[] = [q.tenant];
    // no TaskDef: every TaskDef's TaskRuns, from the indexes without the name
    const byDef = q.taskDefName !== undefined;
    if (byDef) {
      where.push("task_def_name = ?");
      params.push(q.taskDefName);
    }
    if (q.status !== undefined) {
      where.push("status = ?");
      params.push(q.status);
    }
    const index = byDef
      ? q.status === undefined
        ? "task_runs_by_def"
        : "task_runs_by_def_status"
      : q.status === undefined
        ? "task_runs_by_time"
        : "task_runs_by_status";
    const rows = await this.page({
      select: "scheduled_ms, wf_run_key, task_guid",
      from: this.db.from("task_runs", index),
      where,
      params,
      order: ["scheduled_ms", "wf_run_key", "task_guid"],
      range: q,
      after: q.after ? [q.after.scheduledMs, q.after.wfRunKey, q.after.taskGuid] : undefined,
      limit: q.limit,
    });
    return this.hits(rows, async (r) => ({
      scheduledMs: r.scheduled_ms as number,
      wfRunKey: r.wf_run_key as string,
      wfRunId: await this.wfRunId(q.tenant, r.wf_run_key as string),
      taskGuid: r.task_guid as string,
    }));
  }

  async externalEvents(q: ExternalEventQuery): Promise<ExternalEventHit[]> {
    const where = ["tenant = ?", "def_name = ?"];
    const params: unknown[] = [q.tenant, q.defName];
    if (q.claimed !== undefined) {
      where.push("claimed = ?");
      params.push(q.claimed ? 1 : 0);
    }
    const rows = await this.page({
      select: "created_ms, wf_run_key, guid",
      from: this.db.from(
        "external_events",
        q.claimed === undefined ? "external_events_by_def" : "external_events_by_def_claimed",
      ),
      where,
      params,
      order: ["created_ms", "wf_run_key", "guid"],
      range: q,
      after: q.after ? [q.after.createdMs, q.after.wfRunKey, q.after.guid] : undefined,
      limit: q.limit,
    });
    return this.hits(rows, async (r) => ({
      createdMs: r.created_ms as number,
      wfRunKey: r.wf_run_key as string,
      wfRunId: await this.wfRunId(q.tenant, r.wf_run_key as string),
      guid: r.guid as string,
    }));
  }

  async workflowEvents(q: WorkflowEventQuery): Promise<WorkflowEventHit[]> {
    const rows = await this.page({
      select: "created_ms, wf_run_key, number",
      from: this.db.from("workflow_events", "workflow_events_by_def"),
      where: ["tenant = ?", "def_name = ?"],
      params: [q.tenant, q.defName],
      order: ["created_ms", "wf_run_key", "number"],
      range: q,
      after: q.after ? [q.after.createdMs, q.after.wfRunKey, q.after.number] : undefined,
      limit: q.limit,
    });
    return this.hits(rows, async (r) => ({
      createdMs: r.created_ms as number,
      wfRunKey: r.wf_run_key as string,
      wfRunId: await this.wfRunId(q.tenant, r.wf_run_key as string),
      number: r.number as number,
    }));
  }
}
