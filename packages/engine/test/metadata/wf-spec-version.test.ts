import { clone, create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  AllowedUpdateType,
  ThreadVarDefSchema,
  WfSpecSchema,
  type ThreadVarDef,
  type WfSpec,
} from "@pony/proto";
import { describe, expect, it } from "vitest";
import { AlreadyExistsError, FailedPreconditionError } from "../../src/errors";
import { buildWfSpec, decideWfSpecVersion, frozenVariables, sameWfSpec } from "../../src/metadata";
import {
  LATER,
  NOW,
  linearThread,
  lit,
  lookupOf,
  primitiveTypeDef,
  ref,
  task,
  taskDef,
  threadVar,
  value,
  VariableType,
  WfRunVariableAccessLevel,
  wfRequest,
  type NodeInit,
} from "./fixtures";

const lookup = lookupOf({
  taskDefs: [taskDef("greet", [["name", VariableType.STR]]), taskDef("no-args", [])],
});

/** A candidate from buildWfSpec with the given entrypoint variables and middle nodes. */
function candidate(vars: ThreadVarDef[], middle: NodeInit[] = [task("no-args")], extraThreads = {}): WfSpec {
  return buildWfSpec(wfRequest({ entrypoint: linearThread(middle, vars), ...extraThreads }), lookup);
}

/** A stored version of `spec` as decideWfSpecVersion would have made it. */
function stored(spec: WfSpec, major: number, revision: number): WfSpec {
  const out = clone(WfSpecSchema, spec);
  out.id = { $typeName: "littlehorse.WfSpecId", name: "my-wf", majorVersion: major, revision };
  out.createdAt = timestampFromDate(NOW);
  out.frozenVariables = frozenVariables(out);
  return out;
}

function expectNew(
  decision: ReturnType<typeof decideWfSpecVersion>,
  major: number,
  revision: number,
): WfSpec {
  expect(decision.kind).toBe("new");
  expect(decision.wfSpec.id).toMatchObject({ name: "my-wf", majorVersion: major, revision });
  return decision.wfSpec;
}

const base = (): ThreadVarDef[] => [
  threadVar("order-id", VariableType.STR, { required: true }),
  threadVar("customer", VariableType.STR, { searchable: true }),
  threadVar("note", VariableType.STR),
];

describe("decideWfSpecVersion", () => {
  it("B-META-4 the first version is 0.0 with created_at = now and frozen variables set", () => {
    const spec = expectNew(decideWfSpecVersion(candidate(base()), undefined, undefined, NOW), 0, 0);
    expect(spec.createdAt && timestampDate(spec.createdAt)).toEqual(NOW);
    expect(spec.frozenVariables.map((v) => v.varDef?.name)).toEqual(["order-id", "customer"]);
  });

  it("B-META-4 accepts the time as a Timestamp", () => {
    const spec = expectNew(
      decideWfSpecVersion(candidate(base()), undefined, undefined, timestampFromDate(LATER)),
      0,
      0,
    );
    expect(spec.createdAt && timestampDate(spec.createdAt)).toEqual(LATER);
  });

  it("B-META-4 the candidate passed in is not modified", () => {
    const c = candidate(base());
    const before = clone(WfSpecSchema, c);
    decideWfSpecVersion(c, undefined, undefined, NOW);
    expect(c).toEqual(before);
  });

  it("B-META-4 an identical spec returns the existing latest WfSpec", () => {
    const latest = stored(candidate(base()), 2, 5);
    const decision = decideWfSpecVersion(candidate(base()), latest, undefined, LATER);
    expect(decision).toEqual({ kind: "existing", wfSpec: latest });
    expect(decision.wfSpec).toBe(latest);
  });

  it("B-META-4 identity ignores id, created_at, status and frozen_variables", () => {
    const latest = stored(candidate(base()), 1, 0);
    latest.status = 1;
    latest.frozenVariables = [];
    expect(sameWfSpec(candidate(base()), latest)).toBe(true);
  });

  it("B-WIRE-2 a variable typed via type_def is the same as one typed via type", () => {
    const latest = stored(candidate(base()), 0, 0);
    const vars = base();
    const v = create(ThreadVarDefSchema, {
      varDef: { name: "note", typeDef: primitiveTypeDef(VariableType.STR) },
    });
    vars[2] = v;
    const c = candidate(vars);
    c.threadSpecs.entrypoint!.variableDefs[2]!.varDef!.typeDef = primitiveTypeDef(VariableType.STR);
    expect(decideWfSpecVersion(c, latest, undefined, LATER).kind).toBe("existing");
  });

  it("B-META-4 a masked variable differs from an unmasked one", () => {
    const latest = stored(candidate(base()), 0, 0);
    const c = candidate(base());
    c.threadSpecs.entrypoint!.variableDefs[2]!.varDef!.typeDef = primitiveTypeDef(VariableType.STR, true);
    expectNew(decideWfSpecVersion(c, latest, undefined, LATER), 0, 1);
  });

  it("B-META-4 a changed node is a new revision of the same major version", () => {
    const latest = stored(candidate(base()), 0, 0);
    const spec = expectNew(
      decideWfSpecVersion(candidate(base(), [task("greet", [ref("note")])]), latest, undefined, LATER),
      0,
      1,
    );
    expect(spec.createdAt && timestampDate(spec.createdAt)).toEqual(LATER);
  });

  it("B-META-4 revisions count on from the latest (2.3 → 2.4)", () => {
    const latest = stored(candidate(base()), 2, 3);
    expectNew(
      decideWfSpecVersion(
        candidate(base(), [task("greet", [lit(value.str("x"))])]),
        latest,
        undefined,
        LATER,
      ),
      2,
      4,
    );
  });

  it("B-META-4 a new optional variable is a new revision", () => {
    const latest = stored(candidate(base()), 0, 0);
    const vars = [...base(), threadVar("extra", VariableType.INT)];
    expectNew(decideWfSpecVersion(candidate(vars), latest, undefined, LATER), 0, 1);
  });

  it("B-META-4 a changed default value is a new revision", () => {
    const latest = stored(candidate(base()), 0, 0);
    const vars = base();
    vars[2] = threadVar("note", VariableType.STR, { defaultValue: value.str("hi") });
    expectNew(decideWfSpecVersion(candidate(vars), latest, undefined, LATER), 0, 1);
  });

  it("B-META-4 a new required variable bumps the major version", () => {
    const latest = stored(candidate(base()), 0, 3);
    const vars = [...base(), threadVar("amount", VariableType.DOUBLE, { required: true })];
    const spec = expectNew(decideWfSpecVersion(candidate(vars), latest, undefined, LATER), 1, 0);
    expect(spec.frozenVariables.map((v) => v.varDef?.name)).toContain("amount");
  });

  it("B-META-4 a variable that stops being required bumps the major version", () => {
    const latest = stored(candidate(base()), 1, 2);
    const vars = base();
    vars[0] = threadVar("order-id", VariableType.STR);
    expectNew(decideWfSpecVersion(candidate(vars), latest, undefined, LATER), 2, 0);
  });

  it("B-META-4 removing a required variable bumps the major version", () => {
    const latest = stored(candidate(base()), 0, 0);
    expectNew(decideWfSpecVersion(candidate(base().slice(1)), latest, undefined, LATER), 1, 0);
  });

  it("B-META-4 a new searchable variable bumps the major version", () => {
    const latest = stored(candidate(base()), 0, 0);
    const vars = base();
    vars[2] = threadVar("note", VariableType.STR, { searchable: true });
    expectNew(decideWfSpecVersion(candidate(vars), latest, undefined, LATER), 1, 0);
  });

  it("B-META-4 a changed access level of an entrypoint variable bumps the major version", () => {
    const latest = stored(candidate(base()), 0, 0);
    const vars = base();
    vars[2] = threadVar("note", VariableType.STR, { accessLevel: WfRunVariableAccessLevel.PRIVATE_VAR });
    expectNew(decideWfSpecVersion(candidate(vars), latest, undefined, LATER), 1, 0);
  });

  it("B-META-4 required variables of other threads are not breaking", () => {
    const child = (required: boolean) => linearThread([], [threadVar("job", VariableType.STR, { required })]);
    const start: NodeInit = { node: { case: "startThread", value: { threadSpecName: "child" } } };
    const latest = stored(candidate(base(), [start], { child: child(false) }), 0, 0);
    expectNew(
      decideWfSpecVersion(candidate(base(), [start], { child: child(true) }), latest, undefined, LATER),
      0,
      1,
    );
  });

  it("B-META-4 a changed type of a frozen (required) variable is FAILED_PRECONDITION", () => {
    const latest = stored(candidate(base()), 0, 0);
    const vars = base();
    vars[0] = threadVar("order-id", VariableType.INT, { required: true });
    const call = () => decideWfSpecVersion(candidate(vars), latest, undefined, LATER);
    expect(call).toThrow(FailedPreconditionError);
    expect(call).toThrow("variable 'order-id' is frozen as STR (version 0.0) and cannot change to INT");
  });

  it("B-META-4 a changed type of a frozen (searchable) variable is FAILED_PRECONDITION, even when it stops being searchable", () => {
    const latest = stored(candidate(base()), 0, 0);
    const vars = base();
    vars[1] = threadVar("customer", VariableType.JSON_OBJ);
    expect(() => decideWfSpecVersion(candidate(vars), latest, undefined, LATER)).toThrow(
      FailedPreconditionError,
    );
  });

  it("B-META-4 the frozen set of a latest stored without frozen_variables is derived from its entrypoint", () => {
    const latest = stored(candidate(base()), 0, 0);
    latest.frozenVariables = [];
    const vars = base();
    vars[0] = threadVar("order-id", VariableType.INT, { required: true });
    expect(() => decideWfSpecVersion(candidate(vars), latest, undefined, LATER)).toThrow(
      FailedPreconditionError,
    );
  });

  it("B-META-4 a changed type of a variable that is not frozen is a new revision", () => {
    const latest = stored(candidate(base()), 0, 0);
    const vars = base();
    vars[2] = threadVar("note", VariableType.JSON_OBJ);
    expectNew(decideWfSpecVersion(candidate(vars), latest, undefined, LATER), 0, 1);
  });

  it("B-META-4 a frozen variable that is removed can come back later with another type", () => {
    const latest = stored(candidate(base().slice(1)), 1, 0);
    const vars = [threadVar("order-id", VariableType.INT, { required: true }), ...base().slice(1)];
    expectNew(decideWfSpecVersion(candidate(vars), latest, undefined, LATER), 2, 0);
  });

  it("B-META-5 NO_UPDATES and a changed spec is ALREADY_EXISTS", () => {
    const latest = stored(candidate(base()), 0, 4);
    const call = () =>
      decideWfSpecVersion(
        candidate(base(), [task("greet", [ref("note")])]),
        latest,
        AllowedUpdateType.NO_UPDATES,
        LATER,
      );
    expect(call).toThrow(AlreadyExistsError);
    expect(call).toThrow(
      "WfSpec 'my-wf' already exists (latest version 0.4) and allowed_updates is NO_UPDATES",
    );
  });

  it("B-META-5 NO_UPDATES and an identical spec returns the existing one", () => {
    const latest = stored(candidate(base()), 0, 0);
    expect(decideWfSpecVersion(candidate(base()), latest, AllowedUpdateType.NO_UPDATES, LATER).kind).toBe(
      "existing",
    );
  });

  it("B-META-5 NO_UPDATES without any stored version creates 0.0", () => {
    expectNew(decideWfSpecVersion(candidate(base()), undefined, AllowedUpdateType.NO_UPDATES, NOW), 0, 0);
  });

  it("B-META-5 MINOR_REVISION_UPDATES and a breaking change is FAILED_PRECONDITION naming the change", () => {
    const latest = stored(candidate(base()), 0, 0);
    const vars = [...base(), threadVar("amount", VariableType.DOUBLE, { required: true })];
    const call = () =>
      decideWfSpecVersion(candidate(vars), latest, AllowedUpdateType.MINOR_REVISION_UPDATES, LATER);
    expect(call).toThrow(FailedPreconditionError);
    expect(call).toThrow("required variables change from [order-id] to [amount, order-id]");
    expect(call).toThrow("allowed_updates is MINOR_REVISION_UPDATES");
  });

  it("B-META-5 MINOR_REVISION_UPDATES and a non-breaking change is a new revision", () => {
    const latest = stored(candidate(base()), 3, 1);
    expectNew(
      decideWfSpecVersion(
        candidate(base(), [task("greet", [ref("note")])]),
        latest,
        AllowedUpdateType.MINOR_REVISION_UPDATES,
        LATER,
      ),
      3,
      2,
    );
  });

  it("B-META-5 ALL_UPDATES (explicit or default) allows breaking and non-breaking changes", () => {
    const latest = stored(candidate(base()), 0, 0);
    const breaking = [...base(), threadVar("amount", VariableType.DOUBLE, { required: true })];
    for (const mode of [AllowedUpdateType.ALL_UPDATES, undefined]) {
      expectNew(decideWfSpecVersion(candidate(breaking), latest, mode, LATER), 1, 0);
      expectNew(
        decideWfSpecVersion(candidate(base(), [task("greet", [ref("note")])]), latest, mode, LATER),
        0,
        1,
      );
    }
  });

  it("B-META-4 the searchable-set message names the variables", () => {
    const latest = stored(candidate(base()), 0, 0);
    const vars = base();
    vars[1] = threadVar("customer", VariableType.STR);
    expect(() =>
      decideWfSpecVersion(candidate(vars), latest, AllowedUpdateType.MINOR_REVISION_UPDATES, LATER),
    ).toThrow("searchable variables change from [customer] to []");
  });

  it("B-META-4 the access-level message names the variable and levels", () => {
    const latest = stored(candidate(base()), 0, 0);
    const vars = base();
    vars[2] = threadVar("note", VariableType.STR, { accessLevel: WfRunVariableAccessLevel.PRIVATE_VAR });
    expect(() =>
      decideWfSpecVersion(candidate(vars), latest, AllowedUpdateType.MINOR_REVISION_UPDATES, LATER),
    ).toThrow("variable 'note' changes access level from PUBLIC_VAR to PRIVATE_VAR");
  });
});
