/**
 * `pony deploy <kind> <file.json>`: sends the Put*Request in a file (protobuf JSON; `-` reads stdin) and
 * prints what the server stored. `pony deploy tenant <id>` and `pony deploy principal <id> [--acl …]` build
 * their requests from the command line (a principal's may come from a file too).
 */
import fs from "node:fs";
import { fromJson, type DescMessage, type JsonValue } from "@bufbuild/protobuf";
import {
  PutExternalEventDefRequestSchema,
  PutPrincipalRequestSchema,
  PutTaskDefRequestSchema,
  PutUserTaskDefRequestSchema,
  PutWfSpecRequestSchema,
  PutWorkflowEventDefRequestSchema,
  type PutPrincipalRequest,
} from "@pony/proto";
import type { LHUnaryMethodName } from "@pony/sdk";
import type { Command } from "commander";
import { ACL_SPEC_HELP, ADMIN_ACL, parseAclSpec, parseTenantAcl, type ServerACLInit } from "../acls";
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
    .description(
      "create or update metadata from a JSON file holding the Put*Request (protobuf JSON); create tenants and principals",
    );
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
  registerSecurityDeployCommands(deploy, ctx);
}

interface PrincipalOptions {
  acl?: ServerACLInit[];
  tenantAcl?: { tenant: string; acl: ServerACLInit }[];
  admin?: boolean;
  overwrite?: boolean;
  file?: string;
}

const PRINCIPAL_HELP = `
An ACL spec is ${ACL_SPEC_HELP}; the lists are comma-separated.
  resources  ACL_WORKFLOW, ACL_TASK, ACL_EXTERNAL_EVENT, ACL_USER_TASK, ACL_PRINCIPAL, ACL_TENANT,
             ACL_TASK_WORKER_GROUP, ACL_ALL_RESOURCES, or the same without ACL_ (workflow, task,
             external_event, user_task, principal, tenant, task_worker_group), or all
  actions    READ, RUN, WRITE_METADATA, ALL_ACTIONS, or read, run, write_metadata, all
  filter     name=<name> (that object only) or prefix=<prefix> (names starting with it); none: every name
Words may be in any case. ACL_PRINCIPAL and ACL_TENANT may only be granted by --acl (they are global).

Examples:
  pony deploy principal ci-bot --acl task:read,run --acl workflow:run:prefix=billing-
  pony deploy principal ada --tenant-acl finance=ACL_USER_TASK:ALL_ACTIONS --tenant-acl finance=workflow:read
  pony deploy principal ops-admin --admin
  pony deploy principal ci-bot --acl task:all --overwrite
  pony deploy principal --file ci-bot.json       # {"id": "ci-bot", "globalAcls": {"acls": [ … ]}}`;

/** Builds the PutPrincipalRequest from the options (or the file) of `pony deploy principal`. */
export function principalRequest(id: string | undefined, opts: PrincipalOptions): unknown {
  if (opts.file !== undefined) {
    if (opts.acl !== undefined || opts.tenantAcl !== undefined || opts.admin) {
      throw new CliUsageError(
        "--file holds the whole request: give its ACLs in the file, not with --acl, --tenant-acl or --admin",
      );
    }
    const req = readRequest(opts.file, PutPrincipalRequestSchema) as PutPrincipalRequest;
    if (id !== undefined && req.id !== "" && req.id !== id) {
      throw new CliUsageError(`the id '${id}' is not the id in ${opts.file} ('${req.id}')`);
    }
    if (id !== undefined) req.id = id;
    if (req.id === "")
      throw new CliUsageError(`give the principal's id: as an argument or as "id" in ${opts.file}`);
    if (opts.overwrite) req.overwrite = true;
    return req;
  }
  if (id === undefined) throw new CliUsageError("missing required argument 'id' (or give --file)");
  const globalAcls = [...(opts.admin ? [ADMIN_ACL] : []), ...(opts.acl ?? [])];
  const perTenantAcls: Record<string, { acls: ServerACLInit[] }> = {};
  for (const { tenant, acl } of opts.tenantAcl ?? []) (perTenantAcls[tenant] ??= { acls: [] }).acls.push(acl);
  return { id, globalAcls: { acls: globalAcls }, perTenantAcls, overwrite: opts.overwrite ?? false };
}

/** A commander parser that collects each use of a repeatable option. */
function collect<T>(parse: (value: string) => T): (value: string, previous: T[] | undefined) => T[] {
  return (value, previous) => [...(previous ?? []), parse(value)];
}

export function registerSecurityDeployCommands(deploy: Command, ctx: CliContext): void {
  deploy
    .command("tenant")
    .description("PutTenant: create a Tenant")
    .argument("<id>", "the tenant's id: letters, digits, '.', '_' and '-'")
    .action(async (id: string) => {
      await ctx.show("putTenant", { id });
    });

  deploy
    .command("principal")
    .description("PutPrincipal: create a Principal, or change its ACLs with --overwrite")
    .argument("[id]", "the principal's id (an OAuth client id or user id, or a certificate's CN)")
    .option("--acl <spec>", "a global ACL, in every tenant (repeatable)", collect(parseAclSpec))
    .option("--tenant-acl <tenant=spec>", "an ACL in one tenant (repeatable)", collect(parseTenantAcl))
    .option("--admin", "make it an admin: ALL_ACTIONS over ACL_ALL_RESOURCES in the global ACLs")
    .option("--overwrite", "replace the ACLs of an existing principal (else a change is ALREADY_EXISTS)")
    .option(
      "--file <file>",
      "the whole PutPrincipalRequest in protobuf JSON instead of the ACL options; - reads stdin",
    )
    .addHelpText("after", PRINCIPAL_HELP)
    .action(async (id: string | undefined, opts: PrincipalOptions) => {
      await ctx.show("putPrincipal", principalRequest(id, opts) as never);
    });
}
