/**
 * Conversions between JavaScript values and LittleHorse VariableValues.
 *
 *   JS → VariableValue (toVariableValue):  string → STR, bigint or safe-integer number → INT, other
 *     finite number → DOUBLE, boolean → BOOL, Uint8Array → BYTES, array → JSON_ARR, other object → JSON_OBJ, Date → STR
 *     (ISO-8601), null / undefined → the empty value. With a target type the value must fit that type.
 *   VariableValue → JS (fromVariableValue): STR → string, INT → number (bigint beyond 2^53), DOUBLE →
 *     number, BOOL → boolean, JSON_OBJ / JSON_ARR → parsed JSON, BYTES → Uint8Array, empty → null.
 *
 * JSON is written strictly: a bigint, function, symbol, Map, Set, non-finite number or a cycle anywhere in
 * the value is an LHSerializationError naming where it is, never a silently different document.
 */
import { create } from "@bufbuild/protobuf";
import { VariableType, VariableValueSchema, type VariableValue } from "@pony/proto";

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** A value that has no faithful VariableValue (or JSON) form. */
export class LHSerializationError extends Error {
  override readonly name = "LHSerializationError";
}

/** A VariableValue that cannot become the JavaScript value a caller asked for. */
export class LHDeserializationError extends Error {
  override readonly name = "LHDeserializationError";
}

/** The VariableValue for a JavaScript value; with `type`, the value must be of (or fit) that type. */
export function toVariableValue(value: unknown, type?: VariableType): VariableValue {
  if (value === undefined || value === null) return create(VariableValueSchema, {});
  if (type !== undefined) return toTypedValue(value, type);
  switch (typeof value) {
    case "string":
      return vv({ case: "str", value });
    case "boolean":
      return vv({ case: "bool", value });
    case "bigint":
      return vv({ case: "int", value: checkInt64(value) });
    case "number":
      if (Number.isSafeInteger(value)) return vv({ case: "int", value: BigInt(value) });
      if (!Number.isFinite(value)) throw new LHSerializationError(`${value} has no VariableValue form`);
      // beyond 2^53 a number is a floating-point value (pass a bigint for a large INT)
      return vv({ case: "double", value });
    case "object":
      if (value instanceof Uint8Array) return vv({ case: "bytes", value });
      if (value instanceof Date) return vv({ case: "str", value: dateString(value) });
      if (Array.isArray(value)) return vv({ case: "jsonArr", value: strictJson(value) });
      return vv({ case: "jsonObj", value: strictJson(value) });
    default:
      throw new LHSerializationError(`a ${typeof value} has no VariableValue form`);
  }
}

function toTypedValue(value: unknown, type: VariableType): VariableValue {
  const wrong = () => new LHSerializationError(`${describe(value)} cannot be ${typeWithArticle(type)} value`);
  switch (type) {
    case VariableType.STR:
      if (typeof value === "string") return vv({ case: "str", value });
      if (value instanceof Date) return vv({ case: "str", value: dateString(value) });
      throw wrong();
    case VariableType.INT:
      if (typeof value === "bigint") return vv({ case: "int", value: checkInt64(value) });
      if (typeof value === "number" && Number.isSafeInteger(value))
        return vv({ case: "int", value: BigInt(value) });
      throw wrong();
    case VariableType.DOUBLE:
      if (typeof value === "number" && Number.isFinite(value)) return vv({ case: "double", value });
      throw wrong();
    case VariableType.BOOL:
      if (typeof value === "boolean") return vv({ case: "bool", value });
      throw wrong();
    case VariableType.BYTES:
      if (value instanceof Uint8Array) return vv({ case: "bytes", value });
      throw wrong();
    case VariableType.JSON_ARR:
      if (Array.isArray(value)) return vv({ case: "jsonArr", value: strictJson(value) });
      throw wrong();
    case VariableType.JSON_OBJ:
      if (typeof value === "object" && !Array.isArray(value) && !(value instanceof Uint8Array)) {
        return vv({ case: "jsonObj", value: strictJson(value) });
      }
      throw wrong();
    default:
      throw new LHSerializationError(`unknown VariableType ${String(type)}`);
  }
}

/** The JavaScript value of a VariableValue (null for the empty value). */
export function fromVariableValue(value: VariableValue | undefined): unknown {
  const v = value?.value;
  if (v === undefined) return null;
  switch (v.case) {
    case "str":
    case "double":
    case "bool":
      return v.value;
    case "int":
      return intToJs(v.value);
    case "bytes":
      return v.value;
    case "jsonObj":
    case "jsonArr":
      return parseJson(v.value, v.case === "jsonObj" ? "JSON_OBJ" : "JSON_ARR");
    case undefined:
      return null;
  }
}

/**
 * The JavaScript value of a VariableValue that must be of `type` (an INT may feed a DOUBLE), e.g. a task
 * input checked against its declared type. The empty value is null. Throws LHDeserializationError.
 */
export function fromVariableValueAs(value: VariableValue | undefined, type: VariableType): unknown {
  const v = value?.value;
  if (v === undefined || v.case === undefined) return null;
  const typeName = VariableType[type] ?? `type ${type}`;
  const mismatch = () =>
    new LHDeserializationError(`the value is ${CASE_TYPE_NAMES[v.case]} but ${typeName} is expected`);
  switch (type) {
    case VariableType.STR:
      if (v.case === "str") return v.value;
      throw mismatch();
    case VariableType.INT:
      if (v.case === "int") return intToJs(v.value);
      throw mismatch();
    case VariableType.DOUBLE:
      if (v.case === "double") return v.value;
      if (v.case === "int") return Number(v.value);
      throw mismatch();
    case VariableType.BOOL:
      if (v.case === "bool") return v.value;
      throw mismatch();
    case VariableType.BYTES:
      if (v.case === "bytes") return v.value;
      throw mismatch();
    case VariableType.JSON_OBJ: {
      if (v.case !== "jsonObj") throw mismatch();
      const parsed = parseJson(v.value, "JSON_OBJ");
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        throw new LHDeserializationError("the JSON_OBJ value is not a JSON object");
      }
      return parsed;
    }
    case VariableType.JSON_ARR: {
      if (v.case !== "jsonArr") throw mismatch();
      const parsed = parseJson(v.value, "JSON_ARR");
      if (!Array.isArray(parsed)) throw new LHDeserializationError("the JSON_ARR value is not a JSON array");
      return parsed;
    }
    default:
      throw new LHDeserializationError(`unknown VariableType ${String(type)}`);
  }
}

const CASE_TYPE_NAMES: Record<Exclude<VariableValue["value"]["case"], undefined>, string> = {
  str: "a STR",
  int: "an INT",
  double: "a DOUBLE",
  bool: "a BOOL",
  bytes: "a BYTES",
  jsonObj: "a JSON_OBJ",
  jsonArr: "a JSON_ARR",
};

/**
 * JSON text for a value, refusing what JSON.stringify would silently drop or change (functions, symbols,
 * undefined array items, Map, Set, NaN, ±Infinity) or cannot write (bigint, cycles).
 */
export function strictJson(value: unknown): string {
  const seen = new Set<object>();
  const walk = (v: unknown, where: string, inArray: boolean): unknown => {
    if (v === null || typeof v === "string" || typeof v === "boolean") return v;
    if (typeof v === "number") {
      if (!Number.isFinite(v)) throw new LHSerializationError(`${where} is ${v}, which JSON cannot hold`);
      return v;
    }
    if (v === undefined) {
      if (inArray) throw new LHSerializationError(`${where} is undefined, which a JSON array cannot hold`);
      return undefined;
    }
    if (typeof v === "bigint") {
      throw new LHSerializationError(
        `${where} is a bigint (${v}n), which JSON cannot hold: use a number or a string`,
      );
    }
    if (typeof v === "function" || typeof v === "symbol") {
      throw new LHSerializationError(`${where} is a ${typeof v}, which JSON cannot hold`);
    }
    const obj = v;
    if (seen.has(obj)) throw new LHSerializationError(`${where} refers back to itself (a cycle)`);
    if (obj instanceof Map || obj instanceof Set || obj instanceof WeakMap || obj instanceof WeakSet) {
      throw new LHSerializationError(`${where} is a ${obj.constructor.name}, which JSON cannot hold`);
    }
    if (obj instanceof Uint8Array) {
      throw new LHSerializationError(
        `${where} is binary data, which JSON cannot hold: return it alone as BYTES`,
      );
    }
    const toJSON = (obj as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === "function") return walk((toJSON as () => unknown).call(obj), where, inArray);
    seen.add(obj);
    try {
      if (Array.isArray(obj)) return obj.map((item, i) => walk(item, `${where}[${i}]`, true));
      const out: Record<string, unknown> = {};
      for (const [k, item] of Object.entries(obj)) {
        const w = walk(item, `${where}.${k}`, false);
        if (w !== undefined) out[k] = w;
      }
      return out;
    } finally {
      seen.delete(obj);
    }
  };
  return JSON.stringify(walk(value, "the value", false));
}

function vv(value: VariableValue["value"]): VariableValue {
  return create(VariableValueSchema, { value });
}

function checkInt64(n: bigint): bigint {
  if (n < INT64_MIN || n > INT64_MAX) throw new LHSerializationError(`${n} does not fit in a 64-bit INT`);
  return n;
}

function intToJs(n: bigint): number | bigint {
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
}

function parseJson(text: string, typeName: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new LHDeserializationError(`the ${typeName} value is not valid JSON`);
  }
}

function dateString(d: Date): string {
  if (Number.isNaN(d.getTime())) throw new LHSerializationError("an invalid Date has no VariableValue form");
  return d.toISOString();
}

function typeWithArticle(type: VariableType): string {
  const name = VariableType[type] ?? `type ${type}`;
  return `${name === "INT" ? "an" : "a"} ${name}`;
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value instanceof Uint8Array) return "binary data";
  if (value === null) return "null";
  return `a ${typeof value}`;
}
