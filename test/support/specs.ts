/** Builders for PutWfSpecRequest / PutTaskDefRequest objects in proto-loader's plain-object form. */
import type { Msg } from "./client";

export const str = (s: string): Msg => ({ str: s });
export const int = (n: number): Msg => ({ int: String(n) });
export const dbl = (n: number): Msg => ({ double: n });
export const bool = (b: boolean): Msg => ({ bool: b });
export const jsonObj = (o: unknown): Msg => ({ json_obj: JSON.stringify(o) });
export const jsonArr = (a: unknown[]): Msg => ({ json_arr: JSON.stringify(a) });

export function taskDef(name: string, inputs: [string, string][] = []): Msg {
  return { name, input_vars: inputs.map(([n, type]) => ({ name: n, type })) };
}

export const varRef = (name: string, jsonPath?: string): Msg =>
  jsonPath ? { variable_name: name, json_path: jsonPath } : { variable_name: name };
export const lit = (value: Msg): Msg => ({ literal_value: value });

export interface NodeDef {
  name: string;
  node: Msg;
  edges?: Msg[];
}

/** A thread from an ordered list of nodes; nodes without explicit edges flow to the next one. */
export function thread(nodes: NodeDef[], variables: Msg[] = []): Msg {
  const out: Record<string, Msg> = {};
  nodes.forEach((n, i) => {
    const next = nodes[i + 1];
    const edges = n.edges ?? (next && !("exit" in n.node) ? [{ sink_node_name: next.name }] : []);
    out[n.name] = { ...n.node, outgoing_edges: edges };
  });
  return { nodes: out, variable_defs: variables };
}

export const entry = (): NodeDef => ({ name: "0-entrypoint-ENTRYPOINT", node: { entrypoint: {} } });
export const exit = (name = "exit-EXIT", failure?: Msg): NodeDef => ({
  name,
  node: { exit: failure ? { failure_def: failure } : {} },
});
export const taskNode = (name: string, taskDefName: string, vars: Msg[] = [], extra: Msg = {}): NodeDef => ({
  name,
  node: { task: { task_def_id: { name: taskDefName }, variables: vars, ...extra } },
});
export const nop = (name: string, edges?: Msg[]): NodeDef => ({ name, node: { nop: {} }, edges });
export const throwNode = (name: string, defName: string, content?: Msg): NodeDef => ({
  name,
  node: { throw_event: { event_def_id: { name: defName }, ...(content ? { content } : {}) } },
});

/** A WorkflowEventId of a (root) WfRun. */
export const workflowEventId = (wfRunId: string, defName: string, number: number): Msg => ({
  wf_run_id: { id: wfRunId },
  workflow_event_def_id: { name: defName },
  number,
});

export function varDef(name: string, type: string, extra: Msg = {}): Msg {
  const { default_value, ...rest } = extra;
  return { var_def: { name, type, ...(default_value ? { default_value } : {}) }, ...rest };
}

export function wfSpec(name: string, entrypoint: Msg, extra: Msg = {}): Msg {
  return { name, entrypoint_thread_name: "entrypoint", thread_specs: { entrypoint }, ...extra };
}

/** The simplest useful workflow: one task that takes one STR input. */
export function oneTaskWf(name: string, taskDefName: string): Msg {
  return wfSpec(
    name,
    thread(
      [entry(), taskNode("1-task-TASK", taskDefName, [varRef("input")]), exit("2-exit-EXIT")],
      [varDef("input", "STR")],
    ),
  );
}

/**
 * A MigrateWfSpec `migration` to version `to` of a WfSpec with one thread, `entrypoint`: each node named
 * in `nodes` moves to the node it maps to.
 */
export function entrypointMigration(to: Msg, nodes: Record<string, string>): Msg {
  return {
    new_major_version: to.major_version,
    new_revision: to.revision,
    thread_spec_migrations: {
      entrypoint: {
        new_thread_spec_name: "entrypoint",
        node_migrations: Object.fromEntries(Object.entries(nodes).map(([k, v]) => [k, { new_node_name: v }])),
      },
    },
  };
}
