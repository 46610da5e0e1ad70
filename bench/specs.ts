/** The benchmark's TaskDef and WfSpecs, built with the generated schemas. */
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  NodeSchema,
  PutTaskDefRequestSchema,
  PutWfSpecRequestSchema,
  VariableType,
  type PutTaskDefRequest,
  type PutWfSpecRequest,
} from "@pony/proto";

export const TASK_DEF = "bench-task";
export const ONE_TASK_WF = "bench-one-task";
export const CHAIN_WF = "bench-chain";
export const CHAIN_LENGTH = 20;
/** the WfRun variable (STR) every task gets as its one input */
export const INPUT_VAR = "input";

/** Tasks per WfRun of each benchmark WfSpec: a WfRun is complete once that many reports were acknowledged. */
export const TASKS_PER_RUN: Record<string, number> = { [ONE_TASK_WF]: 1, [CHAIN_WF]: CHAIN_LENGTH };

export function taskDefRequest(): PutTaskDefRequest {
  return create(PutTaskDefRequestSchema, {
    name: TASK_DEF,
    inputVars: [{ name: INPUT_VAR, type: VariableType.STR }],
  });
}

type NodeInit = MessageInitShape<typeof NodeSchema>;

/** ENTRYPOINT → `tasks` TASK nodes (each with the `input` variable as its argument) → EXIT */
export function chainWfSpecRequest(name: string, tasks: number): PutWfSpecRequest {
  const names = [
    "0-entrypoint-ENTRYPOINT",
    ...Array.from({ length: tasks }, (_, i) => `${i + 1}-task-TASK`),
    `${tasks + 1}-exit-EXIT`,
  ];
  const nodes: Record<string, NodeInit> = {};
  names.forEach((nodeName, i) => {
    const next = names[i + 1];
    const outgoingEdges = next ? [{ sinkNodeName: next }] : [];
    if (i === 0) nodes[nodeName] = { node: { case: "entrypoint", value: {} }, outgoingEdges };
    else if (!next) nodes[nodeName] = { node: { case: "exit", value: {} }, outgoingEdges };
    else {
      nodes[nodeName] = {
        node: {
          case: "task",
          value: {
            taskToExecute: { case: "taskDefId", value: { name: TASK_DEF } },
            variables: [{ source: { case: "variableName", value: INPUT_VAR } }],
          },
        },
        outgoingEdges,
      };
    }
  });
  return create(PutWfSpecRequestSchema, {
    name,
    entrypointThreadName: "entrypoint",
    threadSpecs: {
      entrypoint: {
        nodes,
        variableDefs: [{ varDef: { name: INPUT_VAR, type: VariableType.STR } }],
      },
    },
  });
}

export const oneTaskWfSpecRequest = () => chainWfSpecRequest(ONE_TASK_WF, 1);
export const chainWfSpec = () => chainWfSpecRequest(CHAIN_WF, CHAIN_LENGTH);
