/**
 * ACLs on the command line: `--acl` / `--tenant-acl` specs → ServerACL (for `pony deploy principal`), and a
 * Principal → the readable table `pony whoami` prints.
 *
 * A spec is `<resources>:<actions>[:name=<name>|:prefix=<prefix>]`, lists comma-separated:
 *
 *   ACL_TASK:READ,RUN                    READ and RUN over every TaskDef
 *   task:run:name=greet                  RUN over the TaskDef `greet` only
 *   workflow,user_task:all:prefix=bill-  ALL_ACTIONS over WfSpecs and UserTaskDefs named `bill-…`
 *
 * Resources are ACLResource names with or without `ACL_` (any case; `_` and `-` may be left out: `userTask`,
 * `user-task`), or `all` for ACL_ALL_RESOURCES. Actions are ACLAction names (any case, same rule), or `all`
 * for ALL_ACTIONS. Any other word is refused, naming the words that are accepted.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import {
  ACLAction,
  ACLActionSchema,
  ACLResource,
  ACLResourceSchema,
  type Principal,
  type ServerACL,
  type ServerACLSchema,
} from "@pony/proto";
import { InvalidArgumentError } from "commander";

export type ServerACLInit = MessageInitShape<typeof ServerACLSchema>;

/** A word as compared: upper case, without `_` and `-`. */
const key = (word: string): string => word.toUpperCase().replace(/[_-]/g, "");

function words<T extends number>(
  values: readonly { name: string; number: number }[],
  extra: Record<string, T>,
  strip?: string,
): Map<string, T> {
  const m = new Map<string, T>();
  for (const v of values) {
    m.set(key(v.name), v.number as T);
    if (strip !== undefined && v.name.startsWith(strip))
      m.set(key(v.name.slice(strip.length)), v.number as T);
  }
  for (const [w, n] of Object.entries(extra)) m.set(key(w), n);
  return m;
}

const RESOURCES = words<ACLResource>(
  ACLResourceSchema.values,
  { all: ACLResource.ACL_ALL_RESOURCES },
  "ACL_",
);
const ACTIONS = words<ACLAction>(ACLActionSchema.values, { all: ACLAction.ALL_ACTIONS });

const RESOURCE_HELP =
  `${ACLResourceSchema.values.map((v) => v.name).join(", ")}, or the same without ACL_ ` +
  `(task, workflow, external_event, user_task, …), or all`;
const ACTION_HELP = `${ACLActionSchema.values.map((v) => v.name).join(", ")}, or read, run, write_metadata, all`;

export const ACL_SPEC_HELP = "<resources>:<actions>[:name=<name>|:prefix=<prefix>]";

function list<T>(text: string, known: Map<string, T>, what: string, help: string): T[] {
  const out: T[] = [];
  for (const raw of text.split(",")) {
    const word = raw.trim();
    if (word === "") throw new InvalidArgumentError(`an empty ${what} in '${text}': ${what}s are ${help}.`);
    const v = known.get(key(word));
    if (v === undefined) throw new InvalidArgumentError(`unknown ${what} '${word}': use ${help}.`);
    if (!out.includes(v)) out.push(v);
  }
  return out;
}

/** Parses one ACL spec; throws commander's InvalidArgumentError (a usage error, exit code 2). */
export function parseAclSpec(spec: string): ServerACLInit {
  const first = spec.indexOf(":");
  const second = first < 0 ? -1 : spec.indexOf(":", first + 1);
  if (first < 0) {
    throw new InvalidArgumentError(
      `expected ${ACL_SPEC_HELP}, e.g. ACL_TASK:READ,RUN or workflow:all:prefix=billing-.`,
    );
  }
  const resources = list(spec.slice(0, first), RESOURCES, "resource", RESOURCE_HELP);
  const allowedActions = list(
    second < 0 ? spec.slice(first + 1) : spec.slice(first + 1, second),
    ACTIONS,
    "action",
    ACTION_HELP,
  );
  const acl: ServerACLInit = { resources, allowedActions };
  if (second >= 0) {
    const filter = spec.slice(second + 1);
    const eq = filter.indexOf("=");
    const kind = eq < 0 ? "" : filter.slice(0, eq).trim().toLowerCase();
    const value = eq < 0 ? "" : filter.slice(eq + 1);
    if (kind !== "name" && kind !== "prefix") {
      throw new InvalidArgumentError(
        `the filter after the actions is name=<name> or prefix=<prefix>, not '${filter}'.`,
      );
    }
    if (value === "") throw new InvalidArgumentError(`${kind}= needs a value.`);
    acl.resourceFilter = { case: kind, value };
  }
  return acl;
}

/** Parses `<tenant>=<spec>`; throws InvalidArgumentError. */
export function parseTenantAcl(text: string): { tenant: string; acl: ServerACLInit } {
  const eq = text.indexOf("=");
  const tenant = eq < 0 ? "" : text.slice(0, eq).trim();
  if (tenant === "" || tenant.includes(":")) {
    throw new InvalidArgumentError(`expected <tenant>=${ACL_SPEC_HELP}, e.g. finance=workflow:run.`);
  }
  return { tenant, acl: parseAclSpec(text.slice(eq + 1)) };
}

/** The ACL that makes an admin: ALL_ACTIONS over ACL_ALL_RESOURCES, no filter (`--admin`). */
export const ADMIN_ACL: ServerACLInit = {
  resources: [ACLResource.ACL_ALL_RESOURCES],
  allowedActions: [ACLAction.ALL_ACTIONS],
};

/** A time as the CLI prints it: `2026-12-06 06:30:12 UTC`. */
export function formatTime(ts: Timestamp): string {
  return `${timestampDate(ts).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** Rows of text as columns two spaces apart (the last column is not padded). */
export function columns(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  "))
    .map((line) => `${line}\n`)
    .join("");
}

function aclRow(scope: string, acl: ServerACL): string[] {
  const f = acl.resourceFilter;
  return [
    scope,
    acl.resources.map((r) => ACLResourceSchema.value[r]?.name ?? String(r)).join(","),
    acl.allowedActions.map((a) => ACLActionSchema.value[a]?.name ?? String(a)).join(","),
    f.case === undefined ? "-" : `${f.case}=${f.value}`,
  ];
}

/**
 * A Principal as `pony whoami` prints it: its id and creation time, then one row per ACL (global ones first,
 * then each tenant's, by tenant name):
 *
 *   principal  anonymous  (created 2026-12-06 06:30:12 UTC)
 *   SCOPE   RESOURCES          ACTIONS      FILTER
 *   global  ACL_ALL_RESOURCES  ALL_ACTIONS  -
 */
export function principalTable(p: Principal): string {
  const created = p.createdAt ? `created ${formatTime(p.createdAt)}` : "not stored on the server";
  let text = `principal  ${p.id?.id ?? ""}  (${created})\n`;
  const rows: string[][] = (p.globalAcls?.acls ?? []).map((acl) => aclRow("global", acl));
  const tenants = Object.entries(p.perTenantAcls).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [tenant, acls] of tenants) {
    for (const acl of acls.acls) rows.push(aclRow(tenant, acl));
  }
  if (rows.length === 0) return `${text}no ACLs: this principal may do nothing\n`;
  text += columns([["SCOPE", "RESOURCES", "ACTIONS", "FILTER"], ...rows]);
  return text;
}
