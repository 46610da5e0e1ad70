/** Pure handling of LittleHorse variable values: types, casts, JSON paths, assignments, conditions, mutations. */
export { VarMutationError, VarSubError } from "./errors";
export { Comparators, comparatorName, mutationName, typeLabel } from "./names";
export {
  boolValue,
  bytesValue,
  doubleValue,
  fromJs,
  intValue,
  isNullValue,
  jsonArrValue,
  jsonObjValue,
  jsonTextValue,
  nullValue,
  strValue,
  stringForm,
  toJs,
  typeName,
  valueType,
  valuesEqual,
} from "./values";
export { castForComparison, castTo, checkValueMatchesType } from "./cast";
export { applyJsonPath, parseJsonPath, type PathSegment } from "./jsonpath";
export { MAX_JSON_DEPTH, jsonDeeperThan } from "./json";
export { compareValues } from "./compare";
export { formatTemplate } from "./format";
export {
  evaluateAssignment,
  evaluateConditionExpression,
  evaluateEdgeCondition,
  type AssignmentScope,
} from "./assignment";
export { applyMutation, type MutationArgs } from "./mutation";
export { evaluateMutationRhs } from "./mutation-rhs";
