/**
 * One page of a List RPC (ListNodeRuns, ListTaskRuns, ListVariables, ListExternalEvents, ListUserTaskRuns):
 * `limit` as in the Search RPCs (default 100, at most 1,000), read from the store through an index starting
 * right after the bookmark's position, and a bookmark whenever more objects remain. An empty page of a WfRun
 * that does not exist is NOT_FOUND (one look-up, only when nothing was found).
 */
import { NotFoundError } from "@pony/engine";
import type { ListPage, Positioned, Store } from "../store/store";
import { encodedList, type EncodedResponse } from "./encoded";
import { pageSize } from "./paging";
import { decodeSearchBookmark, pageFrom, type SearchKind } from "./search-bookmarks";

type Part = string | number;

export interface ListKind<P> {
  kind: SearchKind;
  /** the bookmark's parts, in order */
  shape: readonly ("string" | "number")[];
  toParts(p: P): Part[];
  fromParts(parts: Part[]): P;
}

/** The page as a `XxxList` response, the stored objects passed through as they are (encoded.ts). */
export async function listPage<P>(
  kind: ListKind<P>,
  req: { bookmark?: Uint8Array; limit?: number },
  read: (page: ListPage<P>) => Promise<Positioned<Uint8Array, P>[]>,
  wfRun: { store: Store; tenant: string; key: string },
): Promise<EncodedResponse> {
  const limit = pageSize(req.limit);
  const after = decodeSearchBookmark(kind.kind, req.bookmark, kind.shape);
  // one more than the page: whether more remain
  const hits = await read({ after: after && kind.fromParts(after), limit: limit + 1 });
  if (hits.length === 0 && (await wfRun.store.wfSpecNameOf(wfRun.tenant, wfRun.key)) === undefined)
    throw new NotFoundError(`WfRun '${wfRun.key}' not found`);
  const page = pageFrom(kind.kind, hits, limit, (h) => kind.toParts(h.position));
  return encodedList(
    page.items.map((h) => h.item),
    page.bookmark,
  );
}

const num = (v: Part | undefined) => v as number;
const str = (v: Part | undefined) => v as string;

export const NODE_RUNS: ListKind<{ thread: number; position: number }> = {
  kind: "ListNodeRuns",
  shape: ["number", "number"],
  toParts: (p) => [p.thread, p.position],
  fromParts: (a) => ({ thread: num(a[0]), position: num(a[1]) }),
};

export const VARIABLES: ListKind<{ thread: number; name: string }> = {
  kind: "ListVariables",
  shape: ["number", "string"],
  toParts: (p) => [p.thread, p.name],
  fromParts: (a) => ({ thread: num(a[0]), name: str(a[1]) }),
};

export const TASK_RUNS: ListKind<{ ms: number; guid: string }> = {
  kind: "ListTaskRuns",
  shape: ["number", "string"],
  toParts: (p) => [p.ms, p.guid],
  fromParts: (a) => ({ ms: num(a[0]), guid: str(a[1]) }),
};

export const USER_TASK_RUNS: ListKind<{ ms: number; guid: string }> = {
  ...TASK_RUNS,
  kind: "ListUserTaskRuns",
};

export const EXTERNAL_EVENTS: ListKind<{ ms: number; sub: number; defName: string; guid: string }> = {
  kind: "ListExternalEvents",
  shape: ["number", "number", "string", "string"],
  toParts: (p) => [p.ms, p.sub, p.defName, p.guid],
  fromParts: (a) => ({ ms: num(a[0]), sub: num(a[1]), defName: str(a[2]), guid: str(a[3]) }),
};
