/** `pony version` and `pony whoami`. */
import fs from "node:fs";
import { toJson } from "@bufbuild/protobuf";
import { PrincipalSchema, ServerVersionResponseSchema } from "@pony/proto";
import { principalTable } from "../acls";
import type { Command } from "commander";
import type { CliContext } from "../context";

/** The version of this CLI (packages/cli/package.json). */
export function clientVersion(): string {
  const pkg = JSON.parse(fs.readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version?: string;
  };
  return pkg.version ?? "unknown";
}

export function registerInfoCommands(program: Command, ctx: CliContext): void {
  program
    .command("version")
    .description("print the version of this CLI and of the server (GetServerVersion)")
    .action(async () => {
      const res = await ctx.call("getServerVersion", {});
      const server =
        `${res.majorVersion}.${res.minorVersion}.${res.patchVersion}` +
        (res.preReleaseIdentifier ? `-${res.preReleaseIdentifier}` : "");
      ctx.printJson({
        clientVersion: clientVersion(),
        serverVersion: server,
        server: toJson(ServerVersionResponseSchema, res, { alwaysEmitImplicit: true }),
        apiAddress: ctx.config().apiAddress,
      });
    });

  program
    .command("whoami")
    .description("show the Principal the server sees for these settings and its ACLs, as a table (Whoami)")
    .option("--json", "print the Principal as protobuf JSON instead")
    .addHelpText(
      "after",
      `
Example:
  principal  anonymous  (created 2026-12-06 06:30:12 UTC)
  SCOPE   RESOURCES          ACTIONS      FILTER
  global  ACL_ALL_RESOURCES  ALL_ACTIONS  -`,
    )
    .action(async (opts: { json?: boolean }) => {
      const principal = await ctx.call("whoami", {});
      if (opts.json || ctx.outputOption() === "json") ctx.printMessage(PrincipalSchema, principal);
      else ctx.io.stdout.write(principalTable(principal));
    });
}
