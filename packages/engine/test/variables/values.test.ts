import { create } from "@bufbuild/protobuf";
import { VariableType, VariableValueSchema } from "@pony/proto";
import { describe, expect, it } from "vitest";
import {
  VarSubError,
  boolValue,
  bytesValue,
  doubleValue,
  fromJs,
  intValue,
  isNullValue,
  jsonArrValue,
  jsonObjValue,
  nullValue,
  strValue,
  stringForm,
  toJs,
  typeName,
  valueType,
  valuesEqual,
} from "../../src/variables";

describe("valueType / isNullValue / constructors", () => {
  it("B-RUN-10 each constructor makes the matching oneof case and type", () => {
    expect(strValue("a").value).toEqual({ case: "str", value: "a" });
    expect(intValue(12).value).toEqual({ case: "int", value: 12n });
    expect(intValue(-3n).value).toEqual({ case: "int", value: -3n });
    expect(doubleValue(1.5).value).toEqual({ case: "double", value: 1.5 });
    expect(boolValue(false).value).toEqual({ case: "bool", value: false });
    expect(jsonObjValue({ a: 1 }).value).toEqual({ case: "jsonObj", value: '{"a":1}' });
    expect(jsonArrValue([1, "x"]).value).toEqual({ case: "jsonArr", value: '[1,"x"]' });
    expect(bytesValue(new Uint8Array([1])).value.case).toBe("bytes");
    expect(nullValue().value.case).toBeUndefined();

    expect(valueType(strValue("a"))).toBe(VariableType.STR);
    expect(valueType(intValue(1))).toBe(VariableType.INT);
    expect(valueType(doubleValue(1))).toBe(VariableType.DOUBLE);
    expect(valueType(boolValue(true))).toBe(VariableType.BOOL);
    expect(valueType(jsonObjValue({}))).toBe(VariableType.JSON_OBJ);
    expect(valueType(jsonArrValue([]))).toBe(VariableType.JSON_ARR);
    expect(valueType(bytesValue(new Uint8Array()))).toBe(VariableType.BYTES);
  });

  it("B-RUN-10 null is an unset oneof or a missing value", () => {
    expect(valueType(nullValue())).toBeUndefined();
    expect(valueType(undefined)).toBeUndefined();
    expect(isNullValue(nullValue())).toBe(true);
    expect(isNullValue(undefined)).toBe(true);
    expect(isNullValue(create(VariableValueSchema, {}))).toBe(true);
    expect(isNullValue(strValue(""))).toBe(false);
    expect(isNullValue(intValue(0))).toBe(false);
    expect(typeName(nullValue())).toBe("NULL");
    expect(typeName(intValue(1))).toBe("INT");
  });

  it("B-RUN-10 intValue rejects non-integers and values beyond 64 bits", () => {
    expect(() => intValue(1.5)).toThrow(RangeError);
    expect(() => intValue(2n ** 63n)).toThrow(RangeError);
    expect(intValue(2n ** 63n - 1n).value.value).toBe(2n ** 63n - 1n);
  });

  it("B-RUN-10 jsonObjValue / jsonArrValue refuse values JSON cannot hold", () => {
    expect(() => jsonArrValue([new Uint8Array([1])])).toThrow(VarSubError);
    expect(() => jsonArrValue([Number.NaN])).toThrow(VarSubError);
    expect(() => jsonArrValue([2n ** 60n])).toThrow(VarSubError);
    expect(jsonArrValue([5n]).value.value).toBe("[5]");
  });
});

describe("toJs", () => {
  it("B-RUN-10 converts every type to its JS form", () => {
    expect(toJs(nullValue())).toBeNull();
    expect(toJs(undefined)).toBeNull();
    expect(toJs(strValue("hi"))).toBe("hi");
    expect(toJs(intValue(42))).toBe(42);
    expect(toJs(doubleValue(2.5))).toBe(2.5);
    expect(toJs(boolValue(true))).toBe(true);
    expect(toJs(jsonObjValue({ a: [1, { b: null }] }))).toEqual({ a: [1, { b: null }] });
    expect(toJs(jsonArrValue([1, "two"]))).toEqual([1, "two"]);
    expect(toJs(bytesValue(new Uint8Array([7, 8])))).toEqual(new Uint8Array([7, 8]));
  });

  it("B-RUN-10 an INT beyond the safe integer range is a VarSubError", () => {
    expect(() => toJs(intValue(2n ** 60n))).toThrow(VarSubError);
    expect(() => toJs(intValue(2n ** 60n))).toThrow(/INT/);
    expect(toJs(intValue(BigInt(Number.MAX_SAFE_INTEGER)))).toBe(Number.MAX_SAFE_INTEGER);
  });

  it("B-RUN-10 JSON text that does not parse or has the wrong shape is a VarSubError saying invalid JSON", () => {
    const badObj = create(VariableValueSchema, { value: { case: "jsonObj", value: "{nope" } });
    const arrAsObj = create(VariableValueSchema, { value: { case: "jsonObj", value: "[1]" } });
    const objAsArr = create(VariableValueSchema, { value: { case: "jsonArr", value: '{"a":1}' } });
    expect(() => toJs(badObj)).toThrow(/invalid JSON/);
    expect(() => toJs(arrAsObj)).toThrow(VarSubError);
    expect(() => toJs(objAsArr)).toThrow(/invalid JSON/);
  });
});

describe("fromJs", () => {
  it("B-RUN-10 maps JS values to the matching types", () => {
    expect(fromJs("s")).toEqual(strValue("s"));
    expect(fromJs(3)).toEqual(intValue(3n));
    expect(fromJs(-0)).toEqual(intValue(0n));
    expect(fromJs(3.25)).toEqual(doubleValue(3.25));
    expect(fromJs(true)).toEqual(boolValue(true));
    expect(fromJs([1, 2])).toEqual(jsonArrValue([1, 2]));
    expect(fromJs({ k: "v" })).toEqual(jsonObjValue({ k: "v" }));
    expect(fromJs(null)).toEqual(nullValue());
    expect(fromJs(undefined)).toEqual(nullValue());
    expect(fromJs(new Uint8Array([1, 2]))).toEqual(bytesValue(new Uint8Array([1, 2])));
    expect(fromJs(9007199254740993n)).toEqual(intValue(9007199254740993n));
  });

  it("B-RUN-10 integers beyond 64 bits become DOUBLE; bigints beyond 64 bits are a VarSubError", () => {
    expect(valueType(fromJs(1e20))).toBe(VariableType.DOUBLE);
    expect(valueType(fromJs(Number.POSITIVE_INFINITY))).toBe(VariableType.DOUBLE);
    expect(() => fromJs(2n ** 64n)).toThrow(VarSubError);
  });

  it("B-RUN-10 non-JSON objects and functions are a VarSubError", () => {
    expect(() => fromJs(new Date(0))).toThrow(/Date/);
    expect(() => fromJs(() => 1)).toThrow(VarSubError);
    expect(() => fromJs(new Map())).toThrow(VarSubError);
  });

  it("B-RUN-10 round-trips through toJs", () => {
    const x = { list: [1, 2.5, "a", true, null, { nested: [] }], empty: {} };
    expect(toJs(fromJs(x))).toEqual(x);
  });
});

describe("stringForm", () => {
  it("B-RUN-10 gives the text form of each type", () => {
    expect(stringForm(strValue("as is"))).toBe("as is");
    expect(stringForm(intValue(-12))).toBe("-12");
    expect(stringForm(intValue(2n ** 62n))).toBe("4611686018427387904");
    expect(stringForm(doubleValue(1.5))).toBe("1.5");
    expect(stringForm(boolValue(true))).toBe("true");
    expect(stringForm(boolValue(false))).toBe("false");
    expect(stringForm(nullValue())).toBe("null");
    expect(stringForm(undefined)).toBe("null");
    const spaced = create(VariableValueSchema, { value: { case: "jsonObj", value: '{ "a" : [1, 2] }' } });
    expect(stringForm(spaced)).toBe('{"a":[1,2]}');
    expect(stringForm(jsonArrValue(["x"]))).toBe('["x"]');
    expect(stringForm(bytesValue(new Uint8Array([104, 105])))).toBe("aGk=");
  });
});

describe("valuesEqual", () => {
  it("B-RUN-7 compares values of the same type", () => {
    expect(valuesEqual(intValue(1), intValue(1))).toBe(true);
    expect(valuesEqual(intValue(1), intValue(2))).toBe(false);
    expect(valuesEqual(strValue("a"), strValue("a"))).toBe(true);
    expect(valuesEqual(doubleValue(0.5), doubleValue(0.5))).toBe(true);
    expect(valuesEqual(boolValue(true), boolValue(false))).toBe(false);
    expect(valuesEqual(bytesValue(new Uint8Array([1, 2])), bytesValue(new Uint8Array([1, 2])))).toBe(true);
    expect(valuesEqual(bytesValue(new Uint8Array([1, 2])), bytesValue(new Uint8Array([1])))).toBe(false);
  });

  it("B-RUN-7 JSON compares structurally, ignoring key order and spacing", () => {
    const a = create(VariableValueSchema, { value: { case: "jsonObj", value: '{"a":1,"b":[1,{"c":2}]}' } });
    const b = create(VariableValueSchema, {
      value: { case: "jsonObj", value: '{ "b": [1, {"c": 2}], "a": 1 }' },
    });
    expect(valuesEqual(a, b)).toBe(true);
    expect(valuesEqual(a, jsonObjValue({ a: 1 }))).toBe(false);
    expect(valuesEqual(jsonArrValue([1, 2]), jsonArrValue([2, 1]))).toBe(false);
  });

  it("B-RUN-7 different types are never equal and null equals only null", () => {
    expect(valuesEqual(intValue(1), doubleValue(1))).toBe(false);
    expect(valuesEqual(strValue("1"), intValue(1))).toBe(false);
    expect(valuesEqual(nullValue(), nullValue())).toBe(true);
    expect(valuesEqual(nullValue(), strValue(""))).toBe(false);
    expect(valuesEqual(intValue(0), nullValue())).toBe(false);
  });
});
