/**
 * Event RPCs (B-EVT-1, B-EVT-2, B-EVT-6): PutExternalEvent, GetExternalEvent, ListExternalEvents,
 * AwaitWorkflowEvent, GetWorkflowEvent and ListWorkflowEvents.
 */
import { randomUUID } from "node:crypto";
import { clone, create, equals } from "@bufbuild/protobuf";
import { timestampFromMs, type Timestamp } from "@bufbuild/protobuf/wkt";
import {
  ExternalEventIdSchema,
  ExternalEventSchema,
  VariableValueSchema,
  WorkflowEventIdSchema,
  type AwaitWorkflowEventRequest,
  type ExternalEvent,
  type ExternalEventId,
  type ListExternalEventsRequest,
  type ListWorkflowEventsRequest,
  type PutExternalEventRequest,
  type WorkflowEvent,
  type WorkflowEventId,
} from "@pony/proto";
import {
  InvalidArgumentError,
  NotFoundError,
  VarSubError,
  applyCommand,
  checkValueMatchesType,
  eventKey,
  valueType,
} from "@pony/engine";
import { CancelledError, UnavailableError, DeadlineExceededError } from "../grpc/status";
import type { Runtime } from "../runtime/runtime";
import { requireWfRunId, wfRunKey } from "../runtime/ids";
import type { CallContext } from "./context";
import { tenantKey } from "../runtime/tenant-keys";
import { EXTERNAL_EVENTS, WORKFLOW_EVENTS, listPage } from "./list-pages";
import type { WorkflowEventPosition } from "../store/store";

/** An AwaitWorkflowEvent without a deadline still ends after this long. */
const MAX_AWAIT_MS = 60 * 60 * 1000;

const GUID = /^[a-zA-Z0-9._-]{1,128}$/;

function timeOrder(a: Timestamp | undefined, b: Timestamp | undefined): number {
  if (!a || !b) return 0;
  return a.seconds === b.seconds ? a.nanos - b.nanos : a.seconds < b.seconds ? -1 : 1;
}

/** at most this many WorkflowEvents to ignore in one AwaitWorkflowEvent */
const MAX_IGNORED = 10_000;
const THROWN_PAGE = 100;

export function eventHandlers(rt: Runtime) {
  /** the waiting AwaitWorkflowEvent calls, each ended by its function at shutdown */
  const waiting = new Set<() => void>();
  /**
   * The first WorkflowEvent already thrown that `matches`, read page by page in thrown order (per
   * WorkflowEventDef when some are named, else over all of them): a page holds THROWN_PAGE events, and only
   * ignored events make it read on, so one call reads at most the ignored events plus a page per def. Events of
   * one millisecond are compared to the nanosecond (created_at, see event-nodes.ts).
   */
  async function firstThrown(
    tenant: string,
    key: string,
    defNames: string[],
    matches: (e: WorkflowEvent) => boolean,
  ): Promise<WorkflowEvent | undefined> {
    let best: WorkflowEvent | undefined;
    const consider = (e: WorkflowEvent) => {
      if (!best || timeOrder(e.createdAt, best.createdAt) < 0) best = e;
    };
    for (const defName of defNames.length > 0 ? defNames : [undefined]) {
      let after: WorkflowEventPosition | undefined;
      let matchedMs: number | undefined;
      scan: for (;;) {
        const page = await rt.store.listWorkflowEvents(tenant, key, { defName, after, limit: THROWN_PAGE });
        for (const { item, position } of page) {
          // one def's events are in thrown order: its first match is its earliest; over all defs, events of
          // the first match's millisecond may still be earlier by nanoseconds
          if (matchedMs !== undefined && (defName !== undefined || position.ms > matchedMs)) break scan;
          if (!matches(item)) continue;
          matchedMs ??= position.ms;
          consider(item);
        }
        if (page.length < THROWN_PAGE) break;
        after = page[page.length - 1]!.position;
      }
    }
    return best;
  }

  /**
   * Events posted by batches that may not be committed yet, so that a repeated PutExternalEvent with the
   * same guid racing the first one still returns the first (the store answers once it is committed). An
   * entry counts only while its WfRun is the same in-memory run and the event was claimed or is still
   * there: a WfRun deleted (and maybe run again under its id) or an event dropped by its retention policy
   * frees the guid.
   */
  const recent = new Map<string, { event: ExternalEvent; run: object }>();
  const remember = (k: string, event: ExternalEvent, run: object) => {
    recent.set(k, { event, run });
    if (recent.size > 10_000) recent.delete(recent.keys().next().value!);
  };
  /**
   * An event's `created_at`: events posted in the same millisecond get increasing sub-millisecond nanos, so
   * "oldest first" (B-EVT-1) and ListExternalEvents keep the order they were posted in, also once reloaded.
   */
  let lastMs = 0;
  let sameMs = 0;
  const postTime = (): Timestamp => {
    const now = rt.now();
    sameMs = now === lastMs ? sameMs + 1 : 0;
    lastMs = now;
    const t = timestampFromMs(now);
    t.nanos += Math.min(sameMs, 999_999);
    return t;
  };

  /**
   * Per WfRun, the post that arrived last, until it is handed to the processor: a post whose guid must first
   * be looked up in the store (an asynchronous read, which may finish after a later one's) waits for the
   * posts that arrived before it, so posts reach the processor, and get their times, in arrival order.
   */
  const arriving = new Map<string, Promise<void>>();

  const unary = {
    async putExternalEvent(req: PutExternalEventRequest, ctx: CallContext) {
      const id = requireWfRunId(req.wfRunId);
      const key = wfRunKey(id);
      const defName = req.externalEventDefId?.name;
      if (!defName) throw new InvalidArgumentError("external_event_def_id is required");
      const def = rt.metadata.get(ctx.tenant, "external_event_def", defName);
      if (!def) throw new NotFoundError(`ExternalEventDef '${defName}' not found`);
      if (req.guid !== undefined && !GUID.test(req.guid)) {
        throw new InvalidArgumentError(
          `invalid guid '${req.guid}': use 1 to 128 letters, digits, '.', '_' or '-'`,
        );
      }
      if (req.nodeRunPosition !== undefined && req.threadRunNumber === undefined) {
        throw new InvalidArgumentError("node_run_position can only be set together with thread_run_number");
      }
      const content = req.content ?? create(VariableValueSchema, {});
      const type = valueType(content);
      if (type !== undefined) {
        try {
          checkValueMatchesType(content, type, "the event content");
        } catch (e) {
          if (e instanceof VarSubError) throw new InvalidArgumentError(e.message);
          throw e;
        }
      }
      const guid = req.guid ?? randomUUID().replaceAll("-", "");
      const k = eventKey(defName, guid);
      const recentKey = tenantKey(ctx.tenant, key, k);
      const runKey = tenantKey(ctx.tenant, key);
      const before = arriving.get(runKey);
      let handedOver!: () => void;
      const mine = new Promise<void>((resolve) => (handedOver = resolve));
      arriving.set(runKey, mine);
      try {
        if (req.guid !== undefined) {
          const known = await rt.store.getExternalEvent(ctx.tenant, key, defName, guid);
          if (known) return known; // idempotent by guid (B-EVT-2)
        }
        if (before) await before;
        return submitPost();
      } finally {
        handedOver();
        if (arriving.get(runKey) === mine) arriving.delete(runKey);
      }

      function submitPost() {
        const retention = def!.retentionPolicy?.extEvtGcPolicy;
        return rt.submit({
          wfRun: { tenant: ctx.tenant, key },
          apply: (tx) => {
            const state = rt.cached(ctx.tenant, key);
            if (!state) throw new NotFoundError(`WfRun '${key}' not found`);
            if (req.guid !== undefined) {
              const unclaimed = state.externalEvents.get(k);
              if (unclaimed) return clone(ExternalEventSchema, unclaimed);
              const r = recent.get(recentKey);
              if (r && r.run === state && r.event.claimed) return clone(ExternalEventSchema, r.event);
            }
            const event = create(ExternalEventSchema, {
              id: create(ExternalEventIdSchema, { wfRunId: id, externalEventDefId: { name: defName }, guid }),
              createdAt: postTime(),
              content,
              threadRunNumber: req.threadRunNumber,
              nodeRunPosition: req.nodeRunPosition,
              claimed: false,
            });
            const engineCtx = rt.engineContext(ctx.tenant);
            applyCommand(state, engineCtx, {
              kind: "externalEventPosted",
              event,
              retentionSeconds: retention?.case === "secondsAfterPut" ? Number(retention.value) : undefined,
            });
            if (!event.claimed) {
              // an event no node took at once stays in memory with the WfRun: their number is bounded
              let unclaimed = 0;
              for (const e of state.externalEvents.values()) if (!e.claimed) unclaimed++;
              // throwing discards this job and the cached WfRun (it is read again from the store)
              rt.admission.checkUnclaimedEvents(key, unclaimed);
            }
            rt.flush(tx, state, engineCtx);
            if (req.guid !== undefined) remember(recentKey, event, state);
            // the engine keeps changing `event` (a claim in a later command): answer with it as committed now
            return clone(ExternalEventSchema, event);
          },
        });
      }
    },

    async getExternalEvent(req: ExternalEventId, ctx: CallContext) {
      const key = wfRunKey(requireWfRunId(req.wfRunId));
      const defName = req.externalEventDefId?.name;
      if (!defName || !req.guid)
        throw new InvalidArgumentError("external_event_def_id and guid are required");
      const event = await rt.store.getExternalEvent(ctx.tenant, key, defName, req.guid);
      if (!event) throw new NotFoundError(`ExternalEvent ${key}/${defName}/${req.guid} not found`);
      return event;
    },

    async listExternalEvents(req: ListExternalEventsRequest, ctx: CallContext) {
      return await listPage(EXTERNAL_EVENTS, req, rt.store, ctx.tenant);
    },

    async getWorkflowEvent(req: WorkflowEventId, ctx: CallContext) {
      const key = wfRunKey(requireWfRunId(req.wfRunId));
      const defName = req.workflowEventDefId?.name;
      if (!defName) throw new InvalidArgumentError("workflow_event_def_id is required");
      if (req.number < 0) throw new InvalidArgumentError(`number must be 0 or more, got ${req.number}`);
      const event = await rt.store.getWorkflowEvent(ctx.tenant, key, defName, req.number);
      if (!event) throw new NotFoundError(`WorkflowEvent ${key}/${defName}/${req.number} not found`);
      return event;
    },

    /** The WfRun's WorkflowEvents of every def by creation time (to the ms), then def name and number. */
    async listWorkflowEvents(req: ListWorkflowEventsRequest, ctx: CallContext) {
      return await listPage(WORKFLOW_EVENTS, req, rt.store, ctx.tenant);
    },

    /**
     * Returns the first WorkflowEvent of the WfRun that matches (any def when `event_def_ids` is empty) and is
     * not in `workflow_events_to_ignore`, thrown before or after the call; ends with DEADLINE_EXCEEDED at the
     * caller's deadline. Waiting callers cost one closure each.
     */
    async awaitWorkflowEvent(req: AwaitWorkflowEventRequest, ctx: CallContext) {
      if (req.workflowEventsToIgnore.length > MAX_IGNORED)
        throw new InvalidArgumentError(
          `workflow_events_to_ignore lists ${req.workflowEventsToIgnore.length} events; at most ${MAX_IGNORED}`,
        );
      const id = requireWfRunId(req.wfRunId);
      const key = wfRunKey(id);
      const defs = new Set(req.eventDefIds.map((d) => d.name));
      const matches = (e: WorkflowEvent) =>
        (defs.size === 0 || defs.has(e.id?.workflowEventDefId?.name ?? "")) &&
        !req.workflowEventsToIgnore.some((ignored) => e.id && equals(WorkflowEventIdSchema, ignored, e.id));
      return new Promise<WorkflowEvent>((resolve, reject) => {
        let done = false;
        const finish = (fn: () => void) => {
          if (done) return;
          done = true;
          waiting.delete(stopping);
          clearTimeout(timer);
          unregister();
          forgetCancel();
          fn();
        };
        // listen first, then look at what was already thrown, so nothing thrown in between is missed
        const unregister = rt.awaitWorkflowEvents(ctx.tenant, key, (e) => {
          if (!matches(e)) return false;
          finish(() => resolve(e));
          return true;
        });
        const waitMs = ctx.deadlineMs === undefined ? MAX_AWAIT_MS : Math.max(0, ctx.deadlineMs - Date.now());
        const timer = setTimeout(
          () =>
            finish(() => reject(new DeadlineExceededError("no matching WorkflowEvent before the deadline"))),
          waitMs,
        );
        // the server stopping ends the wait with UNAVAILABLE: the client retries (elsewhere) at once
        const stopping = () =>
          finish(() => reject(new UnavailableError("the server is stopping: call AwaitWorkflowEvent again")));
        waiting.add(stopping);
        // a client that gives up (cancels, disconnects) stops the wait at once
        const onAbort = () =>
          finish(() => reject(new CancelledError("the client cancelled AwaitWorkflowEvent")));
        ctx.signal.addEventListener("abort", onAbort, { once: true });
        const forgetCancel = () => ctx.signal.removeEventListener("abort", onAbort);
        if (ctx.signal.aborted) onAbort();
        void (async () => {
          const run = await rt.store.getWfRun(ctx.tenant, key);
          if (!run) {
            finish(() => reject(new NotFoundError(`WfRun '${key}' not found`)));
            return;
          }
          const thrown = await firstThrown(ctx.tenant, key, [...defs], matches);
          if (thrown) finish(() => resolve(thrown));
        })().catch((e: unknown) => finish(() => reject(e instanceof Error ? e : new Error(String(e)))));
      });
    },
  };
  /** Ends every waiting AwaitWorkflowEvent with UNAVAILABLE: the server is stopping. */
  function endWaits(): void {
    for (const stop of [...waiting]) stop();
  }
  return { unary, endWaits };
}
