/** `pony server` (the same as `npm start`), run as a child process: flags pass through; SIGTERM stops it. */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../../../test/support/process-server";
import { waitFor } from "../../../test/support/wait";
import { ok, pony, PONY_BIN, REPO_ROOT, runCommand } from "./support";

const dirs: string[] = [];

afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describe("pony server", () => {
  it("starts a server with the given flags, which the other verbs reach; SIGTERM stops it", async () => {
    const port = await freePort();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "pony-cli-server-"));
    dirs.push(dataDir);
    const child = spawn(
      process.execPath,
      [PONY_BIN, "server", "--grpc-port", String(port), "--grpc-host", "127.0.0.1", "--data-dir", dataDir],
      { cwd: REPO_ROOT, env: { ...process.env, PONY_LOG_LEVEL: "warn" }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      await waitFor(
        async () => (stdout.includes("effective settings") ? true : undefined),
        20_000,
        "the server",
      );
      expect(stdout).toContain(`"grpcPort":${port}`);
      expect(stdout).toContain(`"dataDir":${JSON.stringify(dataDir)}`);
      const version = await waitFor(async () => {
        const r = await pony(`127.0.0.1:${port}`, ["version"]);
        return r.code === 0 ? ok(r) : undefined;
      }, 20_000);
      expect(version.apiAddress).toBe(`127.0.0.1:${port}`);
      expect(fs.readdirSync(dataDir).length).toBeGreaterThan(0);
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
  });

  it("--help is the server's own help", async () => {
    const r = await runCommand(process.execPath, [PONY_BIN, "server", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: pony server \[options\]/);
    expect(r.stdout).toContain("--grpc-port");
    expect(r.stdout).toContain("PONY_DATA_DIR");
  });

  it("a bad flag is the server's error, exit code 1", async () => {
    const r = await runCommand(process.execPath, [PONY_BIN, "server", "--grpc-port", "many"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/grpc-port/);
  });
});
