/**
 * The examples, run as a new user runs them, against a real server: `npm run quickstart` (registers, runs one
 * WfRun with its worker, prints the result, exits 0), and each of the other examples.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../../test/support/server";
import { lhcEnv, runCommand } from "./support";

let ts: TestServer;

beforeAll(async () => {
  // the worker polls the host the server advertises
  ts = await startTestServer({ extraArgs: ["--advertised-host", "127.0.0.1"] });
});

afterAll(async () => {
  await ts.close();
});

describe("examples", () => {
  it("npm run quickstart registers, runs one WfRun to completion, prints its result and exits 0", async () => {
    const r = await runCommand("npm", ["run", "--silent", "quickstart", "--", "Ada"], {
      env: lhcEnv(ts.address),
      timeoutMs: 60_000,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Pony server: ${ts.address}`);
    expect(r.stdout).toContain("Registered TaskDef 'greet' and WfSpec 'quickstart' (version 0.0)");
    expect(r.stdout).toMatch(/Started WfRun \w+ with name="Ada"/);
    expect(r.stdout).toMatch(/WfRun \w+ is COMPLETED/);
    expect(r.stdout).toContain('variable name = "Ada"');
    expect(r.stdout).toContain('variable greeting = "Hello, Ada! Welcome to Pony."');
    expect(r.stdout).toContain('task greet output = "Hello, Ada! Welcome to Pony."');

    // a second run reuses the same TaskDef and WfSpec version
    const again = await runCommand("npm", ["run", "--silent", "quickstart"], {
      env: lhcEnv(ts.address),
      timeoutMs: 60_000,
    });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain("(version 0.0)");
    expect(again.stdout).toContain('variable greeting = "Hello, World! Welcome to Pony."');
  });

  it("the quickstart says where it looked when no server answers, and exits 1", async () => {
    const r = await runCommand("npm", ["run", "--silent", "quickstart"], {
      env: { LHC_API_HOST: "127.0.0.1", LHC_API_PORT: "1" },
      timeoutMs: 60_000,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("No Pony server at 127.0.0.1:1");
  });

  it.each([
    ["child-threads", [/thread 1 charge: COMPLETED/, /print-label: "label for teapot"/]],
    ["external-events", [/Posted payment-received/, /payment = \{"amount":42.5,"currency":"EUR"\}/]],
    ["user-tasks", [/alice approved UserTaskRun/, /outcome = "paid 120.50 to bob"/]],
  ] as const)("%s runs to completion and exits 0", async (example, expected) => {
    const r = await runCommand(process.execPath, ["--import", "tsx", `examples/${example}/main.ts`], {
      env: lhcEnv(ts.address),
      timeoutMs: 60_000,
    });
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/is COMPLETED/);
    for (const line of expected) expect(r.stdout).toMatch(line);
  });

  it("conditionals-and-loops loops, branches and exits 0", async () => {
    const r = await runCommand(
      process.execPath,
      ["--import", "tsx", "examples/conditionals-and-loops/main.ts", "4"],
      { env: lhcEnv(ts.address), timeoutMs: 60_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/is COMPLETED/);
    expect(r.stdout).toContain("total = 20"); // 2 + 4 + 6 + 8
    expect(r.stdout).toContain('verdict = "*** high score: 20 ***"');
  });
});
