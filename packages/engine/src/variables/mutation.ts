/** Variable mutations (ASSIGN, ADD, EXTEND, arithmetic, removals), on a whole variable or a JSON sub-field. */
import { type VariableValue, VariableMutationType, VariableType } from "@pony/proto";
import { checkValueMatchesType, integralDoubleToBigInt } from "./cast";
import { asMutationError, VarMutationError } from "./errors";
import { deepEqual, inInt64Range, isJsonObject, setOwn, toJsonText } from "./json";
import { formatPath, parseJsonPath, step, type PathSegment } from "./jsonpath";
import { mutationName, typeLabel, withArticle } from "./names";
import {
  doubleValue,
  fromJs,
  intValue,
  jsonArrValue,
  jsonTextValue,
  nullValue,
  strValue,
  stringForm,
  toJs,
  typeName,
  valueType,
} from "./values";

export interface MutationArgs {
  /** The variable's value now; undefined or an unset oneof means null. */
  current: VariableValue | undefined;
  declaredType: VariableType;
  operation: VariableMutationType;
  rhs: VariableValue;
  /** Mutate only this sub-field of a JSON_OBJ / JSON_ARR variable. */
  lhsJsonPath?: string | undefined;
  lhsName: string;
  /** How error messages name the thing mutated; defaults to `variable '<lhsName>'`. */
  what?: string | undefined;
}

/**
 * The new value of a variable after one mutation (B-RUN-9). Never changes its inputs. Every failure is a
 * VarMutationError naming the variable and the types involved.
 */
export function applyMutation(args: MutationArgs): VariableValue {
  const what = args.what ?? `variable '${args.lhsName}'`;
  return asMutationError(() => {
    const current = args.current ?? nullValue();
    const actual = valueType(current);
    if (actual !== undefined && actual !== args.declaredType) {
      throw new VarMutationError(
        `${what} is declared ${typeLabel(args.declaredType)} but holds ${withArticle(typeLabel(actual))} value`,
      );
    }
    const path = args.lhsJsonPath;
    if (path !== undefined && path !== "") {
      const segments = parseJsonPath(path);
      if (segments.length > 0) {
        return mutateAtPath(current, args.declaredType, args.operation, args.rhs, path, segments, what);
      }
    }
    return mutateValue(current, args.declaredType, args.operation, args.rhs, what);
  });
}

function failure(op: VariableMutationType, what: string, lhsType: string, rhs: VariableValue, why?: string) {
  const base = `cannot apply ${mutationName(op)} to ${what} (${lhsType}) with ${withArticle(typeName(rhs))} value`;
  return new VarMutationError(why === undefined ? base : `${base}: ${why}`);
}

/** The starting value ADD uses for a null variable of each type, if any. */
function emptyFor(type: VariableType): VariableValue | undefined {
  switch (type) {
    case VariableType.INT:
      return intValue(0n);
    case VariableType.DOUBLE:
      return doubleValue(0);
    case VariableType.STR:
      return strValue("");
    case VariableType.JSON_ARR:
      return jsonArrValue([]);
    default:
      return undefined;
  }
}

function mutateValue(
  current: VariableValue,
  type: VariableType,
  op: VariableMutationType,
  rhs: VariableValue,
  what: string,
): VariableValue {
  if (op === VariableMutationType.ASSIGN) return assign(rhs, type, what);
  let lhs = current;
  if (lhs.value.case === undefined) {
    const empty = op === VariableMutationType.ADD ? emptyFor(type) : undefined;
    if (empty === undefined) throw failure(op, what, typeLabel(type), rhs, "its value is null");
    lhs = empty;
  }
  const fail = (why?: string) => failure(op, what, typeName(lhs), rhs, why);
  const l = lhs.value;
  const r = rhs.value;
  switch (op) {
    case VariableMutationType.ADD:
      if (l.case === "str") return strValue(l.value + stringForm(rhs));
      if (l.case === "jsonArr") {
        const list = toJs(lhs) as unknown[];
        list.push(toJs(rhs));
        return jsonArrValue(list);
      }
      if (l.case !== "int" && l.case !== "double") {
        throw fail("ADD needs an INT, DOUBLE, STR or JSON_ARR variable");
      }
      return arithmetic(lhs, op, rhs, fail);
    case VariableMutationType.SUBTRACT:
    case VariableMutationType.MULTIPLY:
    case VariableMutationType.DIVIDE:
      return arithmetic(lhs, op, rhs, fail);
    case VariableMutationType.EXTEND:
      if (l.case === "str" && r.case === "str") return strValue(l.value + r.value);
      if (l.case === "jsonArr" && r.case === "jsonArr") {
        return jsonArrValue([...(toJs(lhs) as unknown[]), ...(toJs(rhs) as unknown[])]);
      }
      throw fail("EXTEND needs STR with STR or JSON_ARR with JSON_ARR");
    case VariableMutationType.REMOVE_IF_PRESENT:
      if (l.case === "jsonArr") {
        const needle = toJs(rhs);
        return jsonArrValue((toJs(lhs) as unknown[]).filter((item) => !deepEqual(item, needle)));
      }
      if (l.case === "jsonObj") return removeKey(lhs, rhs, fail);
      throw fail("REMOVE_IF_PRESENT needs a JSON_ARR or JSON_OBJ");
    case VariableMutationType.REMOVE_INDEX: {
      if (l.case !== "jsonArr") throw fail("REMOVE_INDEX needs a JSON_ARR");
      if (r.case !== "int") throw fail("the index must be an INT");
      const list = toJs(lhs) as unknown[];
      if (r.value < 0n || r.value >= BigInt(list.length)) {
        throw fail(`index ${r.value} is out of range for a list of length ${list.length}`);
      }
      list.splice(Number(r.value), 1);
      return jsonArrValue(list);
    }
    case VariableMutationType.REMOVE_KEY:
      if (l.case !== "jsonObj") throw fail("REMOVE_KEY needs a JSON_OBJ");
      return removeKey(lhs, rhs, fail);
    default:
      throw fail("unknown mutation type");
  }
}

/** ASSIGN: the value must match the declared type; INT → DOUBLE and integral DOUBLE → INT are allowed. */
function assign(rhs: VariableValue, type: VariableType, what: string): VariableValue {
  const r = rhs.value;
  if (type === VariableType.DOUBLE && r.case === "int") return doubleValue(Number(r.value));
  if (type === VariableType.INT && r.case === "double") {
    const n = integralDoubleToBigInt(r.value);
    if (n === undefined) {
      throw failure(VariableMutationType.ASSIGN, what, typeLabel(type), rhs, `${r.value} is not an integer`);
    }
    return intValue(n);
  }
  checkValueMatchesType(rhs, type, what);
  return rhs;
}

function removeKey(
  lhs: VariableValue,
  rhs: VariableValue,
  fail: (why?: string) => VarMutationError,
): VariableValue {
  const r = rhs.value;
  if (r.case !== "str") throw fail("the key must be a STR");
  const obj = toJs(lhs) as Record<string, unknown>;
  if (Object.hasOwn(obj, r.value)) delete obj[r.value];
  return jsonTextValue(VariableType.JSON_OBJ, toJsonText(obj));
}

/** ADD / SUBTRACT / MULTIPLY / DIVIDE on INT and DOUBLE; the result has the LHS type (INT truncates). */
function arithmetic(
  lhs: VariableValue,
  op: VariableMutationType,
  rhs: VariableValue,
  fail: (why?: string) => VarMutationError,
): VariableValue {
  const l = lhs.value;
  const r = rhs.value;
  if ((l.case !== "int" && l.case !== "double") || (r.case !== "int" && r.case !== "double")) {
    throw fail(`${mutationName(op)} needs INT or DOUBLE values`);
  }
  if (op === VariableMutationType.DIVIDE && (r.value === 0n || r.value === 0)) throw fail("division by zero");
  if (l.case === "int" && r.case === "int") {
    const result = bigintOp(l.value, op, r.value);
    if (!inInt64Range(result)) throw fail(`the result ${result} does not fit in a 64-bit INT`);
    return intValue(result);
  }
  const result = numberOp(Number(l.value), op, Number(r.value));
  if (!Number.isFinite(result)) throw fail(`the result ${result} is not a finite number`);
  if (l.case === "double") return doubleValue(result);
  const truncated = BigInt(Math.trunc(result));
  if (!inInt64Range(truncated)) throw fail(`the result ${truncated} does not fit in a 64-bit INT`);
  return intValue(truncated);
}

function bigintOp(a: bigint, op: VariableMutationType, b: bigint): bigint {
  switch (op) {
    case VariableMutationType.ADD:
      return a + b;
    case VariableMutationType.SUBTRACT:
      return a - b;
    case VariableMutationType.MULTIPLY:
      return a * b;
    default:
      return a / b; // bigint division truncates toward zero
  }
}

function numberOp(a: number, op: VariableMutationType, b: number): number {
  switch (op) {
    case VariableMutationType.ADD:
      return a + b;
    case VariableMutationType.SUBTRACT:
      return a - b;
    case VariableMutationType.MULTIPLY:
      return a * b;
    default:
      return a / b;
  }
}

/**
 * Applies a mutation to the sub-field `path` of a JSON_OBJ / JSON_ARR variable and returns the whole updated
 * value. ASSIGN may create a missing key of an object; any other missing path is an error. The sub-field's
 * type is the type of what it holds now.
 */
function mutateAtPath(
  current: VariableValue,
  declared: VariableType,
  op: VariableMutationType,
  rhs: VariableValue,
  path: string,
  segments: PathSegment[],
  what: string,
): VariableValue {
  if (declared !== VariableType.JSON_OBJ && declared !== VariableType.JSON_ARR) {
    throw failure(
      op,
      what,
      typeLabel(declared),
      rhs,
      `lhs_json_path '${path}' needs a JSON_OBJ or JSON_ARR variable`,
    );
  }
  if (current.value.case === undefined) {
    throw failure(
      op,
      what,
      typeLabel(declared),
      rhs,
      `cannot follow lhs_json_path '${path}': its value is null`,
    );
  }
  const root = toJs(current);
  const notFound = (upto: number) =>
    failure(
      op,
      what,
      typeLabel(declared),
      rhs,
      `JSON path '${path}' not found: nothing at ${formatPath(segments.slice(0, upto))}`,
    );
  let parent = root;
  for (let n = 0; n < segments.length - 1; n++) {
    const r = step(parent, segments[n]!);
    if (!r.found) throw notFound(n + 1);
    parent = r.value;
  }
  const last = segments[segments.length - 1]!;
  const found = step(parent, last);
  const subWhat = `${what} at '${path}'`;
  let replacement: unknown;
  if (op === VariableMutationType.ASSIGN) {
    const creatable = last.kind === "key" && isJsonObject(parent);
    if (!found.found && !creatable) throw notFound(segments.length);
    replacement = toJs(rhs);
  } else {
    if (!found.found) throw notFound(segments.length);
    const sub = fromJs(found.value);
    const subType = valueType(sub);
    if (subType === undefined) throw failure(op, subWhat, "NULL", rhs, "the value there is null");
    replacement = toJs(mutateValue(sub, subType, op, rhs, subWhat));
  }
  if (last.kind === "index") (parent as unknown[])[last.index] = replacement;
  else setOwn(parent as Record<string, unknown>, last.key, replacement);
  return jsonTextValue(declared, toJsonText(root));
}
