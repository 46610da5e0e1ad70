/** Comparators: ordering, equality with casting, and membership. */
import { type Comparator, type VariableValue } from "@pony/proto";
import { castForComparison } from "./cast";
import { VarSubError } from "./errors";
import { deepEqual, isJsonObject } from "./json";
import { comparatorName, Comparators, withArticle } from "./names";
import { stringForm, toJs, typeName, valuesEqual, valueType } from "./values";

/**
 * Evaluates `lhs op rhs`. Ordering needs two numbers (INT and DOUBLE mix) or two STRs; EQUALS / NOT_EQUALS
 * cast the RHS to the LHS type first (null equals only null); IN / NOT_IN need a JSON_ARR (element) or
 * JSON_OBJ (key) on the right. Anything else is a VarSubError.
 */
export function compareValues(lhs: VariableValue, op: Comparator, rhs: VariableValue): boolean {
  switch (op) {
    case Comparators.LESS_THAN:
      return order(lhs, op, rhs) < 0;
    case Comparators.GREATER_THAN:
      return order(lhs, op, rhs) > 0;
    case Comparators.LESS_THAN_EQ:
      return order(lhs, op, rhs) <= 0;
    case Comparators.GREATER_THAN_EQ:
      return order(lhs, op, rhs) >= 0;
    case Comparators.EQUALS:
      return equalAfterCast(lhs, op, rhs);
    case Comparators.NOT_EQUALS:
      return !equalAfterCast(lhs, op, rhs);
    case Comparators.IN:
      return contains(lhs, op, rhs);
    case Comparators.NOT_IN:
      return !contains(lhs, op, rhs);
    default:
      throw new VarSubError(`unknown comparator ${comparatorName(op)}`);
  }
}

/** -1, 0 or 1; NaN when two numbers are unordered (a DOUBLE NaN), so every ordering test is false. */
function order(lhs: VariableValue, op: Comparator, rhs: VariableValue): number {
  const l = lhs.value;
  const r = rhs.value;
  if ((l.case === "int" || l.case === "double") && (r.case === "int" || r.case === "double")) {
    // bigint / number relational comparisons are exact in JS, so mixed INT and DOUBLE need no conversion.
    if (l.value < r.value) return -1;
    if (l.value > r.value) return 1;
    return l.value == r.value ? 0 : NaN;
  }
  if (l.case === "str" && r.case === "str") {
    if (l.value < r.value) return -1;
    return l.value > r.value ? 1 : 0;
  }
  throw new VarSubError(
    `cannot compare ${withArticle(typeName(lhs))} with ${withArticle(typeName(rhs))} using ${comparatorName(op)}: ` +
      "only INT, DOUBLE and STR values can be ordered",
  );
}

function equalAfterCast(lhs: VariableValue, op: Comparator, rhs: VariableValue): boolean {
  const lhsType = valueType(lhs);
  if (lhsType === undefined || valueType(rhs) === undefined) return lhsType === valueType(rhs);
  const cast = castForComparison(rhs, lhsType, `the right-hand side of ${comparatorName(op)}`);
  return valuesEqual(lhs, cast);
}

function contains(lhs: VariableValue, op: Comparator, rhs: VariableValue): boolean {
  const r = rhs.value;
  if (r.case === "jsonArr") {
    const list = toJs(rhs) as unknown[];
    const needle = toJs(lhs);
    return list.some((item) => deepEqual(needle, item));
  }
  if (r.case === "jsonObj") {
    const obj = toJs(rhs);
    return isJsonObject(obj) && Object.hasOwn(obj, stringForm(lhs));
  }
  throw new VarSubError(
    `${comparatorName(op)} needs a JSON_ARR or JSON_OBJ on the right-hand side, ` +
      `got ${withArticle(typeName(rhs))} (left-hand side is ${withArticle(typeName(lhs))})`,
  );
}
