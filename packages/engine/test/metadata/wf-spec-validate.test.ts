import { create } from "@bufbuild/protobuf";
import {
  Comparator,
  NodeSchema,
  ThreadSpecSchema,
  ThreadVarDefSchema,
  VariableAssignmentSchema,
  VariableMutationType,
  WfSpecSchema,
  WorkflowRetentionPolicySchema,
  type PutWfSpecRequest,
} from "@pony/proto";
import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../../src/errors";
import { buildWfSpec, type MetadataLookup } from "../../src/metadata";
import {
  assign,
  edge,
  entrypointNode,
  exitNode,
  format,
  linearThread,
  lit,
  lookupOf,
  nodeOutput,
  nopNode,
  primitiveTypeDef,
  ref,
  task,
  taskDef,
  threadVar,
  value,
  VariableType,
  WfRunVariableAccessLevel,
  wfRequest,
  withFailureHandlers,
  type NodeInit,
} from "./fixtures";

const lookup: MetadataLookup = lookupOf({
  taskDefs: [
    taskDef("greet", [["name", VariableType.STR]]),
    taskDef("add", [
      ["a", VariableType.INT],
      ["b", VariableType.DOUBLE],
    ]),
    taskDef("store", [
      ["doc", VariableType.JSON_OBJ],
      ["items", VariableType.JSON_ARR],
    ]),
    taskDef("flag", [["on", VariableType.BOOL]]),
    taskDef("no-args", []),
  ],
  externalEventDefs: ["approved", "cancel"],
  workflowEventDefs: ["done"],
  userTaskDefs: [
    { name: "review", version: 0 },
    { name: "review", version: 1 },
  ],
  wfSpecs: [create(WfSpecSchema, { id: { name: "parent-wf", majorVersion: 0, revision: 0 } })],
});

/** Builds a one-thread request ("entrypoint" thread) from middle nodes and variables. */
function single(middle: NodeInit[], vars = [threadVar("name", VariableType.STR)]): PutWfSpecRequest {
  return wfRequest({ entrypoint: linearThread(middle, vars) });
}

function expectInvalid(req: PutWfSpecRequest, ...messageParts: string[]): void {
  let caught: unknown;
  try {
    buildWfSpec(req, lookup);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(InvalidArgumentError);
  for (const part of messageParts) expect((caught as Error).message).toContain(part);
}

const nop: NodeInit = { node: { case: "nop", value: {} } };

describe("buildWfSpec: a valid spec", () => {
  it("B-META-3 builds the WfSpec with id.name, version 0.0, no created_at, ACTIVE, no frozen variables", () => {
    const req = single(
      [task("greet", [ref("name")])],
      [threadVar("name", VariableType.STR, { required: true })],
    );
    const spec = buildWfSpec(req, lookup);
    expect(spec.id).toMatchObject({ name: "my-wf", majorVersion: 0, revision: 0 });
    expect(spec.createdAt).toBeUndefined();
    expect(spec.frozenVariables).toEqual([]);
    expect(spec.entrypointThreadName).toBe("entrypoint");
    expect(Object.keys(spec.threadSpecs.entrypoint?.nodes ?? {}).sort()).toEqual([
      "entrypoint",
      "exit",
      "n1",
    ]);
    expect(spec.threadSpecs.entrypoint?.variableDefs[0]?.required).toBe(true);
  });

  it("B-META-3 keeps the retention policy and the parent reference", () => {
    const req = wfRequest(
      {
        entrypoint: linearThread(
          [],
          [threadVar("x", VariableType.INT, { accessLevel: WfRunVariableAccessLevel.INHERITED_VAR })],
        ),
      },
      {
        retentionPolicy: create(WorkflowRetentionPolicySchema, {
          wfGcPolicy: { case: "secondsAfterWfTermination", value: 3600n },
        }),
        parentWfSpec: {
          $typeName: "littlehorse.WfSpec.ParentWfSpecReference",
          wfSpecName: "parent-wf",
          wfSpecMajorVersion: 0,
        },
      },
    );
    const spec = buildWfSpec(req, lookup);
    expect(spec.retentionPolicy?.wfGcPolicy).toEqual({ case: "secondsAfterWfTermination", value: 3600n });
    expect(spec.parentWfSpec?.wfSpecName).toBe("parent-wf");
  });

  it("B-WIRE-2 a VariableDef with only type_def.primitive_type is accepted and gets `type` in the WfSpec", () => {
    const v = create(ThreadVarDefSchema, {
      varDef: { name: "count", typeDef: primitiveTypeDef(VariableType.INT) },
    });
    const req = single([task("add", [ref("count"), ref("count")])], [v]);
    const spec = buildWfSpec(req, lookup);
    expect(spec.threadSpecs.entrypoint?.variableDefs[0]?.varDef?.type).toBe(VariableType.INT);
    // the request itself is not changed
    expect(req.threadSpecs.entrypoint?.variableDefs[0]?.varDef?.type).toBeUndefined();
  });

  it("B-META-3 task inputs: literals, variables, INT into DOUBLE, format strings into STR, json paths and node outputs", () => {
    const vars = [
      threadVar("i", VariableType.INT),
      threadVar("doc", VariableType.JSON_OBJ),
      threadVar("s", VariableType.STR),
    ];
    const req = single(
      [
        task("add", [lit(value.int(1)), ref("i")]),
        task("add", [ref("doc", "$.a"), lit(value.double(2.5))]),
        task("greet", [format(lit(value.str("hi {0}")), ref("s"))]),
        task("greet", [nodeOutput("n1")]),
        task("store", [ref("doc"), lit(value.jsonArr("[1,2]"))]),
        task("flag", [lit(value.bool(true))]),
        task("no-args"),
        task("greet", [create(VariableAssignmentSchema, { source: { case: "literalValue", value: {} } })]),
      ],
      vars,
    );
    expect(() => buildWfSpec(req, lookup)).not.toThrow();
  });

  it("B-TASK-8 a TASK node with dynamic_task skips the TaskDef checks", () => {
    const req = single([
      {
        node: {
          case: "task",
          value: {
            taskToExecute: { case: "dynamicTask", value: ref("name") },
            variables: [lit(value.int(1))],
          },
        },
      },
    ]);
    expect(() => buildWfSpec(req, lookup)).not.toThrow();
  });

  it("B-META-3 every node type with declared variables and known metadata is accepted", () => {
    const vars = [
      threadVar("name", VariableType.STR),
      threadVar("items", VariableType.JSON_ARR),
      threadVar("n", VariableType.INT),
      threadVar("child", VariableType.INT),
    ];
    const main = linearThread(
      [
        {
          node: {
            case: "externalEvent",
            value: { externalEventDefId: { name: "approved" }, timeoutSeconds: ref("n") },
          },
        },
        { node: { case: "sleep", value: { sleepLength: { case: "rawSeconds", value: ref("n") } } } },
        {
          node: {
            case: "userTask",
            value: {
              userTaskDefName: "review",
              userTaskDefVersion: 1,
              userId: ref("name"),
              userGroup: lit(value.str("ops")),
              notes: format(lit(value.str("please {0}")), ref("name")),
              actions: [
                {
                  delaySeconds: lit(value.int(60)),
                  action: {
                    case: "task",
                    value: {
                      task: {
                        taskToExecute: { case: "taskDefId", value: { name: "greet" } },
                        variables: [ref("name")],
                      },
                      mutations: [assign("n", lit(value.int(2)))],
                    },
                  },
                },
                { action: { case: "reassign", value: { userGroup: lit(value.str("admins")) } } },
                { action: { case: "cancel", value: {} } },
              ],
            },
          },
        },
        { node: { case: "userTask", value: { userTaskDefName: "review" } } },
        { node: { case: "throwEvent", value: { eventDefId: { name: "done" }, content: ref("name") } } },
        {
          node: { case: "startThread", value: { threadSpecName: "worker", variables: { job: ref("name") } } },
        },
        { node: { case: "startMultipleThreads", value: { threadSpecName: "each", iterable: ref("items") } } },
        {
          node: {
            case: "waitForThreads",
            value: {
              threadsToWaitFor: { case: "threads", value: { threads: [{ threadRunNumber: ref("child") }] } },
              perThreadFailureHandlers: [{ handlerSpecName: "handler" }],
            },
          },
        },
        {
          node: {
            case: "waitForThreads",
            value: { threadsToWaitFor: { case: "threadList", value: ref("items") } },
          },
        },
        nop,
      ],
      vars,
    );
    main.nodes.exit = create(NodeSchema, {
      node: {
        case: "exit",
        value: { failureDef: { failureName: "bad-thing", message: "oops", content: ref("name") } },
      },
    });
    main.interruptDefs = [
      {
        $typeName: "littlehorse.InterruptDef",
        externalEventDefId: { $typeName: "littlehorse.ExternalEventDefId", name: "cancel" },
        handlerSpecName: "handler",
      },
    ];
    const worker = linearThread([task("greet", [ref("job")])], [threadVar("job", VariableType.STR)]);
    const each = linearThread([task("greet", [ref("INPUT")])]);
    const handler = linearThread([task("greet", [ref("INPUT", "$.message")])]);
    const req = wfRequest({ entrypoint: main, worker, each, handler });
    expect(() => buildWfSpec(req, lookup)).not.toThrow();
  });

  it("B-THR-1 a child thread may use its parent's variables", () => {
    const parent = linearThread(
      [{ node: { case: "startThread", value: { threadSpecName: "child" } } }],
      [threadVar("shared", VariableType.STR)],
    );
    const child = linearThread([task("greet", [ref("shared")])]);
    const grandchildStarter = linearThread([
      { node: { case: "startThread", value: { threadSpecName: "grandchild" } } },
    ]);
    child.nodes.n2 = grandchildStarter.nodes.n1!;
    child.nodes.n1!.outgoingEdges = [edge("n2")];
    child.nodes.n2.outgoingEdges = [edge("exit")];
    const grandchild = linearThread([task("greet", [ref("shared")])]);
    expect(() => buildWfSpec(wfRequest({ entrypoint: parent, child, grandchild }), lookup)).not.toThrow();
  });

  it("B-THR-4 a failure handler thread may use the failing thread's variables and INPUT", () => {
    const main = linearThread(
      [withFailureHandlers(task("greet", [ref("name")]), "on-fail")],
      [threadVar("name", VariableType.STR)],
    );
    const onFail = linearThread([task("greet", [ref("name")]), task("greet", [ref("INPUT")])]);
    expect(() => buildWfSpec(wfRequest({ entrypoint: main, "on-fail": onFail }), lookup)).not.toThrow();
  });

  it("B-WIRE-2 an edge with both condition and expression_condition is INVALID_ARGUMENT, naming the edge (neither is dropped silently)", () => {
    const thread = linearThread([nop], [threadVar("n", VariableType.INT)]);
    thread.nodes.n1!.outgoingEdges = [
      edge("exit", {
        condition: {
          $typeName: "littlehorse.EdgeCondition",
          comparator: Comparator.LESS_THAN,
          left: ref("n"),
          right: lit(value.int(3)),
        },
        expressionCondition: ref("n"),
      }),
    ];
    expect(() => buildWfSpec(wfRequest({ entrypoint: thread }), lookup)).toThrow(
      /edge 0 \(to 'exit'\) has both a condition \(field 2\) and an expression condition \(field 4\): give one/,
    );
  });

  it("B-RUN-7 comparators of the API reference beyond the generated enum (NOT_EQUALS, IN, NOT_IN) are accepted", () => {
    for (const comparator of [5, 6, 7]) {
      const thread = linearThread([nop], [threadVar("n", VariableType.INT)]);
      thread.nodes.n1!.outgoingEdges = [
        edge("exit", {
          condition: { $typeName: "littlehorse.EdgeCondition", comparator, left: ref("n"), right: ref("n") },
        }),
      ];
      expect(() => buildWfSpec(wfRequest({ entrypoint: thread }), lookup)).not.toThrow();
    }
  });

  it("B-RUN-11 loops and if/else through NOP nodes are fine", () => {
    const thread = create(ThreadSpecSchema, {
      nodes: {
        entrypoint: entrypointNode("loop"),
        loop: nopNode(
          edge("body", {
            condition: {
              $typeName: "littlehorse.EdgeCondition",
              comparator: Comparator.LESS_THAN,
              left: ref("i"),
              right: lit(value.int(3)),
            },
          }),
          "exit",
        ),
        body: create(NodeSchema, {
          node: { case: "task", value: { taskToExecute: { case: "taskDefId", value: { name: "no-args" } } } },
          outgoingEdges: [
            {
              sinkNodeName: "loop",
              variableMutations: [
                {
                  lhsName: "i",
                  operation: VariableMutationType.ADD,
                  rhsValue: { case: "literalValue", value: value.int(1) },
                },
                {
                  lhsName: "i",
                  operation: VariableMutationType.ADD,
                  rhsValue: { case: "nodeOutput", value: {} },
                },
              ],
            },
          ],
        }),
        exit: exitNode(),
      },
      variableDefs: [threadVar("i", VariableType.INT, { defaultValue: value.int(0) })],
    });
    expect(() => buildWfSpec(wfRequest({ entrypoint: thread }), lookup)).not.toThrow();
  });
});

describe("buildWfSpec: names and structure", () => {
  it("B-META-2 an invalid WfSpec name is INVALID_ARGUMENT", () => {
    expectInvalid(
      wfRequest({ entrypoint: linearThread([]) }, { name: "My_Wf" }),
      "invalid WfSpec name 'My_Wf'",
    );
  });

  it("B-META-3 an empty entrypoint_thread_name is INVALID_ARGUMENT", () => {
    expectInvalid(
      wfRequest({ entrypoint: linearThread([]) }, { entrypointThreadName: "" }),
      "has no entrypoint thread",
    );
  });

  it("B-META-3 an entrypoint thread that is not among the thread specs is INVALID_ARGUMENT", () => {
    expectInvalid(
      wfRequest({ main: linearThread([]) }),
      "WfSpec 'my-wf': entrypoint thread 'entrypoint' is not among its thread specs (main)",
    );
    expectInvalid(wfRequest({}), "(none)");
  });

  it("B-META-3 a thread without ENTRYPOINT node is INVALID_ARGUMENT", () => {
    const thread = linearThread([]);
    delete thread.nodes.entrypoint;
    expectInvalid(
      wfRequest({ entrypoint: thread }),
      "thread 'entrypoint' must have exactly one ENTRYPOINT node, found 0",
    );
  });

  it("B-META-3 a thread with two ENTRYPOINT nodes is INVALID_ARGUMENT", () => {
    const thread = linearThread([]);
    thread.nodes.second = entrypointNode("exit");
    expectInvalid(wfRequest({ entrypoint: thread }), "must have exactly one ENTRYPOINT node, found 2");
  });

  it("B-META-3 a thread without EXIT node is INVALID_ARGUMENT", () => {
    const thread = linearThread([nop]);
    delete thread.nodes.exit;
    thread.nodes.n1!.outgoingEdges = [];
    expectInvalid(wfRequest({ entrypoint: thread }), "WfSpec 'my-wf' thread 'entrypoint' has no EXIT node");
  });

  it("B-META-3 a non-entrypoint thread is checked too", () => {
    const other = linearThread([]);
    delete other.nodes.exit;
    other.nodes.entrypoint!.outgoingEdges = [];
    expectInvalid(wfRequest({ entrypoint: linearThread([]), other }), "thread 'other' has no EXIT node");
  });

  it("B-META-3 an edge to a missing node is INVALID_ARGUMENT naming thread, node and target", () => {
    const thread = linearThread([nop]);
    thread.nodes.n1!.outgoingEdges = [edge("nowhere")];
    expectInvalid(
      wfRequest({ entrypoint: thread }),
      "WfSpec 'my-wf' thread 'entrypoint' node 'n1' has an edge to missing node 'nowhere'",
    );
  });

  it("B-META-3 a node without node type is INVALID_ARGUMENT", () => {
    const thread = linearThread([{}]);
    expectInvalid(wfRequest({ entrypoint: thread }), "thread 'entrypoint' node 'n1' has no node type");
  });

  it("B-META-3 a thread spec with an empty name is INVALID_ARGUMENT", () => {
    expectInvalid(
      wfRequest({ entrypoint: linearThread([]), "": linearThread([]) }),
      "thread spec with an empty name",
    );
  });

  it("B-META-3 a negative workflow retention is INVALID_ARGUMENT", () => {
    const req = wfRequest(
      { entrypoint: linearThread([]) },
      {
        retentionPolicy: create(WorkflowRetentionPolicySchema, {
          wfGcPolicy: { case: "secondsAfterWfTermination", value: -5n },
        }),
      },
    );
    expectInvalid(req, "seconds_after_wf_termination must not be negative");
  });

  it("B-META-3 a negative thread retention is INVALID_ARGUMENT", () => {
    const thread = linearThread([]);
    thread.retentionPolicy = {
      $typeName: "littlehorse.ThreadRetentionPolicy",
      threadGcPolicy: { case: "secondsAfterThreadTermination", value: -1n },
    };
    expectInvalid(
      wfRequest({ entrypoint: thread }),
      "thread 'entrypoint': retention seconds_after_thread_termination",
    );
  });

  it("B-META-9 a parent WfSpec that does not exist is INVALID_ARGUMENT", () => {
    const req = wfRequest(
      { entrypoint: linearThread([]) },
      {
        parentWfSpec: {
          $typeName: "littlehorse.WfSpec.ParentWfSpecReference",
          wfSpecName: "ghost",
          wfSpecMajorVersion: 0,
        },
      },
    );
    expectInvalid(req, "parent WfSpec 'ghost' does not exist");
  });
});

describe("buildWfSpec: unknown metadata", () => {
  it("B-META-3 an unknown TaskDef is INVALID_ARGUMENT naming thread, node and TaskDef", () => {
    expectInvalid(
      single([task("nope")]),
      "WfSpec 'my-wf' thread 'entrypoint' node 'n1' uses unknown TaskDef 'nope'",
    );
  });

  it("B-META-3 a TASK node naming no TaskDef is INVALID_ARGUMENT", () => {
    expectInvalid(single([{ node: { case: "task", value: {} } }]), "node 'n1' names no TaskDef");
  });

  it("B-META-3 an unknown ExternalEventDef in an EXTERNAL_EVENT node is INVALID_ARGUMENT", () => {
    expectInvalid(
      single([{ node: { case: "externalEvent", value: { externalEventDefId: { name: "nope" } } } }]),
      "node 'n1' uses unknown ExternalEventDef 'nope'",
    );
    expectInvalid(
      single([{ node: { case: "externalEvent", value: {} } }]),
      "node 'n1' names no ExternalEventDef",
    );
  });

  it("B-META-3 an unknown ExternalEventDef in an InterruptDef is INVALID_ARGUMENT", () => {
    const thread = linearThread([]);
    thread.interruptDefs = [
      {
        $typeName: "littlehorse.InterruptDef",
        externalEventDefId: { $typeName: "littlehorse.ExternalEventDefId", name: "nope" },
        handlerSpecName: "entrypoint",
      },
    ];
    expectInvalid(
      wfRequest({ entrypoint: thread }),
      "thread 'entrypoint' interrupt 0 uses unknown ExternalEventDef 'nope'",
    );
  });

  it("B-META-3 an unknown UserTaskDef is INVALID_ARGUMENT", () => {
    expectInvalid(
      single([{ node: { case: "userTask", value: { userTaskDefName: "nope" } } }]),
      "node 'n1' uses unknown UserTaskDef 'nope'",
    );
    expectInvalid(single([{ node: { case: "userTask", value: {} } }]), "names no UserTaskDef");
  });

  it("B-META-3 a pinned UserTaskDef version that does not exist is INVALID_ARGUMENT", () => {
    expectInvalid(
      single([{ node: { case: "userTask", value: { userTaskDefName: "review", userTaskDefVersion: 7 } } }]),
      "uses unknown UserTaskDef 'review' version 7",
    );
  });

  it("B-META-3 an unknown WorkflowEventDef is INVALID_ARGUMENT", () => {
    expectInvalid(
      single([{ node: { case: "throwEvent", value: { eventDefId: { name: "nope" } } } }]),
      "node 'n1' uses unknown WorkflowEventDef 'nope'",
    );
    expectInvalid(single([{ node: { case: "throwEvent", value: {} } }]), "names no WorkflowEventDef");
  });

  it("B-META-3 an unknown ThreadSpec in START_THREAD is INVALID_ARGUMENT", () => {
    expectInvalid(
      single([{ node: { case: "startThread", value: { threadSpecName: "ghost" } } }]),
      "node 'n1': started thread spec 'ghost' does not exist",
    );
  });

  it("B-META-3 an unknown ThreadSpec in START_MULTIPLE_THREADS is INVALID_ARGUMENT", () => {
    expectInvalid(
      single(
        [
          {
            node: {
              case: "startMultipleThreads",
              value: { threadSpecName: "ghost", iterable: ref("items") },
            },
          },
        ],
        [threadVar("items", VariableType.JSON_ARR)],
      ),
      "started thread spec 'ghost' does not exist",
    );
  });

  it("B-META-3 an unknown failure handler ThreadSpec is INVALID_ARGUMENT", () => {
    expectInvalid(
      single([withFailureHandlers(task("no-args"), "ghost")]),
      "node 'n1': failure handler thread spec 'ghost' does not exist",
    );
  });

  it("B-META-3 an unknown per-thread failure handler ThreadSpec is INVALID_ARGUMENT", () => {
    expectInvalid(
      single(
        [
          {
            node: {
              case: "waitForThreads",
              value: {
                threadsToWaitFor: { case: "threadList", value: ref("items") },
                perThreadFailureHandlers: [{ handlerSpecName: "ghost" }],
              },
            },
          },
        ],
        [threadVar("items", VariableType.JSON_ARR)],
      ),
      "failure handler thread spec 'ghost' does not exist",
    );
  });

  it("B-META-3 an unknown interrupt handler ThreadSpec is INVALID_ARGUMENT", () => {
    const thread = linearThread([]);
    thread.interruptDefs = [
      {
        $typeName: "littlehorse.InterruptDef",
        externalEventDefId: { $typeName: "littlehorse.ExternalEventDefId", name: "cancel" },
        handlerSpecName: "ghost",
      },
    ];
    expectInvalid(
      wfRequest({ entrypoint: thread }),
      "interrupt 0: interrupt handler thread spec 'ghost' does not exist",
    );
  });
});

describe("buildWfSpec: variables", () => {
  it("B-META-3 an undeclared variable as task input is INVALID_ARGUMENT naming the variable", () => {
    expectInvalid(
      single([task("greet", [ref("who")])]),
      "WfSpec 'my-wf' thread 'entrypoint' node 'n1' input 0 uses undeclared variable 'who'",
    );
  });

  it("B-META-3 an undeclared variable inside a format string is INVALID_ARGUMENT", () => {
    expectInvalid(
      single([task("greet", [format(lit(value.str("{0}")), ref("who"))])]),
      "format arg 0 uses undeclared variable 'who'",
    );
    expectInvalid(single([task("greet", [format(ref("fmt"))])]), "format uses undeclared variable 'fmt'");
  });

  it("B-META-3 an undeclared variable in an edge condition is INVALID_ARGUMENT", () => {
    const thread = linearThread([nop], [threadVar("n", VariableType.INT)]);
    thread.nodes.n1!.outgoingEdges = [
      edge("exit", {
        condition: {
          $typeName: "littlehorse.EdgeCondition",
          comparator: Comparator.EQUALS,
          left: ref("n"),
          right: ref("m"),
        },
      }),
    ];
    expectInvalid(
      wfRequest({ entrypoint: thread }),
      "node 'n1' edge 0 (to 'exit') condition right uses undeclared variable 'm'",
    );
    thread.nodes.n1!.outgoingEdges = [
      edge("exit", {
        condition: {
          $typeName: "littlehorse.EdgeCondition",
          comparator: Comparator.EQUALS,
          left: ref("m"),
          right: ref("n"),
        },
      }),
    ];
    expectInvalid(wfRequest({ entrypoint: thread }), "condition left uses undeclared variable 'm'");
  });

  it("B-WIRE-2 an undeclared variable in an expression condition (without legacy condition) is INVALID_ARGUMENT", () => {
    const thread = linearThread([nop], [threadVar("n", VariableType.INT)]);
    thread.nodes.n1!.outgoingEdges = [
      edge("exit", {
        expressionCondition: create(VariableAssignmentSchema, {
          source: {
            case: "expression",
            value: {
              lhs: ref("n"),
              rhs: ref("m"),
              operation: { case: "comparator", value: Comparator.EQUALS },
            },
          },
        }),
      }),
    ];
    expectInvalid(wfRequest({ entrypoint: thread }), "condition expression rhs uses undeclared variable 'm'");
  });

  it("B-META-3 a condition without both sides or with an unknown comparator is INVALID_ARGUMENT", () => {
    const thread = linearThread([nop], [threadVar("n", VariableType.INT)]);
    thread.nodes.n1!.outgoingEdges = [
      edge("exit", {
        condition: { $typeName: "littlehorse.EdgeCondition", comparator: Comparator.EQUALS, left: ref("n") },
      }),
    ];
    expectInvalid(wfRequest({ entrypoint: thread }), "needs both a left and a right side");
    thread.nodes.n1!.outgoingEdges = [
      edge("exit", {
        condition: {
          $typeName: "littlehorse.EdgeCondition",
          comparator: 40 as Comparator,
          left: ref("n"),
          right: ref("n"),
        },
      }),
    ];
    expectInvalid(wfRequest({ entrypoint: thread }), "unknown comparator 40");
  });

  it("B-META-3 a mutation of an undeclared variable is INVALID_ARGUMENT", () => {
    const thread = linearThread([nop], [threadVar("n", VariableType.INT)]);
    thread.nodes.n1!.outgoingEdges = [
      edge("exit", { variableMutations: [assign("ghost", lit(value.int(1)))] }),
    ];
    expectInvalid(
      wfRequest({ entrypoint: thread }),
      "node 'n1' edge 0 (to 'exit') mutation 0 mutates undeclared variable 'ghost'",
    );
  });

  it("B-META-3 a mutation whose right side uses an undeclared variable is INVALID_ARGUMENT", () => {
    const thread = linearThread([nop], [threadVar("n", VariableType.INT)]);
    thread.nodes.n1!.outgoingEdges = [edge("exit", { variableMutations: [assign("n", ref("ghost"))] })];
    expectInvalid(wfRequest({ entrypoint: thread }), "mutation 0 rhs uses undeclared variable 'ghost'");
  });

  it("B-META-3 a mutation without lhs_name, rhs or with an unknown operation is INVALID_ARGUMENT", () => {
    const thread = linearThread([nop], [threadVar("n", VariableType.INT)]);
    const m = assign("n", lit(value.int(1)));
    thread.nodes.n1!.outgoingEdges = [edge("exit", { variableMutations: [{ ...m, lhsName: "" }] })];
    expectInvalid(wfRequest({ entrypoint: thread }), "mutation 0 has no lhs_name");
    thread.nodes.n1!.outgoingEdges = [
      edge("exit", { variableMutations: [{ ...m, rhsValue: { case: undefined } }] }),
    ];
    expectInvalid(wfRequest({ entrypoint: thread }), "mutation 0 has no rhs value");
    thread.nodes.n1!.outgoingEdges = [
      edge("exit", { variableMutations: [{ ...m, operation: 99 as VariableMutationType }] }),
    ];
    expectInvalid(wfRequest({ entrypoint: thread }), "mutation 0 has unknown operation 99");
  });

  it.each<[string, NodeInit, string]>([
    [
      "EXTERNAL_EVENT timeout",
      {
        node: {
          case: "externalEvent",
          value: { externalEventDefId: { name: "approved" }, timeoutSeconds: ref("ghost") },
        },
      },
      "node 'n1' timeout uses undeclared variable 'ghost'",
    ],
    [
      "SLEEP",
      { node: { case: "sleep", value: { sleepLength: { case: "isoDate", value: ref("ghost") } } } },
      "node 'n1' sleep length uses undeclared variable 'ghost'",
    ],
    [
      "USER_TASK user_id",
      { node: { case: "userTask", value: { userTaskDefName: "review", userId: ref("ghost") } } },
      "node 'n1' user_id uses undeclared variable 'ghost'",
    ],
    [
      "USER_TASK notes",
      { node: { case: "userTask", value: { userTaskDefName: "review", notes: ref("ghost") } } },
      "node 'n1' notes uses undeclared variable 'ghost'",
    ],
    [
      "USER_TASK reminder task input",
      {
        node: {
          case: "userTask",
          value: {
            userTaskDefName: "review",
            actions: [
              {
                action: {
                  case: "task",
                  value: {
                    task: {
                      taskToExecute: { case: "taskDefId", value: { name: "greet" } },
                      variables: [ref("ghost")],
                    },
                  },
                },
              },
            ],
          },
        },
      },
      "node 'n1' action 0 task input 0 uses undeclared variable 'ghost'",
    ],
    [
      "USER_TASK reassignment",
      {
        node: {
          case: "userTask",
          value: {
            userTaskDefName: "review",
            actions: [{ action: { case: "reassign", value: { userId: ref("ghost") } } }],
          },
        },
      },
      "node 'n1' action 0 user_id uses undeclared variable 'ghost'",
    ],
    [
      "THROW_EVENT content",
      { node: { case: "throwEvent", value: { eventDefId: { name: "done" }, content: ref("ghost") } } },
      "node 'n1' content uses undeclared variable 'ghost'",
    ],
    [
      "START_THREAD variables",
      {
        node: {
          case: "startThread",
          value: { threadSpecName: "entrypoint", variables: { name: ref("ghost") } },
        },
      },
      "node 'n1' variable 'name' uses undeclared variable 'ghost'",
    ],
    [
      "START_MULTIPLE_THREADS iterable",
      {
        node: {
          case: "startMultipleThreads",
          value: { threadSpecName: "entrypoint", iterable: ref("ghost") },
        },
      },
      "node 'n1' iterable uses undeclared variable 'ghost'",
    ],
    [
      "WAIT_FOR_THREADS thread list",
      {
        node: {
          case: "waitForThreads",
          value: { threadsToWaitFor: { case: "threadList", value: ref("ghost") } },
        },
      },
      "node 'n1' thread list uses undeclared variable 'ghost'",
    ],
    [
      "WAIT_FOR_THREADS thread number",
      {
        node: {
          case: "waitForThreads",
          value: {
            threadsToWaitFor: { case: "threads", value: { threads: [{ threadRunNumber: ref("ghost") }] } },
          },
        },
      },
      "node 'n1' thread 0 uses undeclared variable 'ghost'",
    ],
    [
      "dynamic task",
      { node: { case: "task", value: { taskToExecute: { case: "dynamicTask", value: ref("ghost") } } } },
      "node 'n1' dynamic task uses undeclared variable 'ghost'",
    ],
  ])("B-META-3 an undeclared variable in %s is INVALID_ARGUMENT", (_what, n, message) => {
    expectInvalid(single([n]), message);
  });

  it("B-META-3 an undeclared variable in an EXIT failure content is INVALID_ARGUMENT", () => {
    const thread = linearThread([]);
    thread.nodes.exit = create(NodeSchema, {
      node: { case: "exit", value: { failureDef: { failureName: "oops", content: ref("ghost") } } },
    });
    expectInvalid(
      wfRequest({ entrypoint: thread }),
      "node 'exit' failure content uses undeclared variable 'ghost'",
    );
    thread.nodes.exit = create(NodeSchema, {
      node: { case: "exit", value: { failureDef: { failureName: "" } } },
    });
    expectInvalid(wfRequest({ entrypoint: thread }), "failure_def has no failure_name");
  });

  it("B-THR-1 a parent thread cannot use a child's variables", () => {
    const parent = linearThread([
      { node: { case: "startThread", value: { threadSpecName: "child" } } },
      task("greet", [ref("mine")]),
    ]);
    const child = linearThread([], [threadVar("mine", VariableType.STR)]);
    expectInvalid(
      wfRequest({ entrypoint: parent, child }),
      "thread 'entrypoint' node 'n2' input 0 uses undeclared variable 'mine'",
    );
  });

  it("B-THR-1 a thread that no thread starts sees only its own variables", () => {
    const main = linearThread([], [threadVar("name", VariableType.STR)]);
    const orphan = linearThread([task("greet", [ref("name")])]);
    expectInvalid(
      wfRequest({ entrypoint: main, orphan }),
      "thread 'orphan' node 'n1' input 0 uses undeclared variable 'name'",
    );
  });

  it("B-META-3 INPUT is only implicitly declared in handler and START_MULTIPLE_THREADS threads", () => {
    const main = linearThread([{ node: { case: "startThread", value: { threadSpecName: "child" } } }]);
    const child = linearThread([task("greet", [ref("INPUT")])]);
    expectInvalid(wfRequest({ entrypoint: main, child }), "uses undeclared variable 'INPUT'");
  });

  it("B-META-3 START_THREAD passing a variable the child does not declare is INVALID_ARGUMENT", () => {
    const main = linearThread(
      [
        {
          node: {
            case: "startThread",
            value: { threadSpecName: "child", variables: { other: ref("name") } },
          },
        },
      ],
      [threadVar("name", VariableType.STR)],
    );
    const child = linearThread([], [threadVar("job", VariableType.STR)]);
    expectInvalid(
      wfRequest({ entrypoint: main, child }),
      "passes variable 'other', which thread 'child' does not declare",
    );
  });

  it("B-META-3 START_MULTIPLE_THREADS needs a JSON_ARR iterable", () => {
    expectInvalid(
      single([
        {
          node: {
            case: "startMultipleThreads",
            value: { threadSpecName: "entrypoint", iterable: ref("name") },
          },
        },
      ]),
      "the iterable is STR, not JSON_ARR",
    );
    expectInvalid(
      single([{ node: { case: "startMultipleThreads", value: { threadSpecName: "entrypoint" } } }]),
      "has no iterable",
    );
  });

  it("B-META-3 SLEEP without length and WAIT_FOR_THREADS without threads are INVALID_ARGUMENT", () => {
    expectInvalid(single([{ node: { case: "sleep", value: {} } }]), "node 'n1' has no sleep length");
    expectInvalid(
      single([{ node: { case: "waitForThreads", value: {} } }]),
      "node 'n1' names no threads to wait for",
    );
  });

  it("B-META-3 a variable assignment without source is INVALID_ARGUMENT", () => {
    expectInvalid(
      single([task("greet", [create(VariableAssignmentSchema)])]),
      "input 0: the variable assignment has no source",
    );
  });

  it("B-SEC-4 a JSON literal that is not valid JSON of its type is INVALID_ARGUMENT", () => {
    expectInvalid(
      single([task("store", [lit(value.jsonObj("{nope")), lit(value.jsonArr("[]"))])]),
      "input 0: the JSON_OBJ value is not valid JSON",
    );
    expectInvalid(
      single([task("store", [lit(value.jsonObj("[1]")), lit(value.jsonArr("[]"))])]),
      "is not a JSON object",
    );
    expectInvalid(
      single([task("store", [lit(value.jsonObj("{}")), lit(value.jsonArr("{}"))])]),
      "input 1: the JSON_ARR value is not a JSON array",
    );
  });

  it("B-META-3 duplicate variable names in one thread are INVALID_ARGUMENT", () => {
    expectInvalid(
      single([], [threadVar("x", VariableType.STR), threadVar("x", VariableType.INT)]),
      "thread 'entrypoint' declares variable 'x' twice",
    );
  });

  it("B-META-3 the same variable name in two threads is fine", () => {
    const main = linearThread(
      [{ node: { case: "startThread", value: { threadSpecName: "child" } } }],
      [threadVar("x", VariableType.STR)],
    );
    const child = linearThread([task("add", [ref("x"), ref("x")])], [threadVar("x", VariableType.INT)]);
    expect(() => buildWfSpec(wfRequest({ entrypoint: main, child }), lookup)).not.toThrow();
  });

  it("B-META-3 a default value of another type than the variable is INVALID_ARGUMENT", () => {
    expectInvalid(
      single([], [threadVar("x", VariableType.INT, { defaultValue: value.str("5") })]),
      "thread 'entrypoint': the default value of variable 'x' is STR but the variable is INT",
    );
    expectInvalid(
      single([], [threadVar("x", VariableType.DOUBLE, { defaultValue: value.int(5) })]),
      "default value of variable 'x' is INT but the variable is DOUBLE",
    );
    expectInvalid(
      single([], [threadVar("x", VariableType.JSON_OBJ, { defaultValue: value.jsonObj("nope") })]),
      "the default value of variable 'x': the JSON_OBJ value is not valid JSON",
    );
  });

  it("B-WIRE-1 a VariableDef with neither type nor type_def is JSON_OBJ (the 0.10.1 wire omits the zero enum)", () => {
    const spec = buildWfSpec(single([], [threadVar("x", undefined)]), lookupOf());
    expect(spec.threadSpecs.entrypoint?.variableDefs[0]?.varDef?.type).toBe(VariableType.JSON_OBJ);
  });

  it("B-META-3 a variable declaration without var_def or name is INVALID_ARGUMENT", () => {
    expectInvalid(single([], [create(ThreadVarDefSchema, {})]), "a variable declaration has no var_def");
    expectInvalid(single([], [threadVar("", VariableType.STR)]), "a variable has an empty name");
  });

  it("B-THR-11 INHERITED_VAR needs a parent WfSpec and the entrypoint thread", () => {
    expectInvalid(
      single([], [threadVar("x", VariableType.STR, { accessLevel: WfRunVariableAccessLevel.INHERITED_VAR })]),
      "variable 'x' is INHERITED_VAR but the WfSpec has no parent_wf_spec",
    );
    const main = linearThread([{ node: { case: "startThread", value: { threadSpecName: "child" } } }]);
    const child = linearThread(
      [],
      [threadVar("x", VariableType.STR, { accessLevel: WfRunVariableAccessLevel.INHERITED_VAR })],
    );
    const req = wfRequest(
      { entrypoint: main, child },
      {
        parentWfSpec: {
          $typeName: "littlehorse.WfSpec.ParentWfSpecReference",
          wfSpecName: "parent-wf",
          wfSpecMajorVersion: 0,
        },
      },
    );
    expectInvalid(
      req,
      "thread 'child': variable 'x' is INHERITED_VAR, which only the entrypoint thread may declare",
    );
  });

  it("B-META-3 an unknown access level is INVALID_ARGUMENT", () => {
    expectInvalid(
      single([], [threadVar("x", VariableType.STR, { accessLevel: 9 as WfRunVariableAccessLevel })]),
      "variable 'x' has unknown access level 9",
    );
  });

  it("B-SRCH-3 json_indexes on a variable that is not JSON are INVALID_ARGUMENT", () => {
    expectInvalid(
      single(
        [],
        [
          threadVar("x", VariableType.STR, {
            searchable: true,
            jsonIndexes: [{ fieldPath: "$.a", fieldType: VariableType.STR }],
          }),
        ],
      ),
      "variable 'x' is STR; json_indexes are only valid for JSON_OBJ and JSON_ARR",
    );
    expect(() =>
      buildWfSpec(
        single(
          [],
          [
            threadVar("x", VariableType.JSON_OBJ, {
              jsonIndexes: [{ fieldPath: "$.a", fieldType: VariableType.STR }],
            }),
          ],
        ),
        lookup,
      ),
    ).not.toThrow();
  });
});

describe("buildWfSpec: task inputs against the TaskDef", () => {
  it("B-META-3 too few task inputs is INVALID_ARGUMENT naming both counts", () => {
    expectInvalid(
      single([task("add", [lit(value.int(1))])]),
      "node 'n1' passes 1 input variables but TaskDef 'add' takes 2",
    );
  });

  it("B-META-3 too many task inputs is INVALID_ARGUMENT", () => {
    expectInvalid(
      single([task("no-args", [ref("name")])]),
      "passes 1 input variables but TaskDef 'no-args' takes 0",
    );
  });

  it.each<[string, ReturnType<typeof lit>, string]>([
    ["a STR literal", lit(value.str("x")), "STR"],
    ["a DOUBLE literal", lit(value.double(1.5)), "DOUBLE"],
    ["a BOOL literal", lit(value.bool(true)), "BOOL"],
    ["a JSON_OBJ literal", lit(value.jsonObj("{}")), "JSON_OBJ"],
    ["a format string", format(lit(value.str("{0}")), lit(value.int(1))), "STR"],
    ["a STR variable", ref("s"), "STR"],
  ])("B-META-3 %s for an INT input is INVALID_ARGUMENT naming the types", (_what, input, given) => {
    expectInvalid(
      single([task("add", [input, lit(value.double(1))])], [threadVar("s", VariableType.STR)]),
      `node 'n1' input 0: TaskDef 'add' expects 'a' as INT but gets ${given}`,
    );
  });

  it("B-META-3 JSON_OBJ and JSON_ARR inputs must match exactly", () => {
    expectInvalid(
      single([task("store", [ref("arr"), ref("arr")])], [threadVar("arr", VariableType.JSON_ARR)]),
      "TaskDef 'store' expects 'doc' as JSON_OBJ but gets JSON_ARR",
    );
    expectInvalid(
      single([task("store", [ref("obj"), ref("obj")])], [threadVar("obj", VariableType.JSON_OBJ)]),
      "TaskDef 'store' expects 'items' as JSON_ARR but gets JSON_OBJ",
    );
  });

  it("B-META-3 BOOL inputs must match exactly", () => {
    expectInvalid(single([task("flag", [lit(value.str("true"))])]), "expects 'on' as BOOL but gets STR");
  });

  it("B-META-3 an INT feeds a DOUBLE input, values from json paths are not checked", () => {
    expect(() =>
      buildWfSpec(
        single(
          [task("add", [ref("doc", "$.n"), lit(value.int(2))])],
          [threadVar("doc", VariableType.JSON_OBJ)],
        ),
        lookup,
      ),
    ).not.toThrow();
  });

  it("B-META-3 a variable only declared in ancestors with conflicting types is not type-checked", () => {
    const main = linearThread([
      { node: { case: "startThread", value: { threadSpecName: "a" } } },
      { node: { case: "startThread", value: { threadSpecName: "b" } } },
    ]);
    const a = linearThread(
      [{ node: { case: "startThread", value: { threadSpecName: "leaf" } } }],
      [threadVar("v", VariableType.STR)],
    );
    const b = linearThread(
      [{ node: { case: "startThread", value: { threadSpecName: "leaf" } } }],
      [threadVar("v", VariableType.INT)],
    );
    const leaf = linearThread([task("add", [ref("v"), ref("v")])]);
    expect(() => buildWfSpec(wfRequest({ entrypoint: main, a, b, leaf }), lookup)).not.toThrow();
  });

  it("B-META-3 negative retries or timeout are INVALID_ARGUMENT", () => {
    expectInvalid(
      single([
        {
          node: {
            case: "task",
            value: { taskToExecute: { case: "taskDefId", value: { name: "no-args" } }, retries: -1 },
          },
        },
      ]),
      "node 'n1': retries must not be negative",
    );
    expectInvalid(
      single([
        {
          node: {
            case: "task",
            value: { taskToExecute: { case: "taskDefId", value: { name: "no-args" } }, timeoutSeconds: -1 },
          },
        },
      ]),
      "node 'n1': timeout_seconds must not be negative",
    );
  });

  it("B-META-3 a user task reminder TASK is checked against its TaskDef", () => {
    expectInvalid(
      single([
        {
          node: {
            case: "userTask",
            value: {
              userTaskDefName: "review",
              actions: [
                {
                  action: {
                    case: "task",
                    value: { task: { taskToExecute: { case: "taskDefId", value: { name: "nope" } } } },
                  },
                },
              ],
            },
          },
        },
      ]),
      "node 'n1' action 0 task uses unknown TaskDef 'nope'",
    );
    expectInvalid(
      single([
        {
          node: {
            case: "userTask",
            value: { userTaskDefName: "review", actions: [{ action: { case: "task", value: {} } }] },
          },
        },
      ]),
      "action 0 has no task",
    );
  });
});
