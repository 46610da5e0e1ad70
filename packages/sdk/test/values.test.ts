/** issue 5: JavaScript values ⇄ VariableValues (task inputs and outputs, exception content). */
import { VariableType, type VariableValue } from "@pony/proto";
import { describe, expect, it } from "vitest";
import {
  fromVariableValue,
  fromVariableValueAs,
  LHDeserializationError,
  LHSerializationError,
  toVariableValue,
} from "../src/index";

const oneof = (v: VariableValue) => [v.value.case, v.value.value];

describe("issue 5 toVariableValue", () => {
  it("maps each JavaScript type to its VariableValue", () => {
    expect(oneof(toVariableValue("hi"))).toEqual(["str", "hi"]);
    expect(oneof(toVariableValue(42))).toEqual(["int", 42n]);
    expect(oneof(toVariableValue(-7n))).toEqual(["int", -7n]);
    expect(oneof(toVariableValue(2.5))).toEqual(["double", 2.5]);
    expect(oneof(toVariableValue(1e300))).toEqual(["double", 1e300]);
    expect(oneof(toVariableValue(true))).toEqual(["bool", true]);
    expect(oneof(toVariableValue(new Uint8Array([1, 2])))).toEqual(["bytes", new Uint8Array([1, 2])]);
    expect(oneof(toVariableValue([1, "a", null]))).toEqual(["jsonArr", '[1,"a",null]']);
    expect(oneof(toVariableValue({ a: { b: [true] }, skip: undefined }))).toEqual([
      "jsonObj",
      '{"a":{"b":[true]}}',
    ]);
    expect(oneof(toVariableValue(new Date(0)))).toEqual(["str", "1970-01-01T00:00:00.000Z"]);
    expect(oneof(toVariableValue({ at: new Date(0) }))).toEqual([
      "jsonObj",
      '{"at":"1970-01-01T00:00:00.000Z"}',
    ]);
    expect(toVariableValue(null).value.case).toBeUndefined();
    expect(toVariableValue(undefined).value.case).toBeUndefined();
  });

  it("refuses what has no faithful form, saying where it is", () => {
    const cycle: unknown[] = [];
    cycle.push(cycle);
    const cases: [unknown, RegExp][] = [
      [{ n: 1n }, /the value\.n is a bigint/],
      [[1, () => 2], /the value\[1\] is a function/],
      [{ s: Symbol("x") }, /the value\.s is a symbol/],
      [cycle, /the value\[0\] refers back to itself/],
      [{ m: new Map() }, /the value\.m is a Map/],
      [[undefined], /the value\[0\] is undefined/],
      [{ x: NaN }, /the value\.x is NaN/],
      [Infinity, /Infinity has no VariableValue form/],
      [2n ** 63n, /does not fit in a 64-bit INT/],
      [() => 1, /a function has no VariableValue form/],
    ];
    for (const [value, message] of cases) {
      expect(() => toVariableValue(value)).toThrow(LHSerializationError);
      expect(() => toVariableValue(value)).toThrow(message);
    }
  });

  it("keeps a shared (non-cyclic) object that appears twice", () => {
    const shared = { x: 1 };
    expect(oneof(toVariableValue({ a: shared, b: shared }))).toEqual([
      "jsonObj",
      '{"a":{"x":1},"b":{"x":1}}',
    ]);
  });

  it("with a type, checks the value fits it", () => {
    expect(oneof(toVariableValue(3, VariableType.DOUBLE))).toEqual(["double", 3]);
    expect(oneof(toVariableValue(3, VariableType.INT))).toEqual(["int", 3n]);
    expect(oneof(toVariableValue({}, VariableType.JSON_OBJ))).toEqual(["jsonObj", "{}"]);
    expect(() => toVariableValue(3.5, VariableType.INT)).toThrow("a number cannot be an INT value");
    expect(() => toVariableValue([], VariableType.JSON_OBJ)).toThrow("an array cannot be a JSON_OBJ value");
    expect(() => toVariableValue("x", VariableType.BOOL)).toThrow(LHSerializationError);
  });
});

describe("issue 5 fromVariableValue", () => {
  it("maps each VariableValue to JavaScript, INT beyond 2^53 as a bigint", () => {
    expect(fromVariableValue(toVariableValue("s"))).toBe("s");
    expect(fromVariableValue(toVariableValue(5))).toBe(5);
    expect(fromVariableValue(toVariableValue(2n ** 60n))).toBe(2n ** 60n);
    expect(fromVariableValue(toVariableValue(-(2n ** 60n)))).toBe(-(2n ** 60n));
    expect(fromVariableValue(toVariableValue(0.25))).toBe(0.25);
    expect(fromVariableValue(toVariableValue(false))).toBe(false);
    expect(fromVariableValue(toVariableValue({ a: [1] }))).toEqual({ a: [1] });
    expect(fromVariableValue(toVariableValue([{ a: 1 }]))).toEqual([{ a: 1 }]);
    expect(fromVariableValue(toVariableValue(new Uint8Array([9])))).toEqual(new Uint8Array([9]));
    expect(fromVariableValue(toVariableValue(null))).toBeNull();
    expect(fromVariableValue(undefined)).toBeNull();
  });

  it("as a declared type: the same type, or an INT for a DOUBLE; null for the empty value", () => {
    expect(fromVariableValueAs(toVariableValue(4), VariableType.DOUBLE)).toBe(4);
    expect(fromVariableValueAs(toVariableValue(null), VariableType.STR)).toBeNull();
    expect(() => fromVariableValueAs(toVariableValue(4), VariableType.STR)).toThrow(
      new LHDeserializationError("the value is an INT but STR is expected"),
    );
    expect(() => fromVariableValueAs(toVariableValue(2.5), VariableType.INT)).toThrow(
      "the value is a DOUBLE but INT is expected",
    );
    const broken = { ...toVariableValue({}), value: { case: "jsonObj" as const, value: "{nope" } };
    expect(() => fromVariableValueAs(broken, VariableType.JSON_OBJ)).toThrow(
      "the JSON_OBJ value is not valid JSON",
    );
    const arrayAsObj = { ...toVariableValue({}), value: { case: "jsonObj" as const, value: "[1]" } };
    expect(() => fromVariableValueAs(arrayAsObj, VariableType.JSON_OBJ)).toThrow("not a JSON object");
  });
});
