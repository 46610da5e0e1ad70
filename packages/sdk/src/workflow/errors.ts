/**
 * Compile-time errors of the workflow builder, and how they point at the user's source line.
 *
 * Every public builder call records where it was made (`callSite()`): the first stack frame outside this
 * directory, which is the line in the user's workflow function. When that call turns out to be a mistake, the
 * LHWorkflowError names the WfSpec, the thread and the problem, and ends with that location.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";

/** Where a builder call was made: the user's stack frame (`at fn (/path/file.ts:12:7)`), if one was found. */
export interface CallSite {
  /** The whole frame as V8 printed it, without the leading "at ". */
  readonly frame: string;
  /** `file:line:column` when the frame has one. */
  readonly location: string | undefined;
}

const WORKFLOW_DIR = path.dirname(fileURLToPath(import.meta.url));
const WORKFLOW_DIR_URL = `file://${WORKFLOW_DIR}`;

function isBuilderFrame(frame: string): boolean {
  return (
    frame.includes(`${WORKFLOW_DIR}${path.sep}`) ||
    frame.includes(`${WORKFLOW_DIR_URL}/`) ||
    // Some runners print paths with forward slashes on every platform.
    frame.includes(`${WORKFLOW_DIR.split(path.sep).join("/")}/`)
  );
}

const LOCATION = /\(?((?:file:\/\/)?[^\s()]+:\d+:\d+)\)?$/;

/** The caller's site: the first stack frame outside packages/sdk/src/workflow. */
export function callSite(): CallSite | undefined {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 50;
  const stack = new Error().stack ?? "";
  Error.stackTraceLimit = limit;
  const frames = stack
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.startsWith("at "))
    .map((line) => line.slice(3));
  const frame = frames.find((f) => !isBuilderFrame(f));
  if (frame === undefined) return undefined;
  const match = LOCATION.exec(frame);
  let location = match?.[1];
  if (location?.startsWith("file://") === true) {
    try {
      const [, file, line, col] = /^(.*):(\d+):(\d+)$/.exec(location) ?? [];
      if (file !== undefined) location = `${fileURLToPath(file)}:${line}:${col}`;
    } catch {
      // keep the URL form
    }
  }
  return { frame, location };
}

/**
 * A mistake in a workflow definition, found while compiling it (`Workflow.compile()`). The message says what
 * is wrong, in which WfSpec and thread, and ends with `(at /path/to/your-file.ts:LINE:COL)`: the builder call
 * that caused it.
 */
export class LHWorkflowError extends Error {
  override readonly name = "LHWorkflowError";
  /** The problem alone, without WfSpec/thread context or location. */
  readonly problem: string;
  /** `file:line:column` of the offending builder call, when known. */
  readonly location: string | undefined;

  constructor(problem: string, site: CallSite | undefined, context?: string) {
    const where = site?.location ?? site?.frame;
    super(
      `${context === undefined ? "" : `${context}: `}${problem}${where === undefined ? "" : ` (at ${where})`}`,
    );
    this.problem = problem;
    this.location = site?.location;
  }
}
