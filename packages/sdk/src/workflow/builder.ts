/**
 * The machinery behind WorkflowThread: one ThreadBuilder per ThreadSpec, and the CompileContext of one
 * `Workflow.compile()` that runs the thread functions (entrypoint first, then each spawned or handler thread in
 * the order it was registered) and assembles the PutWfSpecRequest.
 *
 * Graph construction follows LittleHorse's SDKs: every node gets an edge from the node before it; a pending
 * condition (the first node of a doIf / doWhile body) and pending mutations (`mutate()` calls since the last
 * node) go on that edge. Node names are `<index>-<name>-<NODE_TYPE>`, index = nodes in the thread so far.
 */
import { clone, create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  EdgeConditionSchema,
  EdgeSchema,
  ExponentialBackoffRetryPolicySchema,
  FailureHandlerDef_LHFailureType,
  InterruptDefSchema,
  LHErrorType,
  NodeSchema,
  PutWfSpecRequestSchema,
  ThreadSpecSchema,
  ThreadVarDefSchema,
  type UTActionTrigger_UTHook,
  UTActionTriggerSchema,
  VariableAssignmentSchema,
  VariableMutationSchema,
  VariableMutationType,
  VariableType,
  WfRunVariableAccessLevel,
  type AllowedUpdateType,
  type EdgeCondition,
  type ExponentialBackoffRetryPolicy,
  type FailureHandlerDef,
  type InterruptDef,
  type Node,
  type PutWfSpecRequest,
  type ThreadRetentionPolicy,
  type VariableAssignment,
  type VariableMutation,
  type VariableValue,
  type WfSpec_ParentWfSpecReference,
  type WorkflowRetentionPolicy,
} from "@pony/proto";
import { LHWorkflowError, callSite as callSiteOf, type CallSite } from "./errors";
import {
  ExternalEventNodeOutput,
  LHFormatString,
  NodeOutput,
  SpawnedThread,
  SpawnedThreads,
  TaskNodeOutput,
  UserTaskOutput,
  WaitForThreadsNodeOutput,
  WfRunVariable,
  WorkflowCondition,
  type VariableDecl,
  type WfValue,
} from "./outputs";
import { WorkflowThread, type ThreadFunc } from "./thread";
import {
  ValueProblem,
  canFeed,
  defaultValueFor,
  mutationProblem,
  reverseComparator,
  toErrorType,
  toMutationType,
  toVariableValue,
  aType,
  typeName,
  valueType,
  type ComparatorLike,
  type ErrorTypeLike,
  type LiteralValue,
  type MutationTypeLike,
} from "./values";

/** The name of the entrypoint ThreadSpec. */
export const ENTRYPOINT_THREAD = "entrypoint";

/** The variable the server gives failure/interrupt handlers and spawnThreadForEach children. */
export const HANDLER_INPUT_VAR = "INPUT";

/** One input of a TaskDef, as far as the builder knows it (see Workflow.withTaskDefs). */
export interface TaskInput {
  readonly name: string | undefined;
  readonly type: VariableType;
}

/** Workflow-level settings the threads need while they are built. */
export interface CompileOptions {
  readonly name: string;
  readonly taskDefs: ReadonlyMap<string, readonly TaskInput[]>;
  readonly defaultRetries: number | undefined;
  readonly defaultTimeoutSeconds: number | undefined;
  readonly defaultBackoff: ExponentialBackoffRetryPolicy | undefined;
  readonly defaultThreadRetention: ThreadRetentionPolicy | undefined;
  readonly retention: WorkflowRetentionPolicy | undefined;
  readonly parent: WfSpec_ParentWfSpecReference | undefined;
  readonly allowedUpdates: AllowedUpdateType | undefined;
}

type NodeInit = Exclude<NonNullable<MessageInitShape<typeof NodeSchema>["node"]>, { case: undefined }>;

const NODE_TYPE: Record<NonNullable<Node["node"]["case"]>, string> = {
  entrypoint: "ENTRYPOINT",
  exit: "EXIT",
  task: "TASK",
  externalEvent: "EXTERNAL_EVENT",
  startThread: "START_THREAD",
  waitForThreads: "WAIT_FOR_THREADS",
  nop: "NOP",
  sleep: "SLEEP",
  userTask: "USER_TASK",
  startMultipleThreads: "START_MULTIPLE_THREADS",
  throwEvent: "THROW_EVENT",
};

/** A value turned into a VariableAssignment, with its statically known type. */
export interface Assigned {
  readonly assignment: VariableAssignment;
  readonly type: VariableType | undefined;
  /** set when the value is a literal */
  readonly literal: VariableValue | undefined;
}

type ThreadKind = "entrypoint" | "thread" | "handler";

/** State of one `Workflow.compile()`. */
export class CompileContext {
  readonly threads = new Map<string, ThreadBuilder>();
  private readonly queue: ThreadBuilder[] = [];
  active: ThreadBuilder | undefined;

  constructor(readonly options: CompileOptions) {}

  get wfName(): string {
    return this.options.name;
  }

  /** Registers a thread to build after the current ones; returns its builder. */
  addThread(
    name: string,
    fn: ThreadFunc,
    parent: ThreadBuilder | undefined,
    site: CallSite | undefined,
    kind: ThreadKind,
  ): ThreadBuilder {
    const thread = new ThreadBuilder(this, name, parent, fn, site, kind);
    this.threads.set(name, thread);
    this.queue.push(thread);
    return thread;
  }

  compile(entrypoint: ThreadFunc, site: CallSite | undefined): PutWfSpecRequest {
    this.addThread(ENTRYPOINT_THREAD, entrypoint, undefined, site, "entrypoint");
    for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) next.build();
    for (const thread of this.threads.values()) thread.checkAfterBuild();
    const o = this.options;
    const threadSpecs = Object.fromEntries([...this.threads].map(([name, t]) => [name, t.threadSpec()]));
    return create(PutWfSpecRequestSchema, {
      name: o.name,
      entrypointThreadName: ENTRYPOINT_THREAD,
      threadSpecs,
      retentionPolicy: o.retention,
      parentWfSpec: o.parent,
      allowedUpdates: o.allowedUpdates,
    });
  }
}

function problemOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Builds one ThreadSpec. All public-facing methods take the CallSite of the user's call first. */
export class ThreadBuilder {
  readonly nodes = new Map<string, Node>();
  readonly variables: VariableDecl[] = [];
  readonly interruptDefs: InterruptDef[] = [];
  retention: ThreadRetentionPolicy | undefined;
  lastNode = "";
  pendingCondition: EdgeCondition | undefined;
  pendingMutations: VariableMutation[] = [];
  /** counts node additions and mutations, so an if statement knows whether it is still "open" */
  opCount = 0;
  private state: "queued" | "building" | "built" = "queued";
  private facade: WorkflowThread | undefined;
  private readonly startedInputs: { child: string; names: string[]; site: CallSite | undefined }[] = [];

  constructor(
    readonly ctx: CompileContext,
    readonly name: string,
    readonly parent: ThreadBuilder | undefined,
    private readonly fn: ThreadFunc,
    readonly site: CallSite | undefined,
    readonly kind: ThreadKind,
  ) {}

  // ---- errors, activity, visibility -------------------------------------------------------------------

  error(problem: string, site: CallSite | undefined): LHWorkflowError {
    return new LHWorkflowError(problem, site, `WfSpec '${this.ctx.wfName}', thread '${this.name}'`);
  }

  /** Only the thread whose function is running may be changed. */
  ensureActive(site: CallSite | undefined): void {
    if (this.ctx.active === this) return;
    if (this.state === "built") {
      throw this.error(
        "this WorkflowThread is already built; inside a spawned or handler thread's function use the " +
          "WorkflowThread that function receives",
        site,
      );
    }
    const active = this.ctx.active;
    throw this.error(
      active === undefined
        ? "this WorkflowThread is used outside of Workflow.compile()"
        : `thread '${active.name}' is being built here; use the WorkflowThread its function receives, not the one of thread '${this.name}'`,
      site,
    );
  }

  private ensureReachable(site: CallSite | undefined): void {
    if (this.nodes.get(this.lastNode)?.node.case === "exit") {
      throw this.error(
        `unreachable: the thread already ends at '${this.lastNode}' (fail() or complete()) before this call`,
        site,
      );
    }
  }

  /** Starts a builder call that adds to the thread. */
  private begin(site: CallSite | undefined): void {
    this.ensureActive(site);
    this.ensureReachable(site);
  }

  /** Whether `other` is this thread or one that (transitively) started it. */
  private seesThread(other: ThreadBuilder): boolean {
    return other === this || (this.parent !== undefined && this.parent.seesThread(other));
  }

  checkVisible(decl: VariableDecl, site: CallSite | undefined): void {
    if (decl.thread.ctx !== this.ctx) {
      throw this.error(
        `variable '${decl.name}' belongs to another workflow (WfSpec '${decl.thread.ctx.wfName}', or another ` +
          "compile() of this one); declare it in this workflow",
        site,
      );
    }
    if (this.seesThread(decl.thread)) return;
    throw this.error(
      `variable '${decl.name}' is declared in thread '${decl.thread.name}', which is not visible here: a thread ` +
        "sees only its own variables and those of the threads that started it",
      site,
    );
  }

  // ---- values ------------------------------------------------------------------------------------------

  /** `value` as a VariableAssignment used by this thread; `expect` lists acceptable static types. */
  assign(
    value: WfValue,
    site: CallSite | undefined,
    what: string,
    opts: { expect?: readonly VariableType[] } = {},
  ): Assigned {
    const out = this.toAssignment(value, site, what);
    const expect = opts.expect;
    if (expect !== undefined && out.type !== undefined && !expect.some((t) => canFeed(out.type!, t))) {
      throw this.error(
        `${what} must be ${expect.map(typeName).join(" or ")}, not ${typeName(out.type)}`,
        site,
      );
    }
    return out;
  }

  private toAssignment(value: WfValue, site: CallSite | undefined, what: string): Assigned {
    if (value instanceof WfRunVariable) {
      this.checkVisible(value.decl, site);
      return {
        assignment: create(VariableAssignmentSchema, {
          source: { case: "variableName", value: value.name },
          jsonPath: value.path,
        }),
        type: value.path === undefined ? value.type : undefined,
        literal: undefined,
      };
    }
    if (value instanceof NodeOutput) {
      this.checkNodeOutput(value, site, what);
      return {
        assignment: create(VariableAssignmentSchema, {
          source: { case: "nodeOutput", value: { nodeName: value.nodeName } },
          jsonPath: value.path,
        }),
        type: undefined,
        literal: undefined,
      };
    }
    if (value instanceof LHFormatString) {
      const args = value.args.map((arg, i) =>
        this.assign(arg, value.site ?? site, `argument ${i} of the format string`),
      );
      return {
        assignment: create(VariableAssignmentSchema, {
          source: {
            case: "formatString",
            value: {
              format: {
                source: { case: "literalValue", value: { value: { case: "str", value: value.template } } },
              },
              args: args.map((a) => a.assignment),
            },
          },
        }),
        type: VariableType.STR,
        literal: undefined,
      };
    }
    const notAValue = this.notAValue(value);
    if (notAValue !== undefined) throw this.error(`${what}: ${notAValue} is not a value`, site);
    let literal: VariableValue;
    try {
      literal = toVariableValue(value);
    } catch (e) {
      throw this.error(`${what}: ${problemOf(e)}`, site);
    }
    return {
      assignment: create(VariableAssignmentSchema, { source: { case: "literalValue", value: literal } }),
      type: valueType(literal),
      literal,
    };
  }

  private notAValue(value: unknown): string | undefined {
    if (value instanceof WorkflowCondition) return "a condition (wf.condition(…))";
    if (value instanceof SpawnedThread || value instanceof SpawnedThreads) return "a spawned thread";
    if (value instanceof WorkflowThread) return "a WorkflowThread";
    if (typeof value === "function") return "a function";
    return undefined;
  }

  private checkNodeOutput(output: NodeOutput, site: CallSite | undefined, what: string): void {
    if (output.thread.ctx !== this.ctx) {
      throw this.error(`${what}: the output of node '${output.nodeName}' belongs to another workflow`, site);
    }
    if (output.thread !== this) {
      throw this.error(
        `${what}: the output of node '${output.nodeName}' of thread '${output.thread.name}' cannot be used in ` +
          `thread '${this.name}'; assign it to a variable with mutate() first`,
        site,
      );
    }
  }

  private delaySeconds(
    delay: number | WfRunVariable,
    site: CallSite | undefined,
    what: string,
  ): VariableAssignment {
    if (typeof delay === "number" && (!Number.isSafeInteger(delay) || delay < 0)) {
      throw this.error(`${what} must be a non-negative integer number of seconds, got ${delay}`, site);
    }
    return this.assign(delay, site, what, { expect: [VariableType.INT] }).assignment;
  }

  // ---- graph -------------------------------------------------------------------------------------------

  node(nodeName: string): Node {
    const node = this.nodes.get(nodeName);
    if (node === undefined) throw new Error(`internal: no node '${nodeName}' in thread '${this.name}'`);
    return node;
  }

  /** Adds an edge from the last node to `sink`, carrying the pending condition and mutations. */
  private connectTo(sink: string): void {
    const feeder = this.node(this.lastNode);
    if (feeder.node.case !== "exit") {
      feeder.outgoingEdges.push(
        create(EdgeSchema, {
          sinkNodeName: sink,
          condition: this.pendingCondition,
          variableMutations: this.pendingMutations,
        }),
      );
    }
    this.pendingCondition = undefined;
    this.pendingMutations = [];
  }

  private addNode(label: string, init: NodeInit): string {
    const name = `${this.nodes.size}-${label}-${NODE_TYPE[init.case]}`;
    const node = create(NodeSchema, { node: init });
    if (this.nodes.size > 0) this.connectTo(name);
    this.nodes.set(name, node);
    this.lastNode = name;
    this.opCount++;
    return name;
  }

  private declareInternal(name: string, type: VariableType): VariableDecl {
    const decl: VariableDecl = {
      name,
      type,
      thread: this,
      site: undefined,
      defaultValue: undefined,
      required: false,
      searchable: false,
      masked: false,
      jsonIndexes: [],
      accessLevel: WfRunVariableAccessLevel.PUBLIC_VAR,
      accessLevelSite: undefined,
      internal: true,
    };
    this.variables.push(decl);
    return decl;
  }

  /** Registers a child thread (spawned or handler) to build later; returns its name. */
  registerThread(name: string, fn: ThreadFunc, site: CallSite | undefined, kind: ThreadKind): string {
    this.ensureActive(site);
    if (typeof name !== "string" || name === "")
      throw this.error("a thread name must be a non-empty string", site);
    if (typeof fn !== "function")
      throw this.error(`thread '${name}': expected a function building the thread`, site);
    const existing = this.ctx.threads.get(name);
    if (existing !== undefined) {
      const at = existing.site?.location;
      throw this.error(
        `there is already a thread named '${name}'${at === undefined ? "" : ` (made at ${at})`}`,
        site,
      );
    }
    this.ctx.addThread(name, fn, this, site, kind);
    return name;
  }

  private runBody(fn: ThreadFunc, site: CallSite | undefined, what: string): void {
    if (typeof fn !== "function") throw this.error(`${what} needs a function as its body`, site);
    const result: unknown = fn(this.facade!);
    if (result instanceof Promise) {
      throw this.error(`${what}: the body must be a synchronous function (it returned a Promise)`, site);
    }
  }

  build(): void {
    this.state = "building";
    this.facade = new WorkflowThread(this);
    this.addNode("entrypoint", { case: "entrypoint", value: {} });
    const previous = this.ctx.active;
    this.ctx.active = this;
    try {
      const result: unknown = this.fn(this.facade);
      if (result instanceof Promise) {
        result.catch(() => undefined);
        throw this.error("a thread function must be synchronous (it returned a Promise)", this.site);
      }
      if (this.node(this.lastNode).node.case !== "exit") this.addNode("exit", { case: "exit", value: {} });
    } finally {
      this.ctx.active = previous;
      this.state = "built";
    }
  }

  /** Checks that need every thread built: inputs of started threads, INHERITED_VAR. */
  checkAfterBuild(): void {
    for (const { child, names, site } of this.startedInputs) {
      const spec = this.ctx.threads.get(child);
      for (const name of names) {
        if (spec !== undefined && !spec.variables.some((v) => v.name === name)) {
          throw this.error(
            `thread '${child}' is given variable '${name}', which it does not declare (declare it in the thread's function)`,
            site,
          );
        }
      }
    }
    for (const v of this.variables) {
      if (v.accessLevel !== WfRunVariableAccessLevel.INHERITED_VAR) continue;
      if (this.kind !== "entrypoint") {
        throw this.error(
          `variable '${v.name}' is INHERITED_VAR, which only the entrypoint thread may declare`,
          v.accessLevelSite,
        );
      }
      if (this.ctx.options.parent === undefined) {
        throw this.error(
          `variable '${v.name}' is INHERITED_VAR but the workflow has no parent (use Workflow.withParent())`,
          v.accessLevelSite,
        );
      }
    }
  }

  threadSpec() {
    return create(ThreadSpecSchema, {
      nodes: Object.fromEntries(this.nodes),
      variableDefs: this.variables.map((v) =>
        create(ThreadVarDefSchema, {
          varDef: {
            name: v.name,
            type: v.type,
            defaultValue: v.defaultValue,
            typeDef: v.masked
              ? { definedType: { case: "primitiveType", value: v.type }, masked: true }
              : undefined,
          },
          required: v.required,
          searchable: v.searchable,
          jsonIndexes: v.jsonIndexes,
          accessLevel: v.accessLevel,
        }),
      ),
      interruptDefs: this.interruptDefs,
      retentionPolicy: this.retention ?? this.ctx.options.defaultThreadRetention,
    });
  }

  // ---- variables ---------------------------------------------------------------------------------------

  declare(
    site: CallSite | undefined,
    name: string,
    type: VariableType,
    defaultValue: LiteralValue | undefined,
  ): WfRunVariable {
    this.ensureActive(site);
    if (typeof name !== "string" || name === "")
      throw this.error("a variable name must be a non-empty string", site);
    const existing = this.variables.find((v) => v.name === name);
    if (existing !== undefined) {
      const at = existing.site?.location;
      throw this.error(
        `variable '${name}' is already declared in this thread${at === undefined ? "" : ` (at ${at})`}`,
        site,
      );
    }
    let value: VariableValue | undefined;
    if (defaultValue !== undefined) {
      try {
        value = defaultValueFor(type, toVariableValue(defaultValue));
      } catch (e) {
        throw this.error(`variable '${name}': ${e instanceof ValueProblem ? e.message : problemOf(e)}`, site);
      }
    }
    const decl: VariableDecl = {
      name,
      type,
      thread: this,
      site,
      defaultValue: value,
      required: false,
      searchable: false,
      masked: false,
      jsonIndexes: [],
      accessLevel: WfRunVariableAccessLevel.PUBLIC_VAR,
      accessLevelSite: undefined,
      internal: false,
    };
    this.variables.push(decl);
    return new WfRunVariable(decl);
  }

  withRetentionPolicy(site: CallSite | undefined, seconds: number | bigint): void {
    this.ensureActive(site);
    if ((typeof seconds !== "number" && typeof seconds !== "bigint") || seconds < 0) {
      throw this.error(
        `secondsAfterThreadTermination must be a non-negative number, got ${String(seconds)}`,
        site,
      );
    }
    this.retention = {
      $typeName: "littlehorse.ThreadRetentionPolicy",
      threadGcPolicy: { case: "secondsAfterThreadTermination", value: BigInt(seconds) },
    };
  }

  // ---- tasks -------------------------------------------------------------------------------------------

  private taskNode(
    site: CallSite | undefined,
    task: string | WfRunVariable | LHFormatString,
    args: readonly WfValue[],
  ): { init: Extract<NodeInit, { case: "task" }>; label: string } {
    let target:
      { case: "taskDefId"; value: { name: string } } | { case: "dynamicTask"; value: VariableAssignment };
    let label: string;
    if (typeof task === "string") {
      if (task === "") throw this.error("execute() needs a TaskDef name, got an empty string", site);
      target = { case: "taskDefId", value: { name: task } };
      label = task;
    } else if (task instanceof WfRunVariable) {
      target = {
        case: "dynamicTask",
        value: this.assign(task, site, "the task name", { expect: [VariableType.STR] }).assignment,
      };
      label = task.name;
    } else if (task instanceof LHFormatString) {
      target = { case: "dynamicTask", value: this.assign(task, site, "the task name").assignment };
      label = "dynamic";
    } else {
      throw this.error("execute() needs a TaskDef name, a STR variable or a format string as the task", site);
    }
    const inputs = args.map((arg, i) => this.assign(arg, site, `input ${i} of task '${label}'`));
    const expected = typeof task === "string" ? this.ctx.options.taskDefs.get(task) : undefined;
    if (expected !== undefined) {
      if (expected.length !== inputs.length) {
        throw this.error(
          `TaskDef '${label}' takes ${expected.length} input${expected.length === 1 ? "" : "s"} ` +
            `(${expected.map((e) => `${e.name ?? "?"}: ${typeName(e.type)}`).join(", ")}) but is given ${inputs.length}`,
          site,
        );
      }
      expected.forEach((input, i) => {
        const actual = inputs[i]?.type;
        if (actual !== undefined && !canFeed(actual, input.type)) {
          const named = input.name === undefined ? "" : ` ('${input.name}')`;
          throw this.error(
            `TaskDef '${label}' input ${i}${named} is ${typeName(input.type)} but is given ${aType(actual)} value`,
            site,
          );
        }
      });
    }
    const o = this.ctx.options;
    return {
      label,
      init: {
        case: "task",
        value: {
          taskToExecute: target,
          variables: inputs.map((a) => a.assignment),
          retries: o.defaultRetries ?? 0,
          timeoutSeconds: o.defaultTimeoutSeconds ?? 0,
          exponentialBackoff:
            o.defaultBackoff === undefined
              ? undefined
              : clone(ExponentialBackoffRetryPolicySchema, o.defaultBackoff),
        },
      },
    };
  }

  execute(
    site: CallSite | undefined,
    task: string | WfRunVariable | LHFormatString,
    args: readonly WfValue[],
  ): TaskNodeOutput {
    this.begin(site);
    const { init, label } = this.taskNode(site, task, args);
    return new TaskNodeOutput(this, this.addNode(label, init));
  }

  format(site: CallSite | undefined, template: string, args: readonly WfValue[]): LHFormatString {
    this.ensureActive(site);
    if (typeof template !== "string") throw this.error("format() needs a template string", site);
    return new LHFormatString(this, template, args, site);
  }

  // ---- mutations ---------------------------------------------------------------------------------------

  mutate(site: CallSite | undefined, lhs: WfRunVariable, op: MutationTypeLike, rhs: WfValue): void {
    this.begin(site);
    if (!(lhs instanceof WfRunVariable)) throw this.error("mutate() needs a WfRunVariable to mutate", site);
    this.checkVisible(lhs.decl, site);
    let operation: VariableMutationType;
    try {
      operation = toMutationType(op);
    } catch (e) {
      throw this.error(problemOf(e), site);
    }
    let rhsValue: MessageInitShape<typeof VariableMutationSchema>["rhsValue"];
    let rhsType: VariableType | undefined;
    let literal: VariableValue | undefined;
    const what = `the value for variable '${lhs.name}'`;
    if (rhs instanceof NodeOutput && rhs.thread === this && rhs.nodeName === this.lastNode) {
      rhsValue = { case: "nodeOutput", value: { jsonpath: rhs.path } };
    } else {
      const assigned = this.assign(rhs, site, what);
      rhsType = assigned.type;
      literal = assigned.literal;
      rhsValue =
        literal !== undefined
          ? { case: "literalValue", value: literal }
          : { case: "sourceVariable", value: assigned.assignment };
    }
    const problem = mutationProblem(
      lhs.path === undefined ? lhs.type : undefined,
      operation,
      rhsType,
      literal,
    );
    if (problem !== undefined) throw this.error(`mutating variable '${lhs.name}': ${problem}`, site);
    this.pendingMutations.push(
      create(VariableMutationSchema, { lhsName: lhs.name, lhsJsonPath: lhs.path, operation, rhsValue }),
    );
    this.opCount++;
  }

  // ---- conditions --------------------------------------------------------------------------------------

  condition(
    site: CallSite | undefined,
    lhs: WfValue,
    comparator: ComparatorLike,
    rhs: WfValue,
  ): WorkflowCondition {
    this.ensureActive(site);
    return new WorkflowCondition(lhs, comparator, rhs, site, this);
  }

  private conditionSpec(cond: WorkflowCondition, site: CallSite | undefined, what: string): EdgeCondition {
    if (!(cond instanceof WorkflowCondition)) {
      throw this.error(`${what} needs a condition made with wf.condition(lhs, comparator, rhs)`, site);
    }
    const at = cond.site ?? site;
    return create(EdgeConditionSchema, {
      comparator: cond.comparator,
      left: this.assign(cond.lhs, at, "the left side of the condition").assignment,
      right: this.assign(cond.rhs, at, "the right side of the condition").assignment,
    });
  }

  doIf(site: CallSite | undefined, cond: WorkflowCondition, body: ThreadFunc): WorkflowIfStatement {
    this.begin(site);
    const spec = this.conditionSpec(cond, site, "doIf()");
    const root = this.addNode("nop", { case: "nop", value: {} });
    this.pendingCondition = spec;
    this.runBody(body, site, "doIf()");
    const join = this.addNode("nop", { case: "nop", value: {} });
    // the fall-through (no branch taken) edge: always last, replaced by doElse()
    this.node(root).outgoingEdges.push(create(EdgeSchema, { sinkNodeName: join }));
    return new WorkflowIfStatement(this, root, join, site);
  }

  /** A doElseIf / doElse branch of an open if statement. */
  addBranch(
    site: CallSite | undefined,
    ifs: WorkflowIfStatement,
    cond: WorkflowCondition | undefined,
    body: ThreadFunc,
  ): void {
    const what = cond === undefined ? "doElse()" : "doElseIf()";
    this.ensureActive(site);
    const spec = cond === undefined ? undefined : this.conditionSpec(cond, site, what);
    const root = this.node(ifs.root);
    const fallThrough = root.outgoingEdges.pop();
    this.lastNode = ifs.root;
    this.pendingCondition = spec;
    this.runBody(body, site, what);
    this.connectTo(ifs.join);
    if (cond !== undefined && fallThrough !== undefined) root.outgoingEdges.push(fallThrough);
    this.lastNode = ifs.join;
  }

  doWhile(site: CallSite | undefined, cond: WorkflowCondition, body: ThreadFunc): void {
    this.begin(site);
    const spec = this.conditionSpec(cond, site, "doWhile()");
    const root = this.addNode("nop", { case: "nop", value: {} });
    this.pendingCondition = spec;
    this.runBody(body, site, "doWhile()");
    const end = this.addNode("nop", { case: "nop", value: {} });
    const reversed = clone(EdgeConditionSchema, spec);
    reversed.comparator = reverseComparator(spec.comparator);
    this.node(root).outgoingEdges.push(create(EdgeSchema, { sinkNodeName: end, condition: reversed }));
    this.node(end).outgoingEdges.push(
      create(EdgeSchema, { sinkNodeName: root, condition: clone(EdgeConditionSchema, spec) }),
    );
  }

  // ---- threads -----------------------------------------------------------------------------------------

  private threadInputs(
    site: CallSite | undefined,
    inputVars: Readonly<Record<string, WfValue>> | undefined,
  ): Record<string, VariableAssignment> {
    const out: Record<string, VariableAssignment> = {};
    for (const [name, value] of Object.entries(inputVars ?? {})) {
      out[name] = this.assign(value, site, `input variable '${name}'`).assignment;
    }
    return out;
  }

  spawnThread(
    site: CallSite | undefined,
    fn: ThreadFunc,
    threadName: string,
    inputVars: Readonly<Record<string, WfValue>> | undefined,
  ): SpawnedThread {
    this.begin(site);
    const child = this.registerThread(threadName, fn, site, "thread");
    const variables = this.threadInputs(site, inputVars);
    this.startedInputs.push({ child, names: Object.keys(variables), site });
    const nodeName = this.addNode(child, {
      case: "startThread",
      value: { threadSpecName: child, variables },
    });
    return new SpawnedThread(child, this.outputToInternalVariable(nodeName, VariableType.INT));
  }

  /** Like LittleHorse's SDKs: a variable named after the node receives its output (thread number(s)). */
  private outputToInternalVariable(nodeName: string, type: VariableType): WfRunVariable {
    const decl = this.declareInternal(nodeName, type);
    this.pendingMutations.push(
      create(VariableMutationSchema, {
        lhsName: decl.name,
        operation: VariableMutationType.ASSIGN,
        rhsValue: { case: "nodeOutput", value: {} },
      }),
    );
    return new WfRunVariable(decl);
  }

  spawnThreadForEach(
    site: CallSite | undefined,
    array: WfValue,
    threadName: string,
    fn: ThreadFunc,
    inputVars: Readonly<Record<string, WfValue>> | undefined,
  ): SpawnedThreads {
    this.begin(site);
    const iterable = this.assign(array, site, "the array to iterate", { expect: [VariableType.JSON_ARR] });
    const child = this.registerThread(threadName, fn, site, "thread");
    const variables = this.threadInputs(site, inputVars);
    this.startedInputs.push({ child, names: Object.keys(variables), site });
    const nodeName = this.addNode(child, {
      case: "startMultipleThreads",
      value: { threadSpecName: child, variables, iterable: iterable.assignment },
    });
    return SpawnedThreads.forEach(this.outputToInternalVariable(nodeName, VariableType.JSON_ARR));
  }

  waitForThreads(
    site: CallSite | undefined,
    items: readonly (SpawnedThread | SpawnedThreads)[],
  ): WaitForThreadsNodeOutput {
    this.begin(site);
    const singles: SpawnedThread[] = [];
    let list: WfRunVariable | undefined;
    for (const item of items) {
      if (item instanceof SpawnedThread) singles.push(item);
      else if (item instanceof SpawnedThreads && item.threadListVariable === undefined)
        singles.push(...item.threads);
      else if (item instanceof SpawnedThreads && item.threadListVariable !== undefined) {
        if (list !== undefined || items.length !== 1) {
          throw this.error(
            "the threads of a spawnThreadForEach() must be waited for on their own: waitForThreads(spawned)",
            site,
          );
        }
        list = item.threadListVariable;
      } else {
        throw this.error("waitForThreads() takes the results of spawnThread() / spawnThreadForEach()", site);
      }
    }
    let init: NodeInit;
    if (list !== undefined) {
      init = {
        case: "waitForThreads",
        value: {
          threadsToWaitFor: {
            case: "threadList",
            value: this.assign(list, site, "the thread list").assignment,
          },
        },
      };
    } else {
      if (singles.length === 0) throw this.error("waitForThreads() needs at least one spawned thread", site);
      init = {
        case: "waitForThreads",
        value: {
          threadsToWaitFor: {
            case: "threads",
            value: {
              threads: singles.map((t) => ({
                threadRunNumber: this.assign(
                  t.threadNumberVariable,
                  site,
                  `the number of thread '${t.threadName}'`,
                ).assignment,
              })),
            },
          },
        },
      };
    }
    return new WaitForThreadsNodeOutput(this, this.addNode("threads", init));
  }

  // ---- events, failures, sleep -------------------------------------------------------------------------

  waitForEvent(site: CallSite | undefined, eventDefName: string): ExternalEventNodeOutput {
    this.begin(site);
    if (typeof eventDefName !== "string" || eventDefName === "") {
      throw this.error("waitForEvent() needs an ExternalEventDef name", site);
    }
    const name = this.addNode(eventDefName, {
      case: "externalEvent",
      value: { externalEventDefId: { name: eventDefName } },
    });
    return new ExternalEventNodeOutput(this, name);
  }

  registerInterruptHandler(site: CallSite | undefined, eventDefName: string, fn: ThreadFunc): void {
    this.ensureActive(site);
    if (typeof eventDefName !== "string" || eventDefName === "") {
      throw this.error("registerInterruptHandler() needs an ExternalEventDef name", site);
    }
    const handler = this.registerThread(`interrupt-${eventDefName}`, fn, site, "handler");
    this.interruptDefs.push(
      create(InterruptDefSchema, { externalEventDefId: { name: eventDefName }, handlerSpecName: handler }),
    );
  }

  private addFailureHandler(
    site: CallSite | undefined,
    output: NodeOutput,
    suffix: string,
    failure: FailureHandlerDef["failureToCatch"],
    fn: ThreadFunc,
  ): void {
    this.ensureActive(site);
    if (!(output instanceof NodeOutput))
      throw this.error("a failure handler needs the NodeOutput of a node", site);
    if (output.thread !== this) {
      throw this.error(
        `node '${output.nodeName}' belongs to thread '${output.thread.name}'; add its handlers in that thread`,
        site,
      );
    }
    const handler = this.registerThread(`exn-handler-${output.nodeName}-${suffix}`, fn, site, "handler");
    this.node(output.nodeName).failureHandlers.push({
      $typeName: "littlehorse.FailureHandlerDef",
      handlerSpecName: handler,
      failureToCatch: failure,
    });
  }

  handleException(
    site: CallSite | undefined,
    output: NodeOutput,
    exceptionName: string | undefined,
    fn: ThreadFunc,
  ): void {
    if (exceptionName === undefined) {
      const any = FailureHandlerDef_LHFailureType.FAILURE_TYPE_EXCEPTION;
      this.addFailureHandler(
        site,
        output,
        "FAILURE_TYPE_EXCEPTION",
        { case: "anyFailureOfType", value: any },
        fn,
      );
    } else {
      if (exceptionName === "") throw this.error("the exception name is empty", site);
      this.addFailureHandler(
        site,
        output,
        exceptionName,
        { case: "specificFailure", value: exceptionName },
        fn,
      );
    }
  }

  handleError(
    site: CallSite | undefined,
    output: NodeOutput,
    errorType: ErrorTypeLike | undefined,
    fn: ThreadFunc,
  ): void {
    if (errorType === undefined) {
      const any = FailureHandlerDef_LHFailureType.FAILURE_TYPE_ERROR;
      this.addFailureHandler(
        site,
        output,
        "FAILURE_TYPE_ERROR",
        { case: "anyFailureOfType", value: any },
        fn,
      );
      return;
    }
    let name: string;
    try {
      name = LHErrorType[toErrorType(errorType)];
    } catch (e) {
      throw this.error(problemOf(e), site);
    }
    this.addFailureHandler(site, output, name, { case: "specificFailure", value: name }, fn);
  }

  handleAnyFailure(site: CallSite | undefined, output: NodeOutput, fn: ThreadFunc): void {
    this.addFailureHandler(site, output, "any-failure", { case: undefined }, fn);
  }

  fail(site: CallSite | undefined, failureName: string, message: string, content: WfValue | undefined): void {
    this.begin(site);
    if (typeof failureName !== "string" || failureName === "")
      throw this.error("fail() needs a failure name", site);
    const failureDef = {
      failureName,
      message: message ?? "",
      content:
        content === undefined ? undefined : this.assign(content, site, "the failure content").assignment,
    };
    this.addNode(failureName, { case: "exit", value: { failureDef } });
  }

  complete(site: CallSite | undefined): void {
    this.begin(site);
    this.addNode("complete", { case: "exit", value: {} });
  }

  sleepSeconds(site: CallSite | undefined, seconds: number | WfRunVariable): void {
    this.begin(site);
    const value = this.delaySeconds(seconds, site, "the sleep time");
    this.addNode("sleep", { case: "sleep", value: { sleepLength: { case: "rawSeconds", value } } });
  }

  sleepUntil(site: CallSite | undefined, timestamp: WfRunVariable | number | bigint): void {
    this.begin(site);
    const value = this.assign(timestamp, site, "the wake-up time (epoch milliseconds)", {
      expect: [VariableType.INT],
    });
    this.addNode("sleep", {
      case: "sleep",
      value: { sleepLength: { case: "timestamp", value: value.assignment } },
    });
  }

  throwEvent(site: CallSite | undefined, eventDefName: string, content: WfValue): void {
    this.begin(site);
    if (typeof eventDefName !== "string" || eventDefName === "") {
      throw this.error("throwEvent() needs a WorkflowEventDef name", site);
    }
    const value = this.assign(content, site, "the event content");
    this.addNode(`throw-${eventDefName}`, {
      case: "throwEvent",
      value: { eventDefId: { name: eventDefName }, content: value.assignment },
    });
  }

  // ---- user tasks --------------------------------------------------------------------------------------

  assignUserTask(
    site: CallSite | undefined,
    userTaskDefName: string,
    userId: string | WfRunVariable | LHFormatString | undefined,
    userGroup: string | WfRunVariable | LHFormatString | undefined,
  ): UserTaskOutput {
    this.begin(site);
    if (typeof userTaskDefName !== "string" || userTaskDefName === "") {
      throw this.error("assignUserTask() needs a UserTaskDef name", site);
    }
    if (userId === "") throw this.error("the user id is an empty string", site);
    if (userGroup === "") throw this.error("the user group is an empty string", site);
    const str = [VariableType.STR];
    const name = this.addNode(userTaskDefName, {
      case: "userTask",
      value: {
        userTaskDefName,
        userId:
          userId === undefined
            ? undefined
            : this.assign(userId, site, "the user id", { expect: str }).assignment,
        userGroup:
          userGroup === undefined
            ? undefined
            : this.assign(userGroup, site, "the user group", { expect: str }).assignment,
      },
    });
    return new UserTaskOutput(this, name);
  }

  private userTaskOf(site: CallSite | undefined, output: UserTaskOutput) {
    this.ensureActive(site);
    if (!(output instanceof UserTaskOutput))
      throw this.error("expected the output of assignUserTask()", site);
    if (output.thread !== this) {
      throw this.error(`user task node '${output.nodeName}' belongs to thread '${output.thread.name}'`, site);
    }
    return output.userTask();
  }

  addUserTaskAction(
    site: CallSite | undefined,
    output: UserTaskOutput,
    delaySeconds: number | WfRunVariable,
    hook: UTActionTrigger_UTHook,
    action:
      | { kind: "task"; taskDefName: string; args: readonly WfValue[] }
      | { kind: "cancel" }
      | {
          kind: "reassign";
          userId?: string | WfRunVariable | undefined;
          userGroup?: string | WfRunVariable | undefined;
        }
      | { kind: "releaseToGroup" },
  ): void {
    const ut = this.userTaskOf(site, output);
    const delay = this.delaySeconds(delaySeconds, site, "the delay");
    const str = [VariableType.STR];
    let init: MessageInitShape<typeof UTActionTriggerSchema>["action"];
    switch (action.kind) {
      case "task": {
        if (typeof action.taskDefName !== "string" || action.taskDefName === "") {
          throw this.error("a reminder task needs a TaskDef name", site);
        }
        const { init: task } = this.taskNode(site, action.taskDefName, action.args);
        init = { case: "task", value: { task: task.value } };
        break;
      }
      case "cancel":
        init = { case: "cancel", value: {} };
        break;
      case "releaseToGroup":
        if (ut.userGroup === undefined) {
          throw this.error(
            `releaseToGroupOnDeadline(): user task '${output.nodeName}' has no user group to release to`,
            site,
          );
        }
        init = { case: "reassign", value: { userGroup: clone(VariableAssignmentSchema, ut.userGroup) } };
        break;
      case "reassign":
        if (action.userId === undefined && action.userGroup === undefined) {
          throw this.error("reassignUserTask() needs a userId or a userGroup", site);
        }
        init = {
          case: "reassign",
          value: {
            userId:
              action.userId === undefined
                ? undefined
                : this.assign(action.userId, site, "the user id", { expect: str }).assignment,
            userGroup:
              action.userGroup === undefined
                ? undefined
                : this.assign(action.userGroup, site, "the user group", { expect: str }).assignment,
          },
        };
        break;
    }
    ut.actions.push(create(UTActionTriggerSchema, { action: init, delaySeconds: delay, hook }));
  }
}

/** The result of `doIf()`: add `doElseIf()` branches and a final `doElse()` right after it. */
export class WorkflowIfStatement {
  private closed = false;
  private opCount: number;

  /** @internal */
  constructor(
    private readonly thread: ThreadBuilder,
    /** @internal */ readonly root: string,
    /** @internal */ readonly join: string,
    private readonly site: CallSite | undefined,
  ) {
    this.opCount = thread.opCount;
  }

  private checkOpen(site: CallSite | undefined, what: string): void {
    const at = this.site?.location;
    const ofIf = `the doIf() ${at === undefined ? "" : `at ${at} `}`;
    if (this.closed) {
      throw this.thread.error(`${what} without an open doIf(): ${ofIf}already has its doElse()`, site);
    }
    if (this.thread.opCount !== this.opCount || this.thread.lastNode !== this.join) {
      throw this.thread.error(
        `${what} without an open doIf(): ${ofIf}is finished, other steps were added after it ` +
          "(chain doElseIf()/doElse() directly on doIf())",
        site,
      );
    }
  }

  /** Adds a branch taken when the earlier ones are not and `condition` holds. */
  doElseIf(condition: WorkflowCondition, body: ThreadFunc): WorkflowIfStatement {
    const site = callSiteOf();
    this.thread.ensureActive(site);
    this.checkOpen(site, "doElseIf()");
    this.thread.addBranch(site, this, condition, body);
    this.opCount = this.thread.opCount;
    return this;
  }

  /** Adds the branch taken when no condition holds; ends the if statement. */
  doElse(body: ThreadFunc): void {
    const site = callSiteOf();
    this.thread.ensureActive(site);
    this.checkOpen(site, "doElse()");
    this.thread.addBranch(site, this, undefined, body);
    this.closed = true;
  }
}
