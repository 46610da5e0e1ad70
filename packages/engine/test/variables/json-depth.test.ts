import { describe, expect, it } from "vitest";
import { MAX_JSON_DEPTH, jsonDeeperThan } from "../../src/variables";

describe("B-SEC-4 JSON nesting limit", () => {
  it("counts nested arrays and objects, not brackets inside strings", () => {
    expect(jsonDeeperThan("[[1]]", 2)).toBe(false);
    expect(jsonDeeperThan("[[[1]]]", 2)).toBe(true);
    expect(jsonDeeperThan('{"a":{"b":[1]}}', 2)).toBe(true);
    expect(jsonDeeperThan('["[[[[", "{{{{"]', 1)).toBe(false);
    expect(jsonDeeperThan('["a\\"[[[[", 1]', 1)).toBe(false); // an escaped quote does not end the string
    expect(jsonDeeperThan("[1], [2], [3]", 1)).toBe(false); // siblings do not add up
  });

  it(`allows ${MAX_JSON_DEPTH} levels and refuses one more`, () => {
    const nest = (n: number) => "[".repeat(n) + "]".repeat(n);
    expect(jsonDeeperThan(nest(MAX_JSON_DEPTH))).toBe(false);
    expect(jsonDeeperThan(nest(MAX_JSON_DEPTH + 1))).toBe(true);
  });
});
