/** protobuf/to-binary.ts writes exactly the bytes protobuf-es's toBinary writes, for every message type. */
import { describe, expect, it } from "vitest";
import { create, fromBinary, toBinary, type DescMessage } from "@bufbuild/protobuf";
import { TimestampSchema } from "@bufbuild/protobuf/wkt";
import * as proto from "@pony/proto";
import { Fuzzer } from "../../../../test/support/fuzz";
import { encodeMessage } from "../../src/protobuf/to-binary";

const schemas = (Object.values(proto) as unknown[]).filter(
  (v): v is DescMessage => typeof v === "object" && v !== null && (v as { kind?: string }).kind === "message",
);

/** toBinary's answer: its bytes, or the message of the error it throws */
function reference(schema: DescMessage, message: unknown): Buffer | string {
  try {
    return Buffer.from(toBinary(schema, message as never));
  } catch (e) {
    return (e as Error).message;
  }
}

function ours(schema: DescMessage, message: unknown): Buffer | string {
  try {
    return Buffer.from(encodeMessage(schema, message));
  } catch (e) {
    return (e as Error).message;
  }
}

describe("encodeMessage", () => {
  it("covers every message type of the API", () => {
    expect(schemas.length).toBeGreaterThan(150);
  });

  it("writes toBinary's bytes for random messages of every type (extreme numbers, unicode, maps, oneofs)", () => {
    const fuzzer = new Fuzzer(20261206, ["wf-a", "task-b", "ünï"]);
    let compared = 0;
    for (const schema of schemas) {
      for (let i = 0; i < 40; i++) {
        let message: unknown;
        try {
          message = create(schema, fuzzer.message(schema) as never);
        } catch {
          continue; // an init create() refuses
        }
        const want = reference(schema, message);
        const got = ours(schema, message);
        if (typeof want === "string") expect(got, `${schema.typeName}: ${want}`).toBe(want);
        else expect(Buffer.isBuffer(got) && got.equals(want), `${schema.typeName} #${i}`).toBe(true);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(5000);
  });

  it("keeps unknown fields, after the known ones, as toBinary does", () => {
    // a ThreadRun's bytes read as a WfRunId: every field but id (1) is unknown to WfRunId
    const thread = create(proto.ThreadRunSchema, {
      number: 3,
      status: proto.LHStatus.ERROR,
      threadSpecName: "again",
      childThreadIds: [4, 5, 600],
      errorMessage: "boom ✗",
    });
    const asOther = fromBinary(proto.WfRunIdSchema, toBinary(proto.ThreadRunSchema, thread));
    expect(asOther.$unknown?.length).toBeGreaterThan(0);
    expect(ours(proto.WfRunIdSchema, asOther)).toEqual(reference(proto.WfRunIdSchema, asOther));
  });

  it("writes strings as UTF-8 the way TextEncoder does: long, non-ASCII, lone surrogates", () => {
    for (const s of ["a".repeat(63), "a".repeat(64), "é".repeat(100), "🐴", "\ud800x", "x\udc00", "\u0000"]) {
      const m = create(proto.WfRunIdSchema, { id: s });
      expect(ours(proto.WfRunIdSchema, m), JSON.stringify(s)).toEqual(reference(proto.WfRunIdSchema, m));
    }
  });

  it("writes negative int32s and enums in ten bytes, int64 bounds, -0 and NaN doubles", () => {
    const values = [
      { int: 9223372036854775807n },
      { int: -9223372036854775808n },
      { int: -1n },
      { double: -0 },
      { double: Number.NaN },
      { double: -Infinity },
    ];
    for (const value of values) {
      const key = Object.keys(value)[0]!;
      const m = create(proto.VariableValueSchema, {
        value: { case: key, value: Object.values(value)[0] },
      } as never);
      expect(ours(proto.VariableValueSchema, m), key).toEqual(reference(proto.VariableValueSchema, m));
    }
    const n = create(proto.NodeRunIdSchema, { threadRunNumber: -1, position: -2147483648 });
    expect(ours(proto.NodeRunIdSchema, n)).toEqual(reference(proto.NodeRunIdSchema, n));
    const t = create(proto.ThreadRunSchema, { status: -5 as proto.LHStatus });
    expect(ours(proto.ThreadRunSchema, t)).toEqual(reference(proto.ThreadRunSchema, t));
    const ts = create(TimestampSchema, { seconds: -62135596800n, nanos: 999_999_999 });
    expect(ours(TimestampSchema, ts)).toEqual(reference(TimestampSchema, ts));
  });

  it("refuses what toBinary refuses, with its message", () => {
    const bad = [
      create(proto.NodeRunIdSchema, { position: 1.5 }),
      create(proto.NodeRunIdSchema, { position: 2 ** 31 }),
      create(TimestampSchema, { seconds: 2n ** 63n }),
    ];
    for (const m of bad) {
      const want = reference(
        m.$typeName === "google.protobuf.Timestamp" ? TimestampSchema : proto.NodeRunIdSchema,
        m,
      );
      expect(typeof want).toBe("string");
      expect(
        ours(m.$typeName === "google.protobuf.Timestamp" ? TimestampSchema : proto.NodeRunIdSchema, m),
      ).toBe(want);
    }
  });

  it("reuses a ThreadRun's encoding only while none of its fields changed", () => {
    const spec = create(proto.WfSpecIdSchema, { name: "s", majorVersion: 1, revision: 2 });
    const wfRun = create(proto.WfRunSchema, {
      id: { id: "memo" },
      wfSpecId: spec,
      threadRuns: Array.from({ length: 20 }, (_, i) => ({
        wfSpecId: spec,
        number: i,
        status: proto.LHStatus.RUNNING,
        threadSpecName: "t",
        childThreadIds: [i + 1],
        startTime: { seconds: 1_700_000_000n },
      })),
    });
    const t = wfRun.threadRuns;
    const changes: (() => void)[] = [
      () => (t[1]!.status = proto.LHStatus.HALTED),
      () => (t[2]!.currentNodePosition = 7),
      () => t[3]!.childThreadIds.push(99), // a list changed in place
      () => (t[3]!.childThreadIds[0] = 42),
      () =>
        t[4]!.haltReasons.push(
          create(proto.ThreadHaltReasonSchema, { reason: { case: "manualHalt", value: {} } }),
        ),
      () => (t[4]!.haltReasons = []),
      () => (t[5]!.errorMessage = "failed"),
      () => (t[5]!.errorMessage = undefined),
      () => (t[6]!.endTime = create(TimestampSchema, { seconds: 1_700_000_100n })),
      () => (t[7]!.wfSpecId = create(proto.WfSpecIdSchema, { name: "s", majorVersion: 2 })),
      () => (t[8]!.failureBeingHandled = create(proto.FailureBeingHandledSchema, { threadRunNumber: 1 })),
      () => (t[9]!.parentThreadId = 0),
      () => delete t[9]!.parentThreadId,
      () => t.splice(10, 1),
      () => t.push(create(proto.ThreadRunSchema, { number: 20, threadSpecName: "late" })),
    ];
    expect(ours(proto.WfRunSchema, wfRun)).toEqual(reference(proto.WfRunSchema, wfRun));
    for (const change of changes) {
      change();
      expect(ours(proto.WfRunSchema, wfRun), change.toString()).toEqual(reference(proto.WfRunSchema, wfRun));
    }
  });

  it("gives a buffer of its own, not a slice of a shared pool", () => {
    const bytes = encodeMessage(proto.WfRunIdSchema, create(proto.WfRunIdSchema, { id: "small" }));
    expect(bytes.byteOffset).toBe(0);
    expect(bytes.buffer.byteLength).toBe(bytes.byteLength);
  });
});
