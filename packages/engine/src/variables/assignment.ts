/** VariableAssignments (B-RUN-10) and edge conditions (B-RUN-7). */
import {
  type EdgeCondition,
  type VariableAssignment,
  type VariableAssignment_Expression,
  type VariableAssignment_FormatString,
  type VariableValue,
  VariableMutationType,
} from "@pony/proto";
import { compareValues } from "./compare";
import { asSubError, VarSubError } from "./errors";
import { formatTemplate } from "./format";
import { applyJsonPath } from "./jsonpath";
import { applyMutation } from "./mutation";
import { withArticle } from "./names";
import { boolValue, nullValue, strValue, typeName, valueType } from "./values";

/** What an assignment can read: the variables visible from the current thread, and node outputs. */
export interface AssignmentScope {
  /** Value of a declared variable visible from the current thread; throws VarSubError if not declared. */
  getVariable(name: string): VariableValue;
  /** Output of the most recent NodeRun of that node name in this thread (expression form of newer clients). Optional. */
  getNodeOutput?(nodeName: string): VariableValue;
}

/**
 * The value a VariableAssignment stands for: a variable, a literal, a format string, a node's output or an
 * expression, then narrowed by `json_path` if one is given. Every failure is a VarSubError.
 */
export function evaluateAssignment(a: VariableAssignment, scope: AssignmentScope): VariableValue {
  const value = evaluateSource(a, scope);
  if (a.jsonPath !== undefined && a.jsonPath !== "")
    return applyJsonPath(value, a.jsonPath, describeSource(a));
  return value;
}

function describeSource(a: VariableAssignment): string {
  switch (a.source.case) {
    case "variableName":
      return `variable '${a.source.value}'`;
    case "literalValue":
      return "a literal value";
    case "formatString":
      return "a format string";
    case "nodeOutput":
      return `the output of node '${a.source.value.nodeName}'`;
    case "expression":
      return "an expression";
    default:
      return "an assignment";
  }
}

function evaluateSource(a: VariableAssignment, scope: AssignmentScope): VariableValue {
  const source = a.source;
  switch (source.case) {
    case "variableName":
      return scope.getVariable(source.value);
    case "literalValue":
      return source.value;
    case "formatString":
      return evaluateFormatString(source.value, scope);
    case "nodeOutput": {
      const nodeName = source.value.nodeName;
      if (!scope.getNodeOutput)
        throw new VarSubError(`the output of node '${nodeName}' is not available here`);
      return scope.getNodeOutput(nodeName);
    }
    case "expression":
      return evaluateExpression(source.value, scope);
    default:
      throw new VarSubError("the variable assignment has no source");
  }
}

function evaluateFormatString(fs: VariableAssignment_FormatString, scope: AssignmentScope): VariableValue {
  if (!fs.format) throw new VarSubError("the format string has no format");
  const format = evaluateAssignment(fs.format, scope);
  if (format.value.case !== "str") {
    throw new VarSubError(
      `the format of a format string must be a STR, got ${withArticle(typeName(format))} value`,
    );
  }
  const args = fs.args.map((arg) => evaluateAssignment(arg, scope));
  return strValue(formatTemplate(format.value.value, args));
}

function evaluateExpression(e: VariableAssignment_Expression, scope: AssignmentScope): VariableValue {
  if (!e.lhs || !e.rhs) throw new VarSubError("an expression needs both a left-hand and a right-hand side");
  const lhs = evaluateAssignment(e.lhs, scope);
  const rhs = evaluateAssignment(e.rhs, scope);
  const op = e.operation;
  switch (op.case) {
    case "comparator":
      return boolValue(compareValues(lhs, op.value, rhs));
    case "mutationType": {
      // A null LHS takes the RHS's type, so `null ADD 5` is 5.
      const type = valueType(lhs) ?? valueType(rhs);
      if (type === undefined && op.value === VariableMutationType.ASSIGN) return nullValue();
      if (type === undefined) {
        throw new VarSubError("cannot evaluate an expression whose both sides are null");
      }
      return asSubError(() =>
        applyMutation({
          current: lhs,
          declaredType: type,
          operation: op.value,
          rhs,
          lhsName: "expression",
          what: "the left-hand side of an expression",
        }),
      );
    }
    default:
      throw new VarSubError("the expression has no operation");
  }
}

/** A legacy EdgeCondition: `left comparator right`. */
export function evaluateEdgeCondition(c: EdgeCondition, scope: AssignmentScope): boolean {
  if (!c.left || !c.right) throw new VarSubError("the edge condition needs both a left and a right side");
  return compareValues(evaluateAssignment(c.left, scope), c.comparator, evaluateAssignment(c.right, scope));
}

/**
 * A newer client's Edge.expression_condition: an assignment (normally an expression with a comparator) that
 * must evaluate to a BOOL.
 */
export function evaluateConditionExpression(a: VariableAssignment, scope: AssignmentScope): boolean {
  const v = evaluateAssignment(a, scope);
  if (v.value.case !== "bool") {
    throw new VarSubError(`an edge condition must evaluate to a BOOL, got ${withArticle(typeName(v))} value`);
  }
  return v.value.value;
}
