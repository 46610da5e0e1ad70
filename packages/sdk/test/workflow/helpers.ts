/** Helpers for the workflow builder tests: the compiled request as proto-field-name JSON. */
import { toJson } from "@bufbuild/protobuf";
import { PutWfSpecRequestSchema, type PutWfSpecRequest } from "@pony/proto";
import type { Workflow } from "../../src/workflow";

export type Json = Record<string, any>;

/** The PutWfSpecRequest in proto JSON with the .proto field names (what proto-loader clients send). */
export function json(req: PutWfSpecRequest | Workflow): Json {
  const msg = "compile" in req ? req.compile() : req;
  return toJson(PutWfSpecRequestSchema, msg, { useProtoFieldName: true }) as Json;
}

export function thread(req: PutWfSpecRequest | Workflow, name = "entrypoint"): Json {
  const t = json(req).thread_specs[name];
  if (t === undefined) throw new Error(`no thread '${name}'`);
  return t;
}

export function nodeNames(req: PutWfSpecRequest | Workflow, threadName = "entrypoint"): string[] {
  return Object.keys(thread(req, threadName).nodes);
}

export function node(req: PutWfSpecRequest | Workflow, nodeName: string, threadName = "entrypoint"): Json {
  const n = thread(req, threadName).nodes[nodeName];
  if (n === undefined) throw new Error(`no node '${nodeName}' in thread '${threadName}'`);
  return n;
}

/** Outgoing edges of a node (an empty list when it has none). */
export function edges(req: PutWfSpecRequest | Workflow, nodeName: string, threadName = "entrypoint"): Json[] {
  return node(req, nodeName, threadName).outgoing_edges ?? [];
}

export const v = (name: string, jsonPath?: string): Json =>
  jsonPath === undefined ? { variable_name: name } : { variable_name: name, json_path: jsonPath };
export const lit = (value: Json): Json => ({ literal_value: value });
export const str = (s: string): Json => lit({ str: s });
export const int = (n: number): Json => lit({ int: String(n) });
