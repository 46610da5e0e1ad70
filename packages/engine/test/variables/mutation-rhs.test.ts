import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { VariableMutationSchema, VariableMutationType as Op, type VariableMutation } from "@pony/proto";
import { describe, expect, it } from "vitest";
import {
  VarMutationError,
  evaluateMutationRhs,
  intValue,
  jsonObjValue,
  nullValue,
  strValue,
} from "../../src/variables";
import { lit, scopeOf, varRef } from "./helpers";

const scope = scopeOf({ n: intValue(5), obj: jsonObjValue({ a: { b: 1 } }) });
const output = jsonObjValue({ result: { score: 9 }, tags: ["t"] });

function mutation(rhsValue: MessageInitShape<typeof VariableMutationSchema>["rhsValue"]): VariableMutation {
  return create(VariableMutationSchema, { lhsName: "x", operation: Op.ASSIGN, rhsValue });
}

describe("evaluateMutationRhs", () => {
  it("B-RUN-9 source_variable evaluates the assignment", () => {
    expect(
      evaluateMutationRhs(mutation({ case: "sourceVariable", value: varRef("n") }), scope, undefined),
    ).toEqual(intValue(5));
    expect(
      evaluateMutationRhs(
        mutation({ case: "sourceVariable", value: varRef("obj", "$.a.b") }),
        scope,
        undefined,
      ),
    ).toEqual(intValue(1));
    expect(
      evaluateMutationRhs(
        mutation({ case: "sourceVariable", value: lit(strValue("lit")) }),
        scope,
        undefined,
      ),
    ).toEqual(strValue("lit"));
  });

  it("B-RUN-8 a failing source_variable is a VarMutationError", () => {
    const m = mutation({ case: "sourceVariable", value: varRef("nope") });
    expect(() => evaluateMutationRhs(m, scope, undefined)).toThrow(VarMutationError);
    expect(() => evaluateMutationRhs(m, scope, undefined)).toThrow("'nope'");
    const badPath = mutation({ case: "sourceVariable", value: varRef("obj", "$.zz") });
    expect(() => evaluateMutationRhs(badPath, scope, undefined)).toThrow(VarMutationError);
  });

  it("B-RUN-9 literal_value is used as is", () => {
    expect(
      evaluateMutationRhs(mutation({ case: "literalValue", value: intValue(3) }), scope, undefined),
    ).toEqual(intValue(3));
    expect(
      evaluateMutationRhs(mutation({ case: "literalValue", value: nullValue() }), scope, undefined).value
        .case,
    ).toBeUndefined();
  });

  it("B-RUN-9 node_output takes the node's output", () => {
    const m = mutation({ case: "nodeOutput", value: {} });
    expect(evaluateMutationRhs(m, scope, output)).toEqual(output);
    expect(evaluateMutationRhs(m, scope, nullValue()).value.case).toBeUndefined();
  });

  it("B-RUN-9 node_output with jsonpath takes part of the node's output", () => {
    const m = mutation({ case: "nodeOutput", value: { jsonpath: "$.result.score" } });
    expect(evaluateMutationRhs(m, scope, output)).toEqual(intValue(9));
    const tag = mutation({ case: "nodeOutput", value: { jsonpath: "$.tags[0]" } });
    expect(evaluateMutationRhs(tag, scope, output)).toEqual(strValue("t"));
  });

  it("B-RUN-9 node_output with a missing jsonpath, or a jsonpath on a non-JSON output, is a VarMutationError", () => {
    const m = mutation({ case: "nodeOutput", value: { jsonpath: "$.result.nope" } });
    expect(() => evaluateMutationRhs(m, scope, output)).toThrow(VarMutationError);
    expect(() => evaluateMutationRhs(m, scope, output)).toThrow("'$.result.nope'");
    const onStr = mutation({ case: "nodeOutput", value: { jsonpath: "$.a" } });
    expect(() => evaluateMutationRhs(onStr, scope, strValue("x"))).toThrow(VarMutationError);
    expect(() => evaluateMutationRhs(onStr, scope, strValue("x"))).toThrow(/STR/);
    expect(() => evaluateMutationRhs(onStr, scope, nullValue())).toThrow(VarMutationError);
  });

  it("B-RUN-9 a missing node output is a VarMutationError naming the variable", () => {
    const m = mutation({ case: "nodeOutput", value: {} });
    expect(() => evaluateMutationRhs(m, scope, undefined)).toThrow(VarMutationError);
    expect(() => evaluateMutationRhs(m, scope, undefined)).toThrow("variable 'x'");
  });

  it("B-RUN-9 a mutation without a right-hand side is a VarMutationError", () => {
    expect(() => evaluateMutationRhs(mutation({ case: undefined }), scope, output)).toThrow(VarMutationError);
  });
});
