import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { PutTaskDefRequestSchema, VariableType, type VariableDef } from "@pony/proto";
import { describe, expect, it } from "vitest";
import { AlreadyExistsError, InvalidArgumentError } from "../../src/errors";
import { putTaskDef } from "../../src/metadata";
import { LATER, NOW, primitiveTypeDef, value } from "./fixtures";

type VarInit = {
  name: string;
  type?: VariableType;
  typeDef?: VariableDef["typeDef"];
  defaultValue?: VariableDef["defaultValue"];
};

function req(name: string, inputVars: VarInit[]) {
  return create(PutTaskDefRequestSchema, { name, inputVars });
}

describe("putTaskDef", () => {
  it("B-META-1 a new name creates the TaskDef with id, input vars and created_at", () => {
    const { taskDef, created } = putTaskDef(
      req("greet", [
        { name: "name", type: VariableType.STR },
        { name: "count", type: VariableType.INT },
      ]),
      undefined,
      NOW,
    );
    expect(created).toBe(true);
    expect(taskDef.id?.name).toBe("greet");
    expect(taskDef.inputVars.map((v) => [v.name, v.type])).toEqual([
      ["name", VariableType.STR],
      ["count", VariableType.INT],
    ]);
    expect(taskDef.createdAt && timestampDate(taskDef.createdAt)).toEqual(NOW);
  });

  it("B-META-1 accepts the time as a Timestamp too", () => {
    const { taskDef } = putTaskDef(req("greet", []), undefined, timestampFromDate(NOW));
    expect(taskDef.createdAt && timestampDate(taskDef.createdAt)).toEqual(NOW);
  });

  it("B-META-1 a TaskDef without input vars is fine", () => {
    const { taskDef } = putTaskDef(req("no-inputs", []), undefined, NOW);
    expect(taskDef.inputVars).toEqual([]);
  });

  it("B-META-1 the same request again returns the existing TaskDef unchanged", () => {
    const first = putTaskDef(
      req("greet", [{ name: "name", type: VariableType.STR }]),
      undefined,
      NOW,
    ).taskDef;
    const again = putTaskDef(req("greet", [{ name: "name", type: VariableType.STR }]), first, LATER);
    expect(again.created).toBe(false);
    expect(again.taskDef).toBe(first);
    expect(again.taskDef.createdAt && timestampDate(again.taskDef.createdAt)).toEqual(NOW);
  });

  it("B-META-1 the same input vars given via type_def are the same request (B-WIRE-2)", () => {
    const first = putTaskDef(
      req("greet", [{ name: "name", type: VariableType.STR }]),
      undefined,
      NOW,
    ).taskDef;
    const again = putTaskDef(
      req("greet", [
        {
          name: "name",
          typeDef: primitiveTypeDef(VariableType.STR),
        },
      ]),
      first,
      LATER,
    );
    expect(again.created).toBe(false);
  });

  it("B-META-1 a different input var type for an existing name is ALREADY_EXISTS", () => {
    const first = putTaskDef(
      req("greet", [{ name: "name", type: VariableType.STR }]),
      undefined,
      NOW,
    ).taskDef;
    expect(() => putTaskDef(req("greet", [{ name: "name", type: VariableType.INT }]), first, LATER)).toThrow(
      AlreadyExistsError,
    );
    expect(() => putTaskDef(req("greet", [{ name: "name", type: VariableType.INT }]), first, LATER)).toThrow(
      "TaskDef 'greet' already exists with different input_vars: (name: STR), requested (name: INT)",
    );
  });

  it("B-META-1 a different input var name, count or order is ALREADY_EXISTS", () => {
    const first = putTaskDef(
      req("greet", [
        { name: "a", type: VariableType.STR },
        { name: "b", type: VariableType.INT },
      ]),
      undefined,
      NOW,
    ).taskDef;
    const attempts: VarInit[][] = [
      [
        { name: "b", type: VariableType.INT },
        { name: "a", type: VariableType.STR },
      ],
      [{ name: "a", type: VariableType.STR }],
      [
        { name: "a", type: VariableType.STR },
        { name: "c", type: VariableType.INT },
      ],
      [],
    ];
    for (const inputVars of attempts) {
      expect(() => putTaskDef(req("greet", inputVars), first, LATER)).toThrow(AlreadyExistsError);
    }
  });

  it("B-META-2 an invalid TaskDef name is INVALID_ARGUMENT", () => {
    expect(() => putTaskDef(req("Greet", []), undefined, NOW)).toThrow(InvalidArgumentError);
    expect(() => putTaskDef(req("Greet", []), undefined, NOW)).toThrow("invalid TaskDef name 'Greet'");
  });

  it("B-META-1 an input var without a name is INVALID_ARGUMENT", () => {
    expect(() => putTaskDef(req("greet", [{ name: "", type: VariableType.STR }]), undefined, NOW)).toThrow(
      "TaskDef 'greet': a variable has an empty name",
    );
  });

  it("B-META-1 duplicate input var names are INVALID_ARGUMENT", () => {
    const call = () =>
      putTaskDef(
        req("greet", [
          { name: "x", type: VariableType.STR },
          { name: "x", type: VariableType.INT },
        ]),
        undefined,
        NOW,
      );
    expect(call).toThrow(InvalidArgumentError);
    expect(call).toThrow("variable 'x' is declared twice");
  });

  it("B-WIRE-1 an input var with neither type nor type_def is JSON_OBJ (0.10.1 clients leave the zero enum off the wire)", () => {
    const { taskDef } = putTaskDef(req("greet", [{ name: "x" }]), undefined, NOW);
    expect(taskDef.inputVars[0]?.type).toBe(VariableType.JSON_OBJ);
  });

  it("B-WIRE-2 an input var with only type_def.primitive_type is normalised to have type", () => {
    const { taskDef } = putTaskDef(
      req("greet", [
        {
          name: "x",
          typeDef: primitiveTypeDef(VariableType.JSON_OBJ),
        },
      ]),
      undefined,
      NOW,
    );
    expect(taskDef.inputVars[0]?.type).toBe(VariableType.JSON_OBJ);
  });

  it("B-WIRE-2 type and type_def that disagree are INVALID_ARGUMENT", () => {
    const call = () =>
      putTaskDef(
        req("greet", [
          {
            name: "x",
            type: VariableType.INT,
            typeDef: primitiveTypeDef(VariableType.STR),
          },
        ]),
        undefined,
        NOW,
      );
    expect(call).toThrow("variable 'x' has type INT but type_def says STR");
  });

  it("B-META-1 an unknown variable type number is INVALID_ARGUMENT", () => {
    const call = () => putTaskDef(req("greet", [{ name: "x", type: 42 as VariableType }]), undefined, NOW);
    expect(call).toThrow("variable 'x' has unknown type 42");
  });

  it("B-META-1 a default value of another type is INVALID_ARGUMENT", () => {
    const call = () =>
      putTaskDef(
        req("greet", [{ name: "x", type: VariableType.INT, defaultValue: value.str("1") }]),
        undefined,
        NOW,
      );
    expect(call).toThrow("the default value of variable 'x' is STR but the variable is INT");
  });
});
