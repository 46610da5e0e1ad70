/**
 * The most recent WfRuns of every WfSpec. Searches answer oldest first, so this looks back through widening
 * windows (the last minute, hour, day, …) until one holds enough runs, and narrows a window that holds more
 * than one page: every read is one bounded page, however many WfRuns the store holds.
 */
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { WfRunId } from "@pony/proto";
import { lh } from "./client";

const PAGE = 1000;
const WINDOWS_MS = [60e3, 3600e3, 86400e3, 30 * 86400e3, 365 * 86400e3, 100 * 365 * 86400e3];

export async function recentWfRuns(count: number, now = Date.now()): Promise<WfRunId[]> {
  let found: WfRunId[] = [];
  for (const back of WINDOWS_MS) {
    let span = back;
    for (;;) {
      const page = await lh.searchWfRun({ earliestStart: timestampFromMs(now - span), limit: PAGE });
      if (page.bookmark && page.bookmark.length > 0 && span > 1) {
        // more than a page in this window: the newest `count` are in a narrower one
        span = Math.max(1, Math.floor(span / 10));
        continue;
      }
      found = page.results;
      break;
    }
    if (found.length >= count || span < back) break;
  }
  return found.slice(-count).reverse();
}
