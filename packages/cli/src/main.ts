/** The entry of the `pony` command (bin/pony.js): runs the command line and sets the exit code. */
import { runCli } from "./program";

export async function main(argv: string[]): Promise<void> {
  const code = await runCli(argv, {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
  });
  // `pony server` keeps running (its listener holds the process); other commands end when their work is done
  if (code !== 0) process.exitCode = code;
}
