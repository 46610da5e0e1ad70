import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { FailureSchema, LHErrorType, LHStatus, type NodeRun, type VariableValue } from "@pony/proto";

/**
 * A failure raised inside a ThreadRun. Built-in failures carry an LHErrorType name (UPPER_CASE) and make the
 * thread ERROR; user-defined (business) failures carry a kebab-case name and make it EXCEPTION.
 */
export interface ThreadFailure {
  name: string;
  message: string;
  content?: VariableValue;
  isException: boolean;
}

export function errorFailure(type: LHErrorType, message: string): ThreadFailure {
  return { name: LHErrorType[type], message, isException: false };
}

export function exceptionFailure(name: string, message: string, content?: VariableValue): ThreadFailure {
  return { name, message, content, isException: true };
}

/** Marks a NodeRun as failed with the given failure; the thread decides what happens next. */
export function failNodeRun(nodeRun: NodeRun, failure: ThreadFailure, nowMs: number): void {
  nodeRun.status = failure.isException ? LHStatus.EXCEPTION : LHStatus.ERROR;
  nodeRun.errorMessage = failure.message;
  nodeRun.endTime = timestampFromMs(nowMs);
  nodeRun.failures.push(
    create(FailureSchema, {
      failureName: failure.name,
      message: failure.message,
      content: failure.content,
      wasProperlyHandled: false,
    }),
  );
}

/** The failure a failed NodeRun carries (its latest one). */
export function nodeRunFailure(nodeRun: NodeRun): ThreadFailure {
  const f = nodeRun.failures[nodeRun.failures.length - 1];
  if (!f) {
    return errorFailure(LHErrorType.INTERNAL_ERROR, nodeRun.errorMessage ?? "node failed without a failure");
  }
  return {
    name: f.failureName,
    message: f.message,
    content: f.content,
    isException: nodeRun.status === LHStatus.EXCEPTION,
  };
}
