/** Plain-JSON helpers: parsing with shape checks, safe serialisation, structural equality, safe key writes. */
import { VarSubError } from "./errors";

export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;

export function inInt64Range(n: bigint): boolean {
  return n >= INT64_MIN && n <= INT64_MAX;
}

/** A JSON object as produced by JSON.parse: not null, not an array. */
export function isJsonObject(x: unknown): x is Record<string, unknown> {
  if (typeof x !== "object" || x === null || Array.isArray(x)) return false;
  const proto: unknown = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

export type JsonShape = "object" | "array";

/** JSON values nested deeper than this are refused (as Jackson does by default), so no walk over one can overflow. */
export const MAX_JSON_DEPTH = 1000;

/** Whether JSON text opens more than `max` arrays/objects inside each other (strings are skipped). */
export function jsonDeeperThan(text: string, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c)
        i++; // backslash: skip the escaped character
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x5b || ch === 0x7b) {
      if (++depth > max) return true;
    } else if (ch === 0x5d || ch === 0x7d) depth--;
  }
  return false;
}

/** Parses JSON text that must be an object or an array; anything else is a VarSubError saying "invalid JSON". */
export function parseJsonText(text: string, shape: JsonShape, what: string): unknown {
  if (jsonDeeperThan(text)) {
    throw new VarSubError(`invalid JSON for ${what}: nested deeper than ${MAX_JSON_DEPTH} levels`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new VarSubError(`invalid JSON for ${what}: ${JSON.stringify(truncate(text))} does not parse`);
  }
  const ok = shape === "object" ? isJsonObject(parsed) : Array.isArray(parsed);
  if (!ok) {
    throw new VarSubError(
      `invalid JSON for ${what}: ${JSON.stringify(truncate(text))} is not a JSON ${shape}`,
    );
  }
  return parsed;
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * Serialises a JS value to compact JSON text. bigints become numbers when that is exact; byte arrays,
 * unsafe bigints and non-finite numbers cannot be stored in JSON and are a VarSubError.
 */
export function toJsonText(x: unknown): string {
  const text = JSON.stringify(x, (_key: string, value: unknown): unknown => {
    if (typeof value === "bigint") {
      const n = Number(value);
      if (!Number.isSafeInteger(n)) {
        throw new VarSubError(`the INT ${value} is too large to store exactly in JSON`);
      }
      return n;
    }
    if (typeof value === "number" && !Number.isFinite(value)) {
      throw new VarSubError(`the number ${value} cannot be stored in JSON`);
    }
    if (value instanceof Uint8Array) {
      throw new VarSubError("a BYTES value cannot be stored in JSON");
    }
    return value;
  });
  return text ?? "null";
}

/** Structural equality of JSON-like values; object key order does not matter. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === "bigint" || typeof b === "bigint") {
    return (typeof a === "bigint" || typeof a === "number") &&
      (typeof b === "bigint" || typeof b === "number")
      ? a == b
      : false;
  }
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    if (!(a instanceof Uint8Array && b instanceof Uint8Array) || a.length !== b.length) return false;
    return a.every((byte, i) => byte === b[i]);
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => deepEqual(item, b[i]));
  }
  if (isJsonObject(a) && isJsonObject(b)) {
    const keys = Object.keys(a);
    if (keys.length !== Object.keys(b).length) return false;
    return keys.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

/** Sets an own property, even one named "__proto__", without touching the prototype chain. */
export function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}
