import type { ThreadSpec } from "@pony/proto";

/**
 * Which ThreadSpecs can run as a child of which, worked out from a WfSpec's thread specs:
 * - START_THREAD / START_MULTIPLE_THREADS in thread T start a child of T;
 * - a node's FailureHandlerDef and a thread's InterruptDef run their handler as a child of T;
 * - a WAIT_FOR_THREADS per-thread failure handler runs as a child of the failed child, which is one of the
 *   threads T starts (or, when T starts none that we can see, of some descendant of T: we then use T).
 * Handler threads and START_MULTIPLE_THREADS children receive an `INPUT` variable from the engine.
 * Names of thread specs that do not exist are left out (the validator reports them).
 */
export interface ThreadGraph {
  /** thread spec name → names of the thread specs whose ThreadRun can be its parent */
  readonly parents: ReadonlyMap<string, ReadonlySet<string>>;
  /** thread specs whose runs get an engine-provided `INPUT` variable */
  readonly receivesInput: ReadonlySet<string>;
}

/** The name of the variable the engine gives handler threads and START_MULTIPLE_THREADS children. */
export const INPUT_VARIABLE = "INPUT";

export function threadGraph(threadSpecs: Readonly<Record<string, ThreadSpec>>): ThreadGraph {
  const parents = new Map<string, Set<string>>();
  const receivesInput = new Set<string>();
  const link = (parent: string, child: string): void => {
    if (threadSpecs[child] === undefined) return;
    let set = parents.get(child);
    if (set === undefined) {
      set = new Set();
      parents.set(child, set);
    }
    set.add(parent);
  };

  for (const [name, spec] of Object.entries(threadSpecs)) {
    const started = new Set<string>();
    for (const node of Object.values(spec.nodes)) {
      if (node.node.case === "startThread" || node.node.case === "startMultipleThreads") {
        started.add(node.node.value.threadSpecName);
      }
    }
    for (const child of started) link(name, child);
    for (const node of Object.values(spec.nodes)) {
      if (node.node.case === "startMultipleThreads") receivesInput.add(node.node.value.threadSpecName);
      for (const handler of node.failureHandlers) {
        link(name, handler.handlerSpecName);
        receivesInput.add(handler.handlerSpecName);
      }
      if (node.node.case === "waitForThreads") {
        const startedHere = [...started].filter((c) => threadSpecs[c] !== undefined);
        for (const handler of node.node.value.perThreadFailureHandlers) {
          const failedChildren = startedHere.length > 0 ? startedHere : [name];
          for (const child of failedChildren) link(child, handler.handlerSpecName);
          receivesInput.add(handler.handlerSpecName);
        }
      }
    }
    for (const interrupt of spec.interruptDefs) {
      link(name, interrupt.handlerSpecName);
      receivesInput.add(interrupt.handlerSpecName);
    }
  }
  return { parents, receivesInput };
}

/** Every thread spec that can be an ancestor (parent, grandparent, …) of `name`; `name` itself only via a cycle. */
export function ancestorThreads(graph: ThreadGraph, name: string): Set<string> {
  const found = new Set<string>();
  const queue = [...(graph.parents.get(name) ?? [])];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    if (found.has(next)) continue;
    found.add(next);
    queue.push(...(graph.parents.get(next) ?? []));
  }
  return found;
}
