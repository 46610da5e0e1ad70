import type { ThreadSpec, VariableType } from "@pony/proto";
import { ancestorThreads, INPUT_VARIABLE, type ThreadGraph } from "./wf-spec-threads";
import { declaredType } from "./variable-defs";

/**
 * The variables a thread may use when validating a WfSpec.
 *
 * Rule: a variable is visible in thread T when it is declared in T or in any thread spec that can be an
 * ancestor of T (see ThreadGraph), which mirrors how a running thread looks a name up in itself and then in
 * its parents. Threads that receive an engine-provided `INPUT` (handlers, START_MULTIPLE_THREADS children)
 * and their descendants also see `INPUT`. The static type of a name is the one declared in T; for a name
 * only declared in ancestors it is their common type, or unknown when they disagree.
 */
export interface VariableScope {
  readonly thread: string;
  has(name: string): boolean;
  /** The statically known type, or undefined when unknown. */
  typeOf(name: string): VariableType | undefined;
}

export function variableScope(
  threadSpecs: Readonly<Record<string, ThreadSpec>>,
  graph: ThreadGraph,
  thread: string,
): VariableScope {
  const types = new Map<string, VariableType | undefined>();
  const ancestors = ancestorThreads(graph, thread);
  ancestors.delete(thread);
  let seesInput = graph.receivesInput.has(thread);
  for (const ancestor of ancestors) {
    if (graph.receivesInput.has(ancestor)) seesInput = true;
    for (const threadVar of threadSpecs[ancestor]?.variableDefs ?? []) {
      const def = threadVar.varDef;
      if (def === undefined) continue;
      const type = declaredType(def);
      types.set(def.name, types.has(def.name) && types.get(def.name) !== type ? undefined : type);
    }
  }
  for (const threadVar of threadSpecs[thread]?.variableDefs ?? []) {
    const def = threadVar.varDef;
    if (def !== undefined) types.set(def.name, declaredType(def));
  }
  if (seesInput && !types.has(INPUT_VARIABLE)) types.set(INPUT_VARIABLE, undefined);
  return {
    thread,
    has: (name) => types.has(name),
    typeOf: (name) => types.get(name),
  };
}
