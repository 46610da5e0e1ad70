import type { Logger } from "pino";
import type { Runtime } from "../runtime/runtime";
import type { ServiceHandlers, UnaryHandler } from "./context";
import { controlHandlers } from "./control";
import { eventHandlers } from "./events";
import { metadataHandlers } from "./metadata";
import { metricsHandlers } from "./metrics";
import { runHandlers } from "./runs";
import { searchHandlers } from "./search";
import { serverInfoHandlers } from "./server-info";
import { taskHandlers, type TaskHandlerOptions } from "./tasks";
import { unimplementedHandlers } from "./unimplemented";
import { userTaskHandlers } from "./user-tasks";

/** Every RPC of the service, as transport-neutral handlers keyed by method localName. */
export function buildHandlers(
  rt: Runtime,
  log: Logger,
  opts: TaskHandlerOptions & { startedMs: number },
): ServiceHandlers {
  const tasks = taskHandlers(rt, log, opts);
  const taskUnary = tasks.unary;
  const unary = {
    ...unimplementedHandlers(),
    ...metadataHandlers(rt),
    ...runHandlers(rt),
    ...eventHandlers(rt),
    ...controlHandlers(rt),
    ...userTaskHandlers(rt),
    ...taskUnary,
    ...serverInfoHandlers(opts.startedMs),
    ...searchHandlers(rt, opts.startedMs),
    ...metricsHandlers(rt),
  } as unknown as Record<string, UnaryHandler>;
  return { unary, pollTask: tasks.pollTask, endStreams: tasks.endAllStreams };
}
