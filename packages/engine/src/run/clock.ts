import { create } from "@bufbuild/protobuf";
import { TimestampSchema, type Timestamp } from "@bufbuild/protobuf/wkt";
import type { EngineContext } from "./state";

/** A Timestamp of an epoch-millisecond instant that may carry a fraction of a millisecond, kept to the µs. */
export function timestampAt(ms: number): Timestamp {
  const micros = Math.round(ms * 1000);
  const seconds = Math.floor(micros / 1_000_000);
  return create(TimestampSchema, {
    seconds: BigInt(seconds),
    nanos: (micros - seconds * 1_000_000) * 1000,
  });
}

/**
 * The time a task attempt is scheduled, started or ended: the command's time to the microsecond when the
 * runtime's clock gives it (dispatch latency is a fraction of a millisecond, so a whole-millisecond
 * schedule time could not show it), else to the millisecond.
 */
export const attemptTime = (ctx: EngineContext): Timestamp => timestampAt(ctx.preciseNowMs ?? ctx.nowMs);
