/** Constructing, inspecting and converting VariableValues. */
import { create } from "@bufbuild/protobuf";
import { type VariableValue, VariableValueSchema, VariableType } from "@pony/proto";
import { VarSubError } from "./errors";
import { deepEqual, inInt64Range, isJsonObject, parseJsonText, toJsonText } from "./json";
import { typeLabel } from "./names";

/** The type of a value; undefined for null (an unset oneof) or a missing value. */
export function valueType(v: VariableValue | undefined): VariableType | undefined {
  switch (v?.value.case) {
    case "jsonObj":
      return VariableType.JSON_OBJ;
    case "jsonArr":
      return VariableType.JSON_ARR;
    case "double":
      return VariableType.DOUBLE;
    case "bool":
      return VariableType.BOOL;
    case "str":
      return VariableType.STR;
    case "int":
      return VariableType.INT;
    case "bytes":
      return VariableType.BYTES;
    default:
      return undefined;
  }
}

/** The type name of a value for messages: "INT", "STR", …, or "NULL". */
export function typeName(v: VariableValue | undefined): string {
  const t = valueType(v);
  return t === undefined ? "NULL" : typeLabel(t);
}

export function isNullValue(v: VariableValue | undefined): boolean {
  return valueType(v) === undefined;
}

export function nullValue(): VariableValue {
  return create(VariableValueSchema, {});
}

export function strValue(s: string): VariableValue {
  return create(VariableValueSchema, { value: { case: "str", value: s } });
}

/** An INT; a number must be an integer and the value must fit in 64 bits (else RangeError). */
export function intValue(n: bigint | number): VariableValue {
  if (typeof n === "number" && !Number.isInteger(n)) throw new RangeError(`${n} is not an integer`);
  const big = BigInt(n);
  if (!inInt64Range(big)) throw new RangeError(`${big} does not fit in a 64-bit INT`);
  return create(VariableValueSchema, { value: { case: "int", value: big } });
}

export function doubleValue(n: number): VariableValue {
  return create(VariableValueSchema, { value: { case: "double", value: n } });
}

export function boolValue(b: boolean): VariableValue {
  return create(VariableValueSchema, { value: { case: "bool", value: b } });
}

export function bytesValue(b: Uint8Array): VariableValue {
  return create(VariableValueSchema, { value: { case: "bytes", value: b } });
}

export function jsonObjValue(o: Record<string, unknown>): VariableValue {
  return create(VariableValueSchema, { value: { case: "jsonObj", value: toJsonText(o) } });
}

export function jsonArrValue(a: unknown[]): VariableValue {
  return create(VariableValueSchema, { value: { case: "jsonArr", value: toJsonText(a) } });
}

/** A JSON_OBJ or JSON_ARR holding this exact text (not validated). */
export function jsonTextValue(
  type: VariableType.JSON_OBJ | VariableType.JSON_ARR,
  text: string,
): VariableValue {
  const kase = type === VariableType.JSON_OBJ ? "jsonObj" : "jsonArr";
  return create(VariableValueSchema, { value: { case: kase, value: text } });
}

/**
 * The JS form of a value: null, string, number (INT only when it is a safe integer, else VarSubError),
 * boolean, parsed JSON (invalid JSON is a VarSubError) or Uint8Array.
 */
export function toJs(v: VariableValue | undefined): unknown {
  if (v === undefined) return null;
  const val = v.value;
  switch (val.case) {
    case undefined:
      return null;
    case "str":
    case "double":
    case "bool":
    case "bytes":
      return val.value;
    case "int": {
      const n = Number(val.value);
      if (!Number.isSafeInteger(n)) {
        throw new VarSubError(`the INT ${val.value} is too large to use as a JSON number`);
      }
      return n;
    }
    case "jsonObj":
      return parseJsonText(val.value, "object", "a JSON_OBJ value");
    case "jsonArr":
      return parseJsonText(val.value, "array", "a JSON_ARR value");
  }
}

/**
 * The VariableValue for a JS value: string → STR, integer number → INT, other number → DOUBLE,
 * boolean → BOOL, array → JSON_ARR, plain object → JSON_OBJ, null/undefined → null, Uint8Array → BYTES,
 * bigint → INT. Anything else (or a bigint beyond 64 bits) is a VarSubError.
 */
export function fromJs(x: unknown): VariableValue {
  if (x === null || x === undefined) return nullValue();
  switch (typeof x) {
    case "string":
      return strValue(x);
    case "boolean":
      return boolValue(x);
    case "number":
      if (Number.isInteger(x)) {
        const big = BigInt(x);
        if (inInt64Range(big)) return create(VariableValueSchema, { value: { case: "int", value: big } });
      }
      return doubleValue(x);
    case "bigint":
      if (!inInt64Range(x)) throw new VarSubError(`the integer ${x} does not fit in a 64-bit INT`);
      return create(VariableValueSchema, { value: { case: "int", value: x } });
    default:
      break;
  }
  if (x instanceof Uint8Array) return bytesValue(x);
  if (Array.isArray(x)) return jsonTextValue(VariableType.JSON_ARR, toJsonText(x));
  if (isJsonObject(x)) return jsonTextValue(VariableType.JSON_OBJ, toJsonText(x));
  throw new VarSubError(`cannot turn a JS ${describeJs(x)} into a VariableValue`);
}

function describeJs(x: unknown): string {
  if (typeof x === "object" && x !== null) {
    const ctor: unknown = (x as { constructor?: unknown }).constructor;
    if (typeof ctor === "function" && ctor.name) return ctor.name;
  }
  return typeof x;
}

/**
 * The text form of a value, as used in format strings and STR concatenation: STR as-is, numbers in
 * decimal, BOOL as true/false, JSON as compact JSON text, BYTES as base64, null as "null".
 */
export function stringForm(v: VariableValue | undefined): string {
  if (v === undefined) return "null";
  const val = v.value;
  switch (val.case) {
    case undefined:
      return "null";
    case "str":
      return val.value;
    case "int":
      return val.value.toString();
    case "double":
      return String(val.value);
    case "bool":
      return val.value ? "true" : "false";
    case "bytes":
      return Buffer.from(val.value).toString("base64");
    case "jsonObj":
    case "jsonArr":
      return toJsonText(toJs(v));
  }
}

/**
 * Equality of two values of the same type (different types are never equal; null equals only null).
 * JSON values compare structurally (object key order does not matter); BYTES compare byte by byte.
 */
export function valuesEqual(a: VariableValue, b: VariableValue): boolean {
  const av = a.value;
  const bv = b.value;
  if (av.case === undefined || bv.case === undefined) return av.case === bv.case;
  if (av.case !== bv.case) return false;
  if (av.case === "jsonObj" || av.case === "jsonArr") {
    if (av.value === bv.value) return true;
    return deepEqual(toJs(a), toJs(b));
  }
  if (av.case === "bytes") return deepEqual(av.value, bv.value);
  return av.value === bv.value;
}
