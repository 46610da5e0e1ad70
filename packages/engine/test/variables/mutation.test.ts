import { create } from "@bufbuild/protobuf";
import {
  VariableMutationType as Op,
  VariableType as T,
  type VariableValue,
  VariableValueSchema,
} from "@pony/proto";
import { describe, expect, it } from "vitest";
import {
  VarMutationError,
  applyMutation,
  boolValue,
  bytesValue,
  doubleValue,
  intValue,
  jsonArrValue,
  jsonObjValue,
  nullValue,
  strValue,
  toJs,
  valueType,
} from "../../src/variables";

function mutate(
  current: VariableValue | undefined,
  declaredType: T,
  operation: Op,
  rhs: VariableValue,
  lhsJsonPath?: string,
): VariableValue {
  return applyMutation({ current, declaredType, operation, rhs, lhsJsonPath, lhsName: "x" });
}

function expectMutationError(fn: () => unknown, ...messages: (string | RegExp)[]): void {
  expect(fn).toThrow(VarMutationError);
  for (const m of messages) expect(fn).toThrow(m);
}

describe("ASSIGN", () => {
  it("B-RUN-9 ASSIGN sets a value of the declared type, for every type", () => {
    const values: [T, VariableValue][] = [
      [T.INT, intValue(3)],
      [T.DOUBLE, doubleValue(1.5)],
      [T.STR, strValue("s")],
      [T.BOOL, boolValue(true)],
      [T.JSON_OBJ, jsonObjValue({ a: 1 })],
      [T.JSON_ARR, jsonArrValue([1])],
      [T.BYTES, bytesValue(new Uint8Array([1]))],
    ];
    for (const [t, v] of values) {
      expect(mutate(nullValue(), t, Op.ASSIGN, v)).toEqual(v);
      expect(mutate(v, t, Op.ASSIGN, v)).toEqual(v);
    }
  });

  it("B-RUN-9 ASSIGN sets a null variable and can set a variable to null", () => {
    expect(mutate(undefined, T.STR, Op.ASSIGN, strValue("v"))).toEqual(strValue("v"));
    expect(mutate(intValue(1), T.INT, Op.ASSIGN, nullValue()).value.case).toBeUndefined();
  });

  it("B-RUN-9 ASSIGN casts INT to a DOUBLE variable and an integral DOUBLE to an INT variable", () => {
    expect(mutate(doubleValue(0), T.DOUBLE, Op.ASSIGN, intValue(4))).toEqual(doubleValue(4));
    expect(mutate(intValue(0), T.INT, Op.ASSIGN, doubleValue(4))).toEqual(intValue(4));
    expectMutationError(
      () => mutate(intValue(0), T.INT, Op.ASSIGN, doubleValue(4.5)),
      "variable 'x'",
      /INT/,
      /DOUBLE/,
    );
  });

  it("B-RUN-10 ASSIGN does not silently cast other types; the message names the variable and both types", () => {
    expectMutationError(
      () => mutate(intValue(0), T.INT, Op.ASSIGN, strValue("12")),
      "variable 'x' is declared INT but got a STR value",
    );
    expectMutationError(() => mutate(nullValue(), T.STR, Op.ASSIGN, intValue(1)), /STR.*INT/);
    expectMutationError(
      () => mutate(nullValue(), T.JSON_OBJ, Op.ASSIGN, jsonArrValue([])),
      /JSON_OBJ.*JSON_ARR/,
    );
    expectMutationError(() => mutate(nullValue(), T.JSON_ARR, Op.ASSIGN, strValue("[]")), /JSON_ARR.*STR/);
    expectMutationError(() => mutate(nullValue(), T.BOOL, Op.ASSIGN, strValue("true")), /BOOL.*STR/);
  });

  it("B-RUN-9 ASSIGN of JSON text with the wrong shape is invalid JSON", () => {
    const bad = create(VariableValueSchema, { value: { case: "jsonObj", value: "[1]" } });
    expectMutationError(
      () => mutate(nullValue(), T.JSON_OBJ, Op.ASSIGN, bad),
      /invalid JSON/,
      "variable 'x'",
    );
  });
});

describe("ADD", () => {
  it("B-RUN-9 ADD sums INTs as INT, exactly", () => {
    expect(mutate(intValue(2), T.INT, Op.ADD, intValue(3))).toEqual(intValue(5));
    expect(mutate(intValue(2n ** 60n), T.INT, Op.ADD, intValue(1))).toEqual(intValue(2n ** 60n + 1n));
  });

  it("B-RUN-9 ADD of a DOUBLE to an INT stays INT, truncating toward zero", () => {
    expect(mutate(intValue(5), T.INT, Op.ADD, doubleValue(2.7))).toEqual(intValue(7));
    expect(mutate(intValue(5), T.INT, Op.ADD, doubleValue(-2.7))).toEqual(intValue(2));
    expect(mutate(intValue(-5), T.INT, Op.ADD, doubleValue(0.5))).toEqual(intValue(-4));
  });

  it("B-RUN-9 ADD to a DOUBLE stays DOUBLE", () => {
    expect(mutate(doubleValue(1.5), T.DOUBLE, Op.ADD, intValue(2))).toEqual(doubleValue(3.5));
    expect(mutate(doubleValue(1.5), T.DOUBLE, Op.ADD, doubleValue(0.25))).toEqual(doubleValue(1.75));
  });

  it("B-RUN-9 ADD to a STR concatenates the text form of anything", () => {
    expect(mutate(strValue("a"), T.STR, Op.ADD, strValue("b"))).toEqual(strValue("ab"));
    expect(mutate(strValue("n="), T.STR, Op.ADD, intValue(3))).toEqual(strValue("n=3"));
    expect(mutate(strValue("d="), T.STR, Op.ADD, doubleValue(1.5))).toEqual(strValue("d=1.5"));
    expect(mutate(strValue("b="), T.STR, Op.ADD, boolValue(false))).toEqual(strValue("b=false"));
    expect(mutate(strValue("o="), T.STR, Op.ADD, jsonObjValue({ a: [1] }))).toEqual(strValue('o={"a":[1]}'));
    expect(mutate(strValue("v="), T.STR, Op.ADD, nullValue())).toEqual(strValue("v=null"));
  });

  it("B-RUN-9 ADD appends to a JSON_ARR", () => {
    const list = jsonArrValue([1]);
    expect(toJs(mutate(list, T.JSON_ARR, Op.ADD, intValue(2)))).toEqual([1, 2]);
    expect(toJs(mutate(list, T.JSON_ARR, Op.ADD, strValue("s")))).toEqual([1, "s"]);
    expect(toJs(mutate(list, T.JSON_ARR, Op.ADD, jsonObjValue({ k: 1 })))).toEqual([1, { k: 1 }]);
    expect(toJs(mutate(list, T.JSON_ARR, Op.ADD, jsonArrValue([2, 3])))).toEqual([1, [2, 3]]);
    expect(toJs(mutate(list, T.JSON_ARR, Op.ADD, nullValue()))).toEqual([1, null]);
    expect(toJs(list)).toEqual([1]);
  });

  it('B-RUN-9 ADD on null INT / DOUBLE / STR / JSON_ARR starts from 0 / 0.0 / "" / []', () => {
    expect(mutate(nullValue(), T.INT, Op.ADD, intValue(3))).toEqual(intValue(3));
    expect(mutate(undefined, T.DOUBLE, Op.ADD, doubleValue(0.5))).toEqual(doubleValue(0.5));
    expect(mutate(nullValue(), T.STR, Op.ADD, strValue("x"))).toEqual(strValue("x"));
    expect(toJs(mutate(nullValue(), T.JSON_ARR, Op.ADD, intValue(1)))).toEqual([1]);
  });

  it("B-RUN-9 ADD on null of another type is a VarMutationError", () => {
    expectMutationError(
      () => mutate(nullValue(), T.BOOL, Op.ADD, boolValue(true)),
      "variable 'x'",
      /BOOL/,
      /null/,
    );
    expectMutationError(() => mutate(nullValue(), T.JSON_OBJ, Op.ADD, jsonObjValue({})), /JSON_OBJ/);
    expectMutationError(() => mutate(nullValue(), T.BYTES, Op.ADD, bytesValue(new Uint8Array())), /BYTES/);
  });

  it("B-RUN-9 ADD with unsupported types is a VarMutationError naming the variable and types", () => {
    expectMutationError(
      () => mutate(intValue(1), T.INT, Op.ADD, strValue("2")),
      "cannot apply ADD to variable 'x' (INT) with a STR value",
    );
    expectMutationError(() => mutate(doubleValue(1), T.DOUBLE, Op.ADD, boolValue(true)), /DOUBLE.*BOOL/);
    expectMutationError(() => mutate(boolValue(true), T.BOOL, Op.ADD, boolValue(true)), /BOOL.*BOOL/);
    expectMutationError(() => mutate(jsonObjValue({}), T.JSON_OBJ, Op.ADD, strValue("k")), /JSON_OBJ.*STR/);
    expectMutationError(() => mutate(intValue(1), T.INT, Op.ADD, nullValue()), /INT.*NULL/);
  });

  it("B-RUN-9 ADD of BYTES to a JSON_ARR is a VarMutationError (JSON cannot hold bytes)", () => {
    expectMutationError(
      () => mutate(jsonArrValue([]), T.JSON_ARR, Op.ADD, bytesValue(new Uint8Array([1]))),
      /BYTES/,
    );
  });

  it("B-RUN-9 ADD overflowing 64 bits is a VarMutationError", () => {
    expectMutationError(() => mutate(intValue(2n ** 63n - 1n), T.INT, Op.ADD, intValue(1)), /64-bit/);
  });
});

describe("EXTEND", () => {
  it("B-RUN-9 EXTEND concatenates STRs", () => {
    expect(mutate(strValue("ab"), T.STR, Op.EXTEND, strValue("cd"))).toEqual(strValue("abcd"));
  });

  it("B-RUN-9 EXTEND concatenates JSON_ARRs", () => {
    expect(toJs(mutate(jsonArrValue([1]), T.JSON_ARR, Op.EXTEND, jsonArrValue([2, [3]])))).toEqual([
      1,
      2,
      [3],
    ]);
    expect(toJs(mutate(jsonArrValue([1]), T.JSON_ARR, Op.EXTEND, jsonArrValue([])))).toEqual([1]);
  });

  it("B-RUN-9 EXTEND with other types is a VarMutationError", () => {
    expectMutationError(
      () => mutate(strValue("a"), T.STR, Op.EXTEND, intValue(1)),
      "variable 'x'",
      /STR.*INT/,
    );
    expectMutationError(() => mutate(jsonArrValue([]), T.JSON_ARR, Op.EXTEND, intValue(1)), /JSON_ARR.*INT/);
    expectMutationError(
      () => mutate(jsonArrValue([]), T.JSON_ARR, Op.EXTEND, strValue("[1]")),
      /JSON_ARR.*STR/,
    );
    expectMutationError(() => mutate(intValue(1), T.INT, Op.EXTEND, intValue(1)), /INT.*INT/);
    expectMutationError(() => mutate(jsonObjValue({}), T.JSON_OBJ, Op.EXTEND, jsonObjValue({})), /JSON_OBJ/);
  });

  it("B-RUN-9 EXTEND on a null variable is a VarMutationError", () => {
    expectMutationError(() => mutate(nullValue(), T.STR, Op.EXTEND, strValue("a")), /null/);
    expectMutationError(() => mutate(nullValue(), T.JSON_ARR, Op.EXTEND, jsonArrValue([1])), /null/);
  });
});

describe("SUBTRACT / MULTIPLY / DIVIDE", () => {
  it("B-RUN-9 INT stays INT", () => {
    expect(mutate(intValue(7), T.INT, Op.SUBTRACT, intValue(10))).toEqual(intValue(-3));
    expect(mutate(intValue(7), T.INT, Op.MULTIPLY, intValue(6))).toEqual(intValue(42));
    expect(mutate(intValue(7), T.INT, Op.DIVIDE, intValue(2))).toEqual(intValue(3));
    expect(mutate(intValue(-7), T.INT, Op.DIVIDE, intValue(2))).toEqual(intValue(-3));
  });

  it("B-RUN-9 INT with a DOUBLE RHS stays INT, truncating toward zero", () => {
    expect(mutate(intValue(7), T.INT, Op.SUBTRACT, doubleValue(0.5))).toEqual(intValue(6));
    expect(mutate(intValue(3), T.INT, Op.MULTIPLY, doubleValue(1.5))).toEqual(intValue(4));
    expect(mutate(intValue(7), T.INT, Op.DIVIDE, doubleValue(2))).toEqual(intValue(3));
    expect(mutate(intValue(-7), T.INT, Op.DIVIDE, doubleValue(2))).toEqual(intValue(-3));
  });

  it("B-RUN-9 DOUBLE stays DOUBLE", () => {
    expect(mutate(doubleValue(7), T.DOUBLE, Op.SUBTRACT, intValue(2))).toEqual(doubleValue(5));
    expect(mutate(doubleValue(1.5), T.DOUBLE, Op.MULTIPLY, doubleValue(2))).toEqual(doubleValue(3));
    expect(mutate(doubleValue(7), T.DOUBLE, Op.DIVIDE, intValue(2))).toEqual(doubleValue(3.5));
  });

  it("B-RUN-9 division by zero is a VarMutationError", () => {
    expectMutationError(
      () => mutate(intValue(1), T.INT, Op.DIVIDE, intValue(0)),
      /division by zero/,
      "variable 'x'",
    );
    expectMutationError(() => mutate(intValue(1), T.INT, Op.DIVIDE, doubleValue(0)), /division by zero/);
    expectMutationError(
      () => mutate(doubleValue(1), T.DOUBLE, Op.DIVIDE, doubleValue(0)),
      /division by zero/,
    );
    expectMutationError(() => mutate(doubleValue(1), T.DOUBLE, Op.DIVIDE, intValue(0)), /division by zero/);
  });

  it("B-RUN-9 other types are a VarMutationError naming the variable and types", () => {
    for (const op of [Op.SUBTRACT, Op.MULTIPLY, Op.DIVIDE]) {
      expectMutationError(() => mutate(strValue("a"), T.STR, op, intValue(1)), "variable 'x' (STR)", /INT/);
      expectMutationError(() => mutate(intValue(1), T.INT, op, strValue("1")), "variable 'x' (INT)", /STR/);
      expectMutationError(() => mutate(jsonArrValue([]), T.JSON_ARR, op, intValue(1)), /JSON_ARR/);
      expectMutationError(() => mutate(nullValue(), T.INT, op, intValue(1)), /null/);
    }
  });

  it("B-RUN-9 results outside the range are a VarMutationError", () => {
    expectMutationError(() => mutate(intValue(2n ** 62n), T.INT, Op.MULTIPLY, intValue(4)), /64-bit/);
    expectMutationError(() => mutate(doubleValue(1e308), T.DOUBLE, Op.MULTIPLY, doubleValue(10)), /finite/);
  });
});

describe("REMOVE_IF_PRESENT / REMOVE_INDEX / REMOVE_KEY", () => {
  it("B-RUN-9 REMOVE_IF_PRESENT removes every equal element of a JSON_ARR", () => {
    const list = jsonArrValue([1, "1", 2, 1, { a: 1 }, null]);
    expect(toJs(mutate(list, T.JSON_ARR, Op.REMOVE_IF_PRESENT, intValue(1)))).toEqual([
      "1",
      2,
      { a: 1 },
      null,
    ]);
    expect(toJs(mutate(list, T.JSON_ARR, Op.REMOVE_IF_PRESENT, jsonObjValue({ a: 1 })))).toEqual([
      1,
      "1",
      2,
      1,
      null,
    ]);
    expect(toJs(mutate(list, T.JSON_ARR, Op.REMOVE_IF_PRESENT, nullValue()))).toEqual([
      1,
      "1",
      2,
      1,
      { a: 1 },
    ]);
    expect(toJs(mutate(list, T.JSON_ARR, Op.REMOVE_IF_PRESENT, intValue(9)))).toEqual(toJs(list));
  });

  it("B-RUN-9 REMOVE_IF_PRESENT removes a key of a JSON_OBJ", () => {
    const obj = jsonObjValue({ a: 1, b: 2 });
    expect(toJs(mutate(obj, T.JSON_OBJ, Op.REMOVE_IF_PRESENT, strValue("a")))).toEqual({ b: 2 });
    expect(toJs(mutate(obj, T.JSON_OBJ, Op.REMOVE_IF_PRESENT, strValue("zz")))).toEqual({ a: 1, b: 2 });
    expectMutationError(() => mutate(obj, T.JSON_OBJ, Op.REMOVE_IF_PRESENT, intValue(1)), /JSON_OBJ.*INT/);
  });

  it("B-RUN-9 REMOVE_IF_PRESENT on other types is a VarMutationError", () => {
    expectMutationError(
      () => mutate(strValue("abc"), T.STR, Op.REMOVE_IF_PRESENT, strValue("a")),
      "variable 'x' (STR)",
    );
    expectMutationError(() => mutate(nullValue(), T.JSON_ARR, Op.REMOVE_IF_PRESENT, intValue(1)), /null/);
  });

  it("B-RUN-9 REMOVE_INDEX removes the element at an INT index of a JSON_ARR", () => {
    const list = jsonArrValue(["a", "b", "c"]);
    expect(toJs(mutate(list, T.JSON_ARR, Op.REMOVE_INDEX, intValue(0)))).toEqual(["b", "c"]);
    expect(toJs(mutate(list, T.JSON_ARR, Op.REMOVE_INDEX, intValue(2)))).toEqual(["a", "b"]);
  });

  it("B-RUN-9 REMOVE_INDEX out of range is a VarMutationError", () => {
    const list = jsonArrValue(["a", "b", "c"]);
    expectMutationError(
      () => mutate(list, T.JSON_ARR, Op.REMOVE_INDEX, intValue(3)),
      /out of range/,
      "variable 'x'",
    );
    expectMutationError(() => mutate(list, T.JSON_ARR, Op.REMOVE_INDEX, intValue(-1)), /out of range/);
    expectMutationError(
      () => mutate(jsonArrValue([]), T.JSON_ARR, Op.REMOVE_INDEX, intValue(0)),
      /out of range/,
    );
  });

  it("B-RUN-9 REMOVE_INDEX needs a JSON_ARR and an INT index", () => {
    expectMutationError(
      () => mutate(jsonArrValue([1]), T.JSON_ARR, Op.REMOVE_INDEX, strValue("0")),
      /JSON_ARR.*STR/,
    );
    expectMutationError(
      () => mutate(jsonArrValue([1]), T.JSON_ARR, Op.REMOVE_INDEX, doubleValue(0)),
      /DOUBLE/,
    );
    expectMutationError(
      () => mutate(jsonObjValue({ "0": 1 }), T.JSON_OBJ, Op.REMOVE_INDEX, intValue(0)),
      /JSON_OBJ/,
    );
    expectMutationError(() => mutate(strValue("ab"), T.STR, Op.REMOVE_INDEX, intValue(0)), /STR/);
  });

  it("B-RUN-9 REMOVE_KEY removes a key of a JSON_OBJ; a missing key is ignored", () => {
    const obj = jsonObjValue({ a: 1, b: { c: 2 } });
    expect(toJs(mutate(obj, T.JSON_OBJ, Op.REMOVE_KEY, strValue("b")))).toEqual({ a: 1 });
    expect(toJs(mutate(obj, T.JSON_OBJ, Op.REMOVE_KEY, strValue("missing")))).toEqual({ a: 1, b: { c: 2 } });
    expect(toJs(mutate(jsonObjValue({}), T.JSON_OBJ, Op.REMOVE_KEY, strValue("toString")))).toEqual({});
  });

  it("B-RUN-9 REMOVE_KEY needs a JSON_OBJ and a STR key", () => {
    expectMutationError(
      () => mutate(jsonArrValue(["a"]), T.JSON_ARR, Op.REMOVE_KEY, strValue("a")),
      /JSON_ARR/,
    );
    expectMutationError(
      () => mutate(jsonObjValue({ "1": 1 }), T.JSON_OBJ, Op.REMOVE_KEY, intValue(1)),
      /INT/,
    );
    expectMutationError(() => mutate(nullValue(), T.JSON_OBJ, Op.REMOVE_KEY, strValue("a")), /null/);
  });
});

describe("general", () => {
  it("B-RUN-9 the current value must have the declared type", () => {
    expectMutationError(
      () => mutate(strValue("1"), T.INT, Op.ADD, intValue(1)),
      "variable 'x' is declared INT but holds a STR value",
    );
  });

  it("B-RUN-9 an unknown mutation type is a VarMutationError", () => {
    const unknown: number = 42;
    expectMutationError(() => mutate(intValue(1), T.INT, unknown, intValue(1)), /unknown/);
  });

  it("B-RUN-9 corrupt JSON in the variable is a VarMutationError saying invalid JSON", () => {
    const bad = create(VariableValueSchema, { value: { case: "jsonArr", value: "[1," } });
    expectMutationError(() => mutate(bad, T.JSON_ARR, Op.ADD, intValue(1)), /invalid JSON/);
  });

  it("B-RUN-9 the error names the variable given by lhsName", () => {
    expect(() =>
      applyMutation({
        current: intValue(1),
        declaredType: T.INT,
        operation: Op.DIVIDE,
        rhs: intValue(0),
        lhsName: "counter",
      }),
    ).toThrow("variable 'counter'");
  });

  it("B-RUN-8 applyMutation never changes its inputs", () => {
    const current = jsonArrValue([1, 2]);
    const before = structuredClone(current);
    mutate(current, T.JSON_ARR, Op.ADD, intValue(3));
    mutate(current, T.JSON_ARR, Op.REMOVE_INDEX, intValue(0));
    mutate(current, T.JSON_ARR, Op.ASSIGN, jsonArrValue([]));
    expect(current).toEqual(before);
  });
});

describe("lhs_json_path", () => {
  const doc = jsonObjValue({ a: { n: 1, s: "x", list: [1, 2], f: 1.5, nothing: null }, top: [{ k: 1 }] });

  it("B-RUN-9 ASSIGN sets a nested field and returns the whole JSON value", () => {
    const out = mutate(doc, T.JSON_OBJ, Op.ASSIGN, strValue("new"), "$.a.s");
    expect(valueType(out)).toBe(T.JSON_OBJ);
    expect(toJs(out)).toEqual({
      a: { n: 1, s: "new", list: [1, 2], f: 1.5, nothing: null },
      top: [{ k: 1 }],
    });
  });

  it("B-RUN-9 ASSIGN on a path may change the sub-field's type and may store JSON or null", () => {
    expect(toJs(mutate(doc, T.JSON_OBJ, Op.ASSIGN, jsonObjValue({ z: [] }), "$.a.n"))).toMatchObject({
      a: { n: { z: [] } },
    });
    expect(toJs(mutate(doc, T.JSON_OBJ, Op.ASSIGN, nullValue(), "$.a.s"))).toMatchObject({ a: { s: null } });
  });

  it("B-RUN-9 ASSIGN creates a missing key of an object", () => {
    expect(toJs(mutate(doc, T.JSON_OBJ, Op.ASSIGN, intValue(9), "$.a.added"))).toMatchObject({
      a: { added: 9 },
    });
    expect(toJs(mutate(doc, T.JSON_OBJ, Op.ASSIGN, intValue(9), "$['new key']"))).toMatchObject({
      "new key": 9,
    });
    const proto = toJs(mutate(jsonObjValue({}), T.JSON_OBJ, Op.ASSIGN, intValue(1), "$['__proto__']"));
    expect(Object.keys(proto as object)).toEqual(["__proto__"]);
  });

  it("B-RUN-9 ASSIGN sets an existing list element", () => {
    expect(toJs(mutate(doc, T.JSON_OBJ, Op.ASSIGN, strValue("z"), "$.a.list[1]"))).toMatchObject({
      a: { list: [1, "z"] },
    });
    expect(toJs(mutate(jsonArrValue([1, 2]), T.JSON_ARR, Op.ASSIGN, intValue(5), "$[0]"))).toEqual([5, 2]);
  });

  it("B-RUN-9 other missing paths are a VarMutationError", () => {
    expectMutationError(
      () => mutate(doc, T.JSON_OBJ, Op.ASSIGN, intValue(1), "$.nope.deeper"),
      /'\$\.nope\.deeper'/,
    );
    expectMutationError(() => mutate(doc, T.JSON_OBJ, Op.ASSIGN, intValue(1), "$.a.list[5]"), /not found/);
    expectMutationError(() => mutate(doc, T.JSON_OBJ, Op.ASSIGN, intValue(1), "$.a.list.k"), /not found/);
    expectMutationError(
      () => mutate(doc, T.JSON_OBJ, Op.ADD, intValue(1), "$.a.missing"),
      /not found/,
      "variable 'x'",
    );
    expectMutationError(() => mutate(doc, T.JSON_OBJ, Op.ADD, intValue(1), "$.top[3].k"), /not found/);
  });

  it("B-RUN-9 ADD on a path uses the sub-field's type", () => {
    expect(toJs(mutate(doc, T.JSON_OBJ, Op.ADD, intValue(2), "$.a.n"))).toMatchObject({ a: { n: 3 } });
    expect(toJs(mutate(doc, T.JSON_OBJ, Op.ADD, intValue(1), "$.a.f"))).toMatchObject({ a: { f: 2.5 } });
    expect(toJs(mutate(doc, T.JSON_OBJ, Op.ADD, strValue("y"), "$.a.s"))).toMatchObject({ a: { s: "xy" } });
    expect(toJs(mutate(doc, T.JSON_OBJ, Op.ADD, intValue(3), "$.a.list"))).toMatchObject({
      a: { list: [1, 2, 3] },
    });
    expect(toJs(mutate(doc, T.JSON_OBJ, Op.ADD, intValue(1), "$.top[0].k"))).toMatchObject({
      top: [{ k: 2 }],
    });
  });

  it("B-RUN-9 other mutations on a path", () => {
    expect(toJs(mutate(doc, T.JSON_OBJ, Op.REMOVE_INDEX, intValue(0), "$.a.list"))).toMatchObject({
      a: { list: [2] },
    });
    expect(toJs(mutate(doc, T.JSON_OBJ, Op.REMOVE_KEY, strValue("k"), "$.top[0]"))).toMatchObject({
      top: [{}],
    });
    expect(toJs(mutate(doc, T.JSON_OBJ, Op.MULTIPLY, intValue(10), "$.a.n"))).toMatchObject({ a: { n: 10 } });
    expect(toJs(mutate(doc, T.JSON_OBJ, Op.EXTEND, jsonArrValue([3]), "$.a.list"))).toMatchObject({
      a: { list: [1, 2, 3] },
    });
  });

  it("B-RUN-9 type errors on a path name the variable, the path and the types", () => {
    expectMutationError(
      () => mutate(doc, T.JSON_OBJ, Op.SUBTRACT, intValue(1), "$.a.s"),
      "variable 'x' at '$.a.s' (STR)",
      /INT/,
    );
    expectMutationError(() => mutate(doc, T.JSON_OBJ, Op.DIVIDE, intValue(0), "$.a.n"), /division by zero/);
    expectMutationError(() => mutate(doc, T.JSON_OBJ, Op.ADD, intValue(1), "$.a.nothing"), /null/);
  });

  it("B-RUN-9 lhs_json_path needs a non-null JSON_OBJ / JSON_ARR variable", () => {
    expectMutationError(
      () => mutate(strValue("{}"), T.STR, Op.ASSIGN, intValue(1), "$.a"),
      /STR/,
      "variable 'x'",
    );
    expectMutationError(() => mutate(nullValue(), T.JSON_OBJ, Op.ASSIGN, intValue(1), "$.a"), /null/);
  });

  it("B-RUN-9 a malformed lhs_json_path is a VarMutationError", () => {
    expectMutationError(() => mutate(doc, T.JSON_OBJ, Op.ASSIGN, intValue(1), "a.b"), /invalid JSON path/);
  });

  it("B-RUN-9 the path $ mutates the whole variable", () => {
    expect(toJs(mutate(jsonArrValue([1]), T.JSON_ARR, Op.ADD, intValue(2), "$"))).toEqual([1, 2]);
    expectMutationError(
      () => mutate(jsonArrValue([1]), T.JSON_ARR, Op.ASSIGN, intValue(2), "$"),
      /JSON_ARR.*INT/,
    );
  });

  it("B-RUN-9 a value JSON cannot hold is a VarMutationError", () => {
    expectMutationError(
      () => mutate(doc, T.JSON_OBJ, Op.ASSIGN, bytesValue(new Uint8Array([1])), "$.a.s"),
      /BYTES/,
    );
    expectMutationError(() => mutate(doc, T.JSON_OBJ, Op.ASSIGN, intValue(2n ** 60n), "$.a.s"), /too large/);
  });
});
