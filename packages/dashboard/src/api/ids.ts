/**
 * Ids as they appear in the dashboard's URLs. A WfRunId is written as LittleHorse writes its key: the ids
 * from the root down joined by `_` (ids may not contain `_`), so a child WfRun's link names its parents.
 */
import { create } from "@bufbuild/protobuf";
import { WfRunIdSchema, type WfRunId, type WfSpecId } from "@pony/proto";

export function wfRunKey(id: WfRunId | undefined): string {
  if (!id) return "";
  return id.parentWfRunId ? `${wfRunKey(id.parentWfRunId)}_${id.id}` : id.id;
}

export function wfRunIdOf(key: string): WfRunId {
  const parts = key.split("_");
  let id: WfRunId | undefined;
  for (const part of parts) id = create(WfRunIdSchema, { id: part, parentWfRunId: id });
  return id!;
}

export const wfRunPath = (id: WfRunId | undefined) => `/wfRun/${encodeURIComponent(wfRunKey(id))}`;

export const wfSpecPath = (id: WfSpecId | undefined) =>
  id ? `/wfSpec/${encodeURIComponent(id.name)}/${id.majorVersion}/${id.revision}` : "/";

export const wfSpecLabel = (id: WfSpecId | undefined) =>
  id ? `${id.name} v${id.majorVersion}.${id.revision}` : "–";
