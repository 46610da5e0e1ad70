import { clone, create, equals } from "@bufbuild/protobuf";
import {
  UserTaskDefSchema,
  UserTaskFieldSchema,
  VariableType,
  type PutUserTaskDefRequest,
  type UserTaskDef,
  type UserTaskField,
} from "@pony/proto";
import { InvalidArgumentError } from "../errors";
import { validateName } from "./names";
import { toTimestamp, type Now } from "./time";
import { isKnownVariableType, variableTypeName } from "./variable-defs";

/** UserTaskField types: primitives a person can type into a form. */
const FIELD_TYPES: ReadonlySet<VariableType> = new Set([
  VariableType.STR,
  VariableType.INT,
  VariableType.DOUBLE,
  VariableType.BOOL,
]);

function checkFields(name: string, fields: readonly UserTaskField[]): void {
  const seen = new Set<string>();
  for (const field of fields) {
    if (field.name === "") {
      throw new InvalidArgumentError(`UserTaskDef '${name}': a field has an empty name`);
    }
    if (seen.has(field.name)) {
      throw new InvalidArgumentError(`UserTaskDef '${name}': field '${field.name}' is declared twice`);
    }
    seen.add(field.name);
    if (!isKnownVariableType(field.type) || !FIELD_TYPES.has(field.type)) {
      throw new InvalidArgumentError(
        `UserTaskDef '${name}': field '${field.name}' has type ${variableTypeName(field.type)}; user task fields must be STR, INT, DOUBLE or BOOL`,
      );
    }
  }
}

/** Same fields (all attributes, in order) and same description: a put of this is idempotent (B-META-7). */
export function sameUserTaskDefContent(
  def: UserTaskDef,
  fields: readonly UserTaskField[],
  description: string | undefined,
): boolean {
  if ((def.description ?? "") !== (description ?? "")) return false;
  if (def.fields.length !== fields.length) return false;
  return def.fields.every((f, i) => {
    const other = fields[i];
    return other !== undefined && equals(UserTaskFieldSchema, f, other);
  });
}

/**
 * PutUserTaskDef (B-META-2, B-META-7). `latest` is the highest stored version of that name, if any. A put
 * identical to it (fields and description) returns it; a changed one creates version latest + 1; the first
 * is version 0. Field names must be non-empty and unique, field types STR / INT / DOUBLE / BOOL.
 */
export function putUserTaskDef(
  req: PutUserTaskDefRequest,
  latest: UserTaskDef | undefined,
  now: Now,
): { def: UserTaskDef; created: boolean } {
  validateName("UserTaskDef", req.name);
  checkFields(req.name, req.fields);
  if (latest !== undefined && sameUserTaskDefContent(latest, req.fields, req.description)) {
    return { def: latest, created: false };
  }
  const def = create(UserTaskDefSchema, {
    name: req.name,
    version: latest === undefined ? 0 : latest.version + 1,
    description: req.description,
    fields: req.fields.map((f) => clone(UserTaskFieldSchema, f)),
    createdAt: toTimestamp(now),
  });
  return { def, created: true };
}
