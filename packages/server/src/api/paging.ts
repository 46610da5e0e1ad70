import { InvalidArgumentError } from "@pony/engine";

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

/** A page size from a request's `limit`: unset → default; 0 or negative → INVALID_ARGUMENT; capped. */
export function pageSize(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_SIZE;
  if (limit <= 0) throw new InvalidArgumentError(`limit must be positive, got ${limit}`);
  return Math.min(limit, MAX_PAGE_SIZE);
}

/**
 * One page of an ordered list. The bookmark is opaque to clients: it holds the sort key of the last item
 * returned, so the next page resumes right after it even if items were added or removed meanwhile.
 */
export function pageOf<T>(
  sorted: T[],
  keyOf: (item: T) => string,
  bookmark: Uint8Array | undefined,
  limit: number | undefined,
): { items: T[]; bookmark?: Uint8Array } {
  const size = pageSize(limit);
  let start = 0;
  if (bookmark && bookmark.length > 0) {
    const after = decodeBookmark(bookmark);
    start = sorted.findIndex((item) => keyOf(item) > after);
    if (start < 0) start = sorted.length;
  }
  const items = sorted.slice(start, start + size);
  const more = start + size < sorted.length;
  return {
    items,
    bookmark: more && items.length > 0 ? encodeBookmark(keyOf(items[items.length - 1]!)) : undefined,
  };
}

const BOOKMARK_TAG = "pony1:";

export function encodeBookmark(key: string): Uint8Array {
  return new TextEncoder().encode(BOOKMARK_TAG + key);
}

export function decodeBookmark(b: Uint8Array): string {
  const text = new TextDecoder().decode(b);
  if (!text.startsWith(BOOKMARK_TAG))
    throw new InvalidArgumentError("the bookmark is not one this server gave out");
  return text.slice(BOOKMARK_TAG.length);
}
