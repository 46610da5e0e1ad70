import { describe, expect, it } from "vitest";
import {
  VarSubError,
  applyJsonPath,
  boolValue,
  doubleValue,
  intValue,
  jsonArrValue,
  jsonObjValue,
  nullValue,
  parseJsonPath,
  strValue,
  toJs,
} from "../../src/variables";

const doc = jsonObjValue({
  a: { b: "deep", n: 3, f: 1.5, t: true, nothing: null },
  list: [10, 20, { b: "in list" }],
  "a key": "spaced",
  "it's": "quoted",
  nested: [[1, 2], [3]],
});
const X = "variable 'doc'";

describe("parseJsonPath", () => {
  it("B-RUN-10 splits the supported forms into segments", () => {
    expect(parseJsonPath("$")).toEqual([]);
    expect(parseJsonPath("$.a.b")).toEqual([
      { kind: "key", key: "a" },
      { kind: "key", key: "b" },
    ]);
    expect(parseJsonPath("$.list[0]")).toEqual([
      { kind: "key", key: "list" },
      { kind: "index", index: 0 },
    ]);
    expect(parseJsonPath("$['a key']")).toEqual([{ kind: "key", key: "a key" }]);
    expect(parseJsonPath('$["a key"]')).toEqual([{ kind: "key", key: "a key" }]);
    expect(parseJsonPath("$['it\\'s']")).toEqual([{ kind: "key", key: "it's" }]);
    expect(parseJsonPath("$.a[2].b")).toEqual([
      { kind: "key", key: "a" },
      { kind: "index", index: 2 },
      { kind: "key", key: "b" },
    ]);
    expect(parseJsonPath("$[1][0]")).toEqual([
      { kind: "index", index: 1 },
      { kind: "index", index: 0 },
    ]);
  });

  it("B-RUN-10 a malformed path is a VarSubError", () => {
    for (const bad of [
      "",
      "a.b",
      "$.",
      "$..a",
      "$.a[",
      "$.a[x]",
      "$.a[-1]",
      "$['a",
      "$['a'",
      "$x",
      "$.a[*]",
    ]) {
      expect(() => parseJsonPath(bad), bad).toThrow(VarSubError);
      expect(() => parseJsonPath(bad), bad).toThrow(/invalid JSON path/);
    }
  });
});

describe("applyJsonPath", () => {
  it("B-RUN-10 $ selects the whole value", () => {
    expect(toJs(applyJsonPath(doc, "$", X))).toEqual(toJs(doc));
    expect(toJs(applyJsonPath(jsonArrValue([1, 2]), "$", X))).toEqual([1, 2]);
  });

  it("B-RUN-10 $.a.b selects a nested field, converted with fromJs", () => {
    expect(applyJsonPath(doc, "$.a.b", X)).toEqual(strValue("deep"));
    expect(applyJsonPath(doc, "$.a.n", X)).toEqual(intValue(3));
    expect(applyJsonPath(doc, "$.a.f", X)).toEqual(doubleValue(1.5));
    expect(applyJsonPath(doc, "$.a.t", X)).toEqual(boolValue(true));
    expect(applyJsonPath(doc, "$.a.nothing", X)).toEqual(nullValue());
    expect(toJs(applyJsonPath(doc, "$.a", X))).toEqual({ b: "deep", n: 3, f: 1.5, t: true, nothing: null });
  });

  it("B-RUN-10 $.list[0] selects a list element", () => {
    expect(applyJsonPath(doc, "$.list[0]", X)).toEqual(intValue(10));
    expect(applyJsonPath(doc, "$.list[2].b", X)).toEqual(strValue("in list"));
    expect(applyJsonPath(doc, "$.nested[0][1]", X)).toEqual(intValue(2));
    expect(applyJsonPath(jsonArrValue(["a", "b"]), "$[1]", X)).toEqual(strValue("b"));
    expect(toJs(applyJsonPath(doc, "$.nested", X))).toEqual([[1, 2], [3]]);
  });

  it("B-RUN-10 $['a key'] selects a key that is not a plain name", () => {
    expect(applyJsonPath(doc, "$['a key']", X)).toEqual(strValue("spaced"));
    expect(applyJsonPath(doc, "$['it\\'s']", X)).toEqual(strValue("quoted"));
  });

  it("B-RUN-10 a missing path is a VarSubError naming the path", () => {
    for (const missing of [
      "$.nope",
      "$.a.nope",
      "$.list[3]",
      "$.a.b.c",
      "$.list.b",
      "$.a[0]",
      "$.a.nothing.x",
    ]) {
      expect(() => applyJsonPath(doc, missing, X), missing).toThrow(VarSubError);
      expect(() => applyJsonPath(doc, missing, X), missing).toThrow(`'${missing}'`);
    }
    expect(() => applyJsonPath(doc, "$.a.nope", X)).toThrow("variable 'doc'");
  });

  it("B-RUN-10 inherited properties are not found", () => {
    expect(() => applyJsonPath(jsonObjValue({}), "$.constructor", X)).toThrow(VarSubError);
    expect(() => applyJsonPath(jsonObjValue({}), "$.toString", X)).toThrow(VarSubError);
    expect(() => applyJsonPath(jsonArrValue([]), "$.length", X)).toThrow(VarSubError);
  });

  it("B-RUN-10 only JSON_OBJ and JSON_ARR have paths; others are a VarSubError naming the type", () => {
    expect(() => applyJsonPath(strValue('{"a":1}'), "$.a", X)).toThrow(VarSubError);
    expect(() => applyJsonPath(strValue('{"a":1}'), "$.a", X)).toThrow(/STR/);
    expect(() => applyJsonPath(intValue(1), "$", X)).toThrow(/INT/);
    expect(() => applyJsonPath(nullValue(), "$.a", X)).toThrow(/NULL/);
  });
});
