import { create } from "@bufbuild/protobuf";
import { Comparator, VariableValueSchema } from "@pony/proto";
import { describe, expect, it } from "vitest";
import {
  Comparators,
  VarSubError,
  boolValue,
  bytesValue,
  compareValues,
  doubleValue,
  intValue,
  jsonArrValue,
  jsonObjValue,
  nullValue,
  strValue,
} from "../../src/variables";

const { LESS_THAN, GREATER_THAN, LESS_THAN_EQ, GREATER_THAN_EQ, EQUALS, NOT_EQUALS, IN, NOT_IN } =
  Comparators;

describe("Comparators", () => {
  it("B-RUN-7 has LittleHorse's numbers, including those missing from the proto copy", () => {
    expect(Comparators.LESS_THAN).toBe(Comparator.LESS_THAN);
    expect(Comparators.EQUALS).toBe(Comparator.EQUALS);
    expect([NOT_EQUALS, IN, NOT_IN]).toEqual([5, 6, 7]);
  });
});

describe("ordering comparators", () => {
  it("B-RUN-7 LESS_THAN / GREATER_THAN / LESS_THAN_EQ / GREATER_THAN_EQ on INT", () => {
    expect(compareValues(intValue(1), LESS_THAN, intValue(2))).toBe(true);
    expect(compareValues(intValue(2), LESS_THAN, intValue(2))).toBe(false);
    expect(compareValues(intValue(3), GREATER_THAN, intValue(2))).toBe(true);
    expect(compareValues(intValue(2), GREATER_THAN, intValue(2))).toBe(false);
    expect(compareValues(intValue(2), LESS_THAN_EQ, intValue(2))).toBe(true);
    expect(compareValues(intValue(3), LESS_THAN_EQ, intValue(2))).toBe(false);
    expect(compareValues(intValue(2), GREATER_THAN_EQ, intValue(2))).toBe(true);
    expect(compareValues(intValue(1), GREATER_THAN_EQ, intValue(2))).toBe(false);
  });

  it("B-RUN-7 INT beyond 2^53 compares exactly", () => {
    expect(compareValues(intValue(2n ** 60n), LESS_THAN, intValue(2n ** 60n + 1n))).toBe(true);
  });

  it("B-RUN-7 INT and DOUBLE mix numerically", () => {
    expect(compareValues(intValue(1), LESS_THAN, doubleValue(1.5))).toBe(true);
    expect(compareValues(doubleValue(1.5), GREATER_THAN, intValue(1))).toBe(true);
    expect(compareValues(doubleValue(2), LESS_THAN_EQ, intValue(2))).toBe(true);
    expect(compareValues(intValue(2), GREATER_THAN_EQ, doubleValue(2))).toBe(true);
    expect(compareValues(doubleValue(-0.5), LESS_THAN, doubleValue(0))).toBe(true);
  });

  it("B-RUN-7 STR compares lexicographically", () => {
    expect(compareValues(strValue("apple"), LESS_THAN, strValue("banana"))).toBe(true);
    expect(compareValues(strValue("b"), GREATER_THAN, strValue("abc"))).toBe(true);
    expect(compareValues(strValue("10"), LESS_THAN, strValue("9"))).toBe(true);
    expect(compareValues(strValue("x"), LESS_THAN_EQ, strValue("x"))).toBe(true);
    expect(compareValues(strValue("x"), GREATER_THAN_EQ, strValue("y"))).toBe(false);
  });

  it("B-RUN-7 ordering other types is a VarSubError naming the types", () => {
    const bad: [ReturnType<typeof intValue>, ReturnType<typeof intValue>, RegExp][] = [
      [strValue("1"), intValue(1), /STR.*INT/],
      [intValue(1), strValue("1"), /INT.*STR/],
      [boolValue(true), boolValue(false), /BOOL.*BOOL/],
      [jsonObjValue({}), jsonObjValue({}), /JSON_OBJ/],
      [jsonArrValue([1]), intValue(1), /JSON_ARR/],
      [nullValue(), intValue(1), /NULL.*INT/],
      [intValue(1), nullValue(), /INT.*NULL/],
      [bytesValue(new Uint8Array()), bytesValue(new Uint8Array()), /BYTES/],
    ];
    for (const op of [LESS_THAN, GREATER_THAN, LESS_THAN_EQ, GREATER_THAN_EQ]) {
      for (const [l, r, message] of bad) {
        expect(() => compareValues(l, op, r)).toThrow(VarSubError);
        expect(() => compareValues(l, op, r)).toThrow(message);
      }
    }
  });
});

describe("EQUALS / NOT_EQUALS", () => {
  it("B-RUN-7 equal values of the same type", () => {
    expect(compareValues(intValue(5), EQUALS, intValue(5))).toBe(true);
    expect(compareValues(intValue(5), EQUALS, intValue(6))).toBe(false);
    expect(compareValues(strValue("a"), EQUALS, strValue("a"))).toBe(true);
    expect(compareValues(boolValue(true), EQUALS, boolValue(true))).toBe(true);
    expect(compareValues(doubleValue(0.5), EQUALS, doubleValue(0.5))).toBe(true);
    expect(compareValues(bytesValue(new Uint8Array([1])), EQUALS, bytesValue(new Uint8Array([1])))).toBe(
      true,
    );
    expect(compareValues(intValue(5), NOT_EQUALS, intValue(6))).toBe(true);
    expect(compareValues(intValue(5), NOT_EQUALS, intValue(5))).toBe(false);
  });

  it("B-RUN-7 EQUALS works on JSON, comparing structure", () => {
    const spaced = create(VariableValueSchema, { value: { case: "jsonObj", value: '{ "b": 2, "a": 1 }' } });
    expect(compareValues(jsonObjValue({ a: 1, b: 2 }), EQUALS, spaced)).toBe(true);
    expect(compareValues(jsonArrValue([1, 2]), EQUALS, jsonArrValue([1, 2]))).toBe(true);
    expect(compareValues(jsonArrValue([1, 2]), NOT_EQUALS, jsonArrValue([2, 1]))).toBe(true);
  });

  it("B-RUN-7 the RHS is cast to the LHS type first", () => {
    expect(compareValues(intValue(5), EQUALS, strValue("5"))).toBe(true);
    expect(compareValues(intValue(5), EQUALS, doubleValue(5))).toBe(true);
    expect(compareValues(doubleValue(5), EQUALS, intValue(5))).toBe(true);
    expect(compareValues(strValue("5"), EQUALS, intValue(5))).toBe(true);
    expect(compareValues(strValue("1.5"), EQUALS, doubleValue(1.5))).toBe(true);
    expect(compareValues(strValue("true"), EQUALS, boolValue(true))).toBe(true);
    expect(compareValues(boolValue(false), EQUALS, strValue("false"))).toBe(true);
    expect(compareValues(jsonObjValue({ a: 1 }), EQUALS, strValue('{"a": 1}'))).toBe(true);
    expect(compareValues(jsonArrValue([1]), EQUALS, strValue("[1]"))).toBe(true);
    expect(compareValues(strValue("5"), NOT_EQUALS, intValue(6))).toBe(true);
  });

  it("B-RUN-7 a failed cast of the RHS is a VarSubError naming both types", () => {
    const bad: [ReturnType<typeof intValue>, ReturnType<typeof intValue>, string][] = [
      [intValue(5), strValue("five"), "cannot use a STR value as INT"],
      [intValue(5), doubleValue(5.5), "cannot use a DOUBLE value as INT"],
      [boolValue(true), intValue(1), "cannot use an INT value as BOOL"],
      [jsonObjValue({}), strValue("[]"), "cannot use a STR value as JSON_OBJ"],
      [strValue("{}"), jsonObjValue({}), "cannot use a JSON_OBJ value as STR"],
      [intValue(1), jsonArrValue([1]), "cannot use a JSON_ARR value as INT"],
      [jsonArrValue([1]), intValue(1), "cannot use an INT value as JSON_ARR"],
    ];
    for (const op of [EQUALS, NOT_EQUALS]) {
      for (const [l, r, message] of bad) {
        expect(() => compareValues(l, op, r), message).toThrow(VarSubError);
        expect(() => compareValues(l, op, r), message).toThrow(message);
      }
    }
  });

  it("B-RUN-7 null equals only null", () => {
    expect(compareValues(nullValue(), EQUALS, nullValue())).toBe(true);
    expect(compareValues(nullValue(), EQUALS, intValue(0))).toBe(false);
    expect(compareValues(strValue(""), EQUALS, nullValue())).toBe(false);
    expect(compareValues(strValue("null"), EQUALS, nullValue())).toBe(false);
    expect(compareValues(nullValue(), NOT_EQUALS, strValue("x"))).toBe(true);
    expect(compareValues(nullValue(), NOT_EQUALS, nullValue())).toBe(false);
  });
});

describe("IN / NOT_IN", () => {
  it("B-RUN-7 IN a JSON_ARR: the LHS equals some element", () => {
    const list = jsonArrValue([1, "two", 2.5, true, null, { k: [1] }, [3]]);
    expect(compareValues(intValue(1), IN, list)).toBe(true);
    expect(compareValues(strValue("two"), IN, list)).toBe(true);
    expect(compareValues(doubleValue(2.5), IN, list)).toBe(true);
    expect(compareValues(boolValue(true), IN, list)).toBe(true);
    expect(compareValues(nullValue(), IN, list)).toBe(true);
    expect(compareValues(jsonObjValue({ k: [1] }), IN, list)).toBe(true);
    expect(compareValues(jsonArrValue([3]), IN, list)).toBe(true);
    expect(compareValues(intValue(2), IN, list)).toBe(false);
    expect(compareValues(strValue("1"), IN, list)).toBe(false);
    expect(compareValues(doubleValue(1), IN, list)).toBe(true);
    expect(compareValues(intValue(2), NOT_IN, list)).toBe(true);
    expect(compareValues(strValue("two"), NOT_IN, list)).toBe(false);
    expect(compareValues(intValue(1), IN, jsonArrValue([]))).toBe(false);
  });

  it("B-RUN-7 IN a JSON_OBJ: the LHS as a string is a key", () => {
    const obj = jsonObjValue({ a: 1, "5": "five", true: 0 });
    expect(compareValues(strValue("a"), IN, obj)).toBe(true);
    expect(compareValues(strValue("b"), IN, obj)).toBe(false);
    expect(compareValues(intValue(5), IN, obj)).toBe(true);
    expect(compareValues(boolValue(true), IN, obj)).toBe(true);
    expect(compareValues(strValue("toString"), IN, obj)).toBe(false);
    expect(compareValues(strValue("b"), NOT_IN, obj)).toBe(true);
    expect(compareValues(strValue("a"), NOT_IN, obj)).toBe(false);
  });

  it("B-RUN-7 IN / NOT_IN with anything else on the right is a VarSubError", () => {
    for (const op of [IN, NOT_IN]) {
      for (const rhs of [strValue("abc"), intValue(1), nullValue(), boolValue(true), doubleValue(1)]) {
        expect(() => compareValues(strValue("a"), op, rhs)).toThrow(VarSubError);
        expect(() => compareValues(strValue("a"), op, rhs)).toThrow(/JSON_ARR or JSON_OBJ/);
      }
    }
    expect(() => compareValues(strValue("a"), IN, strValue("abc"))).toThrow(/got a STR/);
  });

  it("B-RUN-7 an unknown comparator is a VarSubError", () => {
    const unknown: number = 99;
    expect(() => compareValues(intValue(1), unknown, intValue(1))).toThrow(VarSubError);
  });
});
