#!/usr/bin/env node
// The `pony` command. It runs the TypeScript sources of @pony/cli through tsx, so there is no build step.
import process from "node:process";
import { register } from "tsx/esm/api";

// grpc-js gives TLS the host as server name even when it is an IP address (grpc/grpc-node#1919), and Node
// warns about that (DEP0123) on every TLS connection to e.g. 127.0.0.1: noise on the CLI's stderr.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (warning, ...rest) => {
  const code = typeof rest[0] === "object" && rest[0] !== null ? rest[0].code : rest[1];
  if (code === "DEP0123") return;
  emitWarning(warning, ...rest);
};

register();
const { main } = await import("../src/main.ts");
await main(process.argv.slice(2));
