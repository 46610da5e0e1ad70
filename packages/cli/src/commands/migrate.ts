/**
 * `pony migrate wfSpec <name> <major> <revision> <file>`: moves the live WfRuns of one WfSpec version onto a
 * newer one (MigrateWfSpec) with the WfSpecVersionMigration in <file>, and prints the old WfSpec with its
 * `migration`. WfRuns that could not move are named in the server's FAILED_PRECONDITION answer.
 */
import { WfSpecVersionMigrationSchema, type WfSpecVersionMigration } from "@pony/proto";
import type { Command } from "commander";
import { int32 } from "../args";
import type { CliContext } from "../context";
import { readRequest } from "./deploy";

export function registerMigrateCommand(program: Command, ctx: CliContext): void {
  const migrate = program.command("migrate").description("move live WfRuns onto a newer version");
  migrate
    .command("wfSpec")
    .description("move the RUNNING and HALTED WfRuns of a WfSpec version to a newer one (MigrateWfSpec)")
    .argument("<name>", "the WfSpec's name")
    .argument("<majorVersion>", "the old version's major version", int32)
    .argument("<revision>", "the old version's revision", int32)
    .argument("<file>", "a JSON file with the WfSpecVersionMigration (protobuf JSON); - reads stdin")
    .addHelpText(
      "after",
      `
Example file (version 0.0 → 0.1, a thread waiting at node 2-wait moves to 2-wait-v2):
  { "newMajorVersion": 0, "newRevision": 1,
    "threadSpecMigrations": { "entrypoint": { "newThreadSpecName": "entrypoint",
      "nodeMigrations": { "2-wait": { "newNodeName": "2-wait-v2" } } } } }`,
    )
    .action(async (name: string, majorVersion: number, revision: number, file: string) => {
      const migration = readRequest(file, WfSpecVersionMigrationSchema) as WfSpecVersionMigration;
      await ctx.show("migrateWfSpec", { oldWfSpec: { name, majorVersion, revision }, migration });
    });
}
