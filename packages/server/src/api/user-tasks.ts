/**
 * UserTaskRun RPCs (B-UT-1…6): GetUserTaskRun, ListUserTaskRuns, AssignUserTaskRun, CompleteUserTaskRun,
 * CancelUserTaskRun and SearchUserTaskRun. Changes are commands applied to the WfRun by the engine
 * (user-task-run.ts); reads go to the store.
 *
 * SearchUserTaskRun returns ids in a fixed order — scheduled time, then WfRun id, then guid (oldest first,
 * newest last) — `limit` at a time (default 100, at most 1000), with a bookmark that resumes right after the
 * last id returned, whatever was written meanwhile. All criteria given must match; none is required.
 */
import { create } from "@bufbuild/protobuf";
import {
  UserTaskRunIdListSchema,
  UserTaskRunStatus,
  type AssignUserTaskRunRequest,
  type CancelUserTaskRunRequest,
  type CompleteUserTaskRunRequest,
  type ListUserTaskRunRequest,
  type SearchUserTaskRunRequest,
  type UserTaskRunId,
} from "@pony/proto";
import {
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  applyCommand,
  type WfRunCommand,
} from "@pony/engine";
import type { Runtime } from "../runtime/runtime";
import { requireWfRunId, wfRunKey } from "../runtime/ids";
import type { UserTaskRunPosition } from "../store/store";
import type { CallContext } from "./context";
import { decodeBookmark, encodeBookmark, pageSize } from "./paging";
import { timeRange } from "./search-bookmarks";
import { USER_TASK_RUNS, listPage } from "./list-pages";

const isFinished = (s: UserTaskRunStatus) =>
  s === UserTaskRunStatus.DONE || s === UserTaskRunStatus.CANCELLED;

function requireId(id: UserTaskRunId | undefined): { key: string; guid: string } {
  if (!id) throw new InvalidArgumentError("user_task_run_id is required");
  const key = wfRunKey(requireWfRunId(id.wfRunId));
  if (!id.userTaskGuid) throw new InvalidArgumentError("user_task_guid is required");
  return { key, guid: id.userTaskGuid };
}

export function userTaskHandlers(rt: Runtime) {
  /**
   * Applies a command to the UserTaskRun's WfRun. A run that is already DONE or CANCELLED (stored so, or no
   * longer among the WfRun's live user tasks once the command's turn comes) is FAILED_PRECONDITION.
   */
  async function change(
    tenant: string,
    id: UserTaskRunId | undefined,
    command: (guid: string) => WfRunCommand,
  ) {
    const { key, guid } = requireId(id);
    const stored = await rt.store.getUserTaskRun(tenant, key, guid);
    if (!stored) throw new NotFoundError(`UserTaskRun ${key}/${guid} not found`);
    const finished = () =>
      new FailedPreconditionError(`UserTaskRun ${key}/${guid} is ${UserTaskRunStatus[stored.status]}`);
    if (isFinished(stored.status)) throw finished();
    const applied = await rt.submit({
      wfRun: { tenant, key },
      apply: (tx) => {
        const state = rt.cached(tenant, key);
        if (!state) throw new NotFoundError(`WfRun '${key}' not found`);
        if (!state.userTaskRuns.has(guid)) return false;
        const ctx = rt.engineContext(tenant);
        applyCommand(state, ctx, command(guid));
        rt.flush(tx, state, ctx);
        return true;
      },
    });
    if (!applied) {
      // it finished between the read above and the command: say how
      await rt.store.flushed();
      const now = await rt.store.getUserTaskRun(tenant, key, guid);
      const status = now ? UserTaskRunStatus[now.status] : "gone";
      throw new FailedPreconditionError(
        now && !isFinished(now.status)
          ? `UserTaskRun ${key}/${guid} is ${status} but its USER_TASK node no longer waits`
          : `UserTaskRun ${key}/${guid} is ${status}`,
      );
    }
    return {};
  }

  return {
    async getUserTaskRun(req: UserTaskRunId, ctx: CallContext) {
      const { key, guid } = requireId(req);
      const run = await rt.store.getUserTaskRun(ctx.tenant, key, guid);
      if (!run) throw new NotFoundError(`UserTaskRun ${key}/${guid} not found`);
      return run;
    },

    async listUserTaskRuns(req: ListUserTaskRunRequest, ctx: CallContext) {
      return await listPage(USER_TASK_RUNS, req, rt.store, ctx.tenant);
    },

    assignUserTaskRun(req: AssignUserTaskRunRequest, ctx: CallContext) {
      if (!req.userId && !req.userGroup) {
        return Promise.reject(new InvalidArgumentError("give a user_id, a user_group or both"));
      }
      return change(ctx.tenant, req.userTaskRunId, (guid) => ({
        kind: "userTaskAssigned",
        userTaskGuid: guid,
        userId: req.userId,
        userGroup: req.userGroup,
        overrideClaim: req.overrideClaim,
      }));
    },

    completeUserTaskRun(req: CompleteUserTaskRunRequest, ctx: CallContext) {
      return change(ctx.tenant, req.userTaskRunId, (guid) => ({
        kind: "userTaskCompleted",
        userTaskGuid: guid,
        userId: req.userId,
        results: req.results,
      }));
    },

    cancelUserTaskRun(req: CancelUserTaskRunRequest, ctx: CallContext) {
      return change(ctx.tenant, req.userTaskRunId, (guid) => ({
        kind: "userTaskCancelled",
        userTaskGuid: guid,
      }));
    },

    async searchUserTaskRun(req: SearchUserTaskRunRequest, ctx: CallContext) {
      const limit = pageSize(req.limit);
      const after = req.bookmark && req.bookmark.length > 0 ? positionOf(req.bookmark) : undefined;
      const found = await rt.store.searchUserTaskRuns(ctx.tenant, {
        status: req.status,
        defName: req.userTaskDefName || undefined,
        userId: req.userId || undefined,
        userGroup: req.userGroup || undefined,
        ...timeRange(req.earliestStart, req.latestStart),
        after,
        limit: limit + 1,
      });
      const page = found.slice(0, limit);
      const last = page[page.length - 1];
      return create(UserTaskRunIdListSchema, {
        results: page.map((f) => f.run.id!),
        bookmark: found.length > limit && last ? bookmarkOf(last.position) : undefined,
      });
    },
  };
}

function bookmarkOf(p: UserTaskRunPosition): Uint8Array {
  return encodeBookmark(JSON.stringify(["utr", p.scheduledMs, p.wfRunKey, p.guid]));
}

function positionOf(bookmark: Uint8Array): UserTaskRunPosition {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decodeBookmark(bookmark));
  } catch (e) {
    if (e instanceof InvalidArgumentError) throw e;
    parsed = undefined;
  }
  if (
    !Array.isArray(parsed) ||
    parsed[0] !== "utr" ||
    typeof parsed[1] !== "number" ||
    typeof parsed[2] !== "string" ||
    typeof parsed[3] !== "string"
  ) {
    throw new InvalidArgumentError("the bookmark is not one SearchUserTaskRun gave out");
  }
  return { scheduledMs: parsed[1], wfRunKey: parsed[2], guid: parsed[3] };
}
