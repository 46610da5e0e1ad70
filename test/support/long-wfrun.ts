/**
 * A long-lived WfRun written straight into a store, as the runtime would have written it: thread 0 looped
 * through a TASK node `loops` times (ENTRYPOINT, then TASK and NOP in turn: 2 × loops + 1 NodeRuns, `loops`
 * TaskRuns), plus `threads` finished child threads with two variables each. Used by the List paging test and
 * `npm run bench:search`, so that a WfRun of hundreds of thousands of NodeRuns takes seconds, not hours.
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  LHStatus,
  NodeRunSchema,
  TaskRunSchema,
  TaskStatus,
  VariableSchema,
  WfRunSchema,
  type WfSpecId,
} from "@pony/proto";
import type { Store, WriteOp } from "../../packages/server/src/store/store";

export interface LongWfRun {
  tenant?: string;
  id: string;
  wfSpecId: WfSpecId;
  loops: number;
  threads: number;
  /** time of the first NodeRun; each next one 1 ms later */
  startMs: number;
}

export const taskGuidOf = (i: number) => `task-${i.toString().padStart(8, "0")}`;

/** Writes the WfRun in batches of `batch` rows. */
export async function seedLongWfRun(store: Store, o: LongWfRun, batch = 10_000): Promise<void> {
  const tenant = o.tenant ?? "default";
  const wfRunId = { id: o.id };
  const base = { tenant, wfRunKey: o.id };
  let ops: WriteOp[] = [];
  const flush = async (force = false) => {
    if (ops.length >= batch || (force && ops.length > 0)) {
      await store.commit(ops);
      ops = [];
    }
  };
  const at = (i: number) => timestampFromMs(o.startMs + i);
  ops.push({
    op: "putWfRun",
    ...base,
    wfRun: create(WfRunSchema, {
      id: wfRunId,
      wfSpecId: o.wfSpecId,
      status: LHStatus.RUNNING,
      startTime: at(0),
      threadRuns: [
        {
          wfSpecId: o.wfSpecId,
          number: 0,
          status: LHStatus.RUNNING,
          threadSpecName: "entrypoint",
          startTime: at(0),
          currentNodePosition: 2 * o.loops,
        },
      ],
    }),
  });
  /** a NOP NodeRun has no node_type (the API has no NOP case) */
  const nodeRun = (position: number, nodeName: string, nodeType?: Record<string, unknown>) =>
    create(NodeRunSchema, {
      id: { wfRunId, threadRunNumber: 0, position },
      wfSpecId: o.wfSpecId,
      threadSpecName: "entrypoint",
      nodeName,
      status: LHStatus.COMPLETED,
      arrivalTime: at(position),
      endTime: at(position),
      ...(nodeType ? { nodeType: nodeType as never } : {}),
    });
  ops.push({
    op: "putNodeRun",
    ...base,
    nodeRun: nodeRun(0, "0-entrypoint-ENTRYPOINT", { case: "entrypoint", value: {} }),
  });
  for (let i = 0; i < o.loops; i++) {
    const taskRunId = { wfRunId, taskGuid: taskGuidOf(i) };
    ops.push({
      op: "putNodeRun",
      ...base,
      nodeRun: nodeRun(2 * i + 1, "1-work-TASK", { case: "task", value: { taskRunId } }),
    });
    ops.push({
      op: "putTaskRun",
      ...base,
      taskRun: create(TaskRunSchema, {
        id: taskRunId,
        taskDefId: { name: "work" },
        status: TaskStatus.TASK_SUCCESS,
        scheduledAt: at(2 * i + 1),
      }),
    });
    ops.push({
      op: "putNodeRun",
      ...base,
      nodeRun: nodeRun(2 * i + 2, "2-again-NOP"),
    });
    await flush();
  }
  for (let t = 0; t <= o.threads; t++) {
    for (const name of ["item", "result"]) {
      ops.push({
        op: "putVariable",
        ...base,
        variable: create(VariableSchema, {
          id: { wfRunId, threadRunNumber: t, name },
          value: { value: { case: "int", value: BigInt(t) } },
          createdAt: at(t),
          wfSpecId: o.wfSpecId,
        }),
      });
    }
    await flush();
  }
  await flush(true);
}
