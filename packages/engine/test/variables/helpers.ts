import { create } from "@bufbuild/protobuf";
import {
  type Comparator,
  type VariableAssignment,
  VariableAssignmentSchema,
  type VariableMutationType,
  type VariableValue,
} from "@pony/proto";
import { VarSubError, type AssignmentScope } from "../../src/variables";

/** A scope over fixed variables and node outputs; getNodeOutput is left out when `outputs` is not given. */
export function scopeOf(
  vars: Record<string, VariableValue>,
  outputs?: Record<string, VariableValue>,
): AssignmentScope {
  const scope: AssignmentScope = {
    getVariable(name: string): VariableValue {
      const v = vars[name];
      if (v === undefined) throw new VarSubError(`variable '${name}' is not declared`);
      return v;
    },
  };
  if (outputs) {
    scope.getNodeOutput = (nodeName: string): VariableValue => {
      const v = outputs[nodeName];
      if (v === undefined) throw new VarSubError(`no output of node '${nodeName}'`);
      return v;
    };
  }
  return scope;
}

export function varRef(name: string, jsonPath?: string): VariableAssignment {
  return create(VariableAssignmentSchema, { source: { case: "variableName", value: name }, jsonPath });
}

export function lit(value: VariableValue, jsonPath?: string): VariableAssignment {
  return create(VariableAssignmentSchema, { source: { case: "literalValue", value }, jsonPath });
}

export function fmt(format: VariableAssignment, ...args: VariableAssignment[]): VariableAssignment {
  return create(VariableAssignmentSchema, { source: { case: "formatString", value: { format, args } } });
}

export function nodeOut(nodeName: string, jsonPath?: string): VariableAssignment {
  return create(VariableAssignmentSchema, { source: { case: "nodeOutput", value: { nodeName } }, jsonPath });
}

export function cmpExpr(
  lhs: VariableAssignment,
  comparator: Comparator,
  rhs: VariableAssignment,
): VariableAssignment {
  return create(VariableAssignmentSchema, {
    source: { case: "expression", value: { lhs, rhs, operation: { case: "comparator", value: comparator } } },
  });
}

export function mutExpr(
  lhs: VariableAssignment,
  mutationType: VariableMutationType,
  rhs: VariableAssignment,
): VariableAssignment {
  return create(VariableAssignmentSchema, {
    source: {
      case: "expression",
      value: { lhs, rhs, operation: { case: "mutationType", value: mutationType } },
    },
  });
}
