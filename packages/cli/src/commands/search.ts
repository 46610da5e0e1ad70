/**
 * `pony search <kind> [filters] [--limit n] [--bookmark b]`: ids of the objects that match, one page at a
 * time. The output's `bookmark` (base64) is what `--bookmark` takes to get the next page.
 */
import type { Command } from "commander";
import {
  LHStatusSchema,
  SearchNodeRunRequest_NodeTypeSchema,
  TaskStatusSchema,
  UserTaskRunStatusSchema,
} from "@pony/proto";
import { timestampFromMs, type Timestamp } from "@bufbuild/protobuf/wkt";
import { boolean, enumNames, enumValue, int32, paged, time, type Paging } from "../args";
import { CliUsageError, type CliContext } from "../context";
import { parseTypeName, parseValue, ValueError } from "../values";

/** The one criterion given among several exclusive options (a oneof of the request). */
function oneOf<K extends string, C extends string>(
  opts: Partial<Record<K, string>>,
  names: readonly K[],
  fields: Readonly<Record<K, C>>,
): { case: C; value: string } | undefined {
  const given = names.filter((n) => opts[n] !== undefined);
  if (given.length > 1) {
    throw new CliUsageError(`give at most one of ${names.map((n) => `--${n}`).join(", ")}`);
  }
  const n = given[0];
  return n === undefined ? undefined : { case: fields[n], value: opts[n]! };
}

export function registerSearchCommand(program: Command, ctx: CliContext): void {
  const search = program.command("search").description("print the ids of the objects matching filters");

  timeRanged(
    search
      .command("wfRun")
      .description("WfRuns of a WfSpec (SearchWfRun)")
      .requiredOption("--wfSpecName <name>", "the WfSpec's name")
      .option(
        "--status <status>",
        `one of ${enumNames(LHStatusSchema).join(", ")}`,
        enumValue(LHStatusSchema),
      )
      .option("--majorVersion <n>", "the WfSpec's major version", int32)
      .option("--revision <n>", "the WfSpec's revision (with --majorVersion)", int32),
    "started",
  ).action(
    async (
      opts: Paging &
        TimeRange & { wfSpecName: string; status?: number; majorVersion?: number; revision?: number },
    ) => {
      await ctx.show("searchWfRun", {
        wfSpecName: opts.wfSpecName,
        status: opts.status,
        wfSpecMajorVersion: opts.majorVersion,
        wfSpecRevision: opts.revision,
        ...timeRangeOf(opts),
        limit: opts.limit,
        bookmark: opts.bookmark,
      });
    },
  );

  paged(
    search
      .command("scheduledWfRun")
      .description("scheduled WfRuns of a WfSpec (SearchScheduledWfRun)")
      .requiredOption("--wfSpecName <name>", "the WfSpec's name")
      .option("--majorVersion <n>", "the WfSpec's major version", int32)
      .option("--revision <n>", "the WfSpec's revision (with --majorVersion)", int32),
  ).action(async (opts: Paging & { wfSpecName: string; majorVersion?: number; revision?: number }) => {
    await ctx.show("searchScheduledWfRun", {
      wfSpecName: opts.wfSpecName,
      majorVersion: opts.majorVersion,
      revision: opts.revision,
      limit: opts.limit,
      bookmark: opts.bookmark,
    });
  });

  /** a kind of metadata with one version per name, searched by a prefix of its name */
  const byPrefix = (kind: string, typeName: "TaskDef" | "ExternalEventDef" | "WorkflowEventDef") =>
    paged(
      search
        .command(kind)
        .description(`${typeName}s (Search${typeName})`)
        .option("--prefix <prefix>", "names starting with this"),
    ).action(async (opts: Paging & { prefix?: string }) => {
      await ctx.show(`search${typeName}`, {
        prefix: opts.prefix,
        limit: opts.limit,
        bookmark: opts.bookmark,
      });
    });

  byPrefix("taskDef", "TaskDef");

  paged(
    search
      .command("wfSpec")
      .description("WfSpecs, every version (SearchWfSpec)")
      .option("--prefix <prefix>", "names starting with this")
      .option("--name <name>", "the versions of the WfSpec of this name")
      .option("--taskDef <name>", "WfSpecs that use this TaskDef"),
  ).action(async (opts: Paging & { prefix?: string; name?: string; taskDef?: string }) => {
    const criteria = oneOf(opts, ["prefix", "name", "taskDef"] as const, {
      prefix: "prefix",
      name: "name",
      taskDef: "taskDefName",
    });
    await ctx.show("searchWfSpec", {
      wfSpecCriteria: criteria,
      limit: opts.limit,
      bookmark: opts.bookmark,
    });
  });

  byPrefix("externalEventDef", "ExternalEventDef");
  byPrefix("workflowEventDef", "WorkflowEventDef");

  paged(
    search
      .command("userTaskDef")
      .description("UserTaskDefs, every version (SearchUserTaskDef)")
      .option("--prefix <prefix>", "names starting with this")
      .option("--name <name>", "the versions of the UserTaskDef of this name"),
  ).action(async (opts: Paging & { prefix?: string; name?: string }) => {
    const criteria = oneOf(opts, ["prefix", "name"] as const, { prefix: "prefix", name: "name" });
    await ctx.show("searchUserTaskDef", {
      userTaskDefCriteria: criteria,
      limit: opts.limit,
      bookmark: opts.bookmark,
    });
  });

  timeRanged(
    search
      .command("taskRun")
      .description("TaskRuns of a TaskDef (SearchTaskRun)")
      .requiredOption("--taskDefName <name>", "the TaskDef's name")
      .option(
        "--status <status>",
        `one of ${enumNames(TaskStatusSchema).join(", ")}`,
        enumValue(TaskStatusSchema),
      ),
    "scheduled",
  ).action(async (opts: Paging & TimeRange & { taskDefName: string; status?: number }) => {
    await ctx.show("searchTaskRun", {
      taskDefName: opts.taskDefName,
      status: opts.status,
      ...timeRangeOf(opts),
      limit: opts.limit,
      bookmark: opts.bookmark,
    });
  });

  timeRanged(
    search
      .command("nodeRun")
      .description("NodeRuns of a kind and status, every WfRun (SearchNodeRun)")
      .requiredOption(
        "--nodeType <type>",
        `one of ${enumNames(SearchNodeRunRequest_NodeTypeSchema).join(", ")}`,
        enumValue(SearchNodeRunRequest_NodeTypeSchema),
      )
      .requiredOption(
        "--status <status>",
        `one of ${enumNames(LHStatusSchema).join(", ")}`,
        enumValue(LHStatusSchema),
      ),
    "arrived",
  ).action(async (opts: Paging & TimeRange & { nodeType: number; status: number }) => {
    await ctx.show("searchNodeRun", {
      nodeType: opts.nodeType,
      status: opts.status,
      ...timeRangeOf(opts),
      limit: opts.limit,
      bookmark: opts.bookmark,
    });
  });

  paged(
    search
      .command("variable")
      .description("Variables of a WfSpec's runs that have a value (SearchVariable)")
      .requiredOption("--wfSpecName <name>", "the WfSpec's name")
      .requiredOption("--name <name>", "the variable's name")
      .requiredOption("--value <value>", "the value, read as --type")
      .option(
        "--type <type>",
        "the variable's type: STR, INT, DOUBLE, BOOL, JSON_OBJ, JSON_ARR, BYTES",
        "STR",
      )
      .option("--majorVersion <n>", "the WfSpec's major version", int32)
      .option("--revision <n>", "the WfSpec's revision", int32),
  ).action(
    async (
      opts: Paging & {
        wfSpecName: string;
        name: string;
        value: string;
        type: string;
        majorVersion?: number;
        revision?: number;
      },
    ) => {
      const type = parseTypeName(opts.type);
      if (type === undefined) throw new CliUsageError(`--type: unknown variable type '${opts.type}'`);
      let value;
      try {
        value = parseValue(opts.value, type);
      } catch (e) {
        if (e instanceof ValueError) throw new CliUsageError(`--value: ${e.message}`);
        throw e;
      }
      await ctx.show("searchVariable", {
        wfSpecName: opts.wfSpecName,
        varName: opts.name,
        value,
        wfSpecMajorVersion: opts.majorVersion,
        wfSpecRevision: opts.revision,
        limit: opts.limit,
        bookmark: opts.bookmark,
      });
    },
  );

  timeRanged(
    search
      .command("userTaskRun")
      .description("UserTaskRuns (SearchUserTaskRun)")
      .option("--userId <id>", "assigned to this user")
      .option("--userGroup <group>", "assigned to this group")
      .option(
        "--status <status>",
        `one of ${enumNames(UserTaskRunStatusSchema).join(", ")}`,
        enumValue(UserTaskRunStatusSchema),
      )
      .option("--userTaskDefName <name>", "of this UserTaskDef"),
    "created",
  ).action(
    async (
      opts: Paging &
        TimeRange & { userId?: string; userGroup?: string; status?: number; userTaskDefName?: string },
    ) => {
      await ctx.show("searchUserTaskRun", {
        userId: opts.userId,
        userGroup: opts.userGroup,
        status: opts.status,
        userTaskDefName: opts.userTaskDefName,
        ...timeRangeOf(opts),
        limit: opts.limit,
        bookmark: opts.bookmark,
      });
    },
  );

  timeRanged(
    search
      .command("externalEvent")
      .description("ExternalEvents of an ExternalEventDef (SearchExternalEvent)")
      .requiredOption("--externalEventDefName <name>", "the ExternalEventDef's name")
      .option("--claimed <bool>", "only claimed (true) or unclaimed (false) events", boolean),
    "posted",
  ).action(async (opts: Paging & TimeRange & { externalEventDefName: string; claimed?: boolean }) => {
    await ctx.show("searchExternalEvent", {
      externalEventDefId: { name: opts.externalEventDefName },
      isClaimed: opts.claimed,
      ...timeRangeOf(opts),
      limit: opts.limit,
      bookmark: opts.bookmark,
    });
  });

  timeRanged(
    search
      .command("workflowEvent")
      .description("WorkflowEvents of a WorkflowEventDef, every WfRun, oldest first (SearchWorkflowEvent)")
      .argument("<workflowEventDefName>", "the WorkflowEventDef's name"),
    "thrown",
  ).action(async (defName: string, opts: Paging & TimeRange) => {
    await ctx.show("searchWorkflowEvent", {
      workflowEventDefId: { name: defName },
      ...timeRangeOf(opts),
      limit: opts.limit,
      bookmark: opts.bookmark,
    });
  });

  paged(search.command("tenant").description("Tenants (SearchTenant)")).action(async (opts: Paging) => {
    await ctx.show("searchTenant", { limit: opts.limit, bookmark: opts.bookmark });
  });

  timeRanged(
    search
      .command("principal")
      .description("Principals, by id (SearchPrincipal)")
      .option("--admin", "only admins (ALL_ACTIONS over ACL_ALL_RESOURCES in the global ACLs)")
      .option("--not-admin", "only principals that are not admins")
      .option("--tenant <id>", "only principals that can work in this tenant (its ACLs, or global ones)"),
    "created",
  ).action(
    async (
      opts: Paging &
        TimeRange & {
          admin?: boolean;
          notAdmin?: boolean;
          tenant?: string;
        },
    ) => {
      const given = (["admin", "notAdmin", "tenant"] as const).filter((k) => opts[k] !== undefined);
      if (given.length > 1) throw new CliUsageError("give at most one of --admin, --not-admin, --tenant");
      const criteria =
        opts.tenant !== undefined
          ? { case: "tenantId" as const, value: opts.tenant }
          : opts.admin || opts.notAdmin
            ? { case: "isAdmin" as const, value: opts.admin === true }
            : undefined;
      await ctx.show("searchPrincipal", {
        principalCriteria: criteria,
        ...timeRangeOf(opts),
        limit: opts.limit,
        bookmark: opts.bookmark,
      });
    },
  );
}

/** A search's time range: times, or minutes before now (lhctl's `--earliestMinutesAgo`). */
interface TimeRange {
  earliest?: Timestamp;
  latest?: Timestamp;
  earliestMinutesAgo?: number;
  latestMinutesAgo?: number;
}

/**
 * A paged search with a time range: `--earliest` / `--latest` (a time) or lhctl's `--earliestMinutesAgo` /
 * `--latestMinutesAgo`; `what` says what the time is of ("started").
 */
function timeRanged(cmd: Command, what: string): Command {
  return paged(cmd)
    .option(
      "--earliest <time>",
      `${what} at or after this time (2026-12-06, 2026-12-06T06:30:00Z; UTC without an offset)`,
      time,
    )
    .option("--latest <time>", `${what} at or before this time`, time)
    .option("--earliestMinutesAgo <n>", `${what} at most this many minutes ago`, int32)
    .option("--latestMinutesAgo <n>", `${what} at least this many minutes ago`, int32);
}

/** The request's `earliest_start` and `latest_start`. */
function timeRangeOf(o: TimeRange): { earliestStart?: Timestamp; latestStart?: Timestamp } {
  return {
    earliestStart: timeBound(o.earliest, o.earliestMinutesAgo, "earliest"),
    latestStart: timeBound(o.latest, o.latestMinutesAgo, "latest"),
  };
}

/** A time bound given as a time (`--earliest`) or as minutes before now (`--earliestMinutesAgo`, lhctl's). */
function timeBound(
  at: Timestamp | undefined,
  minutesAgo: number | undefined,
  name: string,
): Timestamp | undefined {
  if (at !== undefined && minutesAgo !== undefined)
    throw new CliUsageError(`give at most one of --${name}, --${name}MinutesAgo`);
  return minutesAgo === undefined ? at : timestampFromMs(Date.now() - minutesAgo * 60_000);
}
