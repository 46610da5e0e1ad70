/**
 * Bookmarks of the Search and List RPCs (B-SRCH-1): opaque bytes that hold the name of the RPC that gave
 * them out and the sort key of the last result. A page resumes right after that key; a bookmark from
 * another RPC (or not from this server) is INVALID_ARGUMENT, saying so.
 */
import { timestampToMs } from "@pony/engine";
import { InvalidArgumentError } from "@pony/engine";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import type { TimeRange } from "../store/search-types";

export type SearchKind =
  | "SearchWfRun"
  | "SearchVariable"
  | "SearchNodeRun"
  | "SearchTaskRun"
  | "SearchExternalEvent"
  | "SearchWorkflowEvent"
  | "SearchTenant"
  | "SearchPrincipal"
  | "SearchScheduledWfRun"
  | "ListNodeRuns"
  | "ListVariables"
  | "ListTaskRuns"
  | "ListUserTaskRuns"
  | "ListExternalEvents"
  | "ListWorkflowEvents";

type Part = "string" | "number";

const TAG = "pony-search/1";

export function encodeSearchBookmark(kind: SearchKind, key: (string | number)[]): Uint8Array {
  return new TextEncoder().encode(`${TAG} ${kind} ${JSON.stringify(key)}`);
}

/** The sort key in a bookmark given out by `kind` (undefined when there is no bookmark). */
export function decodeSearchBookmark(
  kind: SearchKind,
  bookmark: Uint8Array | undefined,
  shape: readonly Part[],
): (string | number)[] | undefined {
  if (!bookmark || bookmark.length === 0) return undefined;
  const text = new TextDecoder().decode(bookmark);
  const [tag, from, ...rest] = text.split(" ");
  if (tag !== TAG || from === undefined) {
    throw new InvalidArgumentError(`the bookmark is not one this server gave out for ${kind}`);
  }
  if (from !== kind) {
    throw new InvalidArgumentError(
      `the bookmark was given out by ${from}, not by ${kind}: a bookmark only continues the search that returned it`,
    );
  }
  let key: unknown;
  try {
    key = JSON.parse(rest.join(" "));
  } catch {
    key = undefined;
  }
  if (
    !Array.isArray(key) ||
    key.length !== shape.length ||
    key.some((v, i) => typeof v !== shape[i] || (typeof v === "number" && !Number.isSafeInteger(v)))
  ) {
    throw new InvalidArgumentError(`the bookmark for ${kind} is damaged`);
  }
  return key as (string | number)[];
}

/**
 * One page from `limit + 1` hits: the first `limit`, and a bookmark after the last of them when there are
 * more (no bookmark: the search is complete).
 */
export function pageFrom<T>(
  kind: SearchKind,
  hits: T[],
  limit: number,
  keyOf: (hit: T) => (string | number)[],
): { items: T[]; bookmark?: Uint8Array } {
  if (hits.length <= limit) return { items: hits };
  const items = hits.slice(0, limit);
  return { items, bookmark: encodeSearchBookmark(kind, keyOf(items[items.length - 1]!)) };
}

/**
 * A request's earliest / latest times as inclusive ms bounds. Stored times are whole ms, so a bound with a
 * fraction of a ms rounds inwards (earliest up, latest down).
 */
export function timeRange(earliest: Timestamp | undefined, latest: Timestamp | undefined): TimeRange {
  const range: TimeRange = {};
  if (earliest) range.earliestMs = timestampToMs(earliest, "earliest_start", Math.ceil);
  if (latest) range.latestMs = timestampToMs(latest, "latest_start", Math.floor);
  return range;
}
