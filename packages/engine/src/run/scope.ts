import type { VariableValue } from "@pony/proto";
import { VarSubError, nullValue, type AssignmentScope } from "../variables";
import { variableKey, type WfRunState } from "./state";

/**
 * Variables of the parent WfRun that a child WfRun may use (B-THR-11): the runtime puts the parent's PUBLIC_VAR
 * variables (and those the parent inherits itself) into the child's state under this prefix before each
 * command, as the very same Variable objects, and writes them back to the parent's rows. A child reaches them
 * through its INHERITED_VAR declarations; PRIVATE_VAR variables of the parent are never there.
 */
export const INHERITED_PREFIX = "^";
export const inheritedVariableKey = (name: string): string => `${INHERITED_PREFIX}${name}`;

/**
 * Finds which thread holds the variable `name` as seen from `threadNumber`: the thread itself, then its
 * parent, and so on up (B-THR-1), then the parent WfRun's shared variables. Returns the key into
 * state.variables, or undefined.
 */
export function resolveVariableKey(
  state: WfRunState,
  threadNumber: number,
  name: string,
): string | undefined {
  let current: number | undefined = threadNumber;
  const seen = new Set<number>();
  while (current !== undefined && !seen.has(current)) {
    seen.add(current);
    const key = variableKey(current, name);
    if (state.variables.has(key)) return key;
    const thread = state.wfRun.threadRuns.find((t) => t.number === current);
    current = thread?.parentThreadId;
  }
  const inherited = inheritedVariableKey(name);
  return state.variables.has(inherited) ? inherited : undefined;
}

/**
 * The variables visible from one thread, with optional pending (not yet committed) values layered on top:
 * mutations on one edge see each other's results but stick only if all of them succeed (B-RUN-8).
 */
export function threadScope(
  state: WfRunState,
  threadNumber: number,
  pending?: Map<string, VariableValue>,
  nodeOutputs?: Map<string, VariableValue>,
): AssignmentScope {
  return {
    getVariable(name: string): VariableValue {
      const key = resolveVariableKey(state, threadNumber, name);
      if (key === undefined) throw new VarSubError(`variable '${name}' is not declared`);
      const p = pending?.get(key);
      if (p !== undefined) return p;
      return state.variables.get(key)?.value ?? nullValue();
    },
    getNodeOutput(nodeName: string): VariableValue {
      const out = nodeOutputs?.get(nodeName);
      if (out === undefined) throw new VarSubError(`no output of node '${nodeName}' is available here`);
      return out;
    },
  };
}
