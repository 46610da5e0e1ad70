/**
 * Index keys of variable values (B-SRCH-3): one text per value, equal exactly when a search should match.
 * INT and DOUBLE share one number form (5 and 5.0 match), BOOL, STR, BYTES and JSON each have their own
 * prefix (the STR "5" does not match the INT 5), JSON is canonical (object keys sorted), and a key longer
 * than MAX_KEY_LENGTH is replaced by its SHA-256 so that huge values do not bloat the index.
 */
import { createHash } from "node:crypto";
import type { VariableType, VariableValue } from "@pony/proto";
import { applyJsonPath, castTo, toJs } from "@pony/engine";

const MAX_KEY_LENGTH = 200;

function canonicalJson(x: unknown): string {
  if (Array.isArray(x)) return `[${x.map(canonicalJson).join(",")}]`;
  if (x !== null && typeof x === "object") {
    const keys = Object.keys(x).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((x as Record<string, unknown>)[k])}`).join(",")}}`;
  }
  return JSON.stringify(x);
}

function numberText(d: number): string {
  if (Object.is(d, -0)) return "0";
  if (Number.isInteger(d) && Math.abs(d) < 2 ** 63) return BigInt(d).toString();
  return String(d);
}

/** The index key of a value; undefined for null (nothing is indexed) or unreadable JSON. */
export function valueKey(v: VariableValue | undefined): string | undefined {
  const val = v?.value;
  let key: string;
  switch (val?.case) {
    case undefined:
      return undefined;
    case "str":
      key = `s:${val.value}`;
      break;
    case "int":
      key = `n:${val.value.toString()}`;
      break;
    case "double":
      key = `n:${numberText(val.value)}`;
      break;
    case "bool":
      key = `b:${val.value}`;
      break;
    case "bytes":
      key = `x:${Buffer.from(val.value).toString("hex")}`;
      break;
    case "jsonObj":
    case "jsonArr":
      try {
        key = `j:${canonicalJson(toJs(v))}`;
      } catch {
        return undefined;
      }
      break;
  }
  return key.length > MAX_KEY_LENGTH ? `#${createHash("sha256").update(key).digest("hex")}` : key;
}

/** The index field of a json_indexes entry: the variable name followed by the JSON path (`order$.id`). */
export const jsonField = (varName: string, path: string): string => `${varName}${path}`;

/**
 * The index key of the field at `path` of a JSON_OBJ / JSON_ARR value, as `type`; undefined when the value
 * is not JSON, the path is missing, or the field cannot be read as `type`.
 */
export function jsonFieldKey(v: VariableValue, path: string, type: VariableType): string | undefined {
  try {
    return valueKey(castTo(applyJsonPath(v, path, "an indexed variable"), type, `JSON index ${path}`));
  } catch {
    return undefined;
  }
}
