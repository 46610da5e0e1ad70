import { clone, create, equals } from "@bufbuild/protobuf";
import {
  AllowedUpdateType,
  MetadataStatus,
  ThreadVarDefSchema,
  TypeDefinitionSchema,
  WfSpecIdSchema,
  WfRunVariableAccessLevel,
  WfSpecSchema,
  type ThreadVarDef,
  type WfSpec,
} from "@pony/proto";
import { AlreadyExistsError, FailedPreconditionError } from "../errors";
import { toTimestamp, type Now } from "./time";
import { declaredType, variableTypeName } from "./variable-defs";

/** What PutWfSpec does with a validated candidate (B-META-4, B-META-5). */
export type WfSpecVersionDecision =
  | { kind: "existing"; wfSpec: WfSpec }
  | {
      kind: "new";
      /** The candidate with id.major_version / id.revision, created_at = now and frozen_variables set. */
      wfSpec: WfSpec;
    };

/** The variables of the entrypoint thread. */
export function entrypointVariables(spec: WfSpec): ThreadVarDef[] {
  return spec.threadSpecs[spec.entrypointThreadName]?.variableDefs ?? [];
}

/**
 * The frozen variables of a WfSpec: every entrypoint variable that is required or searchable. These are
 * what callers (RunWf inputs) and searches depend on across versions, so their type may never change
 * between one version and the next (a changed type is FailedPreconditionError).
 */
export function frozenVariables(spec: WfSpec): ThreadVarDef[] {
  return entrypointVariables(spec)
    .filter((v) => v.required || v.searchable)
    .map((v) => clone(ThreadVarDefSchema, v));
}

/** "1.3" for messages. */
export function wfSpecVersionString(spec: WfSpec): string {
  return `${spec.id?.majorVersion ?? 0}.${spec.id?.revision ?? 0}`;
}

/**
 * A copy for comparing specs: without id, created_at, status and frozen_variables; every VariableDef with
 * `type` set and `type_def` kept only for its `masked` flag; empty retention policies dropped.
 */
function comparable(spec: WfSpec): WfSpec {
  const out = clone(WfSpecSchema, spec);
  out.id = undefined;
  out.createdAt = undefined;
  out.status = MetadataStatus.ACTIVE;
  out.frozenVariables = [];
  if (out.retentionPolicy?.wfGcPolicy.case === undefined) out.retentionPolicy = undefined;
  for (const thread of Object.values(out.threadSpecs)) {
    if (thread.retentionPolicy?.threadGcPolicy.case === undefined) thread.retentionPolicy = undefined;
    for (const threadVar of thread.variableDefs) {
      const def = threadVar.varDef;
      if (def === undefined) continue;
      const type = declaredType(def);
      const masked = def.typeDef?.masked ?? false;
      def.type = type;
      def.typeDef = undefined;
      if (masked && type !== undefined) {
        def.typeDef = create(TypeDefinitionSchema, {
          definedType: { case: "primitiveType", value: type },
          masked,
        });
      }
    }
  }
  return out;
}

/** Whether two WfSpecs describe the same workflow, ignoring id, created_at, status and frozen_variables. */
export function sameWfSpec(a: WfSpec, b: WfSpec): boolean {
  return equals(WfSpecSchema, comparable(a), comparable(b));
}

function namesWhere(vars: readonly ThreadVarDef[], pick: (v: ThreadVarDef) => boolean): string[] {
  return vars
    .filter(pick)
    .map((v) => v.varDef?.name ?? "")
    .sort();
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name, i) => name === b[i]);
}

/**
 * Why `candidate` is a breaking change against `latest`, or undefined when it is not (B-META-4). Breaking:
 * the set of names of required entrypoint variables changes, the set of names of searchable entrypoint
 * variables changes, or an entrypoint variable present in both changes its access level.
 */
export function breakingChange(candidate: WfSpec, latest: WfSpec): string | undefined {
  const now = entrypointVariables(candidate);
  const before = entrypointVariables(latest);
  const requiredNow = namesWhere(now, (v) => v.required);
  const requiredBefore = namesWhere(before, (v) => v.required);
  if (!sameNames(requiredNow, requiredBefore)) {
    return `required variables change from [${requiredBefore.join(", ")}] to [${requiredNow.join(", ")}]`;
  }
  const searchableNow = namesWhere(now, (v) => v.searchable);
  const searchableBefore = namesWhere(before, (v) => v.searchable);
  if (!sameNames(searchableNow, searchableBefore)) {
    return `searchable variables change from [${searchableBefore.join(", ")}] to [${searchableNow.join(", ")}]`;
  }
  for (const v of now) {
    const name = v.varDef?.name;
    const old = before.find((b) => b.varDef?.name === name);
    if (old !== undefined && old.accessLevel !== v.accessLevel) {
      const level = (l: WfRunVariableAccessLevel): string => WfRunVariableAccessLevel[l] ?? `${l}`;
      return `variable '${name}' changes access level from ${level(old.accessLevel)} to ${level(v.accessLevel)}`;
    }
  }
  return undefined;
}

/** Throws FailedPreconditionError when the candidate changes the type of a variable `latest` froze. */
function checkFrozenTypes(candidate: WfSpec, latest: WfSpec): void {
  const frozen = latest.frozenVariables.length > 0 ? latest.frozenVariables : frozenVariables(latest);
  const now = entrypointVariables(candidate);
  for (const f of frozen) {
    if (f.varDef === undefined) continue;
    const name = f.varDef.name;
    const current = now.find((v) => v.varDef?.name === name)?.varDef;
    if (current === undefined) continue;
    const before = declaredType(f.varDef);
    const after = declaredType(current);
    if (before !== after) {
      throw new FailedPreconditionError(
        `WfSpec '${latest.id?.name ?? ""}': variable '${name}' is frozen as ${variableTypeName(before)} (version ${wfSpecVersionString(latest)}) and cannot change to ${variableTypeName(after)}`,
      );
    }
  }
}

function newVersion(
  candidate: WfSpec,
  name: string,
  majorVersion: number,
  revision: number,
  now: Now,
): WfSpec {
  const out = clone(WfSpecSchema, candidate);
  out.id = create(WfSpecIdSchema, { name, majorVersion, revision });
  out.createdAt = toTimestamp(now);
  out.status = MetadataStatus.ACTIVE;
  out.frozenVariables = frozenVariables(out);
  return out;
}

/**
 * Decides which version a validated candidate (from buildWfSpec) becomes (B-META-4, B-META-5).
 * `latest` is the newest stored version of that name: the highest revision of the highest major version.
 *
 * - no latest → version 0.0;
 * - identical to latest (ignoring id, created_at, status, frozen_variables) → the existing latest;
 * - `NO_UPDATES` and any change → AlreadyExistsError;
 * - a frozen variable (see frozenVariables) whose type changes → FailedPreconditionError;
 * - a breaking change (see breakingChange) → major + 1, revision 0, or FailedPreconditionError under
 *   `MINOR_REVISION_UPDATES`;
 * - any other change → same major, revision + 1.
 * `allowedUpdates` undefined means ALL_UPDATES. `_latestOfSameMajor` is accepted for API compatibility and
 * not used: every comparison is against `latest`.
 */
export function decideWfSpecVersion(
  candidate: WfSpec,
  latest: WfSpec | undefined,
  allowedUpdates: AllowedUpdateType | undefined,
  now: Now,
  _latestOfSameMajor?: WfSpec,
): WfSpecVersionDecision {
  const name = candidate.id?.name || latest?.id?.name || "";
  if (latest === undefined) return { kind: "new", wfSpec: newVersion(candidate, name, 0, 0, now) };
  if (sameWfSpec(candidate, latest)) return { kind: "existing", wfSpec: latest };
  const mode = allowedUpdates ?? AllowedUpdateType.ALL_UPDATES;
  if (mode === AllowedUpdateType.NO_UPDATES) {
    throw new AlreadyExistsError(
      `WfSpec '${name}' already exists (latest version ${wfSpecVersionString(latest)}) and allowed_updates is NO_UPDATES`,
    );
  }
  checkFrozenTypes(candidate, latest);
  const breaking = breakingChange(candidate, latest);
  const major = latest.id?.majorVersion ?? 0;
  if (breaking !== undefined) {
    if (mode === AllowedUpdateType.MINOR_REVISION_UPDATES) {
      throw new FailedPreconditionError(
        `WfSpec '${name}': the change is breaking (${breaking}) but allowed_updates is MINOR_REVISION_UPDATES`,
      );
    }
    return { kind: "new", wfSpec: newVersion(candidate, name, major + 1, 0, now) };
  }
  return { kind: "new", wfSpec: newVersion(candidate, name, major, (latest.id?.revision ?? 0) + 1, now) };
}
