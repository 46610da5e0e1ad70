import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import {
  PutExternalEventDefRequestSchema,
  PutWorkflowEventDefRequestSchema,
  VariableType,
} from "@pony/proto";
import { describe, expect, it } from "vitest";
import { AlreadyExistsError, InvalidArgumentError } from "../../src/errors";
import { putExternalEventDef, putWorkflowEventDef } from "../../src/metadata";
import { LATER, NOW } from "./fixtures";

function extReq(name: string, secondsAfterPut?: bigint) {
  return create(PutExternalEventDefRequestSchema, {
    name,
    retentionPolicy:
      secondsAfterPut === undefined
        ? undefined
        : { extEvtGcPolicy: { case: "secondsAfterPut", value: secondsAfterPut } },
  });
}

describe("putExternalEventDef", () => {
  it("B-META-2 a new ExternalEventDef is created with id, created_at and retention", () => {
    const { def, created } = putExternalEventDef(extReq("payment-received", 60n), undefined, NOW);
    expect(created).toBe(true);
    expect(def.id?.name).toBe("payment-received");
    expect(def.createdAt && timestampDate(def.createdAt)).toEqual(NOW);
    expect(def.retentionPolicy?.extEvtGcPolicy).toEqual({ case: "secondsAfterPut", value: 60n });
  });

  it("B-META-2 without retention policy none is stored", () => {
    const { def } = putExternalEventDef(extReq("evt"), undefined, NOW);
    expect(def.retentionPolicy).toBeUndefined();
  });

  it("B-META-1 the same request again returns the existing def (idempotent)", () => {
    const first = putExternalEventDef(extReq("evt", 60n), undefined, NOW).def;
    const again = putExternalEventDef(extReq("evt", 60n), first, LATER);
    expect(again.created).toBe(false);
    expect(again.def).toBe(first);
    const noRetention = putExternalEventDef(extReq("evt"), undefined, NOW).def;
    expect(putExternalEventDef(extReq("evt"), noRetention, LATER).def).toBe(noRetention);
  });

  it("B-META-1 an empty retention policy equals no retention policy", () => {
    const first = putExternalEventDef(extReq("evt"), undefined, NOW).def;
    const req = create(PutExternalEventDefRequestSchema, { name: "evt", retentionPolicy: {} });
    expect(putExternalEventDef(req, first, LATER).created).toBe(false);
  });

  it("B-META-1 a different retention for an existing name is ALREADY_EXISTS", () => {
    const first = putExternalEventDef(extReq("evt", 60n), undefined, NOW).def;
    expect(() => putExternalEventDef(extReq("evt", 61n), first, LATER)).toThrow(AlreadyExistsError);
    expect(() => putExternalEventDef(extReq("evt"), first, LATER)).toThrow(
      "ExternalEventDef 'evt' already exists with seconds_after_put 60, requested no retention policy",
    );
  });

  it("B-META-2 an invalid name is INVALID_ARGUMENT", () => {
    expect(() => putExternalEventDef(extReq("Evt"), undefined, NOW)).toThrow(InvalidArgumentError);
    expect(() => putExternalEventDef(extReq("Evt"), undefined, NOW)).toThrow(
      "invalid ExternalEventDef name 'Evt'",
    );
  });

  it("B-META-2 a negative retention is INVALID_ARGUMENT", () => {
    expect(() => putExternalEventDef(extReq("evt", -1n), undefined, NOW)).toThrow(InvalidArgumentError);
    expect(() => putExternalEventDef(extReq("evt", -1n), undefined, NOW)).toThrow("must not be negative");
  });
});

function wfEvtReq(name: string, type: VariableType) {
  return create(PutWorkflowEventDefRequestSchema, { name, type });
}

describe("putWorkflowEventDef", () => {
  it("B-META-2 a new WorkflowEventDef is created with id, type and created_at", () => {
    const { def, created } = putWorkflowEventDef(
      wfEvtReq("order-done", VariableType.JSON_OBJ),
      undefined,
      NOW,
    );
    expect(created).toBe(true);
    expect(def.id?.name).toBe("order-done");
    expect(def.type).toBe(VariableType.JSON_OBJ);
    expect(def.createdAt && timestampDate(def.createdAt)).toEqual(NOW);
  });

  it("B-META-1 the same type again returns the existing def", () => {
    const first = putWorkflowEventDef(wfEvtReq("done", VariableType.STR), undefined, NOW).def;
    const again = putWorkflowEventDef(wfEvtReq("done", VariableType.STR), first, LATER);
    expect(again).toEqual({ def: first, created: false });
  });

  it("B-META-1 a different type for an existing name is ALREADY_EXISTS", () => {
    const first = putWorkflowEventDef(wfEvtReq("done", VariableType.STR), undefined, NOW).def;
    const call = () => putWorkflowEventDef(wfEvtReq("done", VariableType.INT), first, LATER);
    expect(call).toThrow(AlreadyExistsError);
    expect(call).toThrow("WorkflowEventDef 'done' already exists with type STR, requested INT");
  });

  it("B-META-2 an invalid name is INVALID_ARGUMENT", () => {
    expect(() => putWorkflowEventDef(wfEvtReq("done!", VariableType.STR), undefined, NOW)).toThrow(
      "invalid WorkflowEventDef name 'done!'",
    );
  });

  it("B-META-2 an unknown type is INVALID_ARGUMENT", () => {
    const call = () => putWorkflowEventDef(wfEvtReq("done", 99 as VariableType), undefined, NOW);
    expect(call).toThrow(InvalidArgumentError);
    expect(call).toThrow("unknown type 99");
  });
});
