export * from "./state";
export * from "./commands";
export * from "./effects";
export * from "./failures";
export { createWfRun, applyCommand, validateRunWfInputs } from "./wf-run";
export { taskTimeoutTimerKey, taskBackoffTimerKey } from "./task-run";
export { DEFAULT_TASK_TIMEOUT_SECONDS } from "./task-node";
export { timestampAt } from "./clock";
export { INHERITED_PREFIX, inheritedVariableKey } from "./scope";
