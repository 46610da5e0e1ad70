/**
 * @pony/cli: the `pony` command (bin/pony.js runs src/main.ts). Exported for tests and for embedding.
 */
export { main } from "./main";
export { runCli, buildProgram, normalizeArgv, describeError, DEFAULT_TIMEOUT_SECONDS } from "./program";
export { CliContext, CliUsageError, type CliIO, type GlobalOptions } from "./context";
export { parseValue, parseTypeName, typeName, ValueError } from "./values";
export { parseWfRunId, time } from "./args";
export { parseAclSpec, parseTenantAcl, principalTable, columns, formatTime } from "./acls";
export { principalRequest } from "./commands/deploy";
export { LineReader, promptForFields, promptText, fieldQuestion } from "./prompt";
export { typedVariables, entrypointVariables } from "./commands/run";
export { eventContent } from "./commands/wf-run";
