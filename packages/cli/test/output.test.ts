/**
 * The CLI's output (issue 14): tables on a terminal — run through a real pseudo-terminal with `script` —
 * with statuses coloured, times as local times and `get wfRun` as a thread tree with current nodes; JSON
 * when piped; `-o table|json` either way; `get wfRun --watch`; `search nodeRun` and the metrics verbs; the
 * bash completion script, run in bash.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { LHConfig, Workflow } from "@pony/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../../test/support/server";
import { lhcEnv, ok, pony, PONY_BIN, runCommand, type PonyResult } from "./support";

let ts: TestServer;
const run = (...args: string[]) => pony(ts.address, args);

/** `pony <args>` with stdout on a pseudo-terminal (util-linux `script`), as a person runs it */
function inTerminal(args: string[], env: Record<string, string> = {}): Promise<PonyResult> {
  const quote = (a: string) => `'${a.replaceAll("'", `'\\''`)}'`;
  const command = [process.execPath, PONY_BIN, ...args].map(quote).join(" ");
  return runCommand("script", ["-qec", command, "/dev/null"], { env: { ...lhcEnv(ts.address), ...env } });
}

const ESC = "\u001b[";
// eslint-disable-next-line no-control-regex
const plain = (s: string) => s.replace(/\u001b\[[0-9;]*[A-Za-z]/g, "").replaceAll("\r", "");

const family = Workflow.newWorkflow("cli-family", (wf) => {
  const child = wf.spawnThread((t) => {
    t.waitForEvent("cli-out-go");
  }, "child");
  wf.waitForThreads(child);
});

const quick = Workflow.newWorkflow("cli-quick", (wf) => {
  wf.declareStr("who");
});

beforeAll(async () => {
  ts = await startTestServer();
  const port = Number(ts.address.split(":")[1]);
  const lh = new LHConfig({ apiHost: "127.0.0.1", apiPort: port, configFile: null, env: {} }).getClient();
  await lh.putExternalEventDef({ name: "cli-out-go" });
  await lh.putTaskDef({ name: "cli-out-task" });
  await lh.putWfSpec(family.compile());
  await lh.putWfSpec(quick.compile());
  await lh.runWf({ wfSpecName: "cli-family", id: "fam-1" });
  await lh.runWf({ wfSpecName: "cli-quick", id: "quick-1" });
  lh.close();
});
afterAll(async () => {
  await ts.close();
});

describe("pony output", () => {
  it("on a terminal, get wfRun is a table: status coloured, local start time, the thread tree with current nodes", async () => {
    const wfRun = ok(await run("get", "wfRun", "fam-1"));
    // no TERM at all (as under a CI runner) still counts as a terminal that takes colour
    const r = await inTerminal(["get", "wfRun", "fam-1"], { TZ: "Etc/GMT-5" });
    expect(r.code).toBe(0);
    // RUNNING in cyan
    expect(r.stdout).toContain(`${ESC}36mRUNNING${ESC}39m`);
    const text = plain(r.stdout);
    expect(text).toMatch(/^WfRun fam-1 {2}cli-family 0\.0 {2}RUNNING$/m);
    // the start time in the terminal's zone (UTC+5 here), not UTC
    const start = new Date(new Date(wfRun.startTime).getTime() + 5 * 3_600_000).toISOString();
    expect(text).toContain(`started ${start.slice(0, 10)} ${start.slice(11, 19)}`);
    expect(text).toMatch(/^ {2}#0 entrypoint {2}RUNNING {2}at 2-threads-WAIT_FOR_THREADS$/m);
    expect(text).toMatch(/^ {2}└─ #1 child {2}RUNNING {2}at 1-cli-out-go-EXTERNAL_EVENT$/m);
  });

  it("NO_COLOR and TERM=dumb leave colours out, FORCE_COLOR colours a pipe; -o json prints JSON on a terminal too", async () => {
    const r = await inTerminal(["get", "wfRun", "quick-1"], { NO_COLOR: "1", TERM: "xterm-256color" });
    expect(r.stdout).not.toContain(ESC);
    expect(r.stdout).toMatch(/WfRun quick-1 {2}cli-quick 0\.0 {2}COMPLETED/);
    const dumb = await inTerminal(["get", "wfRun", "quick-1"], { TERM: "dumb" });
    expect(dumb.stdout).not.toContain(ESC);
    expect(dumb.stdout).toMatch(/WfRun quick-1 {2}cli-quick 0\.0 {2}COMPLETED/);
    const xterm = await inTerminal(["get", "wfRun", "quick-1"], { TERM: "xterm-256color" });
    expect(xterm.stdout).toContain(`${ESC}32mCOMPLETED${ESC}39m`);
    const forced = await pony(ts.address, ["-o", "table", "get", "wfRun", "quick-1"], {
      env: { FORCE_COLOR: "1" },
    });
    expect(forced.stdout).toContain(`${ESC}32mCOMPLETED${ESC}39m`);
    const json = await inTerminal(["-o", "json", "get", "wfRun", "quick-1"]);
    expect(JSON.parse(plain(json.stdout)).status).toBe("COMPLETED");
  });

  it("piped, results are JSON; -o table prints the table without colours", async () => {
    expect(ok(await run("list", "nodeRun", "quick-1")).results).toHaveLength(2);
    const t = await run("-o", "table", "list", "nodeRun", "quick-1");
    expect(t.code).toBe(0);
    expect(t.stdout).not.toContain(ESC);
    const lines = t.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^THREAD {2}POS {2}NODE +STATUS +ARRIVED +ENDED +TOOK$/);
    expect(lines[1]).toMatch(/^0 +0 +0-entrypoint-ENTRYPOINT +COMPLETED +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
    expect(lines[2]).toMatch(/^0 +1 +1-exit-EXIT +COMPLETED/);
    // TOOK: the NodeRun's duration, as a person reads it
    expect(lines[1]).toMatch(/ (\d+ms|\d+\.\ds)$/);
    const ids = await run("-o", "table", "search", "wfRun", "--wfSpecName", "cli-quick");
    expect(ids.stdout.split("\n")[0]).toBe("ID");
    expect(ids.stdout.split("\n")[1]).toBe("quick-1");
    const vars = await run("-o", "table", "list", "variable", "quick-1");
    expect(vars.stdout).toMatch(/^THREAD {2}NAME {2}VALUE$/m);
    expect(vars.stdout).toMatch(/^0 +who +-$/m);
    const bad = await run("-o", "yaml", "get", "wfRun", "quick-1");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/'yaml' is invalid. Allowed choices are table, json/);
  });

  it("get wfRun --watch follows a WfRun until it ends: exit 0 when it COMPLETED", async () => {
    const port = Number(ts.address.split(":")[1]);
    const lh = new LHConfig({ apiHost: "127.0.0.1", apiPort: port, configFile: null, env: {} }).getClient();
    await lh.runWf({ wfSpecName: "cli-family", id: "fam-watch" });
    const watching = run("get", "wfRun", "fam-watch", "--watch", "--interval", "0.1");
    await new Promise((r) => setTimeout(r, 1200));
    await lh.putExternalEvent({ wfRunId: { id: "fam-watch" }, externalEventDefId: { name: "cli-out-go" } });
    const r = await watching;
    lh.close();
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    // one JSON document per state it saw: the first RUNNING, the last COMPLETED
    const docs = r.stdout.split(/\n(?=\{)/).map((d) => JSON.parse(d));
    expect(docs.length).toBeGreaterThanOrEqual(2);
    expect(docs[0].status).toBe("RUNNING");
    expect(docs.at(-1).status).toBe("COMPLETED");
  });

  it("-o table lists a WfRun's ExternalEvents one row each", async () => {
    const r = await run("-o", "table", "list", "externalEvent", "fam-watch");
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^EXTERNALEVENTDEF +GUID +CLAIMED +CREATED +CONTENT$/);
    expect(lines[1]).toMatch(/^cli-out-go +[0-9a-f]+ +yes +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
  });

  it("get wfRun --watch of a WfRun that ends in ERROR exits 1 saying so", async () => {
    const port = Number(ts.address.split(":")[1]);
    const lh = new LHConfig({ apiHost: "127.0.0.1", apiPort: port, configFile: null, env: {} }).getClient();
    await lh.putWfSpec(
      Workflow.newWorkflow("cli-fails-fast", (wf) => {
        wf.fail("boom", "it fails");
      }).compile(),
    );
    await lh.runWf({ wfSpecName: "cli-fails-fast", id: "fails-1" });
    lh.close();
    const r = await run("-o", "table", "get", "wfRun", "fails-1", "--watch", "--interval", "0.1");
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/WfRun fails-1 {2}cli-fails-fast 0\.0 {2}EXCEPTION/);
    expect(r.stderr).toMatch(/^error: WfRun 'fails-1' ended EXCEPTION/);
  });

  it("search nodeRun, and the metrics verbs of TaskDefs and WfSpecs", async () => {
    const nodes = ok(await run("search", "nodeRun", "--nodeType", "EXTERNAL_EVENT", "--status", "RUNNING"));
    expect(nodes.results).toContainEqual({ wfRunId: { id: "fam-1" }, threadRunNumber: 1, position: 1 });
    const window = ok(await run("get", "wfSpecMetrics", "cli-quick", "0", "0", "DAYS_1"));
    expect(Number(window.totalStarted)).toBeGreaterThanOrEqual(1);
    const windows = ok(await run("list", "wfSpecMetrics", "cli-quick", "0", "0", "HOURS_2", "3"));
    expect(windows.results).toHaveLength(3);
    const table = await run("-o", "table", "list", "wfSpecMetrics", "cli-quick", "0", "0", "HOURS_2", "3");
    expect(table.stdout.split("\n")[0]).toMatch(/^WINDOW +START +SCHEDULED +STARTED +COMPLETED +ERRORED/);
    expect(ok(await run("get", "taskDefMetrics", "cli-out-task", "MINUTES_5")).taskDefId).toEqual({
      name: "cli-out-task",
    });
    expect(ok(await run("list", "taskDefMetrics", "cli-out-task", "MINUTES_5", "2")).results).toHaveLength(2);
  });

  it("pony completion bash completes commands, subcommands, options and -o's values in bash", async () => {
    const script = await run("completion", "bash");
    expect(script.code).toBe(0);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pony-completion-"));
    const file = path.join(dir, "pony.bash");
    fs.writeFileSync(file, script.stdout);
    const probe = `source ${file}
t() { COMP_WORDS=("$@"); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _pony; echo "\${COMPREPLY[*]}"; }
t pony ge
t pony get w
t pony -o ""
t pony get wfRun x --w
t pony sched`;
    const r = await runCommand("bash", ["-c", probe]);
    fs.rmSync(dir, { recursive: true, force: true });
    expect(r.stdout.split("\n").slice(0, 5)).toEqual([
      "get",
      "wfRun wfSpec workflowEventDef workflowEvent wfSpecMetrics",
      "table json",
      "--watch",
      "schedule",
    ]);
  });

  it("pony completion zsh completes in a real interactive zsh, driven through a pseudo-terminal (zpty)", async () => {
    const script = await run("completion", "zsh");
    expect(script.code).toBe(0);
    expect(script.stdout).toMatch(/^#compdef pony\n/);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pony-completion-"));
    const file = path.join(dir, "pony.zsh");
    fs.writeFileSync(file, script.stdout);
    // an interactive zsh on a pseudo-terminal: each line is typed with a Tab, then the completed line is
    // printed (Ctrl-A, "print -r -- DONE: ", Enter); keys typed ahead are taken in order after the completion.
    // The emacs keymap for Ctrl-A (zsh picks vi's when $EDITOR names vi).
    const driver = `zmodload zsh/zpty
zpty z 'zsh -f -i'
zpty -w z 'autoload -U compinit && compinit -u -D; source ${file}; PS1="> "; unsetopt beep; bindkey -e'
for typed in 'pony sched' 'pony get wfR' 'pony -o ta' 'pony get wfRun x --wa'; do
  zpty -w -n z "$typed"$'\\t\\C-aprint -r -- DONE: \\n'
done
zpty -w z 'print -r -- ALL''DONE'
out=""
for i in {1..200}; do
  while zpty -r -t z line; do out+=$line; done
  [[ $out == *ALLDONE* ]] && break
  sleep 0.1
done
print -r -- "$out" | tr -d '\\r' | grep -a '^DONE:'
zpty -d z`;
    const r = await runCommand("zsh", ["-f", "-c", driver]);
    fs.rmSync(dir, { recursive: true, force: true });
    expect(r.stdout.trim().split("\n")).toEqual([
      "DONE: pony schedule",
      "DONE: pony get wfRun",
      "DONE: pony -o table",
      "DONE: pony get wfRun x --watch",
    ]);
  });
});
