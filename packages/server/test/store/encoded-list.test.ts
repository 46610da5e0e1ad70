/** api/encoded.ts writes a List response byte for byte as protobuf-es would. */
import { describe, expect, it } from "vitest";
import { create, toBinary } from "@bufbuild/protobuf";
import { NodeRunListSchema, NodeRunSchema } from "@pony/proto";
import { encodedList } from "../../src/api/encoded";

describe("encodedList", () => {
  it("B-SRCH-1 encodes stored NodeRuns and a bookmark exactly like the NodeRunList message", () => {
    const nodeRuns = [0, 1, 300].map((i) =>
      create(NodeRunSchema, {
        id: { wfRunId: { id: `run-${i}` }, threadRunNumber: i, position: i * 1000 },
        nodeName: "x".repeat(i), // lengths over 127 need a two-byte length
      }),
    );
    const bookmark = new TextEncoder().encode("b".repeat(200));
    const expected = toBinary(NodeRunListSchema, create(NodeRunListSchema, { results: nodeRuns, bookmark }));
    const got = encodedList(
      nodeRuns.map((n) => toBinary(NodeRunSchema, n)),
      bookmark,
    ).bytes;
    expect(Buffer.from(got).equals(Buffer.from(expected))).toBe(true);
    expect(encodedList([]).bytes).toHaveLength(0);
  });
});
