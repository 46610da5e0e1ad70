/**
 * Applies a list of VariableMutations to a thread's variables (B-RUN-8): an edge's mutations, and those of a
 * user task reminder (UTATask.mutations). They run in order and see each other's results; if any fails,
 * none of them sticks.
 */
import type { VariableMutation, VariableValue } from "@pony/proto";
import { VarMutationError, VarSubError, applyMutation, evaluateMutationRhs, valueType } from "../variables";
import { INHERITED_PREFIX, resolveVariableKey, threadScope } from "./scope";
import type { WfRunState } from "./state";
import { threadIndex } from "./halting";

/**
 * Applies `mutations` in the scope of thread `threadNumber`; `outputs` are node outputs the scope sees by node
 * name and `output` the value `node_output` right-hand sides read. Returns why it failed (nothing changed), or
 * undefined once every mutation is applied.
 */
export function applyMutations(
  state: WfRunState,
  threadNumber: number,
  mutations: readonly VariableMutation[],
  outputs: Map<string, VariableValue>,
  output: VariableValue | undefined,
): string | undefined {
  const pending = new Map<string, VariableValue>();
  const pendingScope = threadScope(state, threadNumber, pending, outputs);
  try {
    for (const m of mutations) {
      const key = resolveVariableKey(state, threadNumber, m.lhsName);
      if (key === undefined) throw new VarMutationError(`variable '${m.lhsName}' is not declared`);
      const variable = state.variables.get(key)!;
      const declaredType = declaredTypeOf(state, key, m.lhsName);
      const rhs = evaluateMutationRhs(m, pendingScope, output);
      const next = applyMutation({
        current: pending.get(key) ?? variable.value,
        declaredType,
        operation: m.operation,
        rhs,
        lhsJsonPath: m.lhsJsonPath,
        lhsName: m.lhsName,
      });
      pending.set(key, next);
    }
  } catch (e) {
    if (e instanceof VarMutationError || e instanceof VarSubError) return e.message;
    throw e;
  }
  for (const [key, value] of pending) {
    state.variables.get(key)!.value = value;
    state.changes.variables.add(key);
  }
  return undefined;
}

function declaredTypeOf(state: WfRunState, key: string, name: string) {
  if (key.startsWith(INHERITED_PREFIX)) {
    const shared = state.variables.get(key)?.value;
    const entry = state.wfSpec.threadSpecs[state.wfSpec.entrypointThreadName];
    const inheritedDef = entry?.variableDefs.find((d) => d.varDef?.name === name)?.varDef;
    const type = inheritedDef?.type ?? (shared ? valueType(shared) : undefined);
    if (type === undefined) throw new VarMutationError(`variable '${name}' has no declared type`);
    return type;
  }
  const threadNumber = Number(key.slice(0, key.indexOf("/")));
  const thread = threadIndex(state).get(threadNumber);
  const spec = thread ? state.wfSpec.threadSpecs[thread.threadSpecName] : undefined;
  const def = spec?.variableDefs.find((d) => d.varDef?.name === name)?.varDef;
  if (!def || def.type === undefined) throw new VarMutationError(`variable '${name}' has no declared type`);
  return def.type;
}
