/**
 * Bookmark paging, as the server pages: the bookmarks of the pages seen so far are kept, so "Previous"
 * goes back exactly and "Next" resumes where the page ended.
 */
import { useState, type ReactNode } from "react";

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
    <PagerButtons
      label={`Page ${paging.page}`}
      previous={paging.page > 1 ? paging.previous : undefined}
      next={nextBookmark && nextBookmark.length > 0 ? () => paging.next(nextBookmark) : undefined}
    />
  );
}

/** "← Previous", what is shown, "Next →": a button without its action is disabled. */
export function PagerButtons({
  label,
  previous,
  next,
  testId,
}: {
  label: ReactNode;
  previous: (() => void) | undefined;
  next: (() => void) | undefined;
  testId?: string;
}) {
  return (
    <div className="pager" data-testid={testId}>
      <button type="button" disabled={!previous} onClick={previous}>
        ← Previous
      </button>
      <span>{label}</span>
      <button type="button" disabled={!next} onClick={next}>
        Next →
      </button>
    </div>
  );
}
