import type { Logger } from "pino";
import type { Runtime } from "../runtime/runtime";
import type { ServiceHandlers, UnaryHandler } from "./context";
import { controlHandlers } from "./control";
import { eventHandlers } from "./events";
import { metadataHandlers } from "./metadata";
import { metricsHandlers } from "./metrics";
import { principalHandlers, type PrincipalHandlerOptions } from "./principals";
import { migrationHandlers } from "./migrations";
import { runHandlers } from "./runs";
import { scheduleHandlers } from "./schedules";
import { searchHandlers } from "./search";
import { serverInfoHandlers } from "./server-info";
import { taskHandlers, type TaskHandlerOptions } from "./tasks";
import { tenantHandlers } from "./tenants";
import { userTaskHandlers } from "./user-tasks";

/**
 * Every RPC of the service, as transport-neutral handlers keyed by method localName. They take a plain
 * request message and a CallContext; the request pipeline (pipeline.ts) calls them.
 */
export function buildHandlers(
  rt: Runtime,
  log: Logger,
  opts: TaskHandlerOptions & PrincipalHandlerOptions,
): ServiceHandlers {
  const tasks = taskHandlers(rt, log, opts);
  const events = eventHandlers(rt);
  const unary = {
    ...metadataHandlers(rt),
    ...migrationHandlers(rt),
    ...runHandlers(rt),
    ...scheduleHandlers(rt),
    ...events.unary,
    ...controlHandlers(rt),
    ...userTaskHandlers(rt),
    ...tasks.unary,
    ...serverInfoHandlers(),
    ...searchHandlers(rt),
    ...metricsHandlers(rt),
    ...tenantHandlers(rt),
    ...principalHandlers(rt, opts),
  } as unknown as Record<string, UnaryHandler>;
  return {
    unary,
    streams: { pollTask: tasks.pollTask },
    // the server is stopping: streams and waiting calls end with UNAVAILABLE
    endStreams: () => {
      tasks.endAllStreams();
      events.endWaits();
    },
  };
}
