import { create } from "@bufbuild/protobuf";
import { TaskDefSchema, type PutTaskDefRequest, type TaskDef, type VariableDef } from "@pony/proto";
import { AlreadyExistsError } from "../errors";
import { validateName } from "./names";
import { toTimestamp, type Now } from "./time";
import { declaredType, normaliseVariableDefs, variableTypeName } from "./variable-defs";

/** "(name: STR, count: INT)" for messages. */
export function describeVariableDefs(defs: readonly VariableDef[]): string {
  return `(${defs.map((d) => `${d.name}: ${variableTypeName(declaredType(d))}`).join(", ")})`;
}

/** Same names and types in the same order: what makes two PutTaskDef requests "the same" (B-META-1). */
export function sameInputVars(a: readonly VariableDef[], b: readonly VariableDef[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((def, i) => {
    const other = b[i];
    return other !== undefined && def.name === other.name && declaredType(def) === declaredType(other);
  });
}

/**
 * PutTaskDef (B-META-1, B-META-2). `existing` is the stored TaskDef of that name, if any. A request equal to
 * it (input var names and types, in order) returns it unchanged; a different one is AlreadyExistsError.
 * Input vars must have non-empty, unique names and a primitive type; `type` is filled in from `type_def`.
 */
export function putTaskDef(
  req: PutTaskDefRequest,
  existing: TaskDef | undefined,
  now: Now,
): { taskDef: TaskDef; created: boolean } {
  validateName("TaskDef", req.name);
  const inputVars = normaliseVariableDefs(req.inputVars, `TaskDef '${req.name}'`);
  if (existing !== undefined) {
    if (sameInputVars(existing.inputVars, inputVars)) return { taskDef: existing, created: false };
    throw new AlreadyExistsError(
      `TaskDef '${req.name}' already exists with different input_vars: ${describeVariableDefs(existing.inputVars)}, requested ${describeVariableDefs(inputVars)}`,
    );
  }
  const taskDef = create(TaskDefSchema, {
    id: { name: req.name },
    inputVars,
    createdAt: toTimestamp(now),
  });
  return { taskDef, created: true };
}
