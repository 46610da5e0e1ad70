/**
 * `POST /layout` on the HTTP listener: the elkjs layout of a workflow graph, made once at the server and kept
 * (the dashboard races it against its own elkjs worker; `?kept` answers only a kept one, or 404). Checked
 * with plain fetch: a layout places every node and routes every edge, the same graph is answered again from what was kept, and bad bodies are refused
 * with a status and a message saying what is wrong.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server";

let ts: TestServer;
let base: string;

beforeAll(async () => {
  ts = await startTestServer();
  base = `http://127.0.0.1:${ts.server.httpPort}`;
});

afterAll(async () => {
  await ts.close();
});

/** a chain of `n` nodes with a labelled edge back from the last to the first */
function chain(n: number, id = "g") {
  return {
    id,
    layoutOptions: { "elk.algorithm": "layered", "elk.direction": "RIGHT", "elk.edgeRouting": "ORTHOGONAL" },
    children: Array.from({ length: n }, (_, i) => ({ id: `n${i}`, width: 200, height: 62 })),
    edges: [
      ...Array.from({ length: n - 1 }, (_, i) => ({
        id: `e${i}`,
        sources: [`n${i}`],
        targets: [`n${i + 1}`],
      })),
      {
        id: "back",
        sources: [`n${n - 1}`],
        targets: ["n0"],
        labels: [{ id: "back:label", text: "x > 1", width: 40, height: 16 }],
      },
    ],
  };
}

const post = (body: string, query = "") =>
  fetch(`${base}/layout${query}`, { method: "POST", headers: { "content-type": "application/json" }, body });

interface Laid {
  children: { id: string; x: number; y: number }[];
  edges: { id: string; sections: { startPoint: unknown; endPoint: unknown }[]; labels?: { x: number }[] }[];
}

describe("graph layouts (POST /layout)", () => {
  it("a layout asked while the thread warms up (a dashboard page was just served) is answered", async () => {
    const page = await fetch(`${base}/wfSpec/anything`);
    expect(page.status).toBe(200);
    const laid = await post(JSON.stringify(chain(30, "during-warm-up")));
    expect(laid.status).toBe(200);
    expect(((await laid.json()) as Laid).children).toHaveLength(30);
  });

  it("lays a graph out (every node placed, every edge routed) and answers the same graph again from what it kept", async () => {
    const body = JSON.stringify(chain(200));
    // `?kept` answers only a layout the server has made: none yet
    const none = await post(body, "?kept");
    expect(none.status).toBe(404);
    expect(((await none.json()) as { error: string }).error).toMatch(/no layout of this graph is kept/);
    const first = await post(body);
    expect(first.status).toBe(200);
    const laid = (await first.json()) as Laid;
    expect(laid.children).toHaveLength(200);
    expect(new Set(laid.children.map((c) => `${c.x},${c.y}`)).size).toBe(200);
    // left to right
    const x = new Map(laid.children.map((c) => [c.id, c.x]));
    expect(x.get("n1")!).toBeGreaterThan(x.get("n0")!);
    expect(laid.edges).toHaveLength(200);
    for (const e of laid.edges) expect(e.sections[0]!.startPoint).toBeDefined();
    expect(laid.edges.find((e) => e.id === "back")!.labels![0]!.x).toEqual(expect.any(Number));

    const started = performance.now();
    const again = await post(body);
    const tookMs = performance.now() - started;
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(laid);
    const kept = await post(body, "?kept");
    expect(kept.status).toBe(200);
    expect(await kept.json()).toEqual(laid);
    // kept, not laid out again (a 200-node layout takes hundreds of ms)
    expect(tookMs).toBeLessThan(150);
  });

  it("refuses what is not a graph, saying why, and goes on laying graphs out", async () => {
    const get = await fetch(`${base}/layout`);
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
    const cases: [string, number, RegExp][] = [
      ["{not json", 400, /not JSON/],
      ["[1, 2]", 400, /must be a JSON object/],
      [JSON.stringify({ id: "g" }), 400, /'children' array/],
      [JSON.stringify({ id: "g", children: [], edges: {} }), 400, /'edges' must be an array/],
      [JSON.stringify({ id: "g", children: [{ id: "a", children: [] }] }), 400, /without nested nodes/],
      [JSON.stringify(chain(2001)), 400, /2001 nodes; at most 2000/],
      [
        JSON.stringify({
          id: "g",
          children: [{ id: "a" }],
          edges: [{ id: "e", sources: ["a"], targets: ["zz"] }],
        }),
        400,
        /elkjs could not lay the graph out/,
      ],
      [JSON.stringify({ id: "g", children: [], pad: "x".repeat(3 * 2 ** 20) }), 413, /larger than/],
    ];
    for (const [body, status, message] of cases) {
      const res = await post(body);
      expect(res.status, body.slice(0, 60)).toBe(status);
      expect(((await res.json()) as { error: string }).error).toMatch(message);
    }
    const ok = await post(JSON.stringify(chain(3, "after")));
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as Laid).children).toHaveLength(3);
  });
});
