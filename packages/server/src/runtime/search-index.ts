/**
 * Which variables are indexed, and with which entries (B-SRCH-3): a variable whose ThreadVarDef is
 * `searchable` is indexed by its value; each of its `json_indexes` is indexed by the field at that path
 * (typed as the JsonIndex says). Any other variable is not indexed at all. The runtime passes the result
 * with the variable's putVariable write, so index entries commit in the same transaction as the variable.
 */
import type { ThreadVarDef, Variable, WfSpec } from "@pony/proto";
import type { WfRunState } from "@pony/engine";
import type { VariableIndexInfo } from "../store/search-types";
import { wfRunKey } from "./ids";
import { jsonField, jsonFieldKey, valueKey } from "./index-keys";

/** per WfSpec: ThreadSpec name → variable name → its def, only for variables that have an index */
const indexedDefsBySpec = new WeakMap<WfSpec, Map<string, Map<string, ThreadVarDef>>>();

function indexedDefs(wfSpec: WfSpec): Map<string, Map<string, ThreadVarDef>> {
  let out = indexedDefsBySpec.get(wfSpec);
  if (out) return out;
  out = new Map();
  for (const [threadName, thread] of Object.entries(wfSpec.threadSpecs)) {
    for (const def of thread.variableDefs) {
      if (!def.varDef || (!def.searchable && def.jsonIndexes.length === 0)) continue;
      let byName = out.get(threadName);
      if (!byName) out.set(threadName, (byName = new Map<string, ThreadVarDef>()));
      byName.set(def.varDef.name, def);
    }
  }
  indexedDefsBySpec.set(wfSpec, out);
  return out;
}

/** The index entries of a variable the command wrote, or undefined when it is not indexed. */
export function variableIndexInfo(
  state: WfRunState,
  key: string,
  variable: Variable,
): VariableIndexInfo | undefined {
  const defs = indexedDefs(state.wfSpec);
  if (defs.size === 0) return undefined;
  const id = variable.id;
  // a child WfRun's view of an inherited parent variable is the parent's to index
  if (!id || (id.wfRunId && wfRunKey(id.wfRunId) !== key)) return undefined;
  const thread = state.wfRun.threadRuns.find((t) => t.number === id.threadRunNumber);
  const threadSpecName =
    thread?.threadSpecName ?? (id.threadRunNumber === 0 ? state.wfSpec.entrypointThreadName : undefined);
  const def = threadSpecName === undefined ? undefined : defs.get(threadSpecName)?.get(id.name);
  if (!def) return undefined;
  const entries: VariableIndexInfo["entries"] = [];
  if (def.searchable) entries.push({ field: id.name, key: valueKey(variable.value) });
  for (const j of def.jsonIndexes) {
    entries.push({
      field: jsonField(id.name, j.fieldPath),
      key: variable.value ? jsonFieldKey(variable.value, j.fieldPath, j.fieldType) : undefined,
    });
  }
  const spec = state.wfRun.wfSpecId;
  const start = state.wfRun.startTime;
  return {
    wfSpecName: spec?.name ?? "",
    wfSpecMajor: spec?.majorVersion ?? 0,
    wfSpecRevision: spec?.revision ?? 0,
    wfRunStartMs: start ? Number(start.seconds) * 1000 + Math.floor(start.nanos / 1e6) : 0,
    entries,
  };
}
