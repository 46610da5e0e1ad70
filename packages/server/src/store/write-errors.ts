/**
 * What a failed commit tells the callers whose changes were in it: nothing of their call was stored, and
 * why, with a status they can act on. A full disk (SQLite's SQLITE_FULL, ENOSPC, PostgreSQL's 53100
 * disk_full / 53200 out_of_memory) is RESOURCE_EXHAUSTED; any other failure to write is UNAVAILABLE (retry).
 * A fencing refusal (FencedError) and a WfRun created twice (WfRunExistsError) stay what they are. Every
 * store maps its failures here, once.
 */
import { PonyError, ResourceExhaustedError } from "@pony/engine";
import { FencedError, WfRunExistsError } from "./store";

/** The store could not write a batch for a reason other than a full disk: nothing of it was stored. */
export class StoreWriteError extends PonyError {}

const FULL_CODES = new Set(["SQLITE_FULL", "ENOSPC", "53100", "53200"]);
const FULL_MESSAGE = /database or disk is full|no space left on device|ENOSPC|could not extend file/i;

/** The error a failed batch is refused with. `e`: what the store said (with its `code` when it has one). */
export function commitFailure(e: unknown): Error {
  if (
    e instanceof FencedError ||
    e instanceof WfRunExistsError ||
    e instanceof ResourceExhaustedError ||
    e instanceof StoreWriteError
  )
    return e;
  const message = e instanceof Error ? e.message : String(e);
  const code = (e as { code?: unknown } | undefined)?.code;
  if ((typeof code === "string" && FULL_CODES.has(code)) || FULL_MESSAGE.test(message)) {
    return new ResourceExhaustedError(
      `the store's disk is full (${message}): nothing of this call was stored; ` +
        `the server takes writes again once space is freed`,
    );
  }
  return new StoreWriteError(
    `the store could not write (${message}): nothing of this call was stored; retry`,
  );
}
