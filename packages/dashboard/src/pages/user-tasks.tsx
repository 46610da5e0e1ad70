/**
 * User Tasks: an inbox of UserTaskRuns and the one selected.
 *
 * The inbox searches (SearchUserTaskRun) by user id, user group, status and UserTaskDef name, or lists the
 * user tasks of one WfRun (ListUserTaskRuns) when `wfRun` is set; every filter, the page size and the
 * selected run live in the URL (`user`, `group`, `status`, `def`, `wfRun`, `size`, `task`), so a link shows
 * the same inbox. Pages follow the server's bookmarks. Each run found is read by its id (GetUserTaskRun).
 *
 * The selected run shows its details, its audit events, its results once DONE and, while it is live, what a
 * person can do: claim it, assign it (with override_claim), cancel it, or complete it through the form built
 * from its UserTaskDef (user-task-form.tsx). After each change every query of the tenant is refetched.
 */
import { useUrlParams } from "../components/url-params";
import { useState } from "react";
import { Link } from "react-router";
import { create } from "@bufbuild/protobuf";
import { keepPreviousData, useMutation, useQueries, useQuery, useQueryClient } from "@tanstack/react-query";
import {
  LHStatus,
  UserTaskRunIdSchema,
  UserTaskRunStatus,
  type UserTaskEvent,
  type UserTaskRun,
  type UserTaskRunId,
} from "@pony/proto";
import { isNotFound, lh } from "../api/client";
import { formatTime, lhStatusName, userTaskStatusName } from "../api/format";
import { wfRunIdOf, wfRunKey, wfRunPath } from "../api/ids";
import { useSession } from "../api/session";
import { ErrorBox } from "../components/errors";
import { Pager, usePaging } from "../components/pager";
import { StatusBadge } from "../components/status";
import { ValueView } from "../components/json";
import { CompleteUserTaskForm, useUserTaskDef } from "./user-task-form";

const STATUSES = [
  UserTaskRunStatus.UNASSIGNED,
  UserTaskRunStatus.ASSIGNED,
  UserTaskRunStatus.DONE,
  UserTaskRunStatus.CANCELLED,
];
const PAGE_SIZES = [10, 25, 50, 100];
const DEFAULT_PAGE_SIZE = 25;

interface Filters {
  user: string;
  group: string;
  status: UserTaskRunStatus | undefined;
  def: string;
  wfRun: string;
  size: number;
}

function filtersOf(params: URLSearchParams): Filters {
  const statusName = params.get("status") ?? "";
  const status = STATUSES.find((s) => userTaskStatusName(s) === statusName);
  const size = Number(params.get("size"));
  return {
    user: params.get("user") ?? "",
    group: params.get("group") ?? "",
    status,
    def: params.get("def") ?? "",
    wfRun: params.get("wfRun") ?? "",
    size: Number.isInteger(size) && size >= 1 && size <= 1000 ? size : DEFAULT_PAGE_SIZE,
  };
}

/** a UserTaskRun as the URL names it: `<WfRun key>/<guid>` */
export const userTaskKey = (id: UserTaskRunId | undefined) =>
  id ? `${wfRunKey(id.wfRunId)}/${id.userTaskGuid}` : "";

function userTaskIdOf(key: string): UserTaskRunId | undefined {
  const at = key.lastIndexOf("/");
  if (at <= 0 || at === key.length - 1) return undefined;
  return create(UserTaskRunIdSchema, {
    wfRunId: wfRunIdOf(key.slice(0, at)),
    userTaskGuid: key.slice(at + 1),
  });
}

export const userTaskQueryKey = (tenant: string, id: UserTaskRunId | undefined) => [
  tenant,
  "userTaskRun",
  wfRunKey(id?.wfRunId),
  id?.userTaskGuid,
];

function matches(run: UserTaskRun, f: Filters): boolean {
  return (
    (!f.user || run.userId === f.user) &&
    (!f.group || run.userGroup === f.group) &&
    (f.status === undefined || run.status === f.status) &&
    (!f.def || run.userTaskDefId?.name === f.def)
  );
}

/** One page of the inbox: the ids found and, when listed from a WfRun, the runs themselves. */
async function inboxPage(f: Filters, bookmark: Uint8Array | undefined) {
  if (f.wfRun) {
    const r = await lh.listUserTaskRuns({ wfRunId: wfRunIdOf(f.wfRun), limit: f.size, bookmark });
    const runs = r.results.filter((run) => matches(run, f));
    return { ids: runs.map((run) => run.id!), runs, listed: r.results.length, bookmark: r.bookmark };
  }
  const r = await lh.searchUserTaskRun({
    limit: f.size,
    bookmark,
    status: f.status,
    userTaskDefName: f.def || undefined,
    userId: f.user || undefined,
    userGroup: f.group || undefined,
  });
  return { ids: r.results, runs: undefined, listed: r.results.length, bookmark: r.bookmark };
}

const isLive = (s: UserTaskRunStatus) =>
  s === UserTaskRunStatus.ASSIGNED || s === UserTaskRunStatus.UNASSIGNED;

// ---- the inbox ---------------------------------------------------------------------------------------------

function InboxFilters({
  filters,
  set,
}: {
  filters: Filters;
  set: (changes: Record<string, string>) => void;
}) {
  return (
    <div className="filters" role="search" aria-label="user task filters">
      <label>
        User id
        <input
          aria-label="user id"
          placeholder="any user"
          value={filters.user}
          onChange={(e) => set({ user: e.target.value })}
          size={14}
        />
      </label>
      <label>
        User group
        <input
          aria-label="user group"
          placeholder="any group"
          value={filters.group}
          onChange={(e) => set({ group: e.target.value })}
          size={14}
        />
      </label>
      <label>
        Status
        <select
          aria-label="status"
          value={filters.status === undefined ? "" : userTaskStatusName(filters.status)}
          onChange={(e) => set({ status: e.target.value })}
        >
          <option value="">any status</option>
          {STATUSES.map((s) => (
            <option key={s} value={userTaskStatusName(s)}>
              {userTaskStatusName(s)}
            </option>
          ))}
        </select>
      </label>
      <label>
        UserTaskDef
        <input
          aria-label="user task def"
          placeholder="any UserTaskDef"
          value={filters.def}
          onChange={(e) => set({ def: e.target.value })}
          size={16}
        />
      </label>
      <label>
        WfRun
        <input
          aria-label="wf run"
          placeholder="any WfRun"
          value={filters.wfRun}
          onChange={(e) => set({ wfRun: e.target.value.trim() })}
          size={16}
        />
      </label>
      {(filters.user || filters.group || filters.status !== undefined || filters.def || filters.wfRun) && (
        <button type="button" onClick={() => set({ user: "", group: "", status: "", def: "", wfRun: "" })}>
          Clear filters
        </button>
      )}
    </div>
  );
}

function InboxTable({
  ids,
  runs,
  selected,
  linkTo,
}: {
  ids: UserTaskRunId[];
  runs: UserTaskRun[] | undefined;
  selected: string;
  linkTo: (key: string) => string;
}) {
  const { tenant } = useSession();
  const [, update] = useUrlParams();
  const read = useQueries({
    queries: ids.map((id) => ({
      queryKey: userTaskQueryKey(tenant, id),
      queryFn: () => lh.getUserTaskRun(id),
      // a WfRun's list already holds the runs
      enabled: runs === undefined,
    })),
  });
  return (
    <div className="ut-table-wrap">
      <table data-testid="user-task-runs" className="ut-inbox">
        <thead>
          <tr>
            <th>UserTaskDef</th>
            <th>WfRun</th>
            <th>Status</th>
            <th>User</th>
            <th>Group</th>
            <th>Scheduled</th>
            <th>Notes</th>
          </tr>
        </thead>
        <tbody>
          {ids.map((id, i) => {
            const key = userTaskKey(id);
            const q = read[i];
            const run = runs?.[i] ?? q?.data;
            const select = () => update({ task: key }, { push: true });
            return (
              <tr
                key={key}
                data-key={key}
                className={`clickable${key === selected ? " selected" : ""}`}
                aria-selected={key === selected}
                onClick={select}
              >
                <td className="ut-nowrap">
                  <Link to={linkTo(key)} onClick={(e) => e.stopPropagation()}>
                    {run?.userTaskDefId?.name ?? "…"}
                  </Link>
                </td>
                <td className="ut-nowrap">
                  <Link to={wfRunPath(id.wfRunId)} onClick={(e) => e.stopPropagation()}>
                    {wfRunKey(id.wfRunId)}
                  </Link>
                </td>
                <td>
                  {run ? (
                    <StatusBadge status={userTaskStatusName(run.status)} />
                  ) : q?.error ? (
                    <span className="field-error">{isNotFound(q.error) ? "gone" : "error"}</span>
                  ) : (
                    "…"
                  )}
                </td>
                <td className="ut-nowrap">{run ? (run.userId ?? <span className="muted">–</span>) : "…"}</td>
                <td className="ut-nowrap">
                  {run ? (run.userGroup ?? <span className="muted">–</span>) : "…"}
                </td>
                <td>{run ? formatTime(run.scheduledTime) : "…"}</td>
                <td className="ut-notes">{run?.notes ?? ""}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function Inbox({ filters, selected }: { filters: Filters; selected: string }) {
  const { tenant } = useSession();
  const [params, update] = useUrlParams();
  const paging = usePaging();
  const result = useQuery({
    queryKey: [tenant, "userTaskRuns", filters, paging.bookmark],
    queryFn: () => inboxPage(filters, paging.bookmark),
    placeholderData: keepPreviousData,
    refetchInterval: 5000,
  });
  const set = (changes: Record<string, string>) => {
    paging.reset();
    update(changes);
  };
  const linkTo = (key: string) => {
    const p = new URLSearchParams(params);
    p.set("task", key);
    return `?${p.toString()}`;
  };
  const sizes = PAGE_SIZES.includes(filters.size)
    ? PAGE_SIZES
    : [...PAGE_SIZES, filters.size].sort((a, b) => a - b);
  const narrowed = filters.user || filters.group || filters.status !== undefined || filters.def;
  return (
    <section className="panel" aria-label="inbox">
      <InboxFilters filters={filters} set={set} />
      {filters.wfRun && (
        <p className="muted ut-scope">
          The user tasks of WfRun <Link to={wfRunPath(wfRunIdOf(filters.wfRun))}>{filters.wfRun}</Link>
          {narrowed ? " (the other filters apply to each page listed)" : ""}.
        </p>
      )}
      {result.error ? (
        <ErrorBox error={result.error} what="the user tasks" />
      ) : !result.data ? (
        <div className="loading">Loading user tasks…</div>
      ) : result.data.ids.length === 0 ? (
        <div className="empty" data-testid="no-user-tasks">
          {result.data.listed > 0
            ? "No user task on this page matches the filters."
            : filters.wfRun
              ? `WfRun '${filters.wfRun}' has no user tasks${paging.page > 1 ? " on this page" : ""}.`
              : narrowed
                ? "No user tasks match these filters."
                : "No user tasks yet."}
        </div>
      ) : (
        <InboxTable ids={result.data.ids} runs={result.data.runs} selected={selected} linkTo={linkTo} />
      )}
      <div className="ut-paging">
        <label>
          Per page{" "}
          <select aria-label="per page" value={filters.size} onChange={(e) => set({ size: e.target.value })}>
            {sizes.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
        <Pager paging={paging} nextBookmark={result.data?.bookmark} />
      </div>
    </section>
  );
}

// ---- the selected UserTaskRun ------------------------------------------------------------------------------

function owner(userId: string | undefined, group: string | undefined): string {
  if (userId && group) return `${userId} (group ${group})`;
  if (userId) return userId;
  if (group) return `group ${group}`;
  return "nobody";
}

function EventRow({ event }: { event: UserTaskEvent }) {
  const e = event.event;
  let what: React.ReactNode;
  let detail: React.ReactNode = null;
  switch (e.case) {
    case "assigned": {
      const first = e.value.oldUserId === undefined && e.value.oldUserGroup === undefined;
      what = first ? "Scheduled" : "Assigned";
      detail = first ? (
        <>for {owner(e.value.newUserId, e.value.newUserGroup)}</>
      ) : (
        <>
          {owner(e.value.oldUserId, e.value.oldUserGroup)} →{" "}
          <strong>{owner(e.value.newUserId, e.value.newUserGroup)}</strong>
        </>
      );
      break;
    }
    case "cancelled":
      what = "Cancelled";
      detail = e.value.message;
      break;
    case "taskExecuted":
      what = "Task executed";
      detail = e.value.taskRun ? (
        <>
          TaskRun {e.value.taskRun.taskGuid} of{" "}
          <Link to={wfRunPath(e.value.taskRun.wfRunId)}>{wfRunKey(e.value.taskRun.wfRunId)}</Link>
        </>
      ) : null;
      break;
    default:
      what = "Event";
  }
  return (
    <tr>
      <td className="ut-nowrap">{formatTime(event.time)}</td>
      <td className="ut-nowrap">{what}</td>
      <td>{detail}</td>
    </tr>
  );
}

function useChange<T>(fn: (arg: T) => Promise<unknown>) {
  const { tenant } = useSession();
  const queries = useQueryClient();
  return useMutation({
    mutationFn: fn,
    onSettled: () => queries.invalidateQueries({ queryKey: [tenant] }),
  });
}

function ClaimForm({ run, live }: { run: UserTaskRun; live: boolean }) {
  const [userId, setUserId] = useState("");
  // the task stays with its group; without override_claim the server refuses a task someone holds
  const claim = useChange((user: string) =>
    lh.assignUserTaskRun({
      userTaskRunId: run.id,
      userId: user,
      userGroup: run.userGroup,
      overrideClaim: false,
    }),
  );
  if (!live) return claim.error ? <ErrorBox error={claim.error} /> : null;
  return (
    <form
      className="ut-action"
      aria-label="claim"
      onSubmit={(e) => {
        e.preventDefault();
        if (userId.trim()) claim.mutate(userId.trim(), { onSuccess: () => setUserId("") });
      }}
    >
      <h3>Claim</h3>
      <p className="muted">
        Take the task as a user{run.userGroup ? `, keeping group ${run.userGroup}` : ""} (refused if someone
        already holds it).
      </p>
      <div className="actions">
        <input
          aria-label="claim as user id"
          placeholder="your user id"
          value={userId}
          onChange={(e) => setUserId(e.target.value)}
          size={16}
        />
        <button type="submit" className="primary" disabled={!userId.trim() || claim.isPending}>
          Claim
        </button>
      </div>
      {claim.error && <ErrorBox error={claim.error} />}
    </form>
  );
}

function AssignForm({ run, live }: { run: UserTaskRun; live: boolean }) {
  const [userId, setUserId] = useState("");
  const [group, setGroup] = useState("");
  const [override, setOverride] = useState(false);
  const [problem, setProblem] = useState<string | undefined>();
  const assign = useChange((req: { userId?: string; userGroup?: string; overrideClaim: boolean }) =>
    lh.assignUserTaskRun({ userTaskRunId: run.id, ...req }),
  );
  if (!live) return assign.error ? <ErrorBox error={assign.error} /> : null;
  return (
    <form
      className="ut-action"
      aria-label="assign"
      onSubmit={(e) => {
        e.preventDefault();
        const req = {
          userId: userId.trim() || undefined,
          userGroup: group.trim() || undefined,
          overrideClaim: override,
        };
        if (!req.userId && !req.userGroup) return setProblem("Give a user id, a group or both.");
        setProblem(undefined);
        assign.mutate(req, {
          onSuccess: () => {
            setUserId("");
            setGroup("");
            setOverride(false);
          },
        });
      }}
    >
      <h3>Assign</h3>
      <p className="muted">Give the task to a user, a group or both.</p>
      <div className="actions">
        <input
          aria-label="assign to user id"
          placeholder="user id"
          value={userId}
          onChange={(e) => setUserId(e.target.value)}
          size={12}
        />
        <input
          aria-label="assign to user group"
          placeholder="user group"
          value={group}
          onChange={(e) => setGroup(e.target.value)}
          size={12}
        />
        <button type="submit" disabled={assign.isPending}>
          Assign
        </button>
      </div>
      <label className="ut-override">
        <input type="checkbox" checked={override} onChange={(e) => setOverride(e.target.checked)} /> override
        claim{" "}
        <span className="muted">
          (take it from the user who holds it{run.userId ? `: ${run.userId}` : ""})
        </span>
      </label>
      {problem && <div className="field-error">{problem}</div>}
      {assign.error && <ErrorBox error={assign.error} />}
    </form>
  );
}

function CancelAction({ run, live }: { run: UserTaskRun; live: boolean }) {
  const [confirming, setConfirming] = useState(false);
  const cancel = useChange(() => lh.cancelUserTaskRun({ userTaskRunId: run.id }));
  if (!live) return cancel.error ? <ErrorBox error={cancel.error} /> : null;
  return (
    <div className="ut-action">
      <h3>Cancel</h3>
      {!confirming ? (
        <button type="button" className="danger" onClick={() => setConfirming(true)}>
          Cancel user task…
        </button>
      ) : (
        <div className="actions">
          <span>The USER_TASK node will fail. Cancel it?</span>
          <button
            type="button"
            className="danger"
            disabled={cancel.isPending}
            onClick={() => cancel.mutate(undefined, { onSuccess: () => setConfirming(false) })}
          >
            Yes, cancel it
          </button>
          <button type="button" onClick={() => setConfirming(false)}>
            No
          </button>
        </div>
      )}
      {cancel.error && <ErrorBox error={cancel.error} />}
    </div>
  );
}

function Results({ run }: { run: UserTaskRun }) {
  const def = useUserTaskDef(run.userTaskDefId);
  const names = Object.keys(run.results);
  const label = (name: string) => def.data?.fields.find((f) => f.name === name)?.displayName || name;
  return (
    <>
      <h3>Results</h3>
      {names.length === 0 ? (
        <div className="empty">Completed without results.</div>
      ) : (
        <table data-testid="user-task-results">
          <tbody>
            {names.map((name) => (
              <tr key={name}>
                <th scope="row">
                  {label(name)} {label(name) !== name && <span className="muted">({name})</span>}
                </th>
                <td>
                  <ValueView value={run.results[name]} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function UserTaskRunView({ run }: { run: UserTaskRun }) {
  const { tenant } = useSession();
  const wfRun = useQuery({
    queryKey: [tenant, "wfRun", wfRunKey(run.id?.wfRunId)],
    queryFn: () => lh.getWfRun(run.id!.wfRunId!),
    refetchInterval: (q) => {
      const s = q.state.data?.status;
      return s === LHStatus.RUNNING || s === LHStatus.STARTING || s === LHStatus.HALTING ? 3000 : false;
    },
  });
  const defName = run.userTaskDefId?.name ?? "";
  const live = isLive(run.status);
  return (
    <section className="panel ut-detail" aria-label="user task run" data-testid="user-task-run">
      <h2>
        {defName} <span className="muted">v{run.userTaskDefId?.version}</span>{" "}
        <StatusBadge status={userTaskStatusName(run.status)} />
      </h2>
      <dl className="facts">
        <dt>UserTaskDef</dt>
        <dd>
          <Link to={`/userTaskDef/${encodeURIComponent(defName)}`}>
            {defName} v{run.userTaskDefId?.version}
          </Link>
        </dd>
        <dt>WfRun</dt>
        <dd>
          <Link to={wfRunPath(run.id?.wfRunId)}>{wfRunKey(run.id?.wfRunId)}</Link>{" "}
          {wfRun.data && <StatusBadge status={lhStatusName(wfRun.data.status)} />}
          {run.nodeRunId && (
            <span className="muted">
              {" "}
              thread {run.nodeRunId.threadRunNumber}, node run {run.nodeRunId.position}
            </span>
          )}
        </dd>
        <dt>Id</dt>
        <dd>
          <code className="value">{run.id?.userTaskGuid}</code>
        </dd>
        <dt>User</dt>
        <dd data-testid="user-task-user">{run.userId ?? <span className="muted">–</span>}</dd>
        <dt>Group</dt>
        <dd data-testid="user-task-group">{run.userGroup ?? <span className="muted">–</span>}</dd>
        <dt>Scheduled</dt>
        <dd>{formatTime(run.scheduledTime)}</dd>
        <dt>Notes</dt>
        <dd className="ut-notes">{run.notes ?? <span className="muted">–</span>}</dd>
      </dl>
      {wfRun.error && <ErrorBox error={wfRun.error} what="the WfRun" />}

      {run.status === UserTaskRunStatus.DONE && <Results run={run} />}

      {/* once the run is DONE or CANCELLED, an action only shows why it was refused, if it was */}
      <CompleteUserTaskForm run={run} live={live} />
      <div className="ut-actions">
        <ClaimForm run={run} live={live} />
        <AssignForm run={run} live={live} />
        <CancelAction run={run} live={live} />
      </div>

      <h3>Events</h3>
      {run.events.length === 0 ? (
        <div className="empty">No events.</div>
      ) : (
        <table data-testid="user-task-events">
          <thead>
            <tr>
              <th>Time</th>
              <th>Event</th>
              <th>Detail</th>
            </tr>
          </thead>
          <tbody>
            {run.events.map((e, i) => (
              <EventRow key={i} event={e} />
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function SelectedUserTask({ taskKey, onClose }: { taskKey: string; onClose: () => void }) {
  const { tenant } = useSession();
  const id = userTaskIdOf(taskKey);
  const run = useQuery({
    queryKey: userTaskQueryKey(tenant, id),
    queryFn: () => lh.getUserTaskRun(id!),
    enabled: id !== undefined,
    // someone else may claim, complete or cancel it meanwhile
    refetchInterval: (q) => (q.state.data && isLive(q.state.data.status) ? 5000 : false),
  });
  const close = (
    <button type="button" className="link ut-close" onClick={onClose} aria-label="close the user task">
      ✕ close
    </button>
  );
  if (!id)
    return (
      <section className="panel ut-detail">
        {close}
        <div className="error-box" role="alert">
          &apos;{taskKey}&apos; does not name a UserTaskRun (it should be &lt;WfRun id&gt;/&lt;guid&gt;).
        </div>
      </section>
    );
  if (run.error)
    return (
      <section className="panel ut-detail">
        {close}
        {isNotFound(run.error) ? (
          <div className="empty">UserTaskRun {taskKey} does not exist in this tenant.</div>
        ) : (
          <ErrorBox error={run.error} what={`UserTaskRun ${taskKey}`} />
        )}
      </section>
    );
  if (!run.data)
    return (
      <section className="panel ut-detail">
        <div className="loading">Loading UserTaskRun {taskKey}…</div>
      </section>
    );
  return (
    <div className="ut-detail-wrap">
      {close}
      <UserTaskRunView key={taskKey} run={run.data} />
    </div>
  );
}

export function UserTasksPage() {
  const [params, update] = useUrlParams();
  const filters = filtersOf(params);
  const selected = params.get("task") ?? "";
  return (
    <>
      <h1>User tasks</h1>
      <div className={selected ? "ut-layout with-detail" : "ut-layout"}>
        <Inbox filters={filters} selected={selected} />
        {selected && (
          <SelectedUserTask taskKey={selected} onClose={() => update({ task: undefined }, { push: true })} />
        )}
      </div>
    </>
  );
}
