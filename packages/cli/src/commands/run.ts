/**
 * `pony run <wfSpecName> [<var> <value>]…`: starts a WfRun. Each value is read as the type its variable has
 * in the WfSpec's entrypoint thread (fetched first with GetLatestWfSpec / GetWfSpec), so `age 42` is an INT
 * when `age` is an INT and a STR when it is a STR.
 */
import { VariableType, type ThreadVarDef, type VariableValue, type WfSpec } from "@pony/proto";
import { Option, type Command } from "commander";
import { int32 } from "../args";
import { CliUsageError, type CliContext } from "../context";
import { parseValue, typeName, ValueError } from "../values";

/** The declared type of a variable (its `type`, else its TypeDefinition's primitive type). */
export function varDefType(def: ThreadVarDef): VariableType | undefined {
  const v = def.varDef;
  if (v === undefined) return undefined;
  if (v.type !== undefined) return v.type;
  const t = v.typeDef?.definedType;
  return t?.case === "primitiveType" ? t.value : undefined;
}

/** The variables of the WfSpec's entrypoint thread, by name. */
export function entrypointVariables(wfSpec: WfSpec): Map<string, VariableType | undefined> {
  const thread = wfSpec.threadSpecs[wfSpec.entrypointThreadName];
  const out = new Map<string, VariableType | undefined>();
  for (const def of thread?.variableDefs ?? []) {
    if (def.varDef) out.set(def.varDef.name, varDefType(def));
  }
  return out;
}

function checkPairs(pairs: readonly string[]): void {
  if (pairs.length % 2 !== 0) {
    throw new CliUsageError(
      `variables come in pairs: <name> <value> (got ${pairs.length} ${pairs.length === 1 ? "word" : "words"}: ${pairs.join(" ")})`,
    );
  }
}

/** `[name, value, name, value, …]` → the RunWfRequest variables, typed by the WfSpec. */
export function typedVariables(wfSpec: WfSpec, pairs: readonly string[]): Record<string, VariableValue> {
  checkPairs(pairs);
  const declared = entrypointVariables(wfSpec);
  const specName = `WfSpec '${wfSpec.id?.name}' ${wfSpec.id?.majorVersion}.${wfSpec.id?.revision}`;
  const out: Record<string, VariableValue> = {};
  for (let i = 0; i < pairs.length; i += 2) {
    const name = pairs[i]!;
    const text = pairs[i + 1]!;
    if (!declared.has(name)) {
      const known = [...declared.keys()];
      throw new CliUsageError(
        `${specName} has no variable '${name}' in its entrypoint thread` +
          (known.length ? ` (it has: ${known.join(", ")})` : " (it has none)"),
      );
    }
    if (Object.hasOwn(out, name)) throw new CliUsageError(`variable '${name}' is given twice`);
    const type = declared.get(name) ?? VariableType.JSON_OBJ;
    try {
      out[name] = parseValue(text, type);
    } catch (e) {
      if (e instanceof ValueError) {
        throw new CliUsageError(`variable '${name}' is ${article(typeName(type))}: ${e.message}`);
      }
      throw e;
    }
  }
  return out;
}

/**
 * `[name, value, …]` typed by the entrypoint variables of the WfSpec version that would run (the latest, the
 * latest of a major version, or one version), fetched only when there are variables to type.
 */
export async function wfSpecVariables(
  ctx: CliContext,
  name: string,
  majorVersion: number | undefined,
  revision: number | undefined,
  pairs: readonly string[],
): Promise<Record<string, VariableValue>> {
  checkPairs(pairs); // before any call
  if (pairs.length === 0) return {};
  const wfSpec =
    majorVersion !== undefined && revision !== undefined
      ? await ctx.call("getWfSpec", { name, majorVersion, revision })
      : await ctx.call("getLatestWfSpec", { name, majorVersion });
  return typedVariables(wfSpec, pairs);
}

function article(name: string): string {
  return `${/^[AEIOU]/.test(name) ? "an" : "a"} ${name}`;
}

export function registerRunCommand(program: Command, ctx: CliContext): void {
  program
    .command("run")
    .description("run a WfSpec (RunWf); variable values are typed by the WfSpec's entrypoint variables")
    .argument("<wfSpecName>", "the WfSpec to run")
    .argument("[variables...]", "<name> <value> pairs")
    .option("--id <wfRunId>", "the new WfRun's id (default: a random id)")
    .option("--major <n>", "run this major version (default: the latest)", int32)
    .option("--revision <n>", "run this revision of --major (default: its latest)", int32)
    .addOption(new Option("--wfRunId <wfRunId>", "lhctl's name for --id").hideHelp())
    .addOption(new Option("--majorVersion <n>", "lhctl's name for --major").argParser(int32).hideHelp())
    .addHelpText(
      "after",
      `
Values: STR as is, INT and DOUBLE numbers, BOOL true/false, JSON_OBJ / JSON_ARR JSON text, BYTES base64.
Example:
  pony run greeting name Ada age 36 tags '["a","b"]' --id my-run`,
    )
    .action(
      async (
        wfSpecName: string,
        vars: string[],
        opts: { id?: string; wfRunId?: string; major?: number; majorVersion?: number; revision?: number },
      ) => {
        const majorVersion = opts.major ?? opts.majorVersion;
        if (opts.revision !== undefined && majorVersion === undefined) {
          throw new CliUsageError("--revision needs --major");
        }
        const variables = await wfSpecVariables(ctx, wfSpecName, majorVersion, opts.revision, vars);
        await ctx.show("runWf", {
          wfSpecName,
          majorVersion,
          revision: opts.revision,
          id: opts.id ?? opts.wfRunId,
          variables,
        });
      },
    );
}
