#!/usr/bin/env node
// The `pony` command. It runs the TypeScript sources of @pony/cli through tsx, so there is no build step.
import process from "node:process";
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/main.ts");
await main(process.argv.slice(2));
