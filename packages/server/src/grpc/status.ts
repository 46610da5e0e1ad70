import { status, type ServiceError } from "@grpc/grpc-js";
import { Metadata } from "@grpc/grpc-js";
import {
  AlreadyExistsError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  PonyError,
  ResourceExhaustedError,
} from "@pony/engine";
import { PermissionDeniedError, UnauthenticatedError } from "../security/errors";

/** Not built yet: answered as UNIMPLEMENTED, naming the area of work that will build it. */
export class UnimplementedError extends PonyError {}

/** The caller's deadline passed before what it waited for happened (DEADLINE_EXCEEDED). */
export class DeadlineExceededError extends PonyError {}

/** The caller cancelled the call or went away (CANCELLED); nobody reads the answer. */
export class CancelledError extends PonyError {}

/** The one place where an error becomes a gRPC status code. */
export function grpcStatusOf(e: unknown): status {
  if (e instanceof UnauthenticatedError) return status.UNAUTHENTICATED;
  if (e instanceof PermissionDeniedError) return status.PERMISSION_DENIED;
  if (e instanceof InvalidArgumentError) return status.INVALID_ARGUMENT;
  if (e instanceof NotFoundError) return status.NOT_FOUND;
  if (e instanceof AlreadyExistsError) return status.ALREADY_EXISTS;
  if (e instanceof FailedPreconditionError) return status.FAILED_PRECONDITION;
  if (e instanceof ResourceExhaustedError) return status.RESOURCE_EXHAUSTED;
  if (e instanceof UnimplementedError) return status.UNIMPLEMENTED;
  if (e instanceof DeadlineExceededError) return status.DEADLINE_EXCEEDED;
  if (e instanceof CancelledError) return status.CANCELLED;
  return status.INTERNAL;
}

/** Whether the error is the server's fault (INTERNAL), to be logged. */
export function isInternal(e: unknown): boolean {
  return grpcStatusOf(e) === status.INTERNAL;
}

export function toServiceError(e: unknown): Partial<ServiceError> {
  const code = grpcStatusOf(e);
  const message = e instanceof Error ? e.message : String(e);
  return {
    code,
    details: code === status.INTERNAL ? `internal error: ${message}` : message,
    metadata: new Metadata(),
  };
}
