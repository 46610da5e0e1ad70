/**
 * Metadata RPCs: Put/Get/Delete/Search for TaskDef, ExternalEventDef, WorkflowEventDef, UserTaskDef and
 * WfSpec (B-META-1…9). Validation and versioning are the engine's (packages/engine/src/metadata); this file
 * reads the metadata cache, asks the engine, and writes through the processor so that two puts of the same
 * name never race.
 */
import { create } from "@bufbuild/protobuf";
import { encodeMessage } from "../protobuf/to-binary";
import {
  ACLAction,
  ACLResource,
  ExternalEventDefIdListSchema,
  TaskDefIdListSchema,
  UserTaskDefIdListSchema,
  UserTaskDefIdSchema,
  WfSpecIdListSchema,
  WfSpecIdSchema,
  WorkflowEventDefIdListSchema,
  type DeleteExternalEventDefRequest,
  type DeleteTaskDefRequest,
  type DeleteUserTaskDefRequest,
  type DeleteWfSpecRequest,
  type DeleteWorkflowEventDefRequest,
  type ExternalEventDefId,
  type GetLatestUserTaskDefRequest,
  type GetLatestWfSpecRequest,
  type PutExternalEventDefRequest,
  type PutTaskDefRequest,
  type PutUserTaskDefRequest,
  type PutWfSpecRequest,
  type PutWorkflowEventDefRequest,
  type SearchExternalEventDefRequest,
  type SearchTaskDefRequest,
  type SearchUserTaskDefRequest,
  type SearchWfSpecRequest,
  type SearchWorkflowEventDefRequest,
  type TaskDefId,
  type UserTaskDefId,
  type WfSpecId,
  type WorkflowEventDefId,
} from "@pony/proto";
import {
  InvalidArgumentError,
  NotFoundError,
  buildWfSpec,
  decideWfSpecVersion,
  putExternalEventDef,
  putTaskDef,
  putUserTaskDef,
  putWorkflowEventDef,
} from "@pony/engine";
import type { BatchTx } from "../runtime/processor";
import type { Runtime } from "../runtime/runtime";
import { METADATA_SCHEMAS } from "../runtime/metadata-cache";
import type { MetadataKind, MetadataRow } from "../store/store";
import type { CallContext } from "./context";
import { pageOf } from "./paging";

function requireName(name: string | undefined, what: string): string {
  if (!name) throw new InvalidArgumentError(`${what} is required`);
  return name;
}

/** The kinds of metadata with one version per name: read, deleted and searched by name alone. */
type UnversionedKind = "task_def" | "external_event_def" | "workflow_event_def";

/** The ACLResource that covers each kind of metadata (B-SEC-2). */
const RESOURCE_OF: Record<MetadataKind, ACLResource> = {
  task_def: ACLResource.ACL_TASK,
  external_event_def: ACLResource.ACL_EXTERNAL_EVENT,
  workflow_event_def: ACLResource.ACL_WORKFLOW,
  user_task_def: ACLResource.ACL_USER_TASK,
  wf_spec: ACLResource.ACL_WORKFLOW,
};

/** A metadata object as its stored row. */
export function metadataRow(
  tenant: string,
  kind: MetadataKind,
  name: string,
  major: number,
  minor: number,
  message: object,
): MetadataRow {
  return {
    tenant,
    kind,
    name,
    major,
    minor,
    bytes: encodeMessage(METADATA_SCHEMAS[kind], message),
    deleted: false,
  };
}

/** Writes one metadata row in a processor job; the cache has it at once (later jobs of the batch see it). */
export function writeMetadataRow(rt: Runtime, tx: BatchTx, row: MetadataRow): void {
  tx.ops.push({ op: "putMetadata", row });
  rt.metadata.put(row);
}

export function metadataHandlers(rt: Runtime) {
  /** The tenant's metadata of one kind that the caller may read: searches answer only those. */
  function readable<K extends MetadataKind>(ctx: CallContext, kind: K) {
    const resource = RESOURCE_OF[kind];
    return rt.metadata
      .list(ctx.tenant, kind)
      .filter((e) => ctx.may({ resource, action: ACLAction.READ, name: e.row.name }));
  }

  const writeRow = (tx: BatchTx, r: MetadataRow) => writeMetadataRow(rt, tx, r);

  function getByName<K extends UnversionedKind>(ctx: CallContext, kind: K, name: string | undefined) {
    const def = rt.metadata.get(ctx.tenant, kind, requireName(name, "name"));
    if (!def) throw new NotFoundError(`${kindLabel(kind)} '${name}' not found`);
    return def;
  }

  /** One page of the names the caller may read, in name order, starting with `prefix` when it is set. */
  function searchByPrefix(
    ctx: CallContext,
    kind: UnversionedKind,
    req: { prefix?: string; bookmark?: Uint8Array; limit?: number },
  ) {
    const all = readable(ctx, kind).filter((e) => !req.prefix || e.row.name.startsWith(req.prefix));
    const page = pageOf(all, (e) => e.row.name, req.bookmark, req.limit);
    return { results: page.items.map((e) => ({ name: e.row.name })), bookmark: page.bookmark };
  }

  function deleteRow(
    tenant: string,
    kind: MetadataKind,
    name: string,
    major: number,
    minor: number,
    keep: boolean,
  ) {
    return rt.submit({
      apply: (tx) => {
        const message = rt.metadata.get(tenant, kind, name, { major, minor });
        if (!message)
          throw new NotFoundError(`${kindLabel(kind)} '${versionLabel(name, kind, major, minor)}' not found`);
        if (keep) {
          // WfRuns already running keep the WfSpec version they started with (B-META-8).
          writeRow(tx, { ...metadataRow(tenant, kind, name, major, minor, message), deleted: true });
          // a deleted WfSpec version is never run again: its schedules go with it
          for (const s of rt.scheduler.ofWfSpec(tenant, name, major, minor)) {
            const id = s.schedule.id!.id;
            tx.ops.push({ op: "deleteScheduledWfRun", tenant, id });
            tx.afterCommit(() => rt.scheduler.removed(tenant, id));
          }
        } else {
          tx.ops.push({ op: "deleteMetadata", tenant, kind, name, major, minor });
          rt.metadata.remove(tenant, kind, name, major, minor);
        }
        return {};
      },
    });
  }

  return {
    async putTaskDef(req: PutTaskDefRequest, ctx: CallContext) {
      return rt.submit({
        apply: (tx) => {
          const existing = rt.metadata.get(ctx.tenant, "task_def", req.name);
          const { taskDef, created } = putTaskDef(req, existing, new Date(rt.now()));
          if (created) writeRow(tx, metadataRow(ctx.tenant, "task_def", req.name, 0, 0, taskDef));
          return taskDef;
        },
      });
    },
    async getTaskDef(req: TaskDefId, ctx: CallContext) {
      return getByName(ctx, "task_def", req.name);
    },
    async deleteTaskDef(req: DeleteTaskDefRequest, ctx: CallContext) {
      return deleteRow(ctx.tenant, "task_def", requireName(req.id?.name, "id.name"), 0, 0, false);
    },
    async searchTaskDef(req: SearchTaskDefRequest, ctx: CallContext) {
      return create(TaskDefIdListSchema, searchByPrefix(ctx, "task_def", req));
    },

    async putExternalEventDef(req: PutExternalEventDefRequest, ctx: CallContext) {
      return rt.submit({
        apply: (tx) => {
          const existing = rt.metadata.get(ctx.tenant, "external_event_def", req.name);
          const { def, created } = putExternalEventDef(req, existing, new Date(rt.now()));
          if (created) writeRow(tx, metadataRow(ctx.tenant, "external_event_def", req.name, 0, 0, def));
          return def;
        },
      });
    },
    async getExternalEventDef(req: ExternalEventDefId, ctx: CallContext) {
      return getByName(ctx, "external_event_def", req.name);
    },
    async deleteExternalEventDef(req: DeleteExternalEventDefRequest, ctx: CallContext) {
      return deleteRow(ctx.tenant, "external_event_def", requireName(req.id?.name, "id.name"), 0, 0, false);
    },
    async searchExternalEventDef(req: SearchExternalEventDefRequest, ctx: CallContext) {
      return create(ExternalEventDefIdListSchema, searchByPrefix(ctx, "external_event_def", req));
    },

    async putWorkflowEventDef(req: PutWorkflowEventDefRequest, ctx: CallContext) {
      return rt.submit({
        apply: (tx) => {
          const existing = rt.metadata.get(ctx.tenant, "workflow_event_def", req.name);
          const { def, created } = putWorkflowEventDef(req, existing, new Date(rt.now()));
          if (created) writeRow(tx, metadataRow(ctx.tenant, "workflow_event_def", req.name, 0, 0, def));
          return def;
        },
      });
    },
    async getWorkflowEventDef(req: WorkflowEventDefId, ctx: CallContext) {
      return getByName(ctx, "workflow_event_def", req.name);
    },
    async deleteWorkflowEventDef(req: DeleteWorkflowEventDefRequest, ctx: CallContext) {
      return deleteRow(ctx.tenant, "workflow_event_def", requireName(req.id?.name, "id.name"), 0, 0, false);
    },
    async searchWorkflowEventDef(req: SearchWorkflowEventDefRequest, ctx: CallContext) {
      return create(WorkflowEventDefIdListSchema, searchByPrefix(ctx, "workflow_event_def", req));
    },

    async putUserTaskDef(req: PutUserTaskDefRequest, ctx: CallContext) {
      return rt.submit({
        apply: (tx) => {
          const latest = rt.metadata.get(ctx.tenant, "user_task_def", req.name);
          const { def, created } = putUserTaskDef(req, latest, new Date(rt.now()));
          if (created) writeRow(tx, metadataRow(ctx.tenant, "user_task_def", req.name, def.version, 0, def));
          return def;
        },
      });
    },
    async getUserTaskDef(req: UserTaskDefId, ctx: CallContext) {
      const name = requireName(req.name, "name");
      const def = rt.metadata.get(ctx.tenant, "user_task_def", name, { major: req.version, minor: 0 });
      if (!def) throw new NotFoundError(`UserTaskDef '${name}' version ${req.version} not found`);
      return def;
    },
    async getLatestUserTaskDef(req: GetLatestUserTaskDefRequest, ctx: CallContext) {
      const name = requireName(req.name, "name");
      const def = rt.metadata.get(ctx.tenant, "user_task_def", name);
      if (!def) throw new NotFoundError(`UserTaskDef '${name}' not found`);
      return def;
    },
    async deleteUserTaskDef(req: DeleteUserTaskDefRequest, ctx: CallContext) {
      const name = requireName(req.id?.name, "id.name");
      return deleteRow(ctx.tenant, "user_task_def", name, req.id?.version ?? 0, 0, false);
    },
    async searchUserTaskDef(req: SearchUserTaskDefRequest, ctx: CallContext) {
      const c = req.userTaskDefCriteria;
      const all = readable(ctx, "user_task_def").filter(
        (e) =>
          c.case === undefined ||
          (c.case === "prefix" && e.row.name.startsWith(c.value)) ||
          (c.case === "name" && e.row.name === c.value),
      );
      const page = pageOf(all, (e) => `${e.row.name}\u0000${pad(e.row.major)}`, req.bookmark, req.limit);
      return create(UserTaskDefIdListSchema, {
        results: page.items.map((e) =>
          create(UserTaskDefIdSchema, { name: e.row.name, version: e.row.major }),
        ),
        bookmark: page.bookmark,
      });
    },

    async putWfSpec(req: PutWfSpecRequest, ctx: CallContext) {
      return rt.submit({
        apply: (tx) => {
          const lookup = rt.metadata.lookup(ctx.tenant);
          const candidate = buildWfSpec(req, lookup);
          const latest = rt.metadata.get(ctx.tenant, "wf_spec", req.name);
          const decision = decideWfSpecVersion(candidate, latest, req.allowedUpdates, new Date(rt.now()));
          if (decision.kind === "new") {
            const id = decision.wfSpec.id!;
            // A deleted version stays stored for the WfRuns still running on it (B-META-8): never reuse it.
            while (
              rt.metadata.get(
                ctx.tenant,
                "wf_spec",
                id.name,
                { major: id.majorVersion, minor: id.revision },
                true,
              )
            ) {
              id.revision += 1;
            }
            writeRow(
              tx,
              metadataRow(ctx.tenant, "wf_spec", id.name, id.majorVersion, id.revision, decision.wfSpec),
            );
          }
          return decision.wfSpec;
        },
      });
    },
    async getWfSpec(req: WfSpecId, ctx: CallContext) {
      const name = requireName(req.name, "name");
      const spec = rt.metadata.get(ctx.tenant, "wf_spec", name, {
        major: req.majorVersion,
        minor: req.revision,
      });
      if (!spec) throw new NotFoundError(`WfSpec '${name}' ${req.majorVersion}.${req.revision} not found`);
      return spec;
    },
    async getLatestWfSpec(req: GetLatestWfSpecRequest, ctx: CallContext) {
      const name = requireName(req.name, "name");
      const spec = rt.metadata.get(
        ctx.tenant,
        "wf_spec",
        name,
        req.majorVersion === undefined ? undefined : { major: req.majorVersion },
      );
      if (!spec) {
        throw new NotFoundError(
          `WfSpec '${name}'${req.majorVersion === undefined ? "" : ` with major version ${req.majorVersion}`} not found`,
        );
      }
      return spec;
    },
    async deleteWfSpec(req: DeleteWfSpecRequest, ctx: CallContext) {
      const name = requireName(req.id?.name, "id.name");
      return deleteRow(ctx.tenant, "wf_spec", name, req.id?.majorVersion ?? 0, req.id?.revision ?? 0, true);
    },
    async searchWfSpec(req: SearchWfSpecRequest, ctx: CallContext) {
      const c = req.wfSpecCriteria;
      const all = readable(ctx, "wf_spec").filter((e) => {
        switch (c.case) {
          case "name":
            return e.row.name === c.value;
          case "prefix":
            return e.row.name.startsWith(c.value);
          case "taskDefName":
            return usesTaskDef(e.message, c.value);
          default:
            return true;
        }
      });
      const page = pageOf(
        all,
        (e) => `${e.row.name}\u0000${pad(e.row.major)}\u0000${pad(e.row.minor)}`,
        req.bookmark,
        req.limit,
      );
      return create(WfSpecIdListSchema, {
        results: page.items.map((e) =>
          create(WfSpecIdSchema, { name: e.row.name, majorVersion: e.row.major, revision: e.row.minor }),
        ),
        bookmark: page.bookmark,
      });
    },
  };
}

const pad = (n: number) => n.toString().padStart(10, "0");

function usesTaskDef(
  spec: {
    threadSpecs: Record<string, { nodes: Record<string, { node: { case?: string; value?: unknown } }> }>;
  },
  name: string,
): boolean {
  for (const t of Object.values(spec.threadSpecs)) {
    for (const n of Object.values(t.nodes)) {
      if (n.node.case === "task") {
        const task = n.node.value as { taskToExecute: { case?: string; value?: { name?: string } } };
        if (task.taskToExecute.case === "taskDefId" && task.taskToExecute.value?.name === name) return true;
      }
    }
  }
  return false;
}

function kindLabel(kind: MetadataKind): string {
  return {
    task_def: "TaskDef",
    external_event_def: "ExternalEventDef",
    workflow_event_def: "WorkflowEventDef",
    user_task_def: "UserTaskDef",
    wf_spec: "WfSpec",
  }[kind];
}

function versionLabel(name: string, kind: MetadataKind, major: number, minor: number): string {
  if (kind === "wf_spec") return `${name} ${major}.${minor}`;
  if (kind === "user_task_def") return `${name} v${major}`;
  return name;
}
