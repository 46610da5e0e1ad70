import { create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  EdgeSchema,
  FailureHandlerDefSchema,
  NodeSchema,
  PutWfSpecRequestSchema,
  TaskDefSchema,
  ThreadSpecSchema,
  ThreadVarDefSchema,
  UserTaskDefSchema,
  VariableAssignmentSchema,
  VariableMutationSchema,
  VariableMutationType,
  VariableType,
  WfRunVariableAccessLevel,
  type Edge,
  type ExternalEventDef,
  type Node,
  type PutWfSpecRequest,
  type TaskDef,
  type ThreadSpec,
  type ThreadVarDef,
  type TypeDefinition,
  TypeDefinitionSchema,
  type UserTaskDef,
  type VariableAssignment,
  type VariableMutation,
  type VariableValue,
  type WfSpec,
  type WorkflowEventDef,
  ExternalEventDefSchema,
  WorkflowEventDefSchema,
  VariableValueSchema,
} from "@pony/proto";
import type { MetadataLookup } from "../../src/metadata";

export const NOW = new Date("2024-05-01T12:00:00Z");
export const LATER = new Date("2024-05-02T12:00:00Z");

export type NodeInit = MessageInitShape<typeof NodeSchema>;

export const value = {
  int: (n: number): VariableValue =>
    create(VariableValueSchema, { value: { case: "int", value: BigInt(n) } }),
  str: (s: string): VariableValue => create(VariableValueSchema, { value: { case: "str", value: s } }),
  double: (d: number): VariableValue => create(VariableValueSchema, { value: { case: "double", value: d } }),
  bool: (b: boolean): VariableValue => create(VariableValueSchema, { value: { case: "bool", value: b } }),
  jsonObj: (s: string): VariableValue =>
    create(VariableValueSchema, { value: { case: "jsonObj", value: s } }),
  jsonArr: (s: string): VariableValue =>
    create(VariableValueSchema, { value: { case: "jsonArr", value: s } }),
};

/** A variable reference, optionally with a json path. */
export function ref(name: string, jsonPath?: string): VariableAssignment {
  return create(VariableAssignmentSchema, { source: { case: "variableName", value: name }, jsonPath });
}

export function lit(v: VariableValue): VariableAssignment {
  return create(VariableAssignmentSchema, { source: { case: "literalValue", value: v } });
}

export function format(fmt: VariableAssignment, ...args: VariableAssignment[]): VariableAssignment {
  return create(VariableAssignmentSchema, { source: { case: "formatString", value: { format: fmt, args } } });
}

export function nodeOutput(nodeName: string): VariableAssignment {
  return create(VariableAssignmentSchema, { source: { case: "nodeOutput", value: { nodeName } } });
}

export function assign(lhsName: string, rhs: VariableAssignment): VariableMutation {
  return create(VariableMutationSchema, {
    lhsName,
    operation: VariableMutationType.ASSIGN,
    rhsValue: { case: "sourceVariable", value: rhs },
  });
}

export interface VarOptions {
  required?: boolean;
  searchable?: boolean;
  accessLevel?: WfRunVariableAccessLevel;
  defaultValue?: VariableValue;
  jsonIndexes?: { fieldPath: string; fieldType: VariableType }[];
}

export function threadVar(name: string, type: VariableType | undefined, opts: VarOptions = {}): ThreadVarDef {
  return create(ThreadVarDefSchema, {
    varDef: { name, type, defaultValue: opts.defaultValue },
    required: opts.required ?? false,
    searchable: opts.searchable ?? false,
    accessLevel: opts.accessLevel ?? WfRunVariableAccessLevel.PUBLIC_VAR,
    jsonIndexes: opts.jsonIndexes ?? [],
  });
}

export function edge(
  sink: string,
  extra: Partial<Pick<Edge, "condition" | "variableMutations" | "expressionCondition">> = {},
): Edge {
  return create(EdgeSchema, { sinkNodeName: sink, ...extra });
}

export function entrypointNode(next: string): Node {
  return create(NodeSchema, {
    node: { case: "entrypoint", value: {} },
    outgoingEdges: [{ sinkNodeName: next }],
  });
}

export function exitNode(): Node {
  return create(NodeSchema, { node: { case: "exit", value: {} } });
}

export function nopNode(...edges: (string | Edge)[]): Node {
  return create(NodeSchema, {
    node: { case: "nop", value: {} },
    outgoingEdges: edges.map((e) => (typeof e === "string" ? edge(e) : e)),
  });
}

export function taskNode(taskDefName: string, variables: VariableAssignment[], next = "exit"): Node {
  return create(NodeSchema, {
    node: {
      case: "task",
      value: { taskToExecute: { case: "taskDefId", value: { name: taskDefName } }, variables },
    },
    outgoingEdges: [{ sinkNodeName: next }],
  });
}

/**
 * A thread "entrypoint → n1 → n2 → … → exit". Edges given in the middle nodes are replaced by the link to
 * the next node.
 */
export function linearThread(middle: NodeInit[], vars: ThreadVarDef[] = []): ThreadSpec {
  const names = middle.map((_, i) => `n${i + 1}`);
  const nodes: Record<string, Node> = { entrypoint: entrypointNode(names[0] ?? "exit"), exit: exitNode() };
  middle.forEach((m, i) => {
    const n = create(NodeSchema, m);
    n.outgoingEdges = [edge(names[i + 1] ?? "exit")];
    nodes[`n${i + 1}`] = n;
  });
  return create(ThreadSpecSchema, { nodes, variableDefs: vars });
}

/** A TASK node init for linearThread. */
export function task(taskDefName: string, variables: VariableAssignment[] = []): NodeInit {
  return {
    node: {
      case: "task",
      value: { taskToExecute: { case: "taskDefId", value: { name: taskDefName } }, variables },
    },
  };
}

export function wfRequest(
  threads: Record<string, ThreadSpec>,
  extra: Partial<
    Pick<
      PutWfSpecRequest,
      "name" | "entrypointThreadName" | "retentionPolicy" | "parentWfSpec" | "allowedUpdates"
    >
  > = {},
): PutWfSpecRequest {
  return create(PutWfSpecRequestSchema, {
    name: "my-wf",
    entrypointThreadName: "entrypoint",
    threadSpecs: threads,
    ...extra,
  });
}

export function taskDef(name: string, inputs: [string, VariableType][]): TaskDef {
  return create(TaskDefSchema, { id: { name }, inputVars: inputs.map(([n, type]) => ({ name: n, type })) });
}

export interface LookupContents {
  taskDefs?: TaskDef[];
  externalEventDefs?: string[];
  workflowEventDefs?: string[];
  userTaskDefs?: { name: string; version: number }[];
  wfSpecs?: WfSpec[];
}

/** An in-memory MetadataLookup for tests. */
export function lookupOf(contents: LookupContents = {}): MetadataLookup {
  return {
    taskDef: (name) => contents.taskDefs?.find((t) => t.id?.name === name),
    externalEventDef: (name): ExternalEventDef | undefined =>
      contents.externalEventDefs?.includes(name)
        ? create(ExternalEventDefSchema, { id: { name } })
        : undefined,
    workflowEventDef: (name): WorkflowEventDef | undefined =>
      contents.workflowEventDefs?.includes(name)
        ? create(WorkflowEventDefSchema, { id: { name } })
        : undefined,
    userTaskDef: (name, version): UserTaskDef | undefined => {
      const matching = (contents.userTaskDefs ?? []).filter(
        (u) => u.name === name && (version === undefined || u.version === version),
      );
      const best = matching.sort((a, b) => b.version - a.version)[0];
      return best === undefined ? undefined : create(UserTaskDefSchema, best);
    },
    wfSpec: (name, majorVersion) =>
      contents.wfSpecs?.find(
        (w) => w.id?.name === name && (majorVersion === undefined || w.id.majorVersion === majorVersion),
      ),
  };
}

export { VariableType, WfRunVariableAccessLevel };

/** A type_def carrying only a primitive type, as later LittleHorse clients send it (B-WIRE-2). */
export function primitiveTypeDef(type: VariableType, masked = false): TypeDefinition {
  return create(TypeDefinitionSchema, { definedType: { case: "primitiveType", value: type }, masked });
}

/** The node with failure handlers running the given thread specs (any failure). */
export function withFailureHandlers(init: NodeInit, ...handlerSpecNames: string[]): Node {
  const n = create(NodeSchema, init);
  n.failureHandlers = handlerSpecNames.map((handlerSpecName) =>
    create(FailureHandlerDefSchema, { handlerSpecName }),
  );
  return n;
}
