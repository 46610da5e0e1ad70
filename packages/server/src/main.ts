/** `npm start` / `pony server`: starts a Pony server with its embedded store. */
import { PonyServer } from "./server";
import { loadSettings, settingsHelp } from "./settings";

export async function main(argv: string[]): Promise<void> {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(
      `Usage: pony server [options]\n\nOptions (flag, environment variable):\n  --config FILE${" ".repeat(22)}PONY_CONFIG${" ".repeat(28)}JSON file of settings\n${settingsHelp()}`,
    );
    return;
  }
  const settings = loadSettings(argv);
  console.log(`pony: effective settings ${JSON.stringify(settings)}`);
  const server = await PonyServer.start(settings);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.log.info({ signal }, "shutting down");
    // the drain is bounded: whatever still hangs then (a store that does not answer) is left; what was
    // acknowledged is committed already
    setTimeout(() => {
      server.log.error(
        { limitSeconds: settings.shutdownTimeoutSeconds },
        "shutdown did not finish in time (--shutdown-timeout-seconds): exiting anyway",
      );
      process.exit(1);
    }, settings.shutdownTimeoutSeconds * 1000).unref();
    server.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(`pony: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  });
}
