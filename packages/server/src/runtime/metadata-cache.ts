import { fromBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import {
  ExternalEventDefSchema,
  TaskDefSchema,
  UserTaskDefSchema,
  WfSpecSchema,
  WorkflowEventDefSchema,
} from "@pony/proto";
import type { MetadataLookup } from "@pony/engine";
import type { MetadataKind, MetadataRow } from "../store/store";

export const METADATA_SCHEMAS = {
  task_def: TaskDefSchema,
  external_event_def: ExternalEventDefSchema,
  workflow_event_def: WorkflowEventDefSchema,
  user_task_def: UserTaskDefSchema,
  wf_spec: WfSpecSchema,
} as const satisfies Record<MetadataKind, DescMessage>;

type Shape<K extends MetadataKind> = MessageShape<(typeof METADATA_SCHEMAS)[K]>;

interface Entry {
  row: MetadataRow;
  message: unknown;
}

const versionKey = (major: number, minor: number) => major * 1_000_000 + minor;

/**
 * Every metadata object of every tenant, in memory. Metadata is small and read on every command (TaskDefs
 * for TASK nodes, WfSpecs for RunWf), so the store is read once at start and this cache is updated after each
 * commit that changes metadata.
 */
export class MetadataCache {
  /** tenant → kind → name → versionKey → entry */
  private readonly byTenant = new Map<string, Map<MetadataKind, Map<string, Map<number, Entry>>>>();

  clear(): void {
    this.byTenant.clear();
  }

  load(rows: MetadataRow[]): void {
    for (const row of rows) this.put(row);
  }

  put(row: MetadataRow): void {
    let kinds = this.byTenant.get(row.tenant);
    if (!kinds)
      this.byTenant.set(row.tenant, (kinds = new Map<MetadataKind, Map<string, Map<number, Entry>>>()));
    let names = kinds.get(row.kind);
    if (!names) kinds.set(row.kind, (names = new Map<string, Map<number, Entry>>()));
    let versions = names.get(row.name);
    if (!versions) names.set(row.name, (versions = new Map<number, Entry>()));
    versions.set(versionKey(row.major, row.minor), {
      row,
      message: fromBinary(METADATA_SCHEMAS[row.kind] as DescMessage, row.bytes),
    });
  }

  remove(tenant: string, kind: MetadataKind, name: string, major: number, minor: number): void {
    const versions = this.byTenant.get(tenant)?.get(kind)?.get(name);
    versions?.delete(versionKey(major, minor));
    if (versions && versions.size === 0) this.byTenant.get(tenant)?.get(kind)?.delete(name);
  }

  /** One version (or the latest, optionally within a major version); deleted ones only with includeDeleted. */
  get<K extends MetadataKind>(
    tenant: string,
    kind: K,
    name: string,
    version?: { major: number; minor?: number },
    includeDeleted = false,
  ): Shape<K> | undefined {
    const versions = this.byTenant.get(tenant)?.get(kind)?.get(name);
    if (!versions) return undefined;
    if (version && version.minor !== undefined) {
      const e = versions.get(versionKey(version.major, version.minor));
      return e && (includeDeleted || !e.row.deleted) ? (e.message as Shape<K>) : undefined;
    }
    let best: Entry | undefined;
    let bestKey = -1;
    for (const [k, e] of versions) {
      if (e.row.deleted && !includeDeleted) continue;
      if (version && e.row.major !== version.major) continue;
      if (k > bestKey) {
        best = e;
        bestKey = k;
      }
    }
    return best?.message as Shape<K> | undefined;
  }

  /** Every live object of a kind in a tenant, sorted by name then version. */
  list<K extends MetadataKind>(tenant: string, kind: K): { row: MetadataRow; message: Shape<K> }[] {
    const names = this.byTenant.get(tenant)?.get(kind);
    if (!names) return [];
    const out: { row: MetadataRow; message: Shape<K> }[] = [];
    for (const versions of names.values()) {
      for (const e of versions.values())
        if (!e.row.deleted) out.push({ row: e.row, message: e.message as Shape<K> });
    }
    out.sort((a, b) =>
      a.row.name < b.row.name
        ? -1
        : a.row.name > b.row.name
          ? 1
          : versionKey(a.row.major, a.row.minor) - versionKey(b.row.major, b.row.minor),
    );
    return out;
  }

  /** Every version of a kind in every tenant, deleted ones too. */
  *everyVersion<K extends MetadataKind>(kind: K): Generator<{ tenant: string; message: Shape<K> }> {
    for (const [tenant, kinds] of this.byTenant) {
      for (const versions of kinds.get(kind)?.values() ?? [])
        for (const e of versions.values()) yield { tenant, message: e.message as Shape<K> };
    }
  }

  lookup(tenant: string): MetadataLookup {
    return {
      taskDef: (name) => this.get(tenant, "task_def", name),
      externalEventDef: (name) => this.get(tenant, "external_event_def", name),
      workflowEventDef: (name) => this.get(tenant, "workflow_event_def", name),
      userTaskDef: (name, version) =>
        this.get(
          tenant,
          "user_task_def",
          name,
          version === undefined ? undefined : { major: version, minor: 0 },
        ),
      wfSpec: (name, major) => this.get(tenant, "wf_spec", name, major === undefined ? undefined : { major }),
    };
  }
}
