/**
 * WfSpec version migration (MigrateWfSpec): moves one live WfRun onto a newer version of its WfSpec.
 *
 * Every ThreadRun that has not ended moves to the ThreadSpec its migration names, and its current NodeRun to
 * the node its node migration names: the NodeRun keeps its work (a TaskRun in flight, a wait for an event,
 * a sleep) and the `wf_spec_id` it was created under, and when it completes the thread goes on along the new
 * node's outgoing edges. Variables the new version declares that the WfRun lacks are created with their
 * default value (or empty); a variable whose value does not fit the new declaration stops the migration.
 *
 * It is all or nothing per WfRun: `planMigration` says why a WfRun cannot move (and then nothing changes);
 * `applyMigration` moves it.
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  LHStatus,
  VariableIdSchema,
  VariableSchema,
  WfRunVariableAccessLevel,
  type NodeRun,
  type ThreadRun,
  type WfSpec,
  type WfSpecVersionMigration,
} from "@pony/proto";
import { canFeed, declaredType, variableTypeName } from "../metadata/variable-defs";
import { valueType, nullValue } from "../variables";
import { currentNodeRun } from "./thread";
import { isTerminal } from "./halting";
import { nodeRunKey, variableKey, type EngineContext, type WfRunState } from "./state";

/** One thread's move: where it goes, and where its current NodeRun goes. */
interface ThreadMove {
  thread: ThreadRun;
  newThreadSpecName: string;
  nodeRun?: NodeRun;
  newNodeName?: string;
}

export interface MigrationPlan {
  moves: ThreadMove[];
  /** variables to create: thread number and name */
  newVariables: { thread: number; name: string; value: ReturnType<typeof nullValue> }[];
}

const versionOf = (s: WfSpec) => `${s.id?.majorVersion ?? 0}.${s.id?.revision ?? 0}`;

/**
 * How the WfRun would move to `to`, or a sentence saying why it cannot (a thread or current node the
 * migration does not map, a node of another kind, a variable that does not fit).
 */
export function planMigration(
  state: WfRunState,
  to: WfSpec,
  migration: WfSpecVersionMigration,
): MigrationPlan | string {
  const status = state.wfRun.status;
  if (status !== LHStatus.RUNNING && status !== LHStatus.HALTED) {
    return `it is ${LHStatus[status]}: only RUNNING and HALTED WfRuns migrate`;
  }
  const moves: ThreadMove[] = [];
  for (const thread of state.wfRun.threadRuns) {
    if (isTerminal(thread.status)) continue;
    const where = `thread ${thread.number} ('${thread.threadSpecName}')`;
    const tm = migration.threadSpecMigrations[thread.threadSpecName];
    if (!tm) return `${where} has no entry in thread_spec_migrations`;
    const newThread = to.threadSpecs[tm.newThreadSpecName];
    if (!newThread)
      return `${where} would move to ThreadSpec '${tm.newThreadSpecName}', which version ${versionOf(to)} does not have`;
    const nodeRun = currentNodeRun(state, thread);
    if (!nodeRun) {
      moves.push({ thread, newThreadSpecName: tm.newThreadSpecName });
      continue;
    }
    const nm = tm.nodeMigrations[nodeRun.nodeName];
    if (!nm) return `${where} is at node '${nodeRun.nodeName}', which the migration does not map`;
    const newNode = newThread.nodes[nm.newNodeName];
    if (!newNode) {
      return `${where} would move to node '${nm.newNodeName}', which ThreadSpec '${tm.newThreadSpecName}' of version ${versionOf(to)} does not have`;
    }
    const oldKind = state.wfSpec.threadSpecs[thread.threadSpecName]?.nodes[nodeRun.nodeName]?.node.case;
    if (oldKind !== newNode.node.case) {
      return `${where} is at node '${nodeRun.nodeName}' (${oldKind ?? "unknown"}), which cannot become node '${nm.newNodeName}' (${newNode.node.case ?? "unknown"})`;
    }
    moves.push({ thread, newThreadSpecName: tm.newThreadSpecName, nodeRun, newNodeName: nm.newNodeName });
  }
  const newVariables: MigrationPlan["newVariables"] = [];
  for (const move of moves) {
    for (const def of to.threadSpecs[move.newThreadSpecName]?.variableDefs ?? []) {
      const varDef = def.varDef;
      if (!varDef || def.accessLevel === WfRunVariableAccessLevel.INHERITED_VAR) continue;
      const existing = state.variables.get(variableKey(move.thread.number, varDef.name));
      const want = declaredType(varDef);
      if (existing) {
        const has = valueType(existing.value);
        // an INT fits where a DOUBLE is declared, as everywhere else
        if (has !== undefined && !canFeed(has, want)) {
          return (
            `variable '${varDef.name}' of thread ${move.thread.number} holds ${variableTypeName(has)}, ` +
            `but version ${versionOf(to)} declares it ${variableTypeName(want)}`
          );
        }
        continue;
      }
      if (def.required && !varDef.defaultValue) {
        return (
          `version ${versionOf(to)} requires variable '${varDef.name}' of thread ${move.thread.number}, ` +
          `which this WfRun does not have (give it a default value)`
        );
      }
      newVariables.push({
        thread: move.thread.number,
        name: varDef.name,
        value: varDef.defaultValue ?? nullValue(),
      });
    }
  }
  return { moves, newVariables };
}

/** Moves the WfRun to `to` as planned (planMigration): its threads, current NodeRuns and new variables. */
export function applyMigration(state: WfRunState, ctx: EngineContext, to: WfSpec, plan: MigrationPlan): void {
  const from = state.wfRun.wfSpecId;
  if (from) state.wfRun.oldWfSpecVersions.push(from);
  state.wfRun.wfSpecId = to.id;
  state.wfSpec = to;
  for (const move of plan.moves) {
    move.thread.threadSpecName = move.newThreadSpecName;
    move.thread.wfSpecId = to.id;
    if (move.nodeRun && move.newNodeName !== undefined) {
      move.nodeRun.nodeName = move.newNodeName;
      move.nodeRun.threadSpecName = move.newThreadSpecName;
      state.changes.nodeRuns.add(nodeRunKey(move.thread.number, move.nodeRun.id!.position));
    }
  }
  for (const v of plan.newVariables) {
    const key = variableKey(v.thread, v.name);
    state.variables.set(
      key,
      create(VariableSchema, {
        id: create(VariableIdSchema, { wfRunId: state.wfRun.id, threadRunNumber: v.thread, name: v.name }),
        value: v.value,
        createdAt: timestampFromMs(ctx.nowMs),
        wfSpecId: to.id,
      }),
    );
    state.changes.variables.add(key);
  }
  state.changes.wfRun = true;
}
