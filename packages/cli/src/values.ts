/**
 * Text typed on the command line (or answered at a prompt) → VariableValue, by the declared VariableType:
 *
 *   STR       as is
 *   INT       a whole number (64-bit)
 *   DOUBLE    a finite number
 *   BOOL      true or false (any case)
 *   JSON_OBJ  a JSON object, JSON_ARR a JSON array: parsed and re-serialized compactly; an integer that a
 *             JavaScript number cannot hold exactly is refused rather than silently changed
 *   BYTES     base64
 */
import { create } from "@bufbuild/protobuf";
import { VariableType, VariableTypeSchema, VariableValueSchema, type VariableValue } from "@pony/proto";
import { toVariableValue } from "@pony/sdk";

/** A value that does not fit its type; the message says what was expected. */
export class ValueError extends Error {
  override readonly name = "ValueError";
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** The name of a VariableType ("STR", "JSON_OBJ", …). */
export function typeName(type: VariableType): string {
  return VariableTypeSchema.value[type]?.name ?? String(type);
}

/** A VariableType by name, any case ("str", "JSON_OBJ"); undefined when there is none. */
export function parseTypeName(text: string): VariableType | undefined {
  const v = VariableTypeSchema.values.find((e) => e.name === text.trim().toUpperCase());
  return v?.number;
}

/** Parses `text` as a value of `type`; throws ValueError. */
export function parseValue(text: string, type: VariableType): VariableValue {
  switch (type) {
    case VariableType.STR:
      return toVariableValue(text, VariableType.STR);
    case VariableType.INT: {
      const t = text.trim();
      if (!/^[+-]?\d+$/.test(t)) throw new ValueError(`'${text}' is not a whole number`);
      const n = BigInt(t);
      if (n < INT64_MIN || n > INT64_MAX) throw new ValueError(`${t} does not fit in a 64-bit INT`);
      return create(VariableValueSchema, { value: { case: "int", value: n } });
    }
    case VariableType.DOUBLE: {
      const t = text.trim();
      const n = t === "" ? NaN : Number(t);
      if (!Number.isFinite(n)) throw new ValueError(`'${text}' is not a number`);
      return create(VariableValueSchema, { value: { case: "double", value: n } });
    }
    case VariableType.BOOL: {
      const t = text.trim().toLowerCase();
      if (t !== "true" && t !== "false") throw new ValueError(`'${text}' is not true or false`);
      return create(VariableValueSchema, { value: { case: "bool", value: t === "true" } });
    }
    case VariableType.JSON_OBJ: {
      const v = parseJson(text);
      if (typeof v !== "object" || v === null || Array.isArray(v)) {
        throw new ValueError(`'${text}' is not a JSON object`);
      }
      return toVariableValue(v, VariableType.JSON_OBJ);
    }
    case VariableType.JSON_ARR: {
      const v = parseJson(text);
      if (!Array.isArray(v)) throw new ValueError(`'${text}' is not a JSON array`);
      return toVariableValue(v, VariableType.JSON_ARR);
    }
    case VariableType.BYTES: {
      const t = text.trim();
      if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(t) || t.replace(/=+$/, "").length % 4 === 1) {
        throw new ValueError(`'${text}' is not base64`);
      }
      return create(VariableValueSchema, {
        value: { case: "bytes", value: new Uint8Array(Buffer.from(t, "base64")) },
      });
    }
    default:
      throw new ValueError(`unknown variable type ${String(type)}`);
  }
}

function parseJson(text: string): unknown {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new ValueError(`'${text}' is not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  const unsafe = unsafeInteger(text);
  if (unsafe !== undefined) {
    throw new ValueError(
      `the integer ${unsafe} cannot be kept exactly (beyond 2^53): write it as a string, e.g. "${unsafe}"`,
    );
  }
  return v;
}

/** The first integer literal of a JSON text (outside strings) that a double cannot hold exactly. */
function unsafeInteger(json: string): string | undefined {
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i]!;
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      continue;
    }
    if (c === "-" || (c >= "0" && c <= "9")) {
      const m = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(json.slice(i));
      if (!m) continue;
      const literal = m[0];
      if (m[1] === undefined && m[2] === undefined) {
        const n = BigInt(literal);
        if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER)) return literal;
      }
      i += literal.length - 1;
    }
  }
  return undefined;
}
