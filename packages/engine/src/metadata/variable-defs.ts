import { clone } from "@bufbuild/protobuf";
import { VariableDefSchema, VariableType, type VariableDef, type VariableValue } from "@pony/proto";
import { MAX_JSON_DEPTH, jsonDeeperThan, valueType } from "../variables";
import { InvalidArgumentError } from "../errors";

/** Whether `t` is one of the VariableType enum values (an unknown number may come off the wire). */
export function isKnownVariableType(t: number): t is VariableType {
  return VariableType[t] !== undefined;
}

/** "INT", "JSON_OBJ", … for messages; "unknown" when no type is known. */
export function variableTypeName(t: VariableType | undefined): string {
  if (t === undefined) return "unknown";
  return VariableType[t] ?? `type ${t}`;
}

/**
 * The primitive type a VariableDef declares: `type` (field 1) or, for later LittleHorse clients,
 * `type_def.primitive_type` (B-WIRE-2). When neither is set it is JSON_OBJ: LittleHorse 0.10.1 clients send
 * `type` as a plain proto3 enum, so its zero value JSON_OBJ never reaches the wire (B-WIRE-1).
 */
export function declaredType(def: VariableDef): VariableType {
  if (def.type !== undefined) return def.type;
  const defined = def.typeDef?.definedType;
  return defined?.case === "primitiveType" ? defined.value : VariableType.JSON_OBJ;
}

/**
 * Whether a value of type `source` can be fed where `target` is expected without a lossy or surprising cast:
 * the same type, or an INT where a DOUBLE is expected.
 */
export function canFeed(source: VariableType, target: VariableType): boolean {
  return source === target || (source === VariableType.INT && target === VariableType.DOUBLE);
}

/** Throws unless a JSON_OBJ / JSON_ARR literal holds JSON of the right shape. */
export function checkJsonLiteral(value: VariableValue, where: string): void {
  const v = value.value;
  if (v.case !== "jsonObj" && v.case !== "jsonArr") return;
  if (jsonDeeperThan(v.value)) {
    throw new InvalidArgumentError(
      `${where}: the ${v.case === "jsonObj" ? "JSON_OBJ" : "JSON_ARR"} value is nested deeper than ${MAX_JSON_DEPTH} levels`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(v.value);
  } catch {
    throw new InvalidArgumentError(
      `${where}: the ${v.case === "jsonObj" ? "JSON_OBJ" : "JSON_ARR"} value is not valid JSON`,
    );
  }
  const isArray = Array.isArray(parsed);
  const isObject = typeof parsed === "object" && parsed !== null && !isArray;
  if (v.case === "jsonObj" && !isObject) {
    throw new InvalidArgumentError(`${where}: the JSON_OBJ value is not a JSON object`);
  }
  if (v.case === "jsonArr" && !isArray) {
    throw new InvalidArgumentError(`${where}: the JSON_ARR value is not a JSON array`);
  }
}

/**
 * Checks one VariableDef and returns a copy whose `type` is set (B-WIRE-2 normalisation). `where` starts the
 * error message, e.g. "TaskDef 'greet'". Rules: a non-empty name; a known primitive type from `type` or
 * `type_def` (JSON_OBJ when neither is set, see declaredType); if both are set they agree; a default value,
 * when set, has exactly the declared type.
 */
export function normaliseVariableDef(def: VariableDef, where: string): VariableDef {
  if (def.name === "") {
    throw new InvalidArgumentError(`${where}: a variable has an empty name`);
  }
  const type = declaredType(def);
  if (!isKnownVariableType(type)) {
    throw new InvalidArgumentError(`${where}: variable '${def.name}' has unknown type ${type}`);
  }
  const defined = def.typeDef?.definedType;
  if (def.type !== undefined && defined?.case === "primitiveType" && defined.value !== def.type) {
    throw new InvalidArgumentError(
      `${where}: variable '${def.name}' has type ${variableTypeName(def.type)} but type_def says ${variableTypeName(defined.value)}`,
    );
  }
  if (def.defaultValue !== undefined) {
    const defaultType = valueType(def.defaultValue);
    if (defaultType !== undefined && defaultType !== type) {
      throw new InvalidArgumentError(
        `${where}: the default value of variable '${def.name}' is ${variableTypeName(defaultType)} but the variable is ${variableTypeName(type)}`,
      );
    }
    checkJsonLiteral(def.defaultValue, `${where}: the default value of variable '${def.name}'`);
  }
  const out = clone(VariableDefSchema, def);
  out.type = type;
  return out;
}

/** normaliseVariableDef for a list, also rejecting duplicate names. */
export function normaliseVariableDefs(defs: readonly VariableDef[], where: string): VariableDef[] {
  const seen = new Set<string>();
  return defs.map((def) => {
    const out = normaliseVariableDef(def, where);
    if (seen.has(out.name)) {
      throw new InvalidArgumentError(`${where}: variable '${out.name}' is declared twice`);
    }
    seen.add(out.name);
    return out;
  });
}
