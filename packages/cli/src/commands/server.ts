/**
 * `pony server [flags]`: the same as `npm start`. The flags go to the server untouched (see
 * `pony server --help`); the server is loaded only for this command.
 */
import type { Command } from "commander";

export function registerServerCommand(program: Command): void {
  program
    .command("server")
    .description("start a Pony server (same as `npm start`; `pony server --help` lists its flags)")
    .argument("[flags...]", "server flags, e.g. --grpc-port 2023 --data-dir ./.pony")
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .passThroughOptions()
    .action(async (flags: string[]) => {
      const { serverMain } = await import("@pony/server");
      await serverMain(flags);
    });
}
