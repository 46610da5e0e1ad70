/**
 * `pony deploy <kind> <file.json>`: sends the Put*Request in a file (protobuf JSON; `-` reads stdin) and
 * prints what the server stored.
 */
import fs from "node:fs";
import { fromJson, type DescMessage, type JsonValue } from "@bufbuild/protobuf";
import {
  PutExternalEventDefRequestSchema,
  PutTaskDefRequestSchema,
  PutUserTaskDefRequestSchema,
  PutWfSpecRequestSchema,
  PutWorkflowEventDefRequestSchema,
} from "@pony/proto";
import type { LHUnaryMethodName } from "@pony/sdk";
import type { Command } from "commander";
import { CliUsageError, type CliContext } from "../context";

interface DeployKind {
  kind: string;
  schema: DescMessage;
  rpc: LHUnaryMethodName;
  example: string;
}

const KINDS: DeployKind[] = [
  {
    kind: "taskDef",
    schema: PutTaskDefRequestSchema,
    rpc: "putTaskDef",
    example: `{ "name": "greet", "inputVars": [{ "name": "name", "type": "STR" }] }`,
  },
  {
    kind: "wfSpec",
    schema: PutWfSpecRequestSchema,
    rpc: "putWfSpec",
    example: `{ "name": "hello", "entrypointThreadName": "entrypoint", "threadSpecs": { … } }`,
  },
  {
    kind: "externalEventDef",
    schema: PutExternalEventDefRequestSchema,
    rpc: "putExternalEventDef",
    example: `{ "name": "payment-received" }`,
  },
  {
    kind: "workflowEventDef",
    schema: PutWorkflowEventDefRequestSchema,
    rpc: "putWorkflowEventDef",
    example: `{ "name": "order-done", "type": "STR" }`,
  },
  {
    kind: "userTaskDef",
    schema: PutUserTaskDefRequestSchema,
    rpc: "putUserTaskDef",
    example: `{ "name": "approve", "fields": [{ "name": "ok", "type": "BOOL", "displayName": "OK?" }] }`,
  },
];

/** Reads a file (or stdin for "-") and parses it as protobuf JSON of `schema`. */
export function readRequest(file: string, schema: DescMessage): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file === "-" ? 0 : file, "utf8");
  } catch (e) {
    throw new CliUsageError(`cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  let json: JsonValue;
  try {
    json = JSON.parse(text) as JsonValue;
  } catch (e) {
    throw new CliUsageError(`${file} is not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  try {
    return fromJson(schema, json);
  } catch (e) {
    throw new CliUsageError(
      `${file} is not a ${schema.name} in protobuf JSON: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}

export function registerDeployCommand(program: Command, ctx: CliContext): void {
  const deploy = program
    .command("deploy")
    .description("create or update metadata from a JSON file holding the Put*Request (protobuf JSON)");
  for (const k of KINDS) {
    deploy
      .command(k.kind)
      .description(`${k.rpc[0]!.toUpperCase()}${k.rpc.slice(1)} with the ${k.schema.name} in <file>`)
      .argument("<file>", `a JSON file (${k.schema.name}); - reads stdin`)
      .addHelpText("after", `\nExample file:\n  ${k.example}`)
      .action(async (file: string) => {
        const req = readRequest(file, k.schema);
        await ctx.show(k.rpc, req as never);
      });
  }
}
