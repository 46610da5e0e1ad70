/**
 * The `pony` command line: commander 14, lhctl's verbs and shapes. `runCli(argv, io)` parses and runs one
 * command and returns the exit code:
 *
 *   0  done (the result, if any, is on stdout: a table on a terminal, pretty protobuf JSON when piped or with
 *      `-o json`; see output/)
 *   1  the server answered with an error (`error: <STATUS_CODE>: <message>` on stderr) or the command failed
 *   2  the command was called wrongly (unknown command or option, a value that does not fit its type, …)
 */
import { Command, CommanderError, Option } from "commander";
import { LHApiError, LHConfigError } from "@pony/sdk";
import { seconds } from "./args";
import { CliContext, CliUsageError, type CliIO, type GlobalOptions } from "./context";
import { registerCompletionCommand } from "./commands/completion";
import { registerDeleteCommand } from "./commands/delete";
import { registerDeployCommand } from "./commands/deploy";
import { registerGetCommand } from "./commands/get";
import { clientVersion, registerInfoCommands } from "./commands/info";
import { registerListCommand } from "./commands/list";
import { registerMetricsCommands } from "./commands/metrics";
import { registerMigrateCommand } from "./commands/migrate";
import { registerRunCommand } from "./commands/run";
import { registerScheduleCommand } from "./commands/schedule";
import { registerSearchCommand } from "./commands/search";
import { registerServerCommand } from "./commands/server";
import { registerUserTaskCommands } from "./commands/user-tasks";
import { registerWfRunCommands } from "./commands/wf-run";

export const DEFAULT_TIMEOUT_SECONDS = 30;

/** Builds the program; its actions print through `ctx`. */
export function buildProgram(ctx: CliContext, io: CliIO): Command {
  const program = new Command("pony")
    .description("Pony's command line: start a server, or talk to one with lhctl's verbs.")
    .version(clientVersion(), "-V, --cli-version", "print the version of this CLI")
    .option("-c, --config <file>", "a littlehorse.config properties file")
    .option("--timeout <seconds>", "give up on a call after this long", seconds, DEFAULT_TIMEOUT_SECONDS)
    .addOption(
      new Option(
        "-o, --output <format>",
        "table or json (default: a table on a terminal, JSON when piped)",
      ).choices(["table", "json"]),
    )
    .enablePositionalOptions()
    .showHelpAfterError("(add --help for usage)")
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .exitOverride();
  program.addHelpText(
    "after",
    `
Global options go before the command: pony --timeout 5 -o json get wfRun my-run
Results print as tables on a terminal and as protobuf JSON when piped; -o table|json chooses.
Every command has --help, e.g. pony get --help, pony get wfRun --help.

The server is localhost:2023 unless LittleHorse's client settings say otherwise: LHC_API_HOST,
LHC_API_PORT, LHC_API_PROTOCOL, LHC_TENANT_ID, LHC_CA_CERT, LHC_CLIENT_CERT, LHC_CLIENT_KEY and
LHC_OAUTH_*, from the environment or ~/.config/littlehorse.config (or --config).`,
  );

  registerServerCommand(program);
  registerInfoCommands(program, ctx);
  registerDeployCommand(program, ctx);
  registerGetCommand(program, ctx);
  registerListCommand(program, ctx);
  registerSearchCommand(program, ctx);
  registerMetricsCommands(subcommand(program, "get"), subcommand(program, "list"), ctx);
  registerRunCommand(program, ctx);
  registerScheduleCommand(program, ctx);
  registerMigrateCommand(program, ctx);
  registerWfRunCommands(program, ctx);
  registerDeleteCommand(program, ctx);
  registerUserTaskCommands(program, ctx);
  // last: its script lists every command above
  registerCompletionCommand(program, ctx);
  return program;
}

function subcommand(program: Command, name: string): Command {
  const found = program.commands.find((c) => c.name() === name);
  if (!found) throw new Error(`no command '${name}'`);
  return found;
}

/** lhctl writes `stop wfRun <id>` and `execute userTaskRun <id> <guid>`: accept its noun, too. */
const LHCTL_NOUNS: Record<string, string> = {
  stop: "wfRun",
  resume: "wfRun",
  rescue: "wfRun",
  assign: "userTaskRun",
  execute: "userTaskRun",
  cancel: "userTaskRun",
};

const GLOBAL_OPTIONS_WITH_VALUE = new Set(["-c", "--config", "--timeout", "-o", "--output"]);

/** Drops lhctl's noun after the verbs that have none here (`stop wfRun x` → `stop x`). */
export function normalizeArgv(argv: readonly string[]): string[] {
  const out = [...argv];
  let i = 0;
  while (i < out.length && out[i]!.startsWith("-")) i += GLOBAL_OPTIONS_WITH_VALUE.has(out[i]!) ? 2 : 1;
  const verb = out[i];
  if (verb !== undefined && LHCTL_NOUNS[verb] !== undefined && out[i + 1] === LHCTL_NOUNS[verb]) {
    const rest = out.slice(i + 2);
    if (rest.some((a) => !a.startsWith("-"))) out.splice(i + 1, 1);
  }
  return out;
}

/** The text printed for a failed command (stderr), and its exit code. */
export function describeError(e: unknown, apiAddress: string | undefined): { text: string; code: number } {
  if (e instanceof LHApiError) {
    let text = `error: ${e.code}: ${e.details}`;
    if (e.code === "UNAVAILABLE") {
      text +=
        `\n(no Pony server answered at ${apiAddress ?? "the configured address"}: start one with \`pony server\`` +
        ` or \`npm start\`, or set LHC_API_HOST / LHC_API_PORT)`;
    }
    return { text, code: 1 };
  }
  if (e instanceof CliUsageError) return { text: `error: ${e.message}`, code: 2 };
  if (e instanceof LHConfigError) return { text: `error: settings: ${e.message}`, code: 2 };
  return { text: `error: ${e instanceof Error ? e.message : String(e)}`, code: 1 };
}

/** Runs one command line (without `node pony`); resolves with the exit code. */
export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  // the global options are read when a command first needs the settings, after parsing
  const ctx = new CliContext(io, () => {
    const opts = program.opts<GlobalOptions>();
    return { config: opts.config, timeout: opts.timeout, output: opts.output };
  });
  const program = buildProgram(ctx, io);
  try {
    await program.parseAsync(normalizeArgv(argv), { from: "user" });
    return 0;
  } catch (e) {
    // commander printed its own message (usage errors) or the help / version text
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    let address: string | undefined;
    try {
      address = ctx.config().apiAddress;
    } catch {
      address = undefined;
    }
    const { text, code } = describeError(e, address);
    io.stderr.write(`${text}\n`);
    return code;
  } finally {
    ctx.close();
  }
}
