/**
 * Pure metadata handling: name rules, TaskDef / ExternalEventDef / WorkflowEventDef / UserTaskDef puts,
 * WfSpec validation and versioning. No I/O: stored objects and the clock come in as arguments.
 */
export { validateName, METADATA_NAME_PATTERN, MAX_METADATA_NAME_LENGTH } from "./names";
export type { Now } from "./time";
export { declaredType, normaliseVariableDef, normaliseVariableDefs } from "./variable-defs";
export { putTaskDef, sameInputVars } from "./task-def";
export { putExternalEventDef, putWorkflowEventDef } from "./event-defs";
export { putUserTaskDef, sameUserTaskDefContent } from "./user-task-def";
export { buildWfSpec, type MetadataLookup } from "./wf-spec-validate";
export {
  breakingChange,
  decideWfSpecVersion,
  entrypointVariables,
  frozenVariables,
  sameWfSpec,
  wfSpecVersionString,
  type WfSpecVersionDecision,
} from "./wf-spec-version";
