/**
 * Bookmark paging, as the server pages: the bookmarks of the pages seen so far are kept, so "Previous"
 * goes back exactly and "Next" resumes where the page ended.
 */
import { useState } from "react";

export interface Paging {
  bookmark: Uint8Array | undefined;
  page: number;
  next: (bookmark: Uint8Array) => void;
  previous: () => void;
  reset: () => void;
}

export function usePaging(): Paging {
  const [stack, setStack] = useState<(Uint8Array | undefined)[]>([undefined]);
  return {
    bookmark: stack[stack.length - 1],
    page: stack.length,
    next: (b) => setStack((s) => [...s, b]),
    previous: () => setStack((s) => (s.length > 1 ? s.slice(0, -1) : s)),
    reset: () => setStack([undefined]),
  };
}

export function Pager({ paging, nextBookmark }: { paging: Paging; nextBookmark: Uint8Array | undefined }) {
  return (
    <div className="pager">
      <button type="button" disabled={paging.page <= 1} onClick={paging.previous}>
        ← Previous
      </button>
      <span>Page {paging.page}</span>
      <button
        type="button"
        disabled={!nextBookmark || nextBookmark.length === 0}
        onClick={() => nextBookmark && paging.next(nextBookmark)}
      >
        Next →
      </button>
    </div>
  );
}
