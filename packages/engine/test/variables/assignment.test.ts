import { create } from "@bufbuild/protobuf";
import {
  Comparator,
  EdgeConditionSchema,
  VariableAssignmentSchema,
  VariableMutationType as Op,
  type VariableAssignment,
} from "@pony/proto";
import { describe, expect, it } from "vitest";
import {
  Comparators,
  VarSubError,
  boolValue,
  doubleValue,
  evaluateAssignment,
  evaluateConditionExpression,
  evaluateEdgeCondition,
  intValue,
  jsonArrValue,
  jsonObjValue,
  nullValue,
  strValue,
  toJs,
} from "../../src/variables";
import { cmpExpr, fmt, lit, mutExpr, nodeOut, scopeOf, varRef } from "./helpers";

const scope = scopeOf(
  {
    n: intValue(5),
    d: doubleValue(2.5),
    s: strValue("hello"),
    b: boolValue(true),
    obj: jsonObjValue({ a: { b: "deep" }, list: [10, 20], "a key": 1 }),
    arr: jsonArrValue([{ id: 1 }, { id: 2 }]),
    empty: nullValue(),
  },
  { "task-1": jsonObjValue({ result: 42, items: ["x"] }), "task-2": strValue("plain") },
);

function edge(comparator: Comparator, left: VariableAssignment, right: VariableAssignment) {
  return create(EdgeConditionSchema, { comparator, left, right });
}

describe("evaluateAssignment: variables", () => {
  it("B-RUN-10 from a variable", () => {
    expect(evaluateAssignment(varRef("n"), scope)).toEqual(intValue(5));
    expect(evaluateAssignment(varRef("s"), scope)).toEqual(strValue("hello"));
    expect(evaluateAssignment(varRef("empty"), scope).value.case).toBeUndefined();
  });

  it("B-RUN-10 from a variable with a json_path", () => {
    expect(evaluateAssignment(varRef("obj", "$.a.b"), scope)).toEqual(strValue("deep"));
    expect(evaluateAssignment(varRef("obj", "$.list[1]"), scope)).toEqual(intValue(20));
    expect(evaluateAssignment(varRef("obj", "$['a key']"), scope)).toEqual(intValue(1));
    expect(evaluateAssignment(varRef("arr", "$[1].id"), scope)).toEqual(intValue(2));
    expect(toJs(evaluateAssignment(varRef("obj", "$.list"), scope))).toEqual([10, 20]);
  });

  it("B-RUN-10 a missing variable is a VarSubError", () => {
    expect(() => evaluateAssignment(varRef("nope"), scope)).toThrow(VarSubError);
    expect(() => evaluateAssignment(varRef("nope"), scope)).toThrow("'nope'");
  });

  it("B-RUN-10 a missing JSON path is a VarSubError naming the path and the variable", () => {
    expect(() => evaluateAssignment(varRef("obj", "$.a.zz"), scope)).toThrow(VarSubError);
    expect(() => evaluateAssignment(varRef("obj", "$.a.zz"), scope)).toThrow("'$.a.zz'");
    expect(() => evaluateAssignment(varRef("obj", "$.a.zz"), scope)).toThrow("variable 'obj'");
    expect(() => evaluateAssignment(varRef("obj", "$.list[2]"), scope)).toThrow(VarSubError);
  });

  it("B-RUN-10 a json_path on a variable that is not JSON is a VarSubError naming its type", () => {
    expect(() => evaluateAssignment(varRef("s", "$.x"), scope)).toThrow(/STR/);
    expect(() => evaluateAssignment(varRef("empty", "$.x"), scope)).toThrow(VarSubError);
  });
});

describe("evaluateAssignment: literals", () => {
  it("B-RUN-10 from a literal", () => {
    expect(evaluateAssignment(lit(intValue(3)), scope)).toEqual(intValue(3));
    expect(evaluateAssignment(lit(nullValue()), scope).value.case).toBeUndefined();
  });

  it("B-RUN-10 a literal with a json_path", () => {
    expect(evaluateAssignment(lit(jsonObjValue({ k: [true] }), "$.k[0]"), scope)).toEqual(boolValue(true));
    expect(() => evaluateAssignment(lit(jsonObjValue({}), "$.k"), scope)).toThrow(VarSubError);
  });
});

describe("evaluateAssignment: format strings", () => {
  it('B-RUN-10 a format string "{0} and {1}" with args', () => {
    const a = fmt(lit(strValue("{0} and {1}")), varRef("s"), lit(intValue(7)));
    expect(evaluateAssignment(a, scope)).toEqual(strValue("hello and 7"));
  });

  it("B-RUN-10 each arg type has its text form", () => {
    const a = fmt(
      lit(strValue("{0}|{1}|{2}|{3}|{4}|{5}|{6}")),
      lit(strValue("s")),
      lit(intValue(-3)),
      lit(doubleValue(0.5)),
      lit(boolValue(false)),
      lit(jsonObjValue({ a: [1, 2] })),
      lit(jsonArrValue(["x"])),
      lit(nullValue()),
    );
    expect(evaluateAssignment(a, scope)).toEqual(strValue('s|-3|0.5|false|{"a":[1,2]}|["x"]|null'));
  });

  it("B-RUN-10 args may repeat, be unused or be JSON paths; other text stays", () => {
    const a = fmt(lit(strValue("{1}{1} {x} {} {0")), lit(strValue("unused")), varRef("obj", "$.a.b"));
    expect(evaluateAssignment(a, scope)).toEqual(strValue("deepdeep {x} {} {0"));
    expect(evaluateAssignment(fmt(lit(strValue("no args"))), scope)).toEqual(strValue("no args"));
  });

  it("B-RUN-10 the format may come from a variable", () => {
    const vars = scopeOf({ f: strValue("n={0}"), n: intValue(2) });
    expect(evaluateAssignment(fmt(varRef("f"), varRef("n")), vars)).toEqual(strValue("n=2"));
  });

  it("B-RUN-10 an arg index out of range is a VarSubError", () => {
    expect(() => evaluateAssignment(fmt(lit(strValue("{0} {1}")), lit(intValue(1))), scope)).toThrow(
      VarSubError,
    );
    expect(() => evaluateAssignment(fmt(lit(strValue("{0}"))), scope)).toThrow(/\{0\}/);
  });

  it("B-RUN-10 a format that is not a STR, or missing, is a VarSubError", () => {
    expect(() => evaluateAssignment(fmt(lit(intValue(1))), scope)).toThrow(/STR.*INT/);
    const noFormat = create(VariableAssignmentSchema, {
      source: { case: "formatString", value: { args: [] } },
    });
    expect(() => evaluateAssignment(noFormat, scope)).toThrow(VarSubError);
  });

  it("B-RUN-10 a failing arg is a VarSubError", () => {
    expect(() => evaluateAssignment(fmt(lit(strValue("{0}")), varRef("nope")), scope)).toThrow(VarSubError);
  });
});

describe("evaluateAssignment: node outputs", () => {
  it("B-RUN-10 from a node output, with an optional json_path", () => {
    expect(evaluateAssignment(nodeOut("task-2"), scope)).toEqual(strValue("plain"));
    expect(evaluateAssignment(nodeOut("task-1", "$.result"), scope)).toEqual(intValue(42));
    expect(evaluateAssignment(nodeOut("task-1", "$.items[0]"), scope)).toEqual(strValue("x"));
  });

  it("B-RUN-10 a node output the scope cannot give is a VarSubError", () => {
    expect(() => evaluateAssignment(nodeOut("other"), scope)).toThrow(VarSubError);
    expect(() => evaluateAssignment(nodeOut("task-1"), scopeOf({}))).toThrow(VarSubError);
    expect(() => evaluateAssignment(nodeOut("task-1"), scopeOf({}))).toThrow("'task-1'");
    expect(() => evaluateAssignment(nodeOut("task-1", "$.nope"), scope)).toThrow(/'\$\.nope'/);
  });
});

describe("evaluateAssignment: expressions", () => {
  it("B-RUN-10 an expression with a mutation type computes like the mutation", () => {
    expect(evaluateAssignment(mutExpr(varRef("n"), Op.ADD, lit(intValue(2))), scope)).toEqual(intValue(7));
    expect(evaluateAssignment(mutExpr(varRef("n"), Op.MULTIPLY, varRef("d")), scope)).toEqual(intValue(12));
    expect(evaluateAssignment(mutExpr(varRef("d"), Op.MULTIPLY, varRef("n")), scope)).toEqual(
      doubleValue(12.5),
    );
    expect(evaluateAssignment(mutExpr(varRef("s"), Op.ADD, lit(strValue("!"))), scope)).toEqual(
      strValue("hello!"),
    );
    expect(
      toJs(evaluateAssignment(mutExpr(varRef("obj", "$.list"), Op.ADD, lit(intValue(30))), scope)),
    ).toEqual([10, 20, 30]);
    expect(evaluateAssignment(mutExpr(varRef("n"), Op.ASSIGN, lit(intValue(1))), scope)).toEqual(intValue(1));
  });

  it("B-RUN-10 expressions nest", () => {
    const inner = mutExpr(varRef("n"), Op.SUBTRACT, lit(intValue(1)));
    expect(evaluateAssignment(mutExpr(inner, Op.MULTIPLY, inner), scope)).toEqual(intValue(16));
  });

  it("B-RUN-10 a null LHS takes the RHS type", () => {
    expect(evaluateAssignment(mutExpr(varRef("empty"), Op.ADD, lit(intValue(3))), scope)).toEqual(
      intValue(3),
    );
    expect(evaluateAssignment(mutExpr(varRef("empty"), Op.ASSIGN, lit(nullValue())), scope).value.case).toBe(
      undefined,
    );
    expect(() => evaluateAssignment(mutExpr(varRef("empty"), Op.ADD, lit(nullValue())), scope)).toThrow(
      VarSubError,
    );
  });

  it("B-RUN-10 a failing expression is a VarSubError, not a VarMutationError", () => {
    const divByZero = mutExpr(varRef("n"), Op.DIVIDE, lit(intValue(0)));
    expect(() => evaluateAssignment(divByZero, scope)).toThrow(VarSubError);
    expect(() => evaluateAssignment(divByZero, scope)).toThrow(/division by zero/);
    expect(() => evaluateAssignment(mutExpr(varRef("n"), Op.ADD, varRef("s")), scope)).toThrow(/INT.*STR/);
  });

  it("B-RUN-10 an expression with a comparator is a BOOL", () => {
    expect(
      evaluateAssignment(cmpExpr(varRef("n"), Comparator.GREATER_THAN, lit(intValue(3))), scope),
    ).toEqual(boolValue(true));
    expect(
      evaluateAssignment(cmpExpr(varRef("s"), Comparators.IN, lit(jsonArrValue(["hi"]))), scope),
    ).toEqual(boolValue(false));
  });

  it("B-RUN-10 an expression missing a side or its operation is a VarSubError", () => {
    const noRhs = create(VariableAssignmentSchema, {
      source: {
        case: "expression",
        value: { lhs: varRef("n"), operation: { case: "mutationType", value: Op.ADD } },
      },
    });
    const noOp = create(VariableAssignmentSchema, {
      source: { case: "expression", value: { lhs: varRef("n"), rhs: varRef("n") } },
    });
    expect(() => evaluateAssignment(noRhs, scope)).toThrow(VarSubError);
    expect(() => evaluateAssignment(noOp, scope)).toThrow(VarSubError);
  });

  it("B-RUN-10 an assignment with no source is a VarSubError", () => {
    expect(() => evaluateAssignment(create(VariableAssignmentSchema, {}), scope)).toThrow(VarSubError);
  });
});

describe("evaluateEdgeCondition", () => {
  it("B-RUN-7 compares the evaluated left and right sides", () => {
    expect(evaluateEdgeCondition(edge(Comparator.LESS_THAN, varRef("n"), lit(intValue(10))), scope)).toBe(
      true,
    );
    expect(evaluateEdgeCondition(edge(Comparator.GREATER_THAN_EQ, varRef("d"), varRef("n")), scope)).toBe(
      false,
    );
    expect(
      evaluateEdgeCondition(edge(Comparator.EQUALS, varRef("obj", "$.a.b"), lit(strValue("deep"))), scope),
    ).toBe(true);
    expect(evaluateEdgeCondition(edge(Comparators.NOT_EQUALS, varRef("n"), lit(strValue("5"))), scope)).toBe(
      false,
    );
    expect(
      evaluateEdgeCondition(edge(Comparators.IN, lit(intValue(20)), varRef("obj", "$.list")), scope),
    ).toBe(true);
    expect(evaluateEdgeCondition(edge(Comparators.NOT_IN, lit(strValue("a")), varRef("obj")), scope)).toBe(
      false,
    );
    expect(evaluateEdgeCondition(edge(Comparator.EQUALS, varRef("empty"), lit(nullValue())), scope)).toBe(
      true,
    );
  });

  it("B-RUN-7 a failed cast or a bad comparison is a VarSubError", () => {
    expect(() => evaluateEdgeCondition(edge(Comparator.EQUALS, varRef("n"), varRef("s")), scope)).toThrow(
      VarSubError,
    );
    expect(() => evaluateEdgeCondition(edge(Comparator.LESS_THAN, varRef("b"), varRef("b")), scope)).toThrow(
      /BOOL/,
    );
    expect(() => evaluateEdgeCondition(edge(Comparators.IN, varRef("n"), varRef("s")), scope)).toThrow(
      VarSubError,
    );
  });

  it("B-RUN-7 a missing side or variable is a VarSubError", () => {
    expect(() =>
      evaluateEdgeCondition(
        create(EdgeConditionSchema, { comparator: Comparator.EQUALS, left: varRef("n") }),
        scope,
      ),
    ).toThrow(VarSubError);
    expect(() => evaluateEdgeCondition(edge(Comparator.EQUALS, varRef("nope"), varRef("n")), scope)).toThrow(
      VarSubError,
    );
  });
});

describe("evaluateConditionExpression", () => {
  it("B-RUN-7 an expression with a comparator", () => {
    expect(
      evaluateConditionExpression(cmpExpr(varRef("n"), Comparator.EQUALS, lit(intValue(5))), scope),
    ).toBe(true);
    expect(
      evaluateConditionExpression(cmpExpr(varRef("n"), Comparators.NOT_EQUALS, lit(intValue(5))), scope),
    ).toBe(false);
    expect(
      evaluateConditionExpression(
        cmpExpr(nodeOut("task-1", "$.result"), Comparator.GREATER_THAN, varRef("n")),
        scope,
      ),
    ).toBe(true);
  });

  it("B-RUN-7 any assignment that evaluates to a BOOL", () => {
    expect(evaluateConditionExpression(varRef("b"), scope)).toBe(true);
    expect(evaluateConditionExpression(lit(boolValue(false)), scope)).toBe(false);
  });

  it("B-RUN-7 anything that is not a BOOL is a VarSubError naming the type", () => {
    expect(() => evaluateConditionExpression(varRef("n"), scope)).toThrow(VarSubError);
    expect(() => evaluateConditionExpression(varRef("n"), scope)).toThrow(/BOOL.*INT/);
    expect(() => evaluateConditionExpression(lit(strValue("true")), scope)).toThrow(/STR/);
    expect(() => evaluateConditionExpression(varRef("empty"), scope)).toThrow(/NULL/);
  });

  it("B-RUN-7 a failing comparison is a VarSubError", () => {
    expect(() =>
      evaluateConditionExpression(cmpExpr(varRef("s"), Comparator.EQUALS, lit(jsonObjValue({}))), scope),
    ).toThrow(VarSubError);
  });
});
