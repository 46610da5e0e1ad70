import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { PutUserTaskDefRequestSchema, VariableType, type UserTaskDef } from "@pony/proto";
import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../../src/errors";
import { putUserTaskDef } from "../../src/metadata";
import { LATER, NOW } from "./fixtures";

interface FieldInit {
  name: string;
  type: VariableType;
  displayName?: string;
  required?: boolean;
  description?: string;
}

function req(name: string, fields: FieldInit[], description?: string) {
  return create(PutUserTaskDefRequestSchema, {
    name,
    description,
    fields: fields.map((f) => ({ displayName: f.name, ...f })),
  });
}

const approval = (): FieldInit[] => [
  { name: "approved", type: VariableType.BOOL, required: true },
  { name: "comment", type: VariableType.STR },
];

function first(): UserTaskDef {
  return putUserTaskDef(req("approve", approval(), "Approve it"), undefined, NOW).def;
}

describe("putUserTaskDef", () => {
  it("B-META-7 the first put creates version 0 with the fields, description and created_at", () => {
    const { def, created } = putUserTaskDef(req("approve", approval(), "Approve it"), undefined, NOW);
    expect(created).toBe(true);
    expect(def.name).toBe("approve");
    expect(def.version).toBe(0);
    expect(def.description).toBe("Approve it");
    expect(def.fields.map((f) => [f.name, f.type, f.required])).toEqual([
      ["approved", VariableType.BOOL, true],
      ["comment", VariableType.STR, false],
    ]);
    expect(def.createdAt && timestampDate(def.createdAt)).toEqual(NOW);
  });

  it("B-META-7 an identical put is idempotent and returns the latest", () => {
    const latest = first();
    const again = putUserTaskDef(req("approve", approval(), "Approve it"), latest, LATER);
    expect(again.created).toBe(false);
    expect(again.def).toBe(latest);
  });

  it("B-META-7 a changed field creates version latest + 1", () => {
    const latest = first();
    const fields = approval();
    fields.push({ name: "amount", type: VariableType.DOUBLE });
    const { def, created } = putUserTaskDef(req("approve", fields, "Approve it"), latest, LATER);
    expect(created).toBe(true);
    expect(def.version).toBe(1);
    expect(def.createdAt && timestampDate(def.createdAt)).toEqual(LATER);
    const next = putUserTaskDef(req("approve", approval(), "Approve it"), def, LATER).def;
    expect(next.version).toBe(2);
  });

  it("B-META-7 a changed description, display name, required flag or field order is a new version", () => {
    const latest = first();
    const variants = [
      req("approve", approval(), "Other text"),
      req("approve", approval()),
      req("approve", [{ ...approval()[0]!, displayName: "Approved?" }, approval()[1]!], "Approve it"),
      req("approve", [{ ...approval()[0]!, required: false }, approval()[1]!], "Approve it"),
      req("approve", [approval()[1]!, approval()[0]!], "Approve it"),
    ];
    for (const variant of variants) {
      expect(putUserTaskDef(variant, latest, LATER).def.version).toBe(1);
    }
  });

  it("B-META-7 an unset and an empty description are the same", () => {
    const latest = putUserTaskDef(req("approve", approval()), undefined, NOW).def;
    expect(putUserTaskDef(req("approve", approval(), ""), latest, LATER).created).toBe(false);
  });

  it("B-META-2 an invalid name is INVALID_ARGUMENT", () => {
    expect(() => putUserTaskDef(req("Approve", approval()), undefined, NOW)).toThrow(
      "invalid UserTaskDef name 'Approve'",
    );
  });

  it("B-META-7 a field without a name is INVALID_ARGUMENT", () => {
    const call = () => putUserTaskDef(req("approve", [{ name: "", type: VariableType.STR }]), undefined, NOW);
    expect(call).toThrow(InvalidArgumentError);
    expect(call).toThrow("UserTaskDef 'approve': a field has an empty name");
  });

  it("B-META-7 duplicate field names are INVALID_ARGUMENT", () => {
    const call = () =>
      putUserTaskDef(
        req("approve", [
          { name: "a", type: VariableType.STR },
          { name: "a", type: VariableType.INT },
        ]),
        undefined,
        NOW,
      );
    expect(call).toThrow("field 'a' is declared twice");
  });

  it.each([VariableType.JSON_OBJ, VariableType.JSON_ARR, VariableType.BYTES, 77 as VariableType])(
    "B-META-7 a field of type %s is INVALID_ARGUMENT",
    (type) => {
      const call = () => putUserTaskDef(req("approve", [{ name: "a", type }]), undefined, NOW);
      expect(call).toThrow(InvalidArgumentError);
      expect(call).toThrow("field 'a' has type");
    },
  );

  it.each([VariableType.STR, VariableType.INT, VariableType.DOUBLE, VariableType.BOOL])(
    "B-META-7 a field of primitive type %s is accepted",
    (type) => {
      expect(putUserTaskDef(req("approve", [{ name: "a", type }]), undefined, NOW).created).toBe(true);
    },
  );
});
