/**
 * WfSpec version migrations (MigrateWfSpec) at the runtime: moves the live WfRuns of an old WfSpec version
 * onto the new one, one WfRun per command (each commits on its own, in its partition), so a crash midway
 * leaves every WfRun either moved or not and nothing moved twice: a WfRun already on the new version is
 * skipped. The migration itself is stored on the old WfSpec (its `migration` field), which is how it
 * resumes: a server that takes a partition, or learns of a new migration from another server, migrates the
 * live WfRuns of the old version in the partitions it owns. The server that answers MigrateWfSpec also
 * checks the WfRuns of other servers' partitions against the migration (on their stored state), so that its
 * answer names every WfRun that cannot move, wherever it lives.
 */
import { LHStatus, type WfSpec, type WfSpecId, type WfSpecVersionMigration } from "@pony/proto";
import { planMigration, type MigrationPlan, type WfRunState } from "@pony/engine";
import type { Logger } from "pino";
import type { Runtime } from "./runtime";

export interface MigrationOutcome {
  /** WfRuns moved to the new version by this sweep */
  migrated: number;
  /** WfRuns left on the old version, with why */
  refused: { wfRunKey: string; why: string }[];
  /**
   * live WfRuns of the old version in partitions another server owns that can move: it moves them (with
   * `checkElsewhere`; without, every live WfRun of the old version there)
   */
  elsewhere: number;
}

const PAGE = 500;

/** Whether two ids name the same WfSpec version. */
export const sameVersion = (a: WfSpecId | undefined, b: WfSpecId | undefined) =>
  a?.name === b?.name && a?.majorVersion === b?.majorVersion && a?.revision === b?.revision;

/**
 * How a WfRun moves from `from` to `to`: its plan, "skipped" (gone, or not on `from`: moved before), or why
 * it cannot move.
 */
export function migrationPlanOf(
  state: WfRunState | undefined,
  from: WfSpecId,
  to: WfSpec,
  migration: WfSpecVersionMigration,
): MigrationPlan | string {
  if (!state || !sameVersion(state.wfRun.wfSpecId, from)) return "skipped";
  return planMigration(state, to, migration);
}

/**
 * Migrates the RUNNING and HALTED WfRuns of `from` to `to` in the partitions this server owns (only those in
 * `parts`, when given). With `checkElsewhere`, the WfRuns of other servers' partitions are checked on their
 * stored state, and those that cannot move are refused in the outcome too.
 */
export async function migrateLiveWfRuns(
  rt: Runtime,
  tenant: string,
  from: WfSpec,
  to: WfSpec,
  migration: WfSpecVersionMigration,
  opts: { parts?: ReadonlySet<number>; checkElsewhere?: boolean } = {},
): Promise<MigrationOutcome> {
  const { parts, checkElsewhere = false } = opts;
  const outcome: MigrationOutcome = { migrated: 0, refused: [], elsewhere: 0 };
  for (const status of [LHStatus.RUNNING, LHStatus.HALTED]) {
    let after: { startMs: number; wfRunKey: string } | undefined;
    for (;;) {
      const hits = await rt.store.searchWfRuns({
        tenant,
        wfSpecName: from.id!.name,
        major: from.id!.majorVersion,
        revision: from.id!.revision,
        status,
        variables: [],
        after,
        limit: PAGE,
      });
      for (const hit of hits) {
        const part = rt.partitionOf(tenant, hit.wfRunKey);
        if (parts && !parts.has(part)) continue;
        if (!rt.partitions.owns(part)) {
          const check = checkElsewhere
            ? await rt.checkMigration(tenant, hit.wfRunKey, from.id!, to, migration)
            : "movable";
          if (check === "movable") outcome.elsewhere++;
          else if (check !== "skipped") outcome.refused.push({ wfRunKey: hit.wfRunKey, why: check });
          continue;
        }
        const result = await rt.migrateWfRun(tenant, hit.wfRunKey, from.id!, to, migration);
        if (result === "migrated") outcome.migrated++;
        else if (result !== "skipped") outcome.refused.push({ wfRunKey: hit.wfRunKey, why: result });
      }
      if (hits.length < PAGE) break;
      const last = hits[hits.length - 1]!;
      after = { startMs: last.startMs, wfRunKey: last.wfRunKey };
    }
  }
  return outcome;
}

/**
 * Resumes every stored migration for the partitions this server owns (or these ones): after taking a
 * partition, after a restart, or when another server stored a new migration.
 */
export async function resumeMigrations(rt: Runtime, log: Logger, parts?: ReadonlySet<number>): Promise<void> {
  for (const { tenant, message: from } of rt.metadata.everyVersion("wf_spec")) {
    const migration = from.migration;
    if (!migration) continue;
    const to = rt.metadata.get(
      tenant,
      "wf_spec",
      from.id!.name,
      { major: migration.newMajorVersion, minor: migration.newRevision },
      true,
    );
    if (!to) continue;
    const outcome = await migrateLiveWfRuns(rt, tenant, from, to, migration, { parts });
    if (outcome.migrated > 0 || outcome.refused.length > 0) {
      log.info(
        {
          tenant,
          wfSpec: from.id!.name,
          from: `${from.id!.majorVersion}.${from.id!.revision}`,
          to: `${migration.newMajorVersion}.${migration.newRevision}`,
          migrated: outcome.migrated,
          refused: outcome.refused.slice(0, 20),
        },
        "WfSpec migration resumed",
      );
    }
  }
}
