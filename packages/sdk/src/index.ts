/**
 * @pony/sdk: the TypeScript SDK of Pony (LittleHorse's API).
 *
 *   LHConfig        settings from options, LHC_* / LHW_* environment variables and littlehorse.config
 *   LHClient        a typed client for every RPC (config.getClient())
 *   LHTaskWorker    runs a function for every TaskRun of a TaskDef
 *   toVariableValue / fromVariableValue   JavaScript values ⇄ VariableValues
 */
export { LHConfig, LH_SETTING_NAMES, DEFAULT_CONFIG_FILE } from "./config";
export type { LHApiProtocol, LHConfigOptions, LHSettingSource } from "./config";
export { createLHClient, DEFAULT_CHANNEL_OPTIONS } from "./client";
export type {
  LHBidiMethodName,
  LHBidiStream,
  LHCallOptions,
  LHClient,
  LHClientOptions,
  LHRequestInit,
  LHResponse,
  LHUnaryMethodName,
} from "./client";
export { LHApiError, LHConfigError, type LHStatusCode } from "./errors";
export { LHOAuthError } from "./oauth";
export { parseProperties } from "./properties";
export {
  fromVariableValue,
  fromVariableValueAs,
  LHDeserializationError,
  LHSerializationError,
  strictJson,
  toVariableValue,
} from "./values";
export { LHTaskWorker, type LHTaskWorkerOptions } from "./worker/task-worker";
export { LHTaskException } from "./worker/exception";
export { WorkerContext, FOR_EACH_ITEM_VARIABLE, wfRunIdToString } from "./worker/context";
export type { LHTaskFunction, TaskInput } from "./worker/execute";
export { consoleLogger, silentLogger, type LHWorkerLogger } from "./worker/logger";
export * from "./workflow";
