/** The right-hand side of a VariableMutation. */
import { type VariableMutation, type VariableValue } from "@pony/proto";
import { evaluateAssignment, type AssignmentScope } from "./assignment";
import { asMutationError, VarMutationError } from "./errors";
import { applyJsonPath } from "./jsonpath";

/**
 * Evaluates a mutation's RHS: another assignment (`source_variable`), a literal, or the output of the node
 * just completed (`node_output`, optionally narrowed by its `jsonpath`). Every failure is a VarMutationError;
 * `nodeOutput` undefined means the node produced no output.
 */
export function evaluateMutationRhs(
  m: VariableMutation,
  scope: AssignmentScope,
  nodeOutput: VariableValue | undefined,
): VariableValue {
  const rhs = m.rhsValue;
  switch (rhs.case) {
    case "sourceVariable":
      return asMutationError(() => evaluateAssignment(rhs.value, scope));
    case "literalValue":
      return rhs.value;
    case "nodeOutput": {
      if (nodeOutput === undefined) {
        throw new VarMutationError(
          `the mutation of variable '${m.lhsName}' uses the node output, but the node has no output`,
        );
      }
      const path = rhs.value.jsonpath;
      if (path === undefined || path === "") return nodeOutput;
      return asMutationError(() =>
        applyJsonPath(nodeOutput, path, `the node output used to mutate variable '${m.lhsName}'`),
      );
    }
    default:
      throw new VarMutationError(`the mutation of variable '${m.lhsName}' has no right-hand side`);
  }
}
