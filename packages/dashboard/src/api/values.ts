/**
 * Typed input → VariableValue. A form never sends a value of the wrong type: each type's text is checked
 * here and the reason shown next to the field when it does not fit.
 */
import { create } from "@bufbuild/protobuf";
import { VariableType, VariableValueSchema, type VariableValue } from "@pony/proto";
import { plainValue } from "./format";

export type Parsed = { ok: true; value: VariableValue } | { ok: false; error: string };

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

export function parseValue(type: VariableType, text: string): Parsed {
  const ok = (value: VariableValue["value"]): Parsed => ({
    ok: true,
    value: create(VariableValueSchema, { value }),
  });
  const t = text.trim();
  switch (type) {
    case VariableType.STR:
      return ok({ case: "str", value: text });
    case VariableType.INT: {
      if (!/^-?\d+$/.test(t)) return { ok: false, error: "must be a whole number" };
      const n = BigInt(t);
      if (n > INT64_MAX || n < INT64_MIN) return { ok: false, error: "is out of the 64-bit range" };
      return ok({ case: "int", value: n });
    }
    case VariableType.DOUBLE: {
      const n = Number(t);
      if (t === "" || !Number.isFinite(n)) return { ok: false, error: "must be a number" };
      return ok({ case: "double", value: n });
    }
    case VariableType.BOOL:
      if (t !== "true" && t !== "false") return { ok: false, error: "must be true or false" };
      return ok({ case: "bool", value: t === "true" });
    case VariableType.JSON_OBJ:
    case VariableType.JSON_ARR: {
      let v: unknown;
      try {
        v = JSON.parse(t);
      } catch (e) {
        return { ok: false, error: `is not JSON: ${(e as Error).message}` };
      }
      if (type === VariableType.JSON_ARR) {
        if (!Array.isArray(v)) return { ok: false, error: "must be a JSON array" };
        return ok({ case: "jsonArr", value: t });
      }
      if (v === null || typeof v !== "object" || Array.isArray(v))
        return { ok: false, error: "must be a JSON object" };
      return ok({ case: "jsonObj", value: t });
    }
    case VariableType.BYTES:
      return { ok: false, error: "bytes cannot be entered here" };
    default:
      return { ok: false, error: "has an unknown type" };
  }
}

/** the text a value is edited as */
export function valueText(v: VariableValue | undefined): string {
  const p = plainValue(v);
  if (p === null || p === undefined) return "";
  return typeof p === "string" ? p : JSON.stringify(p);
}

/** the type of a stored value */
export function typeOfValue(v: VariableValue | undefined): VariableType | undefined {
  switch (v?.value.case) {
    case "str":
      return VariableType.STR;
    case "int":
      return VariableType.INT;
    case "double":
      return VariableType.DOUBLE;
    case "bool":
      return VariableType.BOOL;
    case "jsonObj":
      return VariableType.JSON_OBJ;
    case "jsonArr":
      return VariableType.JSON_ARR;
    case "bytes":
      return VariableType.BYTES;
    default:
      return undefined;
  }
}

export const ENTERABLE_TYPES = [
  VariableType.STR,
  VariableType.INT,
  VariableType.DOUBLE,
  VariableType.BOOL,
  VariableType.JSON_OBJ,
  VariableType.JSON_ARR,
];
