/**
 * The workflow builder: `Workflow.newWorkflow(name, (wf) => { … }).compile()` → PutWfSpecRequest.
 * See README.md in this directory for naming conventions and the compile-time checks.
 */
export { Workflow, type TaskDefInputs } from "./workflow";
export { WorkflowThread, type ThreadFunc, type UserTaskAssignee } from "./thread";
export { WorkflowIfStatement, ENTRYPOINT_THREAD, HANDLER_INPUT_VAR } from "./builder";
export {
  WfRunVariable,
  NodeOutput,
  TaskNodeOutput,
  ExternalEventNodeOutput,
  UserTaskOutput,
  WaitForThreadsNodeOutput,
  LHFormatString,
  WorkflowCondition,
  SpawnedThread,
  SpawnedThreads,
  type WfValue,
} from "./outputs";
export { LHWorkflowError } from "./errors";
export type {
  LiteralValue,
  VariableTypeLike,
  VariableTypeName,
  MutationTypeLike,
  ComparatorLike,
  ComparatorSymbol,
  AccessLevelLike,
  ErrorTypeLike,
  AllowedUpdateTypeLike,
} from "./values";
