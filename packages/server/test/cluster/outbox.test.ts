/**
 * Issue 11, forwarding: the calls (and answers) for one peer in one event-loop turn go out as one stream
 * message, in order, and never more than OUTBOX_BYTES of payload in one message.
 */
import { describe, expect, it } from "vitest";
import { OUTBOX_BYTES, Outbox } from "../../src/cluster/outbox";

const turn = () => new Promise((r) => setImmediate(r));
const MB = 1024 * 1024;

function outbox() {
  const sent: string[][] = [];
  const sizes = new Map<string, number>();
  const box = new Outbox<string>(
    (items) => sent.push(items),
    (item) => sizes.get(item) ?? 1,
  );
  return { box, sent, sizes };
}

describe("a forwarding stream's outbox", () => {
  it("sends what one turn adds as one message, in order, and the next turn's as another", async () => {
    const { box, sent } = outbox();
    box.add("a");
    box.add("b");
    await Promise.resolve(); // promise jobs of the same turn still join the message
    box.add("c");
    expect(sent).toEqual([]);
    await turn();
    expect(sent).toEqual([["a", "b", "c"]]);
    box.add("d");
    await turn();
    await turn();
    expect(sent).toEqual([["a", "b", "c"], ["d"]]);
  });

  it("sends a message early rather than let it pass OUTBOX_BYTES; an item larger than that goes alone", async () => {
    const { box, sent, sizes } = outbox();
    sizes
      .set("3MB-1", 3 * MB)
      .set("3MB-2", 3 * MB)
      .set("huge", OUTBOX_BYTES + 1)
      .set("1MB", MB);
    box.add("3MB-1");
    box.add("3MB-2"); // 6 MB would be too much: the first goes now
    expect(sent).toEqual([["3MB-1"]]);
    box.add("huge");
    box.add("1MB");
    await turn();
    expect(sent).toEqual([["3MB-1"], ["3MB-2"], ["huge"], ["1MB"]]);
    expect(
      sent.every((m) => m.length === 1 || m.reduce((n, i) => n + (sizes.get(i) ?? 1), 0) <= OUTBOX_BYTES),
    ).toBe(true);
  });

  it("an item removed before the turn ends is not sent; drop() hands back what was not sent", async () => {
    const { box, sent } = outbox();
    box.add("call-1");
    box.add("call-2");
    expect(box.remove((i) => i === "call-1")).toBe(true);
    expect(box.remove((i) => i === "call-9")).toBe(false);
    await turn();
    expect(sent).toEqual([["call-2"]]);
    box.add("call-3");
    box.add("call-4");
    expect(box.drop()).toEqual(["call-3", "call-4"]);
    await turn();
    expect(sent).toEqual([["call-2"]]);
  });

  it("flush() sends at once what waits (a stream about to end)", () => {
    const { box, sent } = outbox();
    box.add("answer-1");
    box.flush();
    expect(sent).toEqual([["answer-1"]]);
    box.flush();
    expect(sent).toEqual([["answer-1"]]);
  });
});
