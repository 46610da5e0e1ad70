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
import { NotOwnerError } from "../runtime/partitions";
import { PermissionDeniedError, UnauthenticatedError } from "../security/errors";
import { FencedError } from "../store/store";
import { StoreWriteError } from "../store/write-errors";

/** Not built yet: answered as UNIMPLEMENTED, naming the area of work that will build it. */
export class UnimplementedError extends PonyError {}

/** The caller's deadline passed before what it waited for happened (DEADLINE_EXCEEDED). */
export class DeadlineExceededError extends PonyError {}

/** The caller cancelled the call or went away (CANCELLED); nobody reads the answer. */
export class CancelledError extends PonyError {}

/** No server can run the call right now (its partition is between owners): it did nothing (UNAVAILABLE). */
export class UnavailableError extends PonyError {}

/** An error another server of the cluster answered a forwarded call with: passed on as it came. */
export class ForwardedError extends PonyError {
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
  }
}

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
  if (e instanceof ForwardedError) return e.code;
  if (e instanceof UnavailableError) return status.UNAVAILABLE;
  // the WfRun's partition is moving between servers: the call did nothing and can be retried
  if (e instanceof NotOwnerError || e instanceof FencedError) return status.UNAVAILABLE;
  // the store failed to write (not a full disk): nothing was stored, the call can be retried
  if (e instanceof StoreWriteError) return status.UNAVAILABLE;
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
