/**
 * One page of a List RPC (ListNodeRuns, ListTaskRuns, ListVariables, ListExternalEvents, ListUserTaskRuns,
 * ListWorkflowEvents): `limit` as in the Search RPCs (default 100, at most 1,000), read from the store
 * through an index starting right after the bookmark's position, and a bookmark whenever more objects
 * remain. An empty page of a WfRun that does not exist is NOT_FOUND (one look-up, only when nothing was
 * found).
 */
import type { WfRunId } from "@pony/proto";
import { NotFoundError } from "@pony/engine";
import { requireWfRunId, wfRunKey } from "../runtime/ids";
import type {
  EventPosition,
  ListPage,
  NodeRunPosition,
  Positioned,
  ScheduledPosition,
  Store,
  VariablePosition,
  WorkflowEventPosition,
} from "../store/store";
import { encodedList, type EncodedResponse } from "./encoded";
import { pageSize } from "./paging";
import { decodeSearchBookmark, pageFrom, type SearchKind } from "./search-bookmarks";

type Part = string | number;

/** what every List request has; a kind may read more of its own (`Req`) */
interface ListRequest {
  wfRunId?: WfRunId;
  bookmark?: Uint8Array;
  limit?: number;
}

export interface ListKind<P, Req = object> {
  kind: SearchKind;
  /** the bookmark's parts, in order */
  shape: readonly ("string" | "number")[];
  toParts(p: P): Part[];
  fromParts(parts: Part[]): P;
  /** one page of the WfRun's objects of this kind, as stored */
  read(
    store: Store,
    tenant: string,
    key: string,
    page: ListPage<P>,
    req: Req,
  ): Promise<Positioned<Uint8Array, P>[]>;
}

/** The page as a `XxxList` response, the stored objects passed through as they are (encoded.ts). */
export async function listPage<P, Req>(
  kind: ListKind<P, Req>,
  req: ListRequest & Req,
  store: Store,
  tenant: string,
): Promise<EncodedResponse> {
  const key = wfRunKey(requireWfRunId(req.wfRunId));
  const limit = pageSize(req.limit);
  const after = decodeSearchBookmark(kind.kind, req.bookmark, kind.shape);
  // one more than the page: whether more remain
  const hits = await kind.read(
    store,
    tenant,
    key,
    { after: after && kind.fromParts(after), limit: limit + 1 },
    req,
  );
  if (hits.length === 0 && (await store.wfSpecNameOf(tenant, key)) === undefined)
    throw new NotFoundError(`WfRun '${key}' not found`);
  const page = pageFrom(kind.kind, hits, limit, (h) => kind.toParts(h.position));
  return encodedList(
    page.items.map((h) => h.item),
    page.bookmark,
  );
}

const num = (v: Part | undefined) => v as number;
const str = (v: Part | undefined) => v as string;

export const NODE_RUNS: ListKind<NodeRunPosition, { threadRunNumber?: number }> = {
  kind: "ListNodeRuns",
  shape: ["number", "number"],
  toParts: (p) => [p.thread, p.position],
  fromParts: (a) => ({ thread: num(a[0]), position: num(a[1]) }),
  read: (store, tenant, key, page, req) =>
    store.listNodeRuns(tenant, key, { ...page, thread: req.threadRunNumber }),
};

export const VARIABLES: ListKind<VariablePosition> = {
  kind: "ListVariables",
  shape: ["number", "string"],
  toParts: (p) => [p.thread, p.name],
  fromParts: (a) => ({ thread: num(a[0]), name: str(a[1]) }),
  read: (store, tenant, key, page) => store.listVariables(tenant, key, page),
};

export const TASK_RUNS: ListKind<ScheduledPosition> = {
  kind: "ListTaskRuns",
  shape: ["number", "string"],
  toParts: (p) => [p.ms, p.guid],
  fromParts: (a) => ({ ms: num(a[0]), guid: str(a[1]) }),
  read: (store, tenant, key, page) => store.listTaskRuns(tenant, key, page),
};

export const USER_TASK_RUNS: ListKind<ScheduledPosition> = {
  ...TASK_RUNS,
  kind: "ListUserTaskRuns",
  read: (store, tenant, key, page) => store.listUserTaskRuns(tenant, key, page),
};

export const EXTERNAL_EVENTS: ListKind<EventPosition> = {
  kind: "ListExternalEvents",
  shape: ["number", "number", "string", "string"],
  toParts: (p) => [p.ms, p.sub, p.defName, p.guid],
  fromParts: (a) => ({ ms: num(a[0]), sub: num(a[1]), defName: str(a[2]), guid: str(a[3]) }),
  read: (store, tenant, key, page) => store.listExternalEvents(tenant, key, page),
};

export const WORKFLOW_EVENTS: ListKind<WorkflowEventPosition> = {
  kind: "ListWorkflowEvents",
  shape: ["number", "string", "number"],
  toParts: (p) => [p.ms, p.defName, p.number],
  fromParts: (a) => ({ ms: num(a[0]), defName: str(a[1]), number: num(a[2]) }),
  read: (store, tenant, key, page) => store.listEncodedWorkflowEvents(tenant, key, page),
};
