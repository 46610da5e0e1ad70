/** Strict type conversions between VariableValues, and declared-type checks. */
import { create } from "@bufbuild/protobuf";
import { type VariableValue, VariableType, VariableValueSchema } from "@pony/proto";
import { VarSubError } from "./errors";
import { inInt64Range, parseJsonText } from "./json";
import { typeLabel, withArticle } from "./names";
import { boolValue, doubleValue, jsonTextValue, strValue, stringForm, typeName, valueType } from "./values";

const INT_TEXT = /^[+-]?\d+$/;
const DOUBLE_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function castFailure(v: VariableValue, target: VariableType, what: string, why?: string): VarSubError {
  const base = `cannot use ${withArticle(typeName(v))} value as ${typeLabel(target)} for ${what}`;
  return new VarSubError(why === undefined ? base : `${base}: ${why}`);
}

function exactInt(v: VariableValue, n: bigint, target: VariableType, what: string): VariableValue {
  if (!inInt64Range(n)) throw castFailure(v, target, what, `${n} does not fit in 64 bits`);
  return create(VariableValueSchema, { value: { case: "int", value: n } });
}

/** The INT for an integral double inside the 64-bit range, else undefined. */
export function integralDoubleToBigInt(d: number): bigint | undefined {
  if (!Number.isInteger(d)) return undefined;
  const n = BigInt(d);
  return inInt64Range(n) ? n : undefined;
}

/**
 * Converts `v` to `target` under the strict rules: same type → itself (JSON text must have the right shape);
 * INT → DOUBLE; DOUBLE → INT only when integral; STR → INT / DOUBLE / BOOL / JSON_OBJ / JSON_ARR only when the
 * text parses exactly. Null stays null. Anything else is a VarSubError naming both types and `what`.
 */
export function castTo(v: VariableValue, target: VariableType, what: string): VariableValue {
  const val = v.value;
  if (val.case === undefined) return v;
  const from = valueType(v);
  if (from === target) {
    if (val.case === "jsonObj") parseJsonText(val.value, "object", what);
    if (val.case === "jsonArr") parseJsonText(val.value, "array", what);
    return v;
  }
  switch (val.case) {
    case "int":
      if (target === VariableType.DOUBLE) return doubleValue(Number(val.value));
      break;
    case "double":
      if (target === VariableType.INT) {
        const n = integralDoubleToBigInt(val.value);
        if (n === undefined) throw castFailure(v, target, what, `${val.value} is not a 64-bit integer`);
        return exactInt(v, n, target, what);
      }
      break;
    case "str": {
      const text = val.value;
      const quoted = JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text);
      switch (target) {
        case VariableType.INT:
          if (!INT_TEXT.test(text)) throw castFailure(v, target, what, `${quoted} is not an integer`);
          return exactInt(v, BigInt(text), target, what);
        case VariableType.DOUBLE: {
          const d = Number(text);
          if (!DOUBLE_TEXT.test(text) || !Number.isFinite(d)) {
            throw castFailure(v, target, what, `${quoted} is not a number`);
          }
          return doubleValue(d);
        }
        case VariableType.BOOL:
          if (text === "true") return boolValue(true);
          if (text === "false") return boolValue(false);
          throw castFailure(v, target, what, `${quoted} is not true or false`);
        case VariableType.JSON_OBJ:
          return castJsonText(v, text, target, "object", what);
        case VariableType.JSON_ARR:
          return castJsonText(v, text, target, "array", what);
        default:
          break;
      }
      break;
    }
    default:
      break;
  }
  throw castFailure(v, target, what);
}

function castJsonText(
  v: VariableValue,
  text: string,
  target: VariableType.JSON_OBJ | VariableType.JSON_ARR,
  shape: "object" | "array",
  what: string,
): VariableValue {
  try {
    parseJsonText(text, shape, what);
  } catch (e) {
    if (e instanceof VarSubError) throw castFailure(v, target, what, e.message);
    throw e;
  }
  return jsonTextValue(target, text);
}

function isPrimitive(t: VariableType | undefined): boolean {
  return (
    t === VariableType.INT || t === VariableType.DOUBLE || t === VariableType.BOOL || t === VariableType.STR
  );
}

/**
 * castTo, plus the one extra conversion comparisons allow: a primitive (INT, DOUBLE, BOOL, STR) becomes its
 * text form when the target is STR.
 */
export function castForComparison(v: VariableValue, target: VariableType, what: string): VariableValue {
  if (target === VariableType.STR && isPrimitive(valueType(v))) return strValue(stringForm(v));
  return castTo(v, target, what);
}

/**
 * Checks that `v` may be stored in something declared as `declared`: null always may; otherwise the types
 * must be the same and JSON_OBJ / JSON_ARR text must parse to an object / array ("invalid JSON").
 */
export function checkValueMatchesType(v: VariableValue, declared: VariableType, what: string): void {
  const actual = valueType(v);
  if (actual === undefined) return;
  if (actual !== declared) {
    throw new VarSubError(
      `${what} is declared ${typeLabel(declared)} but got ${withArticle(typeLabel(actual))} value`,
    );
  }
  const val = v.value;
  if (val.case === "jsonObj") parseJsonText(val.value, "object", what);
  if (val.case === "jsonArr") parseJsonText(val.value, "array", what);
}
