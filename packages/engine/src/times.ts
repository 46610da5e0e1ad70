/**
 * Every int64 time and duration of the API becomes a number of milliseconds here, checked. A Timestamp's
 * seconds are int64 and a duration's seconds may be too, but a JavaScript number holds whole milliseconds
 * exactly only up to 2^53, and Date (and protobuf's Timestamp encoding) only up to ±8.64e15 ms (about
 * ±273,000 years). Arithmetic past that silently loses precision — `x + len === x` — which made loops over
 * metrics windows endless, and encoding such a time fails deep inside the server. So a time or duration a
 * caller sends is taken only within these bounds, and refused as INVALID_ARGUMENT naming its field.
 */
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { InvalidArgumentError } from "./errors";

/** The latest (and, negated, the earliest) instant JavaScript's Date can hold, in ms since the epoch. */
export const MAX_TIME_MS = 8.64e15;

/** The longest duration anything may last or wait: the whole range of instants. */
export const MAX_DURATION_MS = 2 * MAX_TIME_MS;

/** Whether `ms` is an instant Date and Timestamp can hold. */
export const isTimeMs = (ms: number): boolean => Number.isFinite(ms) && Math.abs(ms) <= MAX_TIME_MS;

/**
 * A Timestamp as epoch ms (`round`: how a fraction of a ms is taken; down by default), or
 * INVALID_ARGUMENT naming `field` when its seconds or nanos are out of range.
 */
export function timestampToMs(
  t: Timestamp,
  field: string,
  round: (x: number) => number = Math.floor,
): number {
  if (t.nanos < 0 || t.nanos > 999_999_999)
    throw new InvalidArgumentError(`${field}: nanos must be from 0 to 999999999, not ${t.nanos}`);
  const seconds = t.seconds;
  if (seconds > BigInt(MAX_TIME_MS / 1000) || seconds < -BigInt(MAX_TIME_MS / 1000))
    throw new InvalidArgumentError(
      `${field}: ${seconds} seconds is out of range (at most ${MAX_TIME_MS / 1000} from the epoch either way)`,
    );
  const ms = Number(seconds) * 1000 + round(t.nanos / 1e6);
  if (!isTimeMs(ms)) throw new InvalidArgumentError(`${field} is out of range`);
  return ms;
}

/** A whole number of seconds (an int64 or a number) as ms, or INVALID_ARGUMENT naming `field`. */
export function secondsToMs(seconds: number | bigint, field: string, opts: { min?: number } = {}): number {
  const n = typeof seconds === "bigint" ? Number(seconds) : seconds;
  if (!Number.isFinite(n))
    throw new InvalidArgumentError(`${field} must be a number of seconds, not ${seconds}`);
  const min = opts.min ?? 0;
  if (n < min) throw new InvalidArgumentError(`${field} must be at least ${min} seconds, not ${seconds}`);
  const ms = n * 1000;
  if (ms > MAX_DURATION_MS)
    throw new InvalidArgumentError(
      `${field}: ${seconds} seconds is out of range (at most ${MAX_DURATION_MS / 1000})`,
    );
  return ms;
}

/** `base + delta` as an instant, or INVALID_ARGUMENT naming `field` when it falls outside Date's range. */
export function addMs(base: number, delta: number, field: string): number {
  const sum = base + delta;
  if (!isTimeMs(sum))
    throw new InvalidArgumentError(`${field}: the time it gives (${sum} ms from the epoch) is out of range`);
  return sum;
}

/** When something `seconds` from `nowMs` is due (negative: already), or INVALID_ARGUMENT naming `field`. */
export function dueAfterSeconds(nowMs: number, seconds: number | bigint, field: string): number {
  return addMs(nowMs, secondsToMs(seconds, field, { min: -MAX_DURATION_MS / 1000 }), field);
}
