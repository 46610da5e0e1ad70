/** Parsing of command-line arguments: ids, numbers, enum names, bookmarks. */
import type { DescEnum, MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs, type Timestamp } from "@bufbuild/protobuf/wkt";
import type { WfRunIdSchema } from "@pony/proto";
import { InvalidArgumentError, type Command } from "commander";

export type WfRunIdInit = MessageInitShape<typeof WfRunIdSchema>;

/**
 * A WfRun id as LittleHorse prints it: a child WfRun is `<parent>_<child>` (as in lhctl). Text with empty
 * parts ("a__b", "_a") is taken as one id.
 */
export function parseWfRunId(text: string): WfRunIdInit {
  const parts = text.split("_");
  if (parts.some((p) => p === "")) return { id: text };
  let id: WfRunIdInit | undefined;
  for (const part of parts) id = id === undefined ? { id: part } : { id: part, parentWfRunId: id };
  return id ?? { id: text };
}

/** A commander argument parser for a whole number from 0 to 2^31 - 1 (thread numbers, versions, …). */
export function int32(value: string): number {
  const n = /^\+?\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isSafeInteger(n) || n > 2 ** 31 - 1) {
    throw new InvalidArgumentError("expected a whole number from 0 to 2147483647.");
  }
  return n;
}

/** A commander argument parser for a whole number from 1 to 2^31 - 1 (page sizes). */
export function positiveInt32(value: string): number {
  const n = int32(value);
  if (n === 0) throw new InvalidArgumentError("expected a whole number from 1 to 2147483647.");
  return n;
}

/** A commander argument parser for a positive number of seconds. */
export function seconds(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0) {
    throw new InvalidArgumentError("expected a positive number of seconds.");
  }
  return n;
}

/** A commander argument parser for true / false (any case). */
export function boolean(value: string): boolean {
  const t = value.trim().toLowerCase();
  if (t !== "true" && t !== "false") throw new InvalidArgumentError("expected true or false.");
  return t === "true";
}

/** A commander argument parser for an opaque bookmark printed by an earlier search (base64). */
export function bookmark(value: string): Uint8Array {
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(value)) {
    throw new InvalidArgumentError("expected the base64 bookmark printed by the previous page.");
  }
  return new Uint8Array(Buffer.from(value, "base64"));
}

/** The options of a command that prints one page of a Search or List RPC. */
export interface Paging {
  limit?: number;
  bookmark?: Uint8Array;
}

/** Adds `--limit` and `--bookmark` (Paging) to a command. */
export function paged(cmd: Command): Command {
  return cmd
    .option("--limit <n>", "at most this many results (the server's default is 100)", positiveInt32)
    .option("--bookmark <bookmark>", "the next page: the bookmark printed by the previous one", bookmark);
}

/** The names of an enum, as the CLI accepts them. */
export function enumNames(desc: DescEnum): string[] {
  return desc.values.map((v) => v.name);
}

/** A commander argument parser for a value of a protobuf enum, by name (case-insensitive). */
export function enumValue(desc: DescEnum): (value: string) => number {
  return (value: string) => {
    const v = desc.values.find((e) => e.name.toUpperCase() === value.trim().toUpperCase());
    if (v === undefined) throw new InvalidArgumentError(`expected one of ${enumNames(desc).join(", ")}.`);
    return v.number;
  };
}

const TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|[+-]\d{2}:\d{2})?)?$/i;

/**
 * A commander argument parser for a point in time: an ISO 8601 date (`2026-12-06`, midnight) or date and time
 * (`2026-12-06T06:30`, `2026-12-06 06:30:12`, `2026-12-06T06:30:12.5+02:00`). Without an offset it is UTC,
 * as the CLI prints times.
 */
export function time(value: string): Timestamp {
  const m = TIME.exec(value.trim());
  const [year, month, day] = [Number(m?.[1]), Number(m?.[2]), Number(m?.[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  const ms = m ? Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4] ?? "00:00"}${(m[5] ?? "Z").toUpperCase()}`) : NaN;
  if (!m || Number.isNaN(ms) || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    throw new InvalidArgumentError(
      "expected an ISO 8601 date or time in UTC unless it has an offset, e.g. 2026-12-06 or 2026-12-06T06:30:00Z.",
    );
  }
  return timestampFromMs(ms);
}
