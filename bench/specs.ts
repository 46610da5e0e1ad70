/** The benchmark's TaskDef, ExternalEventDef and WfSpecs, built with the generated schemas. */
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  NodeSchema,
  PutExternalEventDefRequestSchema,
  PutTaskDefRequestSchema,
  PutWfSpecRequestSchema,
  VariableMutationType,
  VariableType,
  VariableValueSchema,
  type PutExternalEventDefRequest,
  type PutTaskDefRequest,
  type PutWfSpecRequest,
  type VariableValue,
} from "@pony/proto";

export const TASK_DEF = "bench-task";
export const ONE_TASK_WF = "bench-one-task";
export const CHAIN_WF = "bench-chain";
export const CHAIN_LENGTH = 20;
/** the WfRun variable (STR) every task gets as its one input */
export const INPUT_VAR = "input";

/** ENTRYPOINT → EXTERNAL_EVENT(bench-go) → EXIT: the external-event round trip */
export const EVENT_WF = "bench-event";
export const EVENT_DEF = "bench-go";
/** START_MULTIPLE_THREADS over a JSON_ARR of FANOUT_WIDTH items, one TASK per child, WAIT_FOR_THREADS */
export const FANOUT_WF = "bench-fanout";
export const FANOUT_WIDTH = 100;

/** Tasks per WfRun of each benchmark WfSpec: a WfRun is complete once that many reports were acknowledged. */
export const TASKS_PER_RUN: Record<string, number> = {
  [ONE_TASK_WF]: 1,
  [CHAIN_WF]: CHAIN_LENGTH,
  [FANOUT_WF]: FANOUT_WIDTH,
};

/** The RunWf variables of a WfRun of `wfSpecName`; `input` is the STR the task(s) get (one-task, chain). */
export function runVariables(wfSpecName: string, input: string): Record<string, VariableValue> {
  switch (wfSpecName) {
    case EVENT_WF:
      return {};
    case FANOUT_WF:
      return {
        items: create(VariableValueSchema, {
          value: {
            case: "jsonArr",
            value: JSON.stringify(Array.from({ length: FANOUT_WIDTH }, (_, i) => `${input}-${i}`)),
          },
        }),
      };
    default:
      return { [INPUT_VAR]: create(VariableValueSchema, { value: { case: "str", value: input } }) };
  }
}

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

export function externalEventDefRequest(): PutExternalEventDefRequest {
  return create(PutExternalEventDefRequestSchema, { name: EVENT_DEF });
}

export function eventWfSpec(): PutWfSpecRequest {
  return create(PutWfSpecRequestSchema, {
    name: EVENT_WF,
    entrypointThreadName: "entrypoint",
    threadSpecs: {
      entrypoint: {
        nodes: {
          "0-entrypoint-ENTRYPOINT": {
            node: { case: "entrypoint", value: {} },
            outgoingEdges: [{ sinkNodeName: "1-go-EXTERNAL_EVENT" }],
          },
          "1-go-EXTERNAL_EVENT": {
            node: { case: "externalEvent", value: { externalEventDefId: { name: EVENT_DEF } } },
            outgoingEdges: [{ sinkNodeName: "2-exit-EXIT" }],
          },
          "2-exit-EXIT": { node: { case: "exit", value: {} } },
        },
      },
    },
  });
}

/**
 * Thread `entrypoint`: START_MULTIPLE_THREADS(child, iterable = `items`, output → `children`) →
 * WAIT_FOR_THREADS(`children`) → EXIT. Thread `child`: one TASK with its element (INPUT) as the argument.
 */
export function fanOutWfSpec(): PutWfSpecRequest {
  return create(PutWfSpecRequestSchema, {
    name: FANOUT_WF,
    entrypointThreadName: "entrypoint",
    threadSpecs: {
      entrypoint: {
        variableDefs: [
          { varDef: { name: "items", type: VariableType.JSON_ARR }, required: true },
          { varDef: { name: "children", type: VariableType.JSON_ARR } },
        ],
        nodes: {
          "0-entrypoint-ENTRYPOINT": {
            node: { case: "entrypoint", value: {} },
            outgoingEdges: [{ sinkNodeName: "1-fan-out-START_MULTIPLE_THREADS" }],
          },
          "1-fan-out-START_MULTIPLE_THREADS": {
            node: {
              case: "startMultipleThreads",
              value: {
                threadSpecName: "child",
                iterable: { source: { case: "variableName", value: "items" } },
              },
            },
            outgoingEdges: [
              {
                sinkNodeName: "2-wait-WAIT_FOR_THREADS",
                variableMutations: [
                  {
                    lhsName: "children",
                    operation: VariableMutationType.ASSIGN,
                    rhsValue: { case: "nodeOutput", value: {} },
                  },
                ],
              },
            ],
          },
          "2-wait-WAIT_FOR_THREADS": {
            node: {
              case: "waitForThreads",
              value: {
                threadsToWaitFor: {
                  case: "threadList",
                  value: { source: { case: "variableName", value: "children" } },
                },
              },
            },
            outgoingEdges: [{ sinkNodeName: "3-exit-EXIT" }],
          },
          "3-exit-EXIT": { node: { case: "exit", value: {} } },
        },
      },
      child: {
        variableDefs: [{ varDef: { name: "INPUT", type: VariableType.STR } }],
        nodes: {
          "0-entrypoint-ENTRYPOINT": {
            node: { case: "entrypoint", value: {} },
            outgoingEdges: [{ sinkNodeName: "1-task-TASK" }],
          },
          "1-task-TASK": {
            node: {
              case: "task",
              value: {
                taskToExecute: { case: "taskDefId", value: { name: TASK_DEF } },
                variables: [{ source: { case: "variableName", value: "INPUT" } }],
              },
            },
            outgoingEdges: [{ sinkNodeName: "2-exit-EXIT" }],
          },
          "2-exit-EXIT": { node: { case: "exit", value: {} } },
        },
      },
    },
  });
}
