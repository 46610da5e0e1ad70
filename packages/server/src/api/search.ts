/**
 * Search RPCs over runs and their objects (B-SRCH-1…4): SearchWfRun, SearchVariable, SearchNodeRun,
 * SearchTaskRun, SearchExternalEvent and SearchWorkflowEvent (SearchTenant and SearchPrincipal: tenants.ts,
 * principals.ts). Each returns ids, one page read through an index (store/search-reads.ts), in a stable
 * order with the newest objects last:
 *  - WfRuns by start time, Variables by their WfRun's start time (then thread), NodeRuns by arrival time,
 *    TaskRuns by scheduled time, ExternalEvents and WorkflowEvents by creation time — ties by the object's
 *    key;
 * `limit`: default 100, capped at 1000, 0 or less is INVALID_ARGUMENT. The bookmark resumes right after the
 * last result, also while objects are being written; a bookmark from another RPC is INVALID_ARGUMENT.
 * Time ranges (earliest_start / latest_start) are inclusive at both ends.
 *
 * Variables are found by exact value (INT and DOUBLE compare as numbers; a value is first converted to the
 * variable's declared type when it can be). A field of a JSON variable listed in `json_indexes` is searched
 * as `var_name` = the variable name followed by the JSON path, e.g. `order$.customer.id`.
 */
import { create } from "@bufbuild/protobuf";
import {
  ExternalEventIdListSchema,
  NodeRunIdListSchema,
  SearchNodeRunRequest_NodeType,
  TaskRunIdListSchema,
  VariableIdListSchema,
  WfRunIdListSchema,
  WorkflowEventIdListSchema,
  type SearchExternalEventRequest,
  type SearchNodeRunRequest,
  type SearchTaskRunRequest,
  type SearchVariableRequest,
  type SearchWfRunRequest,
  type SearchWorkflowEventRequest,
  type VariableType,
  type VariableValue,
} from "@pony/proto";
import { InvalidArgumentError, castTo } from "@pony/engine";
import type { Runtime } from "../runtime/runtime";
import { jsonField, valueKey } from "../runtime/index-keys";
import type { CallContext } from "./context";
import { pageSize } from "./paging";
import { decodeSearchBookmark, pageFrom, timeRange } from "./search-bookmarks";

/** SearchNodeRunRequest.NodeType → the NodeRun's node_type oneof case, as stored */
const NODE_TYPES: Record<SearchNodeRunRequest_NodeType, string> = {
  [SearchNodeRunRequest_NodeType.TASK]: "task",
  [SearchNodeRunRequest_NodeType.EXTERNAL_EVENT]: "externalEvent",
  [SearchNodeRunRequest_NodeType.ENTRYPOINT]: "entrypoint",
  [SearchNodeRunRequest_NodeType.EXIT]: "exit",
  [SearchNodeRunRequest_NodeType.START_THREAD]: "startThread",
  [SearchNodeRunRequest_NodeType.WAIT_THREADS]: "waitThreads",
  [SearchNodeRunRequest_NodeType.SLEEP]: "sleep",
  [SearchNodeRunRequest_NodeType.USER_TASK]: "userTask",
  [SearchNodeRunRequest_NodeType.START_MULTIPLE_THREADS]: "startMultipleThreads",
};

const num = (v: string | number | undefined) => v as number;
const str = (v: string | number | undefined) => v as string;

export function searchHandlers(rt: Runtime) {
  /**
   * The index key to look for: the value converted to the type the WfSpec declares for this field (when
   * the WfSpec and the field are known and the conversion works), so "42" finds the INT 42.
   */
  function searchKey(
    tenant: string,
    wfSpecName: string,
    major: number | undefined,
    revision: number | undefined,
    field: string,
    value: VariableValue | undefined,
    what: string,
  ): string {
    if (!field) throw new InvalidArgumentError(`${what}: var_name is required`);
    let v = value;
    const spec = rt.metadata.get(
      tenant,
      "wf_spec",
      wfSpecName,
      major === undefined ? undefined : { major, minor: revision },
      true,
    );
    let type: VariableType | undefined;
    for (const thread of Object.values(spec?.threadSpecs ?? {})) {
      for (const def of thread.variableDefs) {
        if (def.varDef?.name === field) type = def.varDef.type;
        for (const j of def.jsonIndexes)
          if (jsonField(def.varDef?.name ?? "", j.fieldPath) === field) type = j.fieldType;
      }
    }
    if (v && type !== undefined) {
      try {
        v = castTo(v, type, field);
      } catch {
        // not convertible: look for the value as given (it will match nothing of the declared type)
      }
    }
    const key = valueKey(v);
    if (key === undefined) throw new InvalidArgumentError(`${what}: a value to match is required`);
    return key;
  }

  /** The name of the def a search of events names, which must exist (INVALID_ARGUMENT otherwise). */
  function existingDef(
    tenant: string,
    kind: "external_event_def" | "workflow_event_def",
    name: string | undefined,
  ): string {
    const [field, label] =
      kind === "external_event_def"
        ? ["external_event_def_id", "ExternalEventDef"]
        : ["workflow_event_def_id", "WorkflowEventDef"];
    if (!name) throw new InvalidArgumentError(`${field} is required`);
    if (!rt.metadata.get(tenant, kind, name))
      throw new InvalidArgumentError(`${label} '${name}' does not exist`);
    return name;
  }

  function checkVersion(major: number | undefined, revision: number | undefined): void {
    if (revision !== undefined && major === undefined) {
      throw new InvalidArgumentError(
        "wf_spec_revision can only be given together with wf_spec_major_version",
      );
    }
  }

  return {
    async searchWfRun(req: SearchWfRunRequest, ctx: CallContext) {
      // no wf_spec_name: every WfSpec's WfRuns (a Pony extension: LittleHorse requires one); the version and
      // variable filters belong to one WfSpec
      if (!req.wfSpecName) {
        if (req.wfSpecMajorVersion !== undefined || req.wfSpecRevision !== undefined)
          throw new InvalidArgumentError("wf_spec_major_version and wf_spec_revision need wf_spec_name");
        if (req.variableFilters.length > 0)
          throw new InvalidArgumentError("variable_filters need wf_spec_name: variables belong to a WfSpec");
      }
      checkVersion(req.wfSpecMajorVersion, req.wfSpecRevision);
      const limit = pageSize(req.limit);
      const after = decodeSearchBookmark("SearchWfRun", req.bookmark, ["number", "string"]);
      const variables = req.variableFilters.map((f, i) => ({
        field: f.varName,
        key: searchKey(
          ctx.tenant,
          req.wfSpecName,
          req.wfSpecMajorVersion,
          req.wfSpecRevision,
          f.varName,
          f.value,
          `variable_filters[${i}]`,
        ),
      }));
      const hits = await rt.store.searchWfRuns({
        tenant: ctx.tenant,
        wfSpecName: req.wfSpecName || undefined,
        major: req.wfSpecMajorVersion,
        revision: req.wfSpecRevision,
        status: req.status,
        variables,
        ...timeRange(req.earliestStart, req.latestStart),
        after: after && { startMs: num(after[0]), wfRunKey: str(after[1]) },
        limit: limit + 1,
      });
      const page = pageFrom("SearchWfRun", hits, limit, (h) => [h.startMs, h.wfRunKey]);
      return create(WfRunIdListSchema, {
        results: page.items.map((h) => h.wfRunId),
        bookmark: page.bookmark,
      });
    },

    async searchVariable(req: SearchVariableRequest, ctx: CallContext) {
      if (!req.wfSpecName) throw new InvalidArgumentError("wf_spec_name is required");
      checkVersion(req.wfSpecMajorVersion, req.wfSpecRevision);
      const limit = pageSize(req.limit);
      const after = decodeSearchBookmark("SearchVariable", req.bookmark, ["number", "string", "number"]);
      const key = searchKey(
        ctx.tenant,
        req.wfSpecName,
        req.wfSpecMajorVersion,
        req.wfSpecRevision,
        req.varName,
        req.value,
        "SearchVariable",
      );
      const hits = await rt.store.searchVariables({
        tenant: ctx.tenant,
        wfSpecName: req.wfSpecName,
        major: req.wfSpecMajorVersion,
        revision: req.wfSpecRevision,
        field: req.varName,
        key,
        after: after && { startMs: num(after[0]), wfRunKey: str(after[1]), thread: num(after[2]) },
        limit: limit + 1,
      });
      const page = pageFrom("SearchVariable", hits, limit, (h) => [h.startMs, h.wfRunKey, h.thread]);
      return create(VariableIdListSchema, {
        results: page.items.map((h) => ({ wfRunId: h.wfRunId, threadRunNumber: h.thread, name: h.name })),
        bookmark: page.bookmark,
      });
    },

    async searchNodeRun(req: SearchNodeRunRequest, ctx: CallContext) {
      const nodeType = NODE_TYPES[req.nodeType];
      if (nodeType === undefined) throw new InvalidArgumentError(`unknown node_type ${req.nodeType}`);
      const limit = pageSize(req.limit);
      const after = decodeSearchBookmark("SearchNodeRun", req.bookmark, [
        "number",
        "string",
        "number",
        "number",
      ]);
      const hits = await rt.store.searchNodeRuns({
        tenant: ctx.tenant,
        nodeType,
        status: req.status,
        ...timeRange(req.earliestStart, req.latestStart),
        after: after && {
          arrivalMs: num(after[0]),
          wfRunKey: str(after[1]),
          thread: num(after[2]),
          position: num(after[3]),
        },
        limit: limit + 1,
      });
      const page = pageFrom("SearchNodeRun", hits, limit, (h) => [
        h.arrivalMs,
        h.wfRunKey,
        h.thread,
        h.position,
      ]);
      return create(NodeRunIdListSchema, {
        results: page.items.map((h) => ({
          wfRunId: h.wfRunId,
          threadRunNumber: h.thread,
          position: h.position,
        })),
        bookmark: page.bookmark,
      });
    },

    async searchTaskRun(req: SearchTaskRunRequest, ctx: CallContext) {
      // an empty task_def_name searches every TaskDef's TaskRuns (a Pony extension: LittleHorse requires one)
      const limit = pageSize(req.limit);
      const after = decodeSearchBookmark("SearchTaskRun", req.bookmark, ["number", "string", "string"]);
      const hits = await rt.store.searchTaskRuns({
        tenant: ctx.tenant,
        taskDefName: req.taskDefName || undefined,
        status: req.status,
        ...timeRange(req.earliestStart, req.latestStart),
        after: after && { scheduledMs: num(after[0]), wfRunKey: str(after[1]), taskGuid: str(after[2]) },
        limit: limit + 1,
      });
      const page = pageFrom("SearchTaskRun", hits, limit, (h) => [h.scheduledMs, h.wfRunKey, h.taskGuid]);
      return create(TaskRunIdListSchema, {
        results: page.items.map((h) => ({ wfRunId: h.wfRunId, taskGuid: h.taskGuid })),
        bookmark: page.bookmark,
      });
    },

    async searchExternalEvent(req: SearchExternalEventRequest, ctx: CallContext) {
      const defName = existingDef(ctx.tenant, "external_event_def", req.externalEventDefId?.name);
      const limit = pageSize(req.limit);
      const after = decodeSearchBookmark("SearchExternalEvent", req.bookmark, ["number", "string", "string"]);
      const hits = await rt.store.searchExternalEvents({
        tenant: ctx.tenant,
        defName,
        claimed: req.isClaimed,
        ...timeRange(req.earliestStart, req.latestStart),
        after: after && { createdMs: num(after[0]), wfRunKey: str(after[1]), guid: str(after[2]) },
        limit: limit + 1,
      });
      const page = pageFrom("SearchExternalEvent", hits, limit, (h) => [h.createdMs, h.wfRunKey, h.guid]);
      return create(ExternalEventIdListSchema, {
        results: page.items.map((h) => ({
          wfRunId: h.wfRunId,
          externalEventDefId: { name: defName },
          guid: h.guid,
        })),
        bookmark: page.bookmark,
      });
    },

    async searchWorkflowEvent(req: SearchWorkflowEventRequest, ctx: CallContext) {
      const defName = existingDef(ctx.tenant, "workflow_event_def", req.workflowEventDefId?.name);
      const limit = pageSize(req.limit);
      const after = decodeSearchBookmark("SearchWorkflowEvent", req.bookmark, ["number", "string", "number"]);
      const hits = await rt.store.searchWorkflowEvents({
        tenant: ctx.tenant,
        defName,
        ...timeRange(req.earliestStart, req.latestStart),
        after: after && { createdMs: num(after[0]), wfRunKey: str(after[1]), number: num(after[2]) },
        limit: limit + 1,
      });
      const page = pageFrom("SearchWorkflowEvent", hits, limit, (h) => [h.createdMs, h.wfRunKey, h.number]);
      return create(WorkflowEventIdListSchema, {
        results: page.items.map((h) => ({
          wfRunId: h.wfRunId,
          workflowEventDefId: { name: defName },
          number: h.number,
        })),
        bookmark: page.bookmark,
      });
    },
  };
}
