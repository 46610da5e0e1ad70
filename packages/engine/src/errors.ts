/**
 * Errors the engine raises, as classes with fields so callers branch on type. The server maps each class to
 * exactly one gRPC status code (packages/server/src/grpc/status.ts); nothing else in the engine knows gRPC.
 */
export class PonyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The request is malformed or names things that cannot work (INVALID_ARGUMENT). */
export class InvalidArgumentError extends PonyError {}

/** The named object does not exist (NOT_FOUND). */
export class NotFoundError extends PonyError {}

/** The object exists already and the request may not change it (ALREADY_EXISTS). */
export class AlreadyExistsError extends PonyError {}

/** The object is in a state that does not allow the request (FAILED_PRECONDITION). */
export class FailedPreconditionError extends PonyError {}

/** A limit was reached (RESOURCE_EXHAUSTED). */
export class ResourceExhaustedError extends PonyError {}
