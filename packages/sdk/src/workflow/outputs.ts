/**
 * What builder calls hand back to the user: variables, node outputs (with their per-node options), format
 * strings, conditions and spawned threads. They keep a reference to the thread builder that made them, so a
 * value used in the wrong place (another thread, another workflow) is caught at compile time.
 */
import { create } from "@bufbuild/protobuf";
import {
  FailureHandlerDef_LHFailureType,
  JsonIndexSchema,
  LHErrorType,
  VariableType,
  WfRunVariableAccessLevel,
  type FailureHandlerDef,
  type JsonIndex,
  type VariableValue,
} from "@pony/proto";
import type { ThreadBuilder } from "./builder";
import { callSite, type CallSite } from "./errors";
import type { ThreadFunc } from "./thread";
import {
  ValueProblem,
  toAccessLevel,
  toComparator,
  toErrorType,
  toVariableType,
  typeName,
  maxFormatIndex,
  type AccessLevelLike,
  type ComparatorLike,
  type ErrorTypeLike,
  type LiteralValue,
  type VariableTypeLike,
} from "./values";

/** Anything a workflow can use as a value: a literal, a variable, a node's output or a format string. */
export type WfValue = LiteralValue | WfRunVariable | NodeOutput | LHFormatString;

/** @internal The declaration behind a WfRunVariable (shared by its jsonPath views). */
export interface VariableDecl {
  readonly name: string;
  readonly type: VariableType;
  readonly thread: ThreadBuilder;
  readonly site: CallSite | undefined;
  readonly defaultValue: VariableValue | undefined;
  required: boolean;
  searchable: boolean;
  masked: boolean;
  readonly jsonIndexes: JsonIndex[];
  accessLevel: WfRunVariableAccessLevel;
  accessLevelSite: CallSite | undefined;
  /** internal variables (thread numbers of spawned threads) */
  readonly internal: boolean;
}

const JSON_TYPES: ReadonlySet<VariableType> = new Set([VariableType.JSON_OBJ, VariableType.JSON_ARR]);

function checkJsonPath(
  path: string,
  site: CallSite | undefined,
  fail: (p: string, s?: CallSite) => Error,
): void {
  if (typeof path !== "string" || !path.startsWith("$")) {
    throw fail(`json path ${JSON.stringify(path)} must start with '$' (for example "$.name")`, site);
  }
}

/**
 * A variable of a thread (ThreadVarDef), made by `wf.declareStr(…)` and friends. Its options (`required()`,
 * `searchable()`, …) may be set any time before `compile()` returns.
 */
export class WfRunVariable {
  /** @internal */
  readonly decl: VariableDecl;
  /** The json path of this view (set by `jsonPath()`), if any. */
  readonly path: string | undefined;

  /** @internal */
  constructor(decl: VariableDecl, path?: string) {
    this.decl = decl;
    this.path = path;
  }

  get name(): string {
    return this.decl.name;
  }

  get type(): VariableType {
    return this.decl.type;
  }

  /** The thread spec that declares the variable. */
  get threadName(): string {
    return this.decl.thread.name;
  }

  private fail(problem: string, site: CallSite | undefined): Error {
    return this.decl.thread.error(`variable '${this.decl.name}': ${problem}`, site);
  }

  /** The WfRun cannot start without a value for this variable (entrypoint variables). */
  required(): this {
    this.decl.required = true;
    return this;
  }

  /** The variable's value is indexed, so Variables can be searched by it. */
  searchable(): this {
    this.decl.searchable = true;
    return this;
  }

  /** Indexes the JSON field at `fieldPath` (JSON_OBJ / JSON_ARR variables only) as `fieldType`. */
  searchableOn(fieldPath: string, fieldType: VariableTypeLike): this {
    const site = callSite();
    if (!JSON_TYPES.has(this.decl.type)) {
      throw this.fail(
        `searchableOn() needs a JSON_OBJ or JSON_ARR variable, not ${typeName(this.decl.type)}`,
        site,
      );
    }
    checkJsonPath(fieldPath, site, (p, s) => this.fail(p, s));
    let type: VariableType;
    try {
      type = toVariableType(fieldType);
    } catch (e) {
      throw this.fail(e instanceof ValueProblem ? e.message : String(e), site);
    }
    this.decl.jsonIndexes.push(create(JsonIndexSchema, { fieldPath, fieldType: type }));
    return this;
  }

  /** PUBLIC_VAR (the default), PRIVATE_VAR or INHERITED_VAR (entrypoint of a WfSpec with a parent only). */
  withAccessLevel(level: AccessLevelLike): this {
    const site = callSite();
    try {
      this.decl.accessLevel = toAccessLevel(level);
    } catch (e) {
      throw this.fail(e instanceof ValueProblem ? e.message : String(e), site);
    }
    this.decl.accessLevelSite = site;
    return this;
  }

  /** Marks the variable's value as masked (sent as type_def.masked). */
  masked(): this {
    this.decl.masked = true;
    return this;
  }

  /** A reference to the part of this JSON_OBJ / JSON_ARR variable at `path` (e.g. "$.customer.name"). */
  jsonPath(path: string): WfRunVariable {
    const site = callSite();
    if (this.path !== undefined) throw this.fail(`jsonPath() was already applied ('${this.path}')`, site);
    if (!JSON_TYPES.has(this.decl.type)) {
      throw this.fail(
        `jsonPath() needs a JSON_OBJ or JSON_ARR variable, not ${typeName(this.decl.type)}`,
        site,
      );
    }
    checkJsonPath(path, site, (p, s) => this.fail(p, s));
    return new WfRunVariable(this.decl, path);
  }

  /** Variables are not JSON: use them as arguments, not inside object literals. */
  toJSON(): never {
    throw new ValueProblem(
      `variable '${this.decl.name}' cannot be put inside a JSON literal; pass it as an argument of its own`,
    );
  }
}

/**
 * The output of a node, usable as a value in later nodes of the same thread and as the right-hand side of
 * `mutate()`.
 */
export class NodeOutput {
  /** @internal */
  readonly thread: ThreadBuilder;
  readonly nodeName: string;
  /** The json path of this view (set by `jsonPath()`), if any. */
  readonly path: string | undefined;

  /** @internal */
  constructor(thread: ThreadBuilder, nodeName: string, path?: string) {
    this.thread = thread;
    this.nodeName = nodeName;
    this.path = path;
  }

  /** @internal */
  protected fail(problem: string, site: CallSite | undefined): Error {
    return this.thread.error(`node '${this.nodeName}': ${problem}`, site);
  }

  /** The part of this node's (JSON) output at `path`, e.g. "$.id". */
  jsonPath(path: string): NodeOutput {
    const site = callSite();
    if (this.path !== undefined) throw this.fail(`jsonPath() was already applied ('${this.path}')`, site);
    checkJsonPath(path, site, (p, s) => this.fail(p, s));
    return new NodeOutput(this.thread, this.nodeName, path);
  }

  toJSON(): never {
    throw new ValueProblem(
      `the output of node '${this.nodeName}' cannot be put inside a JSON literal; pass it as an argument of its own`,
    );
  }
}

function positiveInt(v: unknown, what: string, allowZero: boolean): string | undefined {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0 || (!allowZero && v === 0)) {
    return `${what} must be a ${allowZero ? "non-negative" : "positive"} integer, got ${String(v)}`;
  }
  return undefined;
}

/** The output of a TASK node, with the task's retry and timeout options. */
export class TaskNodeOutput extends NodeOutput {
  private task() {
    const n = this.thread.node(this.nodeName).node;
    if (n.case !== "task") throw new Error(`internal: ${this.nodeName} is not a TASK node`);
    return n.value;
  }

  /** Retries the task up to `retries` times after a failed attempt. */
  withRetries(retries: number): this {
    const site = callSite();
    const problem = positiveInt(retries, "retries", true);
    if (problem !== undefined) throw this.fail(problem, site);
    this.task().retries = retries;
    return this;
  }

  /** Waits between attempts: baseIntervalMs, then × multiplier each time, at most maxDelayMs. */
  withExponentialBackoff(policy: { baseIntervalMs: number; multiplier: number; maxDelayMs: number }): this {
    const site = callSite();
    const problem =
      positiveInt(policy.baseIntervalMs, "baseIntervalMs", false) ??
      positiveInt(policy.maxDelayMs, "maxDelayMs", false);
    if (problem !== undefined) throw this.fail(problem, site);
    if (typeof policy.multiplier !== "number" || !(policy.multiplier >= 1)) {
      throw this.fail(`multiplier must be a number >= 1, got ${String(policy.multiplier)}`, site);
    }
    if (policy.maxDelayMs < policy.baseIntervalMs) {
      throw this.fail(
        `maxDelayMs (${policy.maxDelayMs}) is less than baseIntervalMs (${policy.baseIntervalMs})`,
        site,
      );
    }
    this.task().exponentialBackoff = {
      $typeName: "littlehorse.ExponentialBackoffRetryPolicy",
      baseIntervalMs: policy.baseIntervalMs,
      multiplier: policy.multiplier,
      maxDelayMs: BigInt(policy.maxDelayMs),
    };
    return this;
  }

  /** Fails an attempt that has not reported after `seconds`. */
  timeout(seconds: number): this {
    const site = callSite();
    const problem = positiveInt(seconds, "the timeout", false);
    if (problem !== undefined) throw this.fail(problem, site);
    this.task().timeoutSeconds = seconds;
    return this;
  }
}

/** The output of an EXTERNAL_EVENT node: the event's content. */
export class ExternalEventNodeOutput extends NodeOutput {
  /** Fails the node with a TIMEOUT error when no event arrived after `seconds` (a number or INT variable). */
  timeout(seconds: number | WfRunVariable): this {
    const site = callSite();
    if (typeof seconds === "number") {
      const problem = positiveInt(seconds, "the timeout", false);
      if (problem !== undefined) throw this.fail(problem, site);
    }
    const assigned = this.thread.assign(seconds, site, "the timeout", { expect: [VariableType.INT] });
    const n = this.thread.node(this.nodeName).node;
    if (n.case === "externalEvent") n.value.timeoutSeconds = assigned.assignment;
    return this;
  }
}

/** The output of a USER_TASK node (a JSON_OBJ with one key per field), with its user-task options. */
export class UserTaskOutput extends NodeOutput {
  /** @internal */
  userTask() {
    const n = this.thread.node(this.nodeName).node;
    if (n.case !== "userTask") throw new Error(`internal: ${this.nodeName} is not a USER_TASK node`);
    return n.value;
  }

  /** Notes shown with the UserTaskRun (a string, variable or format string). */
  withNotes(notes: WfValue): this {
    const site = callSite();
    this.userTask().notes = this.thread.assign(notes, site, "the notes").assignment;
    return this;
  }

  /** When the UserTaskRun is cancelled, the node fails with this exception instead of an error. */
  withOnCancellationException(exceptionName: string | WfRunVariable): this {
    const site = callSite();
    if (exceptionName === "") throw this.fail("the exception name is empty", site);
    this.userTask().onCancellationExceptionName = this.thread.assign(
      exceptionName,
      site,
      "the exception name",
      {
        expect: [VariableType.STR],
      },
    ).assignment;
    return this;
  }
}

/** The output of a WAIT_FOR_THREADS node, with handlers for failures of the awaited threads. */
export class WaitForThreadsNodeOutput extends NodeOutput {
  private addChildHandler(
    site: CallSite | undefined,
    suffix: string,
    failure: FailureHandlerDef["failureToCatch"],
    fn: ThreadFunc,
  ): this {
    const n = this.thread.node(this.nodeName).node;
    if (n.case !== "waitForThreads")
      throw new Error(`internal: ${this.nodeName} is not a WAIT_FOR_THREADS node`);
    const handler = this.thread.registerThread(`exn-handler-${this.nodeName}-${suffix}`, fn, site, "handler");
    n.value.perThreadFailureHandlers.push({
      $typeName: "littlehorse.FailureHandlerDef",
      handlerSpecName: handler,
      failureToCatch: failure,
    });
    return this;
  }

  /** Runs `fn` when an awaited thread fails with `exceptionName` (any exception when omitted). */
  handleExceptionOnChild(exceptionName: string | undefined, fn: ThreadFunc): this {
    const site = callSite();
    return exceptionName === undefined
      ? this.addChildHandler(
          site,
          "FAILURE_TYPE_EXCEPTION",
          { case: "anyFailureOfType", value: FailureHandlerDef_LHFailureType.FAILURE_TYPE_EXCEPTION },
          fn,
        )
      : this.addChildHandler(site, exceptionName, { case: "specificFailure", value: exceptionName }, fn);
  }

  /** Runs `fn` when an awaited thread fails with the error `errorType` (any error when omitted). */
  handleErrorOnChild(errorType: ErrorTypeLike | undefined, fn: ThreadFunc): this {
    const site = callSite();
    if (errorType === undefined) {
      return this.addChildHandler(
        site,
        "FAILURE_TYPE_ERROR",
        { case: "anyFailureOfType", value: FailureHandlerDef_LHFailureType.FAILURE_TYPE_ERROR },
        fn,
      );
    }
    let name: string;
    try {
      name = LHErrorType[toErrorType(errorType)];
    } catch (e) {
      throw this.fail(e instanceof Error ? e.message : String(e), site);
    }
    return this.addChildHandler(site, name, { case: "specificFailure", value: name }, fn);
  }

  /** Runs `fn` when an awaited thread fails in any way. */
  handleAnyFailureOnChild(fn: ThreadFunc): this {
    return this.addChildHandler(callSite(), "any-failure", { case: undefined }, fn);
  }
}

/** A format string: `{0}`, `{1}`, … replaced by the text of each argument when the node runs. */
export class LHFormatString {
  /** @internal */
  readonly thread: ThreadBuilder;
  readonly template: string;
  readonly args: readonly WfValue[];
  /** @internal */
  readonly site: CallSite | undefined;

  /** @internal */
  constructor(thread: ThreadBuilder, template: string, args: readonly WfValue[], site: CallSite | undefined) {
    this.thread = thread;
    this.template = template;
    this.args = args;
    this.site = site;
    const max = maxFormatIndex(template);
    if (max >= args.length) {
      throw thread.error(
        `format string ${JSON.stringify(template)} refers to {${max}} but has only ${args.length} argument${args.length === 1 ? "" : "s"}`,
        site,
      );
    }
  }

  toJSON(): never {
    throw new ValueProblem(
      "a format string cannot be put inside a JSON literal; pass it as an argument of its own",
    );
  }
}

/** `lhs comparator rhs`, for doIf / doElseIf / doWhile. */
export class WorkflowCondition {
  readonly lhs: WfValue;
  readonly rhs: WfValue;
  readonly comparator: ReturnType<typeof toComparator>;
  /** @internal */
  readonly site: CallSite | undefined;

  /** @internal */
  constructor(
    lhs: WfValue,
    comparator: ComparatorLike,
    rhs: WfValue,
    site: CallSite | undefined,
    thread: ThreadBuilder,
  ) {
    this.lhs = lhs;
    this.rhs = rhs;
    this.site = site;
    try {
      this.comparator = toComparator(comparator);
    } catch (e) {
      throw thread.error(e instanceof Error ? e.message : String(e), site);
    }
  }
}

/** A thread started by `spawnThread()`; pass it to `waitForThreads()`. */
export class SpawnedThread {
  readonly threadName: string;
  /** The INT variable (named after the START_THREAD node) that holds the child's thread run number. */
  readonly threadNumberVariable: WfRunVariable;

  /** @internal */
  constructor(threadName: string, threadNumberVariable: WfRunVariable) {
    this.threadName = threadName;
    this.threadNumberVariable = threadNumberVariable;
  }
}

/**
 * Several spawned threads to wait for together: `SpawnedThreads.of(a, b)`, or all the threads started by one
 * `spawnThreadForEach()` (their numbers are kept in a JSON_ARR variable).
 */
export class SpawnedThreads {
  readonly threads: readonly SpawnedThread[];
  /** For spawnThreadForEach: the JSON_ARR variable holding the started thread numbers. */
  readonly threadListVariable: WfRunVariable | undefined;

  private constructor(threads: readonly SpawnedThread[], list: WfRunVariable | undefined) {
    this.threads = threads;
    this.threadListVariable = list;
  }

  static of(...threads: SpawnedThread[]): SpawnedThreads {
    return new SpawnedThreads(threads, undefined);
  }

  /** @internal */
  static forEach(list: WfRunVariable): SpawnedThreads {
    return new SpawnedThreads([], list);
  }
}
