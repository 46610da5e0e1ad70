import { create } from "@bufbuild/protobuf";
import { VariableType, VariableValueSchema } from "@pony/proto";
import { describe, expect, it } from "vitest";
import {
  VarSubError,
  boolValue,
  bytesValue,
  castForComparison,
  castTo,
  checkValueMatchesType,
  doubleValue,
  intValue,
  jsonArrValue,
  jsonObjValue,
  nullValue,
  strValue,
  toJs,
  valueType,
} from "../../src/variables";

const X = "variable 'x'";

describe("castTo", () => {
  it("B-RUN-10 a value cast to its own type is itself", () => {
    for (const v of [
      strValue("a"),
      intValue(1),
      doubleValue(1.5),
      boolValue(true),
      jsonObjValue({ a: 1 }),
      jsonArrValue([1]),
      bytesValue(new Uint8Array([1])),
    ]) {
      expect(castTo(v, valueType(v)!, X)).toBe(v);
    }
  });

  it("B-RUN-10 null stays null whatever the target", () => {
    expect(castTo(nullValue(), VariableType.INT, X).value.case).toBeUndefined();
    expect(castTo(nullValue(), VariableType.JSON_OBJ, X).value.case).toBeUndefined();
  });

  it("B-RUN-10 INT casts to DOUBLE", () => {
    expect(castTo(intValue(7), VariableType.DOUBLE, X)).toEqual(doubleValue(7));
  });

  it("B-RUN-10 DOUBLE casts to INT only when integral", () => {
    expect(castTo(doubleValue(4), VariableType.INT, X)).toEqual(intValue(4));
    expect(castTo(doubleValue(-4), VariableType.INT, X)).toEqual(intValue(-4));
    expect(() => castTo(doubleValue(4.5), VariableType.INT, X)).toThrow(VarSubError);
    expect(() => castTo(doubleValue(4.5), VariableType.INT, X)).toThrow(
      "cannot use a DOUBLE value as INT for variable 'x'",
    );
    expect(() => castTo(doubleValue(1e30), VariableType.INT, X)).toThrow(VarSubError);
    expect(() => castTo(doubleValue(Number.NaN), VariableType.INT, X)).toThrow(VarSubError);
  });

  it("B-RUN-10 STR casts to INT only when the text is exactly an integer", () => {
    expect(castTo(strValue("12"), VariableType.INT, X)).toEqual(intValue(12));
    expect(castTo(strValue("-12"), VariableType.INT, X)).toEqual(intValue(-12));
    expect(castTo(strValue("9223372036854775807"), VariableType.INT, X)).toEqual(intValue(2n ** 63n - 1n));
    for (const bad of ["", " 12", "12 ", "1.5", "12a", "0x10", "1e3", "9223372036854775808"]) {
      expect(() => castTo(strValue(bad), VariableType.INT, X), bad).toThrow(VarSubError);
    }
    expect(() => castTo(strValue("abc"), VariableType.INT, X)).toThrow(
      "cannot use a STR value as INT for variable 'x'",
    );
  });

  it("B-RUN-10 STR casts to DOUBLE only when the text is exactly a number", () => {
    expect(castTo(strValue("1.5"), VariableType.DOUBLE, X)).toEqual(doubleValue(1.5));
    expect(castTo(strValue("-2"), VariableType.DOUBLE, X)).toEqual(doubleValue(-2));
    expect(castTo(strValue("1e3"), VariableType.DOUBLE, X)).toEqual(doubleValue(1000));
    expect(castTo(strValue(".5"), VariableType.DOUBLE, X)).toEqual(doubleValue(0.5));
    for (const bad of ["", "abc", "1.5.2", "NaN", "Infinity", " 1", "0x1", "1e999"]) {
      expect(() => castTo(strValue(bad), VariableType.DOUBLE, X), bad).toThrow(/STR value as DOUBLE/);
    }
  });

  it("B-RUN-10 STR casts to BOOL only from true / false", () => {
    expect(castTo(strValue("true"), VariableType.BOOL, X)).toEqual(boolValue(true));
    expect(castTo(strValue("false"), VariableType.BOOL, X)).toEqual(boolValue(false));
    for (const bad of ["True", "1", "yes", ""]) {
      expect(() => castTo(strValue(bad), VariableType.BOOL, X), bad).toThrow(/STR value as BOOL/);
    }
  });

  it("B-RUN-10 STR casts to JSON_OBJ / JSON_ARR only when it parses to the right shape", () => {
    const obj = castTo(strValue('{"a": [1]}'), VariableType.JSON_OBJ, X);
    expect(valueType(obj)).toBe(VariableType.JSON_OBJ);
    expect(toJs(obj)).toEqual({ a: [1] });
    const arr = castTo(strValue("[1, 2]"), VariableType.JSON_ARR, X);
    expect(valueType(arr)).toBe(VariableType.JSON_ARR);
    expect(toJs(arr)).toEqual([1, 2]);
    expect(() => castTo(strValue("[1]"), VariableType.JSON_OBJ, X)).toThrow(/STR value as JSON_OBJ/);
    expect(() => castTo(strValue('{"a":1}'), VariableType.JSON_ARR, X)).toThrow(/STR value as JSON_ARR/);
    expect(() => castTo(strValue("{oops"), VariableType.JSON_OBJ, X)).toThrow(/invalid JSON/);
    expect(() => castTo(strValue("null"), VariableType.JSON_OBJ, X)).toThrow(VarSubError);
  });

  it("B-RUN-10 same-type JSON with text of the wrong shape is invalid JSON", () => {
    const bad = create(VariableValueSchema, { value: { case: "jsonArr", value: "{}" } });
    expect(() => castTo(bad, VariableType.JSON_ARR, X)).toThrow(/invalid JSON/);
  });

  it("B-RUN-10 no silent casts between other types; the message names both types", () => {
    const cases: [ReturnType<typeof strValue>, VariableType, string][] = [
      [intValue(1), VariableType.STR, "cannot use an INT value as STR for variable 'x'"],
      [doubleValue(1.5), VariableType.STR, "cannot use a DOUBLE value as STR for variable 'x'"],
      [boolValue(true), VariableType.STR, "cannot use a BOOL value as STR for variable 'x'"],
      [intValue(1), VariableType.BOOL, "cannot use an INT value as BOOL for variable 'x'"],
      [boolValue(true), VariableType.INT, "cannot use a BOOL value as INT for variable 'x'"],
      [intValue(1), VariableType.JSON_ARR, "cannot use an INT value as JSON_ARR for variable 'x'"],
      [jsonObjValue({}), VariableType.STR, "cannot use a JSON_OBJ value as STR for variable 'x'"],
      [jsonArrValue([]), VariableType.JSON_OBJ, "cannot use a JSON_ARR value as JSON_OBJ for variable 'x'"],
      [jsonObjValue({}), VariableType.JSON_ARR, "cannot use a JSON_OBJ value as JSON_ARR for variable 'x'"],
      [strValue("aGk="), VariableType.BYTES, "cannot use a STR value as BYTES for variable 'x'"],
      [bytesValue(new Uint8Array()), VariableType.STR, "cannot use a BYTES value as STR for variable 'x'"],
      [doubleValue(1), VariableType.BOOL, "cannot use a DOUBLE value as BOOL for variable 'x'"],
    ];
    for (const [v, target, message] of cases) {
      expect(() => castTo(v, target, X), message).toThrow(VarSubError);
      expect(() => castTo(v, target, X), message).toThrow(message);
    }
  });
});

describe("castForComparison", () => {
  it("B-RUN-7 primitives become their text form when the target is STR", () => {
    expect(castForComparison(intValue(5), VariableType.STR, X)).toEqual(strValue("5"));
    expect(castForComparison(doubleValue(2.5), VariableType.STR, X)).toEqual(strValue("2.5"));
    expect(castForComparison(boolValue(false), VariableType.STR, X)).toEqual(strValue("false"));
    expect(castForComparison(strValue("s"), VariableType.STR, X)).toEqual(strValue("s"));
  });

  it("B-RUN-7 otherwise it is castTo", () => {
    expect(castForComparison(strValue("3"), VariableType.INT, X)).toEqual(intValue(3));
    expect(() => castForComparison(jsonObjValue({}), VariableType.STR, X)).toThrow(
      "cannot use a JSON_OBJ value as STR",
    );
    expect(() => castForComparison(bytesValue(new Uint8Array()), VariableType.STR, X)).toThrow(VarSubError);
    expect(() => castForComparison(intValue(1), VariableType.BOOL, X)).toThrow(VarSubError);
  });
});

describe("checkValueMatchesType", () => {
  it("B-RUN-3 null always matches", () => {
    for (const t of [VariableType.INT, VariableType.STR, VariableType.JSON_OBJ, VariableType.BYTES]) {
      expect(() => checkValueMatchesType(nullValue(), t, X)).not.toThrow();
    }
  });

  it("B-RUN-3 a value of the declared type matches", () => {
    expect(() => checkValueMatchesType(intValue(1), VariableType.INT, X)).not.toThrow();
    expect(() => checkValueMatchesType(jsonObjValue({ a: 1 }), VariableType.JSON_OBJ, X)).not.toThrow();
    expect(() => checkValueMatchesType(jsonArrValue([]), VariableType.JSON_ARR, X)).not.toThrow();
  });

  it("B-RUN-10 a different type is a VarSubError naming both types (no silent INT -> DOUBLE)", () => {
    expect(() => checkValueMatchesType(strValue("1"), VariableType.INT, X)).toThrow(VarSubError);
    expect(() => checkValueMatchesType(strValue("1"), VariableType.INT, X)).toThrow(
      "variable 'x' is declared INT but got a STR value",
    );
    expect(() => checkValueMatchesType(intValue(1), VariableType.DOUBLE, X)).toThrow(/DOUBLE.*INT/);
  });

  it("B-RUN-10 JSON text that is not an object / array is invalid JSON", () => {
    const notParsing = create(VariableValueSchema, { value: { case: "jsonObj", value: "{" } });
    const arrayAsObj = create(VariableValueSchema, { value: { case: "jsonObj", value: "[]" } });
    const objAsArray = create(VariableValueSchema, { value: { case: "jsonArr", value: "{}" } });
    const scalarAsArray = create(VariableValueSchema, { value: { case: "jsonArr", value: "5" } });
    for (const [v, t] of [
      [notParsing, VariableType.JSON_OBJ],
      [arrayAsObj, VariableType.JSON_OBJ],
      [objAsArray, VariableType.JSON_ARR],
      [scalarAsArray, VariableType.JSON_ARR],
    ] as const) {
      expect(() => checkValueMatchesType(v, t, X)).toThrow(VarSubError);
      expect(() => checkValueMatchesType(v, t, X)).toThrow(/invalid JSON/);
    }
  });
});
