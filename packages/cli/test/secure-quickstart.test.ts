/**
 * The README's "Securing Pony" walk-through, run as a user runs it: the development OAuth issuer
 * (examples/oauth-dev-issuer), a server that requires its tokens with `admin` as bootstrap admin, the admin
 * creating a `quickstart` principal and a `greet-worker` principal with the CLI, the quick start's worker
 * running as `greet-worker` and `npm run quickstart -- --no-worker` as `quickstart`. The steps are the
 * README's, on free ports instead of 2023 and 8089. B-SEC-2 B-SEC-3.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDevIssuer, type DevIssuer } from "../../../examples/oauth-dev-issuer/issuer";
import { startTestServer, type TestServer } from "../../../test/support/server";
import { PONY_BIN, REPO_ROOT, lhcEnv, runCommand } from "./support";

let issuer: DevIssuer;
let ts: TestServer;
let dir: string;

const CLIENTS = { admin: "admin-secret", quickstart: "quickstart-secret", "greet-worker": "worker-secret" };

function as(client: keyof typeof CLIENTS): Record<string, string> {
  return {
    ...lhcEnv(ts.address),
    LHC_OAUTH_ACCESS_TOKEN_URL: issuer.tokenUrl,
    LHC_OAUTH_CLIENT_ID: client,
    LHC_OAUTH_CLIENT_SECRET: CLIENTS[client],
  };
}

const pony = (client: keyof typeof CLIENTS, ...args: string[]) =>
  runCommand(process.execPath, [PONY_BIN, ...args], { env: as(client) });

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "pony-secure-qs-"));
  issuer = await startDevIssuer({ port: 0, dir, audience: "pony", clients: CLIENTS });
  ts = await startTestServer({
    extraArgs: [
      "--advertised-host",
      "127.0.0.1",
      "--oauth-issuer",
      issuer.issuer,
      "--oauth-audience",
      "pony",
      "--oauth-jwks-file",
      issuer.jwksFile,
      "--bootstrap-admin",
      "admin",
    ],
  });
});

afterAll(async () => {
  await ts?.close();
  await issuer?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("Securing Pony, as the README walks through it", () => {
  it("B-SEC-3 without a token nothing works; the bootstrap admin's whoami shows its ACLs", async () => {
    const anonymous = await runCommand(process.execPath, [PONY_BIN, "whoami"], { env: lhcEnv(ts.address) });
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toMatch(/UNAUTHENTICATED/);
    const me = await pony("admin", "whoami");
    expect(me.code, me.stderr).toBe(0);
    expect(me.stdout).toMatch(/principal\s+admin/);
    expect(me.stdout).toMatch(/global\s+ACL_ALL_RESOURCES\s+ALL_ACTIONS/);
  });

  it("B-SEC-2 the admin creates an app and a worker principal; the quick start runs with them", async () => {
    for (const args of [
      ["quickstart", "--acl", "task:write_metadata,read:name=greet", "--acl", "workflow:all:name=quickstart"],
      ["greet-worker", "--acl", "task:read,run:name=greet"],
    ]) {
      const created = await pony("admin", "deploy", "principal", ...args);
      expect(created.code, created.stderr).toBe(0);
    }
    // the worker, as greet-worker, in a process of its own
    const worker = spawn(process.execPath, ["--import", "tsx", "examples/quickstart/run-worker.ts"], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...as("greet-worker") },
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      const workerId = new Promise<string>((resolve, reject) => {
        let out = "";
        worker.stdout.setEncoding("utf8").on("data", (d: string) => {
          out += d;
          const m = /Worker (\S+) is polling 'greet'/.exec(out);
          if (m) resolve(m[1]!);
        });
        worker.once("exit", (code) => reject(new Error(`the worker exited (${code}): ${out}`)));
      });
      // the quick start, as quickstart, registers and runs the WfRun and leaves the task to that worker
      const r = await runCommand("npm", ["run", "--silent", "quickstart", "--", "Ada", "--no-worker"], {
        env: as("quickstart"),
        timeoutMs: 60_000,
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain("Leaving 'greet' to a worker started elsewhere");
      expect(r.stdout).toMatch(/WfRun \w+ is COMPLETED/);
      expect(r.stdout).toContain('task greet output = "Hello, Ada! Welcome to Pony."');
      const wfRunId = /WfRun (\w+) is COMPLETED/.exec(r.stdout)![1]!;
      const taskRuns = await pony("admin", "list", "taskRun", wfRunId);
      expect(taskRuns.code, taskRuns.stderr).toBe(0);
      expect(JSON.stringify(taskRuns.json())).toContain(await workerId);
    } finally {
      worker.kill("SIGTERM");
      await new Promise((r) => worker.once("exit", r));
    }
    // … and nothing beyond their ACLs
    const other = await pony("quickstart", "deploy", "tenant", "elsewhere");
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/PERMISSION_DENIED: .*WRITE_METADATA on ACL_TENANT/);
  }, 90_000);

  it("B-SEC-2 a worker principal may read and run `greet` and nothing else", async () => {
    const created = await pony(
      "admin",
      "deploy",
      "principal",
      "greet-worker",
      "--acl",
      "task:read,run:name=greet",
    );
    expect(created.code, created.stderr).toBe(0);
    const read = await pony("greet-worker", "get", "taskDef", "greet");
    expect(read.code, read.stderr).toBe(0);
    expect(read.json().id.name).toBe("greet");
    const write = await pony("greet-worker", "deploy", "principal", "me-too", "--admin");
    expect(write.code).toBe(1);
    expect(write.stderr).toMatch(/PERMISSION_DENIED/);
    const run = await pony("greet-worker", "run", "quickstart", "name", "Eve");
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /PERMISSION_DENIED: GetLatestWfSpec: .*lacks READ on ACL_WORKFLOW 'quickstart'/,
    );
  });
});
