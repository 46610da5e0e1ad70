import { clone, create } from "@bufbuild/protobuf";
import {
  ExternalEventDefSchema,
  ExternalEventRetentionPolicySchema,
  WorkflowEventDefSchema,
  type ExternalEventDef,
  type ExternalEventRetentionPolicy,
  type PutExternalEventDefRequest,
  type PutWorkflowEventDefRequest,
  type WorkflowEventDef,
} from "@pony/proto";
import { AlreadyExistsError, InvalidArgumentError } from "../errors";
import { validateName } from "./names";
import { toTimestamp, type Now } from "./time";
import { isKnownVariableType, variableTypeName } from "./variable-defs";

/** Seconds after put, or undefined when events are kept forever. */
function retentionSeconds(policy: ExternalEventRetentionPolicy | undefined): bigint | undefined {
  const gc = policy?.extEvtGcPolicy;
  return gc?.case === "secondsAfterPut" ? gc.value : undefined;
}

function describeRetention(seconds: bigint | undefined): string {
  return seconds === undefined ? "no retention policy" : `seconds_after_put ${seconds}`;
}

/**
 * PutExternalEventDef (B-META-2). A request with the same retention policy as the existing def returns it;
 * a different one is AlreadyExistsError. A negative `seconds_after_put` is InvalidArgumentError.
 */
export function putExternalEventDef(
  req: PutExternalEventDefRequest,
  existing: ExternalEventDef | undefined,
  now: Now,
): { def: ExternalEventDef; created: boolean } {
  validateName("ExternalEventDef", req.name);
  const seconds = retentionSeconds(req.retentionPolicy);
  if (seconds !== undefined && seconds < 0n) {
    throw new InvalidArgumentError(
      `ExternalEventDef '${req.name}': retention seconds_after_put must not be negative (got ${seconds})`,
    );
  }
  if (existing !== undefined) {
    const existingSeconds = retentionSeconds(existing.retentionPolicy);
    if (existingSeconds === seconds) return { def: existing, created: false };
    throw new AlreadyExistsError(
      `ExternalEventDef '${req.name}' already exists with ${describeRetention(existingSeconds)}, requested ${describeRetention(seconds)}`,
    );
  }
  const def = create(ExternalEventDefSchema, {
    id: { name: req.name },
    createdAt: toTimestamp(now),
    retentionPolicy:
      req.retentionPolicy !== undefined && seconds !== undefined
        ? clone(ExternalEventRetentionPolicySchema, req.retentionPolicy)
        : undefined,
  });
  return { def, created: true };
}

/**
 * PutWorkflowEventDef (B-META-2). The same content type as the existing def returns it; a different type is
 * AlreadyExistsError; an unknown type is InvalidArgumentError.
 */
export function putWorkflowEventDef(
  req: PutWorkflowEventDefRequest,
  existing: WorkflowEventDef | undefined,
  now: Now,
): { def: WorkflowEventDef; created: boolean } {
  validateName("WorkflowEventDef", req.name);
  if (!isKnownVariableType(req.type)) {
    throw new InvalidArgumentError(`WorkflowEventDef '${req.name}': unknown type ${req.type}`);
  }
  if (existing !== undefined) {
    if (existing.type === req.type) return { def: existing, created: false };
    throw new AlreadyExistsError(
      `WorkflowEventDef '${req.name}' already exists with type ${variableTypeName(existing.type)}, requested ${variableTypeName(req.type)}`,
    );
  }
  const def = create(WorkflowEventDefSchema, {
    id: { name: req.name },
    createdAt: toTimestamp(now),
    type: req.type,
  });
  return { def, created: true };
}
