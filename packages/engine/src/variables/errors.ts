/**
 * The two failures variable handling can raise. The engine turns a VarSubError into a thread failure with
 * LHErrorType VAR_SUB_ERROR and a VarMutationError into VAR_MUTATION_ERROR.
 */

/** A value could not be computed: missing variable or JSON path, wrong type, failed cast (VAR_SUB_ERROR). */
export class VarSubError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "VarSubError";
  }
}

/** A variable mutation could not be applied (VAR_MUTATION_ERROR). */
export class VarMutationError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "VarMutationError";
  }
}

/** Runs `fn`, turning a VarSubError it throws into a VarMutationError with the same message. */
export function asMutationError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof VarSubError) throw new VarMutationError(e.message, { cause: e });
    throw e;
  }
}

/** Runs `fn`, turning a VarMutationError it throws into a VarSubError with the same message. */
export function asSubError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof VarMutationError) throw new VarSubError(e.message, { cause: e });
    throw e;
  }
}
