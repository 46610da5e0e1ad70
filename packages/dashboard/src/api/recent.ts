/**
 * The newest objects a search finds (the most recent WfRuns, a TaskDef's latest TaskRuns). Searches answer
 * oldest first, so this looks for a start time E such that the objects since E fill at least `count` rows
 * but no more than one small page: first through widening windows (the last 10 s, minute, 10 minutes,
 * hour, …), then by bisecting between a start time with too many and one with too few. Every read is one
 * page of PAGE, however many objects the store holds (with a million WfRuns: ~12 probes, 0.3 s).
 */
import { timestampFromMs, type Timestamp } from "@bufbuild/protobuf/wkt";
import type { WfRunId } from "@pony/proto";
import { lh } from "./client";

/** a probe's page: small, so that each of the few probes is cheap (the newest `count` must fit in it) */
export const PAGE = 100;
const WINDOWS_MS = [10e3, 60e3, 600e3, 3600e3, 6 * 3600e3, 86400e3, 7 * 86400e3, 30 * 86400e3, 365 * 86400e3];
const FOREVER_MS = 100 * 365 * 86400e3;

/** One page (of PAGE) of a search from `earliestStart` on, oldest first. */
export type SearchSince<T> = (earliestStart: Timestamp) => Promise<{ results: T[]; bookmark?: Uint8Array }>;

export async function newest<T>(count: number, search: SearchSince<T>, now = Date.now()): Promise<T[]> {
  if (count > PAGE) throw new Error(`newest: at most ${PAGE}, not ${count}`);
  const since = async (earliestMs: number) => {
    const page = await search(timestampFromMs(earliestMs));
    return { results: page.results, more: page.bookmark !== undefined && page.bookmark.length > 0 };
  };
  const last = (ids: T[]) => ids.slice(-count).reverse();
  // `tooMany`: a start time since which more than a page started; `tooFew`: fewer than `count`
  let tooMany: number | undefined;
  let tooFew = now + 1;
  let best: T[] = [];
  for (const back of [...WINDOWS_MS, FOREVER_MS]) {
    const page = await since(now - back);
    if (page.more) {
      tooMany = now - back;
      break;
    }
    if (page.results.length >= count) return last(page.results);
    tooFew = now - back;
    best = page.results;
  }
  if (tooMany === undefined) return last(best);
  while (tooFew - tooMany > 1) {
    const mid = Math.floor((tooMany + tooFew) / 2);
    const page = await since(mid);
    if (page.more) tooMany = mid;
    else if (page.results.length >= count) return last(page.results);
    else {
      tooFew = mid;
      best = page.results;
    }
  }
  // more than a page started within one millisecond: the newest page there is
  return last(best.length > 0 ? best : (await since(tooMany)).results);
}

/** The most recent WfRuns of every WfSpec, newest first. */
export const recentWfRuns = (count: number): Promise<WfRunId[]> =>
  newest(count, (earliestStart) => lh.searchWfRun({ earliestStart, limit: PAGE }));
