/**
 * Event RPCs (B-EVT-1, B-EVT-2, B-EVT-6): PutExternalEvent, GetExternalEvent, ListExternalEvents and
 * AwaitWorkflowEvent.
 */
import { randomUUID } from "node:crypto";
import { create, equals } from "@bufbuild/protobuf";
import { timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import {
  ExternalEventIdSchema,
  ExternalEventListSchema,
  ExternalEventSchema,
  VariableValueSchema,
  WorkflowEventIdSchema,
  type AwaitWorkflowEventRequest,
  type ExternalEvent,
  type ExternalEventId,
  type ListExternalEventsRequest,
  type PutExternalEventRequest,
  type WorkflowEvent,
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
import { DeadlineExceededError } from "../grpc/status";
import type { Runtime } from "../runtime/runtime";
import { requireWfRunId, wfRunKey } from "../runtime/ids";
import type { CallContext } from "./context";

/** An AwaitWorkflowEvent without a deadline still ends after this long. */
const MAX_AWAIT_MS = 60 * 60 * 1000;

const GUID = /^[a-zA-Z0-9._-]{1,128}$/;

export function eventHandlers(rt: Runtime) {
  /** Recently posted events, so a repeated PutExternalEvent with the same guid returns the first. */
  const recent = new Map<string, ExternalEvent>();
  const remember = (k: string, e: ExternalEvent) => {
    recent.set(k, e);
    if (recent.size > 10_000) recent.delete(recent.keys().next().value!);
  };

  return {
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
      const recentKey = `${ctx.tenant}\u0000${key}\u0000${eventKey(defName, guid)}`;
      if (req.guid !== undefined) {
        const known =
          recent.get(recentKey) ?? (await rt.store.getExternalEvent(ctx.tenant, key, defName, guid));
        if (known) return known; // idempotent by guid (B-EVT-2)
      }
      const retention = def.retentionPolicy?.extEvtGcPolicy;
      return rt.submit({
        wfRun: { tenant: ctx.tenant, key },
        apply: (tx) => {
          const state = rt.cached(ctx.tenant, key);
          if (!state) throw new NotFoundError(`WfRun '${key}' not found`);
          const already = recent.get(recentKey) ?? state.externalEvents.get(eventKey(defName, guid));
          if (already && req.guid !== undefined) return already;
          const event = create(ExternalEventSchema, {
            id: create(ExternalEventIdSchema, { wfRunId: id, externalEventDefId: { name: defName }, guid }),
            createdAt: timestampFromMs(rt.now()),
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
          rt.flush(tx, state, engineCtx);
          remember(recentKey, event);
          return event;
        },
      });
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
      const key = wfRunKey(requireWfRunId(req.wfRunId));
      return create(ExternalEventListSchema, { results: await rt.store.listExternalEvents(ctx.tenant, key) });
    },

    /**
     * Returns the first WorkflowEvent of the WfRun that matches (any def when `event_def_ids` is empty) and is
     * not in `workflow_events_to_ignore`, thrown before or after the call; ends with DEADLINE_EXCEEDED at the
     * caller's deadline. Waiting callers cost one closure each.
     */
    async awaitWorkflowEvent(req: AwaitWorkflowEventRequest, ctx: CallContext) {
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
          clearTimeout(timer);
          unregister();
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
        void (async () => {
          const run = await rt.store.getWfRun(ctx.tenant, key);
          if (!run) {
            finish(() => reject(new NotFoundError(`WfRun '${key}' not found`)));
            return;
          }
          const thrown = (await rt.store.listWorkflowEvents(ctx.tenant, key))
            .filter(matches)
            .sort((a, b) =>
              a.createdAt && b.createdAt ? timestampMs(a.createdAt) - timestampMs(b.createdAt) : 0,
            );
          if (thrown[0]) finish(() => resolve(thrown[0]!));
        })().catch((e: unknown) => finish(() => reject(e instanceof Error ? e : new Error(String(e)))));
      });
    },
  };
}
