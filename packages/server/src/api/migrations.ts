/**
 * MigrateWfSpec: moves the RUNNING and HALTED WfRuns of one WfSpec version onto a newer version.
 *
 * The request is checked against both versions (every thread and node it names must exist, the target must
 * be newer), then stored on the old WfSpec (its `migration` field: what makes it resumable after a crash),
 * then each live WfRun of the old version moves where the migration maps each of its threads' current nodes
 * (runtime/migrations.ts, engine run/migrate.ts). A WfRun that cannot move is left unchanged; the answer is
 * then FAILED_PRECONDITION naming each such WfRun and why, after the others have moved. Calling it again
 * with a fuller migration moves the rest; WfRuns already moved are never moved twice. In a cluster, the
 * WfRuns of partitions other servers own are moved by those servers; this one checks them against the
 * migration on their stored state, so the answer names those that cannot move too.
 */
import { clone } from "@bufbuild/protobuf";
import { WfSpecSchema, type MigrateWfSpecRequest } from "@pony/proto";
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from "@pony/engine";
import { migrateLiveWfRuns } from "../runtime/migrations";
import type { Runtime } from "../runtime/runtime";
import type { CallContext } from "./context";
import { metadataRow, writeMetadataRow } from "./metadata";

/** the most refused WfRuns an answer names one by one */
const NAMED_REFUSALS = 20;

export function migrationHandlers(rt: Runtime) {
  return {
    async migrateWfSpec(req: MigrateWfSpecRequest, ctx: CallContext) {
      const oldId = req.oldWfSpec;
      if (!oldId?.name) throw new InvalidArgumentError("old_wf_spec.name is required");
      const migration = req.migration;
      if (!migration) throw new InvalidArgumentError("migration is required");
      const label = (major: number, revision: number) => `WfSpec '${oldId.name}' ${major}.${revision}`;
      const from = rt.metadata.get(ctx.tenant, "wf_spec", oldId.name, {
        major: oldId.majorVersion,
        minor: oldId.revision,
      });
      if (!from) throw new NotFoundError(`${label(oldId.majorVersion, oldId.revision)} not found`);
      const to = rt.metadata.get(ctx.tenant, "wf_spec", oldId.name, {
        major: migration.newMajorVersion,
        minor: migration.newRevision,
      });
      if (!to) {
        throw new NotFoundError(
          `${label(migration.newMajorVersion, migration.newRevision)} (the migration's new version) not found`,
        );
      }
      const newer =
        migration.newMajorVersion > oldId.majorVersion ||
        (migration.newMajorVersion === oldId.majorVersion && migration.newRevision > oldId.revision);
      if (!newer) {
        throw new InvalidArgumentError(
          `the migration's new version ${migration.newMajorVersion}.${migration.newRevision} is not newer than ` +
            `${oldId.majorVersion}.${oldId.revision}`,
        );
      }
      const threads = Object.entries(migration.threadSpecMigrations);
      if (threads.length === 0) throw new InvalidArgumentError("migration.thread_spec_migrations is empty");
      for (const [oldThread, tm] of threads) {
        const where = `migration.thread_spec_migrations['${oldThread}']`;
        const oldSpec = from.threadSpecs[oldThread];
        if (!oldSpec)
          throw new InvalidArgumentError(
            `${where}: version ${oldId.majorVersion}.${oldId.revision} has no ThreadSpec '${oldThread}'`,
          );
        const newSpec = to.threadSpecs[tm.newThreadSpecName];
        if (!newSpec) {
          throw new InvalidArgumentError(
            `${where}.new_thread_spec_name: version ${migration.newMajorVersion}.${migration.newRevision} has no ThreadSpec '${tm.newThreadSpecName}'`,
          );
        }
        for (const [oldNode, nm] of Object.entries(tm.nodeMigrations)) {
          if (!oldSpec.nodes[oldNode])
            throw new InvalidArgumentError(
              `${where}.node_migrations: ThreadSpec '${oldThread}' has no node '${oldNode}'`,
            );
          const newNode = newSpec.nodes[nm.newNodeName];
          if (!newNode) {
            throw new InvalidArgumentError(
              `${where}.node_migrations['${oldNode}'].new_node_name: ThreadSpec '${tm.newThreadSpecName}' of the new version has no node '${nm.newNodeName}'`,
            );
          }
          if (newNode.node.case !== oldSpec.nodes[oldNode].node.case) {
            throw new InvalidArgumentError(
              `${where}.node_migrations['${oldNode}']: a ${oldSpec.nodes[oldNode].node.case} node cannot become '${nm.newNodeName}', a ${newNode.node.case} node`,
            );
          }
        }
      }

      // the migration is stored first: a crash from here on resumes it (runtime/migrations.ts)
      const stored = await rt.submit({
        apply: (tx) => {
          const current = rt.metadata.get(ctx.tenant, "wf_spec", oldId.name, {
            major: oldId.majorVersion,
            minor: oldId.revision,
          });
          if (!current) throw new NotFoundError(`${label(oldId.majorVersion, oldId.revision)} not found`);
          const next = clone(WfSpecSchema, current);
          next.migration = migration;
          writeMetadataRow(
            rt,
            tx,
            metadataRow(ctx.tenant, "wf_spec", oldId.name, oldId.majorVersion, oldId.revision, next),
          );
          return next;
        },
      });

      const outcome = await migrateLiveWfRuns(rt, ctx.tenant, stored, to, migration, {
        checkElsewhere: true,
      });
      if (outcome.refused.length > 0) {
        const named = outcome.refused
          .slice(0, NAMED_REFUSALS)
          .map((r) => `'${r.wfRunKey}': ${r.why}`)
          .join("; ");
        const more = outcome.refused.length - NAMED_REFUSALS;
        throw new FailedPreconditionError(
          `migrated ${outcome.migrated} WfRun${outcome.migrated === 1 ? "" : "s"} of ${label(oldId.majorVersion, oldId.revision)} ` +
            `to ${migration.newMajorVersion}.${migration.newRevision}` +
            (outcome.elsewhere > 0 ? ` (and the servers that own ${outcome.elsewhere} more move them)` : "") +
            `; left ${outcome.refused.length} unchanged: ${named}` +
            (more > 0 ? `; and ${more} more` : "") +
            ` (map their current nodes and call MigrateWfSpec again)`,
        );
      }
      return stored;
    },
  };
}
