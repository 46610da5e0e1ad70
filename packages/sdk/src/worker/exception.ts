/**
 * A business outcome a task function reports on purpose: `throw new LHTaskException("out-of-stock", "…")`.
 * The attempt ends TASK_EXCEPTION and is never retried; the WfRun sees an EXCEPTION named `name` (with
 * `content`) that a `handleException(name)` can catch. Any other throw is a TASK_FAILED attempt, retried
 * while the node has retries left.
 */
export class LHTaskException extends Error {
  override readonly name = "LHTaskException";

  constructor(
    /** the exception's name, what handlers match on */
    readonly exceptionName: string,
    message: string,
    /** a value sent with the exception (converted like a task's output) */
    readonly content?: unknown,
  ) {
    super(message);
  }
}
