/**
 * Runs the `pony` binary (bin/pony.js) as a child process against a test server, the way a user would, and
 * collects its exit code, stdout and stderr. HOME is a fresh directory so no ~/.config/littlehorse.config
 * of the machine leaks in, and no LHC_* variable of the caller's environment either.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { PassThrough } from "node:stream";
import { expect } from "vitest";
import { runCli } from "../src/index";

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(here, "../../..");
export const PONY_BIN = path.join(REPO_ROOT, "packages/cli/bin/pony.js");

export interface PonyResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON */
  json(): any;
}

/** the caller's terminal settings, left out so colour depends only on what a test sets */
const TERMINAL_SETTINGS = new Set(["TERM", "NO_COLOR", "FORCE_COLOR", "COLORTERM"]);

const cleanEnv = (): Record<string, string> => {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || TERMINAL_SETTINGS.has(k)) continue;
    if (!k.startsWith("LHC_") && !k.startsWith("LHW_") && !k.startsWith("PONY_")) env[k] = v;
  }
  return env;
};

let home: string | undefined;
function testHome(): string {
  home ??= fs.mkdtempSync(path.join(os.tmpdir(), "pony-cli-home-"));
  return home;
}

/** Splits "127.0.0.1:PORT" into LHC_API_HOST / LHC_API_PORT. */
export function lhcEnv(address: string): Record<string, string> {
  const i = address.lastIndexOf(":");
  return { LHC_API_HOST: address.slice(0, i), LHC_API_PORT: address.slice(i + 1) };
}

/** Runs a command and waits for it to exit. */
export function runCommand(
  command: string,
  args: readonly string[],
  opts: { env?: Record<string, string>; input?: string; timeoutMs?: number; cwd?: string } = {},
): Promise<PonyResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: opts.cwd ?? REPO_ROOT,
      env: { ...cleanEnv(), HOME: testHome(), ...opts.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 25_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({
        code,
        stdout,
        stderr,
        json() {
          try {
            return JSON.parse(stdout);
          } catch {
            throw new Error(`stdout is not JSON (exit ${code}):\n${stdout}\nstderr:\n${stderr}`);
          }
        },
      });
    });
    child.stdin.on("error", () => undefined); // the child may exit before reading its input
    child.stdin.end(opts.input ?? "");
  });
}

/** `pony <args>` against the server at `address`. */
export function pony(
  address: string,
  args: readonly string[],
  opts: { env?: Record<string, string>; input?: string } = {},
): Promise<PonyResult> {
  return runCommand(process.execPath, [PONY_BIN, ...args], {
    env: { ...lhcEnv(address), ...opts.env },
    input: opts.input,
  });
}

/**
 * `pony <args>` in this process (runCli with captured streams), for tables of cases where starting a
 * process per case adds nothing; the settings are the same LHC_* variables, and an empty config file.
 */
export async function ponyInProcess(address: string, args: readonly string[]): Promise<PonyResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (d: Buffer) => (out += d.toString()));
  stderr.on("data", (d: Buffer) => (err += d.toString()));
  const stdin = new PassThrough();
  stdin.end();
  const emptyConfig = path.join(testHome(), "empty.config");
  fs.writeFileSync(emptyConfig, "");
  const code = await runCli(["--config", emptyConfig, ...args], {
    stdout,
    stderr,
    stdin,
    env: lhcEnv(address),
  });
  return {
    code,
    stdout: out,
    stderr: err,
    json() {
      return JSON.parse(out);
    },
  };
}

/** Asserts success and returns the printed JSON. */
export function ok(r: PonyResult): any {
  expect(r.stderr, `stderr of a successful command`).toBe("");
  expect(r.code).toBe(0);
  return r.json();
}

/** Asserts `error: <CODE>: …` on stderr, nothing on stdout and exit code 1. */
export function failsWith(r: PonyResult, code: string, message?: RegExp | string): void {
  expect(r.stdout).toBe("");
  expect(r.stderr).toMatch(new RegExp(`^error: ${code}: `));
  if (message !== undefined) expect(r.stderr).toMatch(message);
  expect(r.code).toBe(1);
}

/** Asserts a usage error: `error: …` on stderr and exit code 2. */
export function usageError(r: PonyResult, message: RegExp | string): void {
  expect(r.stdout).toBe("");
  expect(r.stderr).toMatch(/^error: /);
  expect(r.stderr).toMatch(message);
  expect(r.code).toBe(2);
}

/** A name no other test uses. */
let counter = 0;
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${++counter}`;
}

/** Writes a JSON file in a fresh temporary directory and returns its path. */
export function jsonFile(name: string, value: unknown): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pony-cli-"));
  const file = path.join(dir, name);
  fs.writeFileSync(file, typeof value === "string" ? value : JSON.stringify(value));
  return file;
}
