/**
 * Plain values for the builder: JS literals → VariableValue, the names users may give enums, and the static
 * type rules the builder checks (task inputs, mutations) before the server would.
 */
import { create, isMessage } from "@bufbuild/protobuf";
import {
  AllowedUpdateType,
  Comparator,
  LHErrorType,
  VariableMutationType,
  VariableType,
  VariableValueSchema,
  WfRunVariableAccessLevel,
  type VariableValue,
} from "@pony/proto";

/**
 * A literal a workflow may use: strings (STR), numbers (a safe integer is INT, any other number DOUBLE),
 * bigints (INT), booleans (BOOL), Uint8Array (BYTES), arrays (JSON_ARR), plain objects (JSON_OBJ), a
 * ready-made VariableValue message, or null (an empty value).
 */
export type LiteralValue = string | number | bigint | boolean | Uint8Array | null | object;

export type VariableTypeName = keyof typeof VariableType;
export type VariableTypeLike = VariableType | VariableTypeName;
export type MutationTypeLike = VariableMutationType | keyof typeof VariableMutationType;
export type ComparatorSymbol = "<" | ">" | "<=" | ">=" | "==" | "!=";
export type ComparatorLike = Comparator | keyof typeof Comparator | ComparatorSymbol;
export type AccessLevelLike = WfRunVariableAccessLevel | keyof typeof WfRunVariableAccessLevel;
export type ErrorTypeLike = LHErrorType | keyof typeof LHErrorType;
export type AllowedUpdateTypeLike = AllowedUpdateType | keyof typeof AllowedUpdateType;

/** A problem with a plain value; the builder turns it into an LHWorkflowError with the call site. */
export class ValueProblem extends Error {}

/** "an INT", "a STR", …: a type name with its article. */
export function aType(t: VariableType | undefined): string {
  const name = typeName(t);
  return `${/^[AEIOUaeiou]/.test(name) ? "an" : "a"} ${name}`;
}

/** "INT", "JSON_OBJ", …; "unknown" when not statically known. */
export function typeName(t: VariableType | undefined): string {
  return t === undefined ? "unknown" : (VariableType[t] ?? `type ${t}`);
}

function enumValue<E extends number>(
  e: Record<string, string | number>,
  value: unknown,
  what: string,
  symbols: Record<string, E> = {},
): E {
  if (typeof value === "number" && typeof e[value] === "string") return value as E;
  if (typeof value === "string") {
    const symbol = symbols[value];
    if (symbol !== undefined) return symbol;
    const n = e[value];
    if (typeof n === "number") return n as E;
  }
  const names = Object.keys(e).filter((k) => Number.isNaN(Number(k)));
  throw new ValueProblem(`unknown ${what} ${JSON.stringify(value)} (expected one of ${names.join(", ")})`);
}

export function toVariableType(t: VariableTypeLike): VariableType {
  return enumValue<VariableType>(VariableType, t, "variable type");
}

export function toMutationType(t: MutationTypeLike): VariableMutationType {
  return enumValue<VariableMutationType>(VariableMutationType, t, "mutation type");
}

const COMPARATOR_SYMBOLS: Record<ComparatorSymbol, Comparator> = {
  "<": Comparator.LESS_THAN,
  ">": Comparator.GREATER_THAN,
  "<=": Comparator.LESS_THAN_EQ,
  ">=": Comparator.GREATER_THAN_EQ,
  "==": Comparator.EQUALS,
  "!=": Comparator.NOT_EQUALS,
};

export function toComparator(c: ComparatorLike): Comparator {
  return enumValue<Comparator>(Comparator, c, "comparator", COMPARATOR_SYMBOLS);
}

/** The comparator that holds exactly when `c` does not. */
export function reverseComparator(c: Comparator): Comparator {
  switch (c) {
    case Comparator.LESS_THAN:
      return Comparator.GREATER_THAN_EQ;
    case Comparator.GREATER_THAN_EQ:
      return Comparator.LESS_THAN;
    case Comparator.GREATER_THAN:
      return Comparator.LESS_THAN_EQ;
    case Comparator.LESS_THAN_EQ:
      return Comparator.GREATER_THAN;
    case Comparator.EQUALS:
      return Comparator.NOT_EQUALS;
    case Comparator.NOT_EQUALS:
      return Comparator.EQUALS;
    case Comparator.IN:
      return Comparator.NOT_IN;
    case Comparator.NOT_IN:
      return Comparator.IN;
  }
}

export function toAccessLevel(l: AccessLevelLike): WfRunVariableAccessLevel {
  return enumValue<WfRunVariableAccessLevel>(WfRunVariableAccessLevel, l, "access level");
}

export function toErrorType(t: ErrorTypeLike): LHErrorType {
  return enumValue<LHErrorType>(LHErrorType, t, "error type");
}

export function toAllowedUpdateType(t: AllowedUpdateTypeLike): AllowedUpdateType {
  return enumValue<AllowedUpdateType>(AllowedUpdateType, t, "update type");
}

function isPlainObject(v: object): boolean {
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function jsonText(v: unknown, what: string): string {
  try {
    return JSON.stringify(v);
  } catch (e) {
    throw new ValueProblem(
      `${what} cannot be turned into JSON: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}

/** A JS literal as a VariableValue. Throws ValueProblem for values that have no LittleHorse type. */
export function toVariableValue(v: unknown): VariableValue {
  if (v === null) return create(VariableValueSchema, {});
  switch (typeof v) {
    case "string":
      return create(VariableValueSchema, { value: { case: "str", value: v } });
    case "boolean":
      return create(VariableValueSchema, { value: { case: "bool", value: v } });
    case "bigint":
      if (v < -(2n ** 63n) || v >= 2n ** 63n) throw new ValueProblem(`${v} does not fit in a 64-bit INT`);
      return create(VariableValueSchema, { value: { case: "int", value: v } });
    case "number":
      if (Number.isSafeInteger(v)) {
        return create(VariableValueSchema, { value: { case: "int", value: BigInt(v) } });
      }
      return create(VariableValueSchema, { value: { case: "double", value: v } });
    case "undefined":
      throw new ValueProblem("undefined is not a value (use null for an empty value)");
    case "object":
      if (v instanceof Uint8Array) return create(VariableValueSchema, { value: { case: "bytes", value: v } });
      if (isMessage(v, VariableValueSchema)) return v;
      if (Array.isArray(v)) {
        return create(VariableValueSchema, { value: { case: "jsonArr", value: jsonText(v, "the array") } });
      }
      if (!isPlainObject(v)) {
        const ctor = (v as { constructor?: { name?: string } }).constructor?.name ?? "object";
        throw new ValueProblem(
          `a ${ctor} is not a value a workflow can use (use a plain object, array or literal)`,
        );
      }
      return create(VariableValueSchema, { value: { case: "jsonObj", value: jsonText(v, "the object") } });
    default:
      throw new ValueProblem(`a ${typeof v} is not a value a workflow can use`);
  }
}

/** The type of a VariableValue; undefined for an empty (null) value. */
export function valueType(v: VariableValue): VariableType | undefined {
  switch (v.value.case) {
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
    case undefined:
      return undefined;
  }
}

/** `value` as the default of a variable of `type`; INT literals become DOUBLE for DOUBLE variables. */
export function defaultValueFor(type: VariableType, value: VariableValue): VariableValue {
  const actual = valueType(value);
  if (actual === undefined || actual === type) return value;
  if (type === VariableType.DOUBLE && value.value.case === "int") {
    return create(VariableValueSchema, { value: { case: "double", value: Number(value.value.value) } });
  }
  throw new ValueProblem(`the default value is ${typeName(actual)}, not ${typeName(type)}`);
}

/** Whether a value of type `source` may be passed where `target` is expected (same type, or INT → DOUBLE). */
export function canFeed(source: VariableType, target: VariableType): boolean {
  return source === target || (source === VariableType.INT && target === VariableType.DOUBLE);
}

const NUMERIC: ReadonlySet<VariableType> = new Set([VariableType.INT, VariableType.DOUBLE]);

/**
 * Why `lhs <op> rhs` cannot work, judged from static types (undefined = unknown), or undefined when it may.
 * Mirrors the server's mutation rules: ASSIGN needs the same type (INT ↔ DOUBLE allowed, but not a
 * fractional literal into an INT); ADD works on INT/DOUBLE (numeric right side), STR and JSON_ARR; SUBTRACT,
 * MULTIPLY and DIVIDE need numbers; EXTEND needs STR+STR or JSON_ARR+JSON_ARR; REMOVE_INDEX needs JSON_ARR and
 * an INT; REMOVE_KEY needs JSON_OBJ and a STR; REMOVE_IF_PRESENT needs JSON_ARR or JSON_OBJ (with a STR key).
 */
export function mutationProblem(
  lhs: VariableType | undefined,
  op: VariableMutationType,
  rhs: VariableType | undefined,
  rhsLiteral: VariableValue | undefined,
): string | undefined {
  if (lhs === undefined) return undefined;
  const opName = VariableMutationType[op];
  const lhsName = typeName(lhs);
  const needs = (why: string) => `${opName} on ${aType(lhs)} variable ${why}`;
  switch (op) {
    case VariableMutationType.ASSIGN:
      if (rhs === undefined || canFeed(rhs, lhs)) return undefined;
      if (rhs === VariableType.DOUBLE && lhs === VariableType.INT && rhsLiteral === undefined)
        return undefined;
      return `cannot ASSIGN ${aType(rhs)} value to ${aType(lhs)} variable`;
    case VariableMutationType.ADD:
      if (lhs === VariableType.STR || lhs === VariableType.JSON_ARR) return undefined;
      if (!NUMERIC.has(lhs)) return `ADD needs an INT, DOUBLE, STR or JSON_ARR variable, not ${lhsName}`;
      if (rhs !== undefined && !NUMERIC.has(rhs))
        return needs(`needs an INT or DOUBLE value, not ${typeName(rhs)}`);
      return undefined;
    case VariableMutationType.SUBTRACT:
    case VariableMutationType.MULTIPLY:
    case VariableMutationType.DIVIDE: {
      if (!NUMERIC.has(lhs)) return `${opName} needs an INT or DOUBLE variable, not ${lhsName}`;
      if (rhs !== undefined && !NUMERIC.has(rhs))
        return needs(`needs an INT or DOUBLE value, not ${typeName(rhs)}`);
      const lit = rhsLiteral?.value;
      if (op === VariableMutationType.DIVIDE && (lit?.case === "int" || lit?.case === "double")) {
        if (Number(lit.value) === 0) return "DIVIDE by a literal zero";
      }
      return undefined;
    }
    case VariableMutationType.EXTEND:
      if (lhs !== VariableType.STR && lhs !== VariableType.JSON_ARR) {
        return `EXTEND needs a STR or JSON_ARR variable, not ${lhsName}`;
      }
      if (rhs !== undefined && rhs !== lhs) return needs(`needs ${aType(lhs)} value, not ${typeName(rhs)}`);
      return undefined;
    case VariableMutationType.REMOVE_IF_PRESENT:
      if (lhs === VariableType.JSON_ARR) return undefined;
      if (lhs !== VariableType.JSON_OBJ)
        return `REMOVE_IF_PRESENT needs a JSON_ARR or JSON_OBJ variable, not ${lhsName}`;
      if (rhs !== undefined && rhs !== VariableType.STR)
        return needs(`needs a STR key, not ${typeName(rhs)}`);
      return undefined;
    case VariableMutationType.REMOVE_INDEX:
      if (lhs !== VariableType.JSON_ARR) return `REMOVE_INDEX needs a JSON_ARR variable, not ${lhsName}`;
      if (rhs !== undefined && rhs !== VariableType.INT)
        return needs(`needs an INT index, not ${typeName(rhs)}`);
      return undefined;
    case VariableMutationType.REMOVE_KEY:
      if (lhs !== VariableType.JSON_OBJ) return `REMOVE_KEY needs a JSON_OBJ variable, not ${lhsName}`;
      if (rhs !== undefined && rhs !== VariableType.STR)
        return needs(`needs a STR key, not ${typeName(rhs)}`);
      return undefined;
  }
}

/** The highest `{n}` a format template refers to, or -1. */
export function maxFormatIndex(template: string): number {
  let max = -1;
  for (const m of template.matchAll(/\{(\d+)\}/g)) max = Math.max(max, Number(m[1]));
  return max;
}
