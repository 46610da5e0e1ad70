/** `pony version` and `pony whoami`. */
import fs from "node:fs";
import { toJson } from "@bufbuild/protobuf";
import { ServerVersionResponseSchema } from "@pony/proto";
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
    .description("print the Principal the server sees for these settings (Whoami)")
    .action(async () => {
      await ctx.show("whoami", {});
    });
}
