/**
 * Scheduled WfRuns (LittleHorse 1.x): ScheduleWf, GetScheduledWfRun, SearchScheduledWfRun and
 * DeleteScheduledWfRun. A schedule runs one WfSpec version (the one named, or the latest when it was made)
 * with fixed variables at each time its cron expression matches; runtime/scheduler.ts fires the ticks.
 */
import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  ScheduledWfRunIdListSchema,
  ScheduledWfRunSchema,
  type DeleteScheduledWfRunRequest,
  type ScheduleWfRequest,
  type ScheduledWfRunId,
  type SearchScheduledWfRunRequest,
} from "@pony/proto";
import { AlreadyExistsError, InvalidArgumentError, NotFoundError, validateRunWfInputs } from "@pony/engine";
import { Cron } from "../runtime/cron";
import type { Runtime } from "../runtime/runtime";
import type { StoredSchedule } from "../store/store";
import type { CallContext } from "./context";
import { pageSize } from "./paging";
import { decodeSearchBookmark, pageFrom } from "./search-bookmarks";
import { checkParent, wfSpecToRun } from "./wf-run-start";

/** A schedule's id: as a WfRun id, short enough that its ticks' WfRun ids (`id-YYYYMMDDhhmm`) fit too. */
const SCHEDULE_ID = /^[a-z0-9][a-z0-9._-]{0,99}$/;

function checkScheduleId(id: string): void {
  if (!SCHEDULE_ID.test(id)) {
    throw new InvalidArgumentError(
      `invalid scheduled WfRun id '${id}': use 1 to 100 lower-case letters, digits, '.', '_' or '-', ` +
        `starting with a letter or digit`,
    );
  }
}

function requireScheduleId(id: ScheduledWfRunId | undefined, what: string): string {
  if (!id?.id) throw new InvalidArgumentError(`${what} is required`);
  return id.id;
}

export function scheduleHandlers(rt: Runtime) {
  return {
    async scheduleWf(req: ScheduleWfRequest, ctx: CallContext) {
      const wfSpec = wfSpecToRun(rt, ctx.tenant, req);
      const cron = Cron.parse(req.cronExpression);
      // the variables are checked now, as RunWf would check them at each tick
      validateRunWfInputs(wfSpec, req.variables);
      const parent = await checkParent(rt, ctx, wfSpec, req.parentWfRunId);
      let id: string;
      if (req.id !== undefined && req.id !== "") {
        checkScheduleId(req.id);
        id = req.id;
      } else {
        id = randomUUID().replaceAll("-", "");
      }
      return rt.submit({
        apply: (tx) => {
          if (rt.scheduler.has(ctx.tenant, id))
            throw new AlreadyExistsError(`scheduled WfRun '${id}' already exists`);
          const now = rt.now();
          const schedule = create(ScheduledWfRunSchema, {
            id: { id },
            wfSpecId: wfSpec.id,
            variables: req.variables,
            parentWfRunId: parent,
            cronExpression: req.cronExpression,
            createdAt: timestampFromMs(now),
          });
          // the first run is at the next matching time, never at once
          const stored: StoredSchedule = { tenant: ctx.tenant, schedule, nextMs: cron.nextAfter(now) };
          tx.ops.push({ op: "putScheduledWfRun", tenant: ctx.tenant, schedule, nextMs: stored.nextMs });
          tx.afterCommit(() => rt.scheduler.added(stored));
          return schedule;
        },
      });
    },

    async getScheduledWfRun(req: ScheduledWfRunId, ctx: CallContext) {
      const id = requireScheduleId(req, "id");
      const stored = await rt.store.getScheduledWfRun(ctx.tenant, id);
      if (!stored) throw new NotFoundError(`scheduled WfRun '${id}' not found`);
      return stored.schedule;
    },

    async searchScheduledWfRun(req: SearchScheduledWfRunRequest, ctx: CallContext) {
      if (!req.wfSpecName) throw new InvalidArgumentError("wf_spec_name is required");
      if (req.revision !== undefined && req.majorVersion === undefined)
        throw new InvalidArgumentError("a revision can only be given together with a major_version");
      const limit = pageSize(req.limit);
      const after = decodeSearchBookmark("SearchScheduledWfRun", req.bookmark, ["string"]);
      // one more than the page: whether more remain
      const ids = await rt.store.searchScheduledWfRuns(ctx.tenant, {
        wfSpecName: req.wfSpecName,
        major: req.majorVersion,
        revision: req.revision,
        afterId: after?.[0] as string | undefined,
        limit: limit + 1,
      });
      const page = pageFrom("SearchScheduledWfRun", ids, limit, (id) => [id]);
      return create(ScheduledWfRunIdListSchema, {
        results: page.items.map((id) => ({ id })),
        bookmark: page.bookmark,
      });
    },

    async deleteScheduledWfRun(req: DeleteScheduledWfRunRequest, ctx: CallContext) {
      const id = requireScheduleId(req.id, "id");
      await rt.submit({
        apply: (tx) => {
          if (!rt.scheduler.has(ctx.tenant, id)) throw new NotFoundError(`scheduled WfRun '${id}' not found`);
          tx.ops.push({ op: "deleteScheduledWfRun", tenant: ctx.tenant, id });
          tx.afterCommit(() => rt.scheduler.removed(ctx.tenant, id));
        },
      });
      return {};
    },
  };
}
