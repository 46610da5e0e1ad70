import { MAX_DURATION_MS, MAX_TIME_MS, isTimeMs, secondsToMs } from "../times";
import { clone, create } from "@bufbuild/protobuf";
import {
  MetadataStatus,
  ThreadSpecSchema,
  VariableMutationType,
  VariableType,
  WfRunVariableAccessLevel,
  WfSpecSchema,
  WorkflowRetentionPolicySchema,
  type Edge,
  type ExternalEventDef,
  type FailureHandlerDef,
  type Node,
  type PutWfSpecRequest,
  type TaskDef,
  type TaskNode,
  type ThreadSpec,
  type UserTaskDef,
  type VariableAssignment,
  type VariableMutation,
  type WfSpec,
  type WorkflowEventDef,
} from "@pony/proto";
import { InvalidArgumentError } from "../errors";
import { valueType } from "../variables";
import { validateName } from "./names";
import {
  canFeed,
  checkJsonLiteral,
  declaredType,
  normaliseVariableDef,
  variableTypeName,
} from "./variable-defs";
import { variableScope, type VariableScope } from "./wf-spec-scope";
import { threadGraph } from "./wf-spec-threads";

/** Read access to stored metadata, as buildWfSpec needs it. */
export interface MetadataLookup {
  taskDef(name: string): TaskDef | undefined;
  externalEventDef(name: string): ExternalEventDef | undefined;
  workflowEventDef(name: string): WorkflowEventDef | undefined;
  /** The given version, or the latest when `version` is undefined. */
  userTaskDef(name: string, version?: number): UserTaskDef | undefined;
  /** The latest version (within `majorVersion` when given). */
  wfSpec(name: string, majorVersion?: number): WfSpec | undefined;
}

/** Highest Comparator number in the API reference (NOT_IN = 7), also where the generated enum stops earlier. */
const MAX_COMPARATOR = 7;

const JSON_TYPES: ReadonlySet<VariableType> = new Set([VariableType.JSON_OBJ, VariableType.JSON_ARR]);

interface Context {
  readonly lookup: MetadataLookup;
  readonly threads: Readonly<Record<string, ThreadSpec>>;
}

/**
 * Validates a PutWfSpecRequest as a whole (B-META-3) and builds the WfSpec it describes: id.name set,
 * major version and revision 0, created_at unset, status ACTIVE, no frozen variables (decideWfSpecVersion
 * settles those). Every VariableDef in the result has `type` set, also when the client sent only
 * `type_def.primitive_type` (B-WIRE-2). Any problem is an InvalidArgumentError whose message names the
 * WfSpec, thread and node. Variable visibility follows the rule documented in wf-spec-scope.ts.
 */
export function buildWfSpec(req: PutWfSpecRequest, lookup: MetadataLookup): WfSpec {
  validateName("WfSpec", req.name);
  const wf = `WfSpec '${req.name}'`;
  const entrypoint = req.entrypointThreadName;
  if (entrypoint === "") {
    throw new InvalidArgumentError(`${wf} has no entrypoint thread (entrypoint_thread_name is empty)`);
  }
  if (req.threadSpecs[entrypoint] === undefined) {
    const known = Object.keys(req.threadSpecs);
    throw new InvalidArgumentError(
      `${wf}: entrypoint thread '${entrypoint}' is not among its thread specs (${known.length > 0 ? known.join(", ") : "none"})`,
    );
  }
  const gc = req.retentionPolicy?.wfGcPolicy;
  if (gc?.case === "secondsAfterWfTermination" && gc.value < 0n) {
    throw new InvalidArgumentError(
      `${wf}: retention seconds_after_wf_termination must not be negative (got ${gc.value})`,
    );
  }
  if (gc?.case === "secondsAfterWfTermination")
    secondsToMs(gc.value, `${wf}: retention seconds_after_wf_termination`);
  const parent = req.parentWfSpec;
  if (parent !== undefined) {
    if (parent.wfSpecName === "" || lookup.wfSpec(parent.wfSpecName) === undefined) {
      throw new InvalidArgumentError(`${wf}: parent WfSpec '${parent.wfSpecName}' does not exist`);
    }
  }

  const threads: Record<string, ThreadSpec> = {};
  for (const [name, spec] of Object.entries(req.threadSpecs)) {
    threads[name] = normaliseThreadSpec(wf, name, spec, name === entrypoint, parent !== undefined);
  }
  const graph = threadGraph(threads);
  const ctx: Context = { lookup, threads };
  for (const [name, spec] of Object.entries(threads)) {
    validateThread(ctx, `${wf} thread '${name}'`, spec, variableScope(threads, graph, name));
  }
  checkEventDefUses(wf, threads);

  return create(WfSpecSchema, {
    id: { name: req.name, majorVersion: 0, revision: 0 },
    frozenVariables: [],
    status: MetadataStatus.ACTIVE,
    threadSpecs: threads,
    entrypointThreadName: entrypoint,
    retentionPolicy:
      req.retentionPolicy === undefined
        ? undefined
        : clone(WorkflowRetentionPolicySchema, req.retentionPolicy),
    parentWfSpec: parent,
  });
}

/** Checks a thread's variable declarations and retention; returns a copy with normalised VariableDefs. */
function normaliseThreadSpec(
  wf: string,
  name: string,
  spec: ThreadSpec,
  isEntrypoint: boolean,
  hasParent: boolean,
): ThreadSpec {
  if (name === "") throw new InvalidArgumentError(`${wf} has a thread spec with an empty name`);
  const where = `${wf} thread '${name}'`;
  const out = clone(ThreadSpecSchema, spec);
  const seen = new Set<string>();
  for (const threadVar of out.variableDefs) {
    if (threadVar.varDef === undefined) {
      throw new InvalidArgumentError(`${where}: a variable declaration has no var_def`);
    }
    const def = normaliseVariableDef(threadVar.varDef, where);
    threadVar.varDef = def;
    if (seen.has(def.name)) throw new InvalidArgumentError(`${where} declares variable '${def.name}' twice`);
    seen.add(def.name);
    if (WfRunVariableAccessLevel[threadVar.accessLevel] === undefined) {
      throw new InvalidArgumentError(
        `${where}: variable '${def.name}' has unknown access level ${threadVar.accessLevel}`,
      );
    }
    if (threadVar.accessLevel === WfRunVariableAccessLevel.INHERITED_VAR) {
      if (!isEntrypoint) {
        throw new InvalidArgumentError(
          `${where}: variable '${def.name}' is INHERITED_VAR, which only the entrypoint thread may declare`,
        );
      }
      if (!hasParent) {
        throw new InvalidArgumentError(
          `${where}: variable '${def.name}' is INHERITED_VAR but the WfSpec has no parent_wf_spec`,
        );
      }
    }
    const type = declaredType(def);
    if (threadVar.jsonIndexes.length > 0 && (type === undefined || !JSON_TYPES.has(type))) {
      throw new InvalidArgumentError(
        `${where}: variable '${def.name}' is ${variableTypeName(type)}; json_indexes are only valid for JSON_OBJ and JSON_ARR`,
      );
    }
  }
  const gc = out.retentionPolicy?.threadGcPolicy;
  if (gc?.case === "secondsAfterThreadTermination" && gc.value < 0n) {
    throw new InvalidArgumentError(
      `${where}: retention seconds_after_thread_termination must not be negative (got ${gc.value})`,
    );
  }
  if (gc?.case === "secondsAfterThreadTermination")
    secondsToMs(gc.value, `${where}: retention seconds_after_thread_termination`);
  return out;
}

function validateThread(ctx: Context, where: string, spec: ThreadSpec, scope: VariableScope): void {
  const nodes = Object.entries(spec.nodes);
  const entrypoints = nodes.filter(([, n]) => n.node.case === "entrypoint").length;
  if (entrypoints !== 1) {
    throw new InvalidArgumentError(`${where} must have exactly one ENTRYPOINT node, found ${entrypoints}`);
  }
  if (!nodes.some(([, n]) => n.node.case === "exit")) {
    throw new InvalidArgumentError(`${where} has no EXIT node`);
  }
  for (const [nodeName, node] of nodes) {
    const nodeWhere = `${where} node '${nodeName}'`;
    checkNode(ctx, nodeWhere, node, scope);
    node.outgoingEdges.forEach((edge, i) => checkEdge(nodeWhere, edge, i, spec, scope));
    checkFailureHandlers(ctx, nodeWhere, node.failureHandlers);
  }
  spec.interruptDefs.forEach((interrupt, i) => {
    const interruptWhere = `${where} interrupt ${i}`;
    const eventName = interrupt.externalEventDefId?.name ?? "";
    if (eventName === "") throw new InvalidArgumentError(`${interruptWhere} names no ExternalEventDef`);
    if (ctx.lookup.externalEventDef(eventName) === undefined) {
      throw new InvalidArgumentError(`${interruptWhere} uses unknown ExternalEventDef '${eventName}'`);
    }
    checkThreadName(ctx, interruptWhere, "interrupt handler", interrupt.handlerSpecName);
  });
}

/**
 * An ExternalEventDef triggers either interrupts or EXTERNAL_EVENT nodes in a WfSpec, never both (the API
 * reference: "as of 0.9.0, you cannot use an ExternalEventDefId for both an InterruptDef and an
 * ExternalEventNode in the same WfSpec"): an event could not tell which it is meant for.
 */
function checkEventDefUses(wf: string, threads: Record<string, ThreadSpec>): void {
  const interrupts = new Map<string, string>();
  for (const [name, spec] of Object.entries(threads))
    for (const i of spec.interruptDefs) interrupts.set(i.externalEventDefId?.name ?? "", name);
  for (const [name, spec] of Object.entries(threads)) {
    for (const [nodeName, node] of Object.entries(spec.nodes)) {
      if (node.node.case !== "externalEvent") continue;
      const def = node.node.value.externalEventDefId?.name ?? "";
      const interruptThread = interrupts.get(def);
      if (interruptThread !== undefined)
        throw new InvalidArgumentError(
          `${wf}: ExternalEventDef '${def}' is both an interrupt of thread '${interruptThread}' and waited for by node '${nodeName}' of thread '${name}'; a WfSpec may use it for one or the other`,
        );
    }
  }
}

function checkThreadName(ctx: Context, where: string, role: string, name: string): void {
  if (ctx.threads[name] === undefined) {
    throw new InvalidArgumentError(`${where}: ${role} thread spec '${name}' does not exist`);
  }
}

function checkFailureHandlers(ctx: Context, where: string, handlers: readonly FailureHandlerDef[]): void {
  for (const handler of handlers) checkThreadName(ctx, where, "failure handler", handler.handlerSpecName);
}

function checkEdge(where: string, edge: Edge, index: number, spec: ThreadSpec, scope: VariableScope): void {
  if (spec.nodes[edge.sinkNodeName] === undefined) {
    throw new InvalidArgumentError(`${where} has an edge to missing node '${edge.sinkNodeName}'`);
  }
  const edgeWhere = `${where} edge ${index} (to '${edge.sinkNodeName}')`;
  // Either form is accepted (B-WIRE-2), not both: one of them would have to be ignored.
  if (edge.condition !== undefined && edge.expressionCondition?.source.case !== undefined) {
    throw new InvalidArgumentError(
      `${edgeWhere} has both a condition (field 2) and an expression condition (field 4): give one`,
    );
  }
  if (edge.condition !== undefined) {
    const { left, right } = edge.condition;
    const comparator: number = edge.condition.comparator;
    if (!Number.isInteger(comparator) || comparator < 0 || comparator > MAX_COMPARATOR) {
      throw new InvalidArgumentError(`${edgeWhere}: unknown comparator ${comparator}`);
    }
    if (left === undefined || right === undefined) {
      throw new InvalidArgumentError(`${edgeWhere}: the condition needs both a left and a right side`);
    }
    checkAssignment(`${edgeWhere} condition left`, left, scope);
    checkAssignment(`${edgeWhere} condition right`, right, scope);
  } else if (edge.expressionCondition !== undefined) {
    checkAssignment(`${edgeWhere} condition`, edge.expressionCondition, scope);
  }
  checkMutations(edgeWhere, edge.variableMutations, scope);
}

function checkMutations(where: string, mutations: readonly VariableMutation[], scope: VariableScope): void {
  mutations.forEach((mutation, i) => {
    const mutationWhere = `${where} mutation ${i}`;
    if (mutation.lhsName === "") throw new InvalidArgumentError(`${mutationWhere} has no lhs_name`);
    if (!scope.has(mutation.lhsName)) {
      throw new InvalidArgumentError(`${mutationWhere} mutates undeclared variable '${mutation.lhsName}'`);
    }
    if (VariableMutationType[mutation.operation] === undefined) {
      throw new InvalidArgumentError(`${mutationWhere} has unknown operation ${mutation.operation}`);
    }
    const rhs = mutation.rhsValue;
    switch (rhs.case) {
      case "sourceVariable":
        checkAssignment(`${mutationWhere} rhs`, rhs.value, scope);
        break;
      case "literalValue":
        checkJsonLiteral(rhs.value, `${mutationWhere} rhs`);
        break;
      case "nodeOutput":
        break;
      case undefined:
        throw new InvalidArgumentError(`${mutationWhere} has no rhs value`);
    }
  });
}

/**
 * Checks every variable an assignment uses (also inside format strings and expressions) and returns its
 * statically known type: a variable's declared type (unknown with a json_path), a literal's type, STR for a
 * format string, unknown for node outputs and expressions.
 */
function checkAssignment(
  where: string,
  assignment: VariableAssignment,
  scope: VariableScope,
): VariableType | undefined {
  const source = assignment.source;
  switch (source.case) {
    case "variableName":
      if (!scope.has(source.value)) {
        throw new InvalidArgumentError(`${where} uses undeclared variable '${source.value}'`);
      }
      return assignment.jsonPath === undefined ? scope.typeOf(source.value) : undefined;
    case "literalValue":
      checkJsonLiteral(source.value, where);
      return assignment.jsonPath === undefined ? valueType(source.value) : undefined;
    case "formatString":
      if (source.value.format === undefined) {
        throw new InvalidArgumentError(`${where}: the format string has no format`);
      }
      checkAssignment(`${where} format`, source.value.format, scope);
      source.value.args.forEach((arg, i) => checkAssignment(`${where} format arg ${i}`, arg, scope));
      return VariableType.STR;
    case "nodeOutput":
      return undefined;
    case "expression":
      if (source.value.lhs !== undefined) checkAssignment(`${where} expression lhs`, source.value.lhs, scope);
      if (source.value.rhs !== undefined) checkAssignment(`${where} expression rhs`, source.value.rhs, scope);
      return undefined;
    case undefined:
      throw new InvalidArgumentError(`${where}: the variable assignment has no source`);
  }
}

function checkOptional(
  where: string,
  assignment: VariableAssignment | undefined,
  scope: VariableScope,
): void {
  if (assignment !== undefined) checkAssignment(where, assignment, scope);
}

function checkNode(ctx: Context, where: string, node: Node, scope: VariableScope): void {
  const n = node.node;
  switch (n.case) {
    case undefined:
      throw new InvalidArgumentError(`${where} has no node type`);
    case "entrypoint":
    case "nop":
      return;
    case "exit": {
      const failure = n.value.failureDef;
      if (failure !== undefined) {
        if (failure.failureName === "") {
          throw new InvalidArgumentError(`${where}: the EXIT failure_def has no failure_name`);
        }
        checkOptional(`${where} failure content`, failure.content, scope);
      }
      return;
    }
    case "task":
      checkTaskNode(ctx, where, n.value, scope);
      return;
    case "externalEvent": {
      const name = n.value.externalEventDefId?.name ?? "";
      if (name === "") throw new InvalidArgumentError(`${where} names no ExternalEventDef`);
      if (ctx.lookup.externalEventDef(name) === undefined) {
        throw new InvalidArgumentError(`${where} uses unknown ExternalEventDef '${name}'`);
      }
      checkOptional(`${where} timeout`, n.value.timeoutSeconds, scope);
      return;
    }
    case "startThread":
      checkThreadName(ctx, where, "started", n.value.threadSpecName);
      checkThreadInputs(ctx, where, n.value.threadSpecName, n.value.variables, scope);
      return;
    case "startMultipleThreads": {
      checkThreadName(ctx, where, "started", n.value.threadSpecName);
      checkThreadInputs(ctx, where, n.value.threadSpecName, n.value.variables, scope);
      if (n.value.iterable === undefined) throw new InvalidArgumentError(`${where} has no iterable`);
      const type = checkAssignment(`${where} iterable`, n.value.iterable, scope);
      if (type !== undefined && type !== VariableType.JSON_ARR) {
        throw new InvalidArgumentError(`${where}: the iterable is ${variableTypeName(type)}, not JSON_ARR`);
      }
      return;
    }
    case "waitForThreads": {
      const toWait = n.value.threadsToWaitFor;
      if (toWait.case === "threads") {
        toWait.value.threads.forEach((t, i) =>
          checkOptional(`${where} thread ${i}`, t.threadRunNumber, scope),
        );
      } else if (toWait.case === "threadList") {
        checkAssignment(`${where} thread list`, toWait.value, scope);
      } else {
        throw new InvalidArgumentError(`${where} names no threads to wait for`);
      }
      checkFailureHandlers(ctx, `${where} per-thread`, n.value.perThreadFailureHandlers);
      return;
    }
    case "sleep": {
      const length = n.value.sleepLength;
      if (length.case === undefined) throw new InvalidArgumentError(`${where} has no sleep length`);
      checkAssignment(`${where} sleep length`, length.value, scope);
      // a literal length must give a time (a variable's is checked when the thread gets there)
      const literal = length.value.source;
      if (literal.case === "literalValue" && literal.value.value.case === "int") {
        if (length.case === "rawSeconds")
          secondsToMs(literal.value.value.value, `${where} sleep raw_seconds`, {
            min: -MAX_DURATION_MS / 1000,
          });
        else if (length.case === "timestamp" && !isTimeMs(Number(literal.value.value.value)))
          throw new InvalidArgumentError(
            `${where} sleep timestamp ${literal.value.value.value} is out of range (at most ${MAX_TIME_MS} ms from the epoch)`,
          );
      }
      return;
    }
    case "userTask": {
      const ut = n.value;
      if (ut.userTaskDefName === "") throw new InvalidArgumentError(`${where} names no UserTaskDef`);
      if (ctx.lookup.userTaskDef(ut.userTaskDefName, ut.userTaskDefVersion) === undefined) {
        const version = ut.userTaskDefVersion === undefined ? "" : ` version ${ut.userTaskDefVersion}`;
        throw new InvalidArgumentError(`${where} uses unknown UserTaskDef '${ut.userTaskDefName}'${version}`);
      }
      checkOptional(`${where} user_group`, ut.userGroup, scope);
      checkOptional(`${where} user_id`, ut.userId, scope);
      checkOptional(`${where} notes`, ut.notes, scope);
      checkOptional(`${where} on_cancellation_exception_name`, ut.onCancellationExceptionName, scope);
      ut.actions.forEach((action, i) => {
        const actionWhere = `${where} action ${i}`;
        checkOptional(`${actionWhere} delay`, action.delaySeconds, scope);
        const a = action.action;
        if (a.case === "task") {
          if (a.value.task === undefined) throw new InvalidArgumentError(`${actionWhere} has no task`);
          checkTaskNode(ctx, `${actionWhere} task`, a.value.task, scope);
          checkMutations(actionWhere, a.value.mutations, scope);
        } else if (a.case === "reassign") {
          checkOptional(`${actionWhere} user_id`, a.value.userId, scope);
          checkOptional(`${actionWhere} user_group`, a.value.userGroup, scope);
        }
      });
      return;
    }
    case "throwEvent": {
      const name = n.value.eventDefId?.name ?? "";
      if (name === "") throw new InvalidArgumentError(`${where} names no WorkflowEventDef`);
      if (ctx.lookup.workflowEventDef(name) === undefined) {
        throw new InvalidArgumentError(`${where} uses unknown WorkflowEventDef '${name}'`);
      }
      checkOptional(`${where} content`, n.value.content, scope);
      return;
    }
  }
}

/** The variables given to a started thread must be declared by that thread spec. */
function checkThreadInputs(
  ctx: Context,
  where: string,
  threadSpecName: string,
  variables: Readonly<Record<string, VariableAssignment>>,
  scope: VariableScope,
): void {
  const child = ctx.threads[threadSpecName];
  for (const [name, assignment] of Object.entries(variables)) {
    if (child !== undefined && !child.variableDefs.some((v) => v.varDef?.name === name)) {
      throw new InvalidArgumentError(
        `${where} passes variable '${name}', which thread '${threadSpecName}' does not declare`,
      );
    }
    checkAssignment(`${where} variable '${name}'`, assignment, scope);
  }
}

function checkTaskNode(ctx: Context, where: string, task: TaskNode, scope: VariableScope): void {
  if (task.retries < 0) throw new InvalidArgumentError(`${where}: retries must not be negative`);
  if (task.timeoutSeconds < 0)
    throw new InvalidArgumentError(`${where}: timeout_seconds must not be negative`);
  const backoff = task.exponentialBackoff;
  if (backoff) {
    if (!(backoff.baseIntervalMs > 0)) {
      throw new InvalidArgumentError(
        `${where}: exponential_backoff.base_interval_ms must be greater than zero, got ${backoff.baseIntervalMs}`,
      );
    }
    if (!Number.isFinite(backoff.multiplier) || backoff.multiplier < 1) {
      throw new InvalidArgumentError(
        `${where}: exponential_backoff.multiplier must be a finite number of at least 1.0, got ${backoff.multiplier}`,
      );
    }
    if (backoff.maxDelayMs < 0n) {
      throw new InvalidArgumentError(`${where}: exponential_backoff.max_delay_ms must not be negative`);
    }
  }
  const given = task.variables.map((v, i) => checkAssignment(`${where} input ${i}`, v, scope));
  const toExecute = task.taskToExecute;
  switch (toExecute.case) {
    case undefined:
      throw new InvalidArgumentError(`${where} names no TaskDef`);
    case "dynamicTask":
      // The TaskDef is only known at run time (B-TASK-8); its inputs are checked then.
      checkAssignment(`${where} dynamic task`, toExecute.value, scope);
      return;
    case "taskDefId": {
      const name = toExecute.value.name;
      const taskDef = ctx.lookup.taskDef(name);
      if (taskDef === undefined) throw new InvalidArgumentError(`${where} uses unknown TaskDef '${name}'`);
      if (given.length !== taskDef.inputVars.length) {
        throw new InvalidArgumentError(
          `${where} passes ${given.length} input variables but TaskDef '${name}' takes ${taskDef.inputVars.length}`,
        );
      }
      taskDef.inputVars.forEach((inputVar, i) => {
        const expected = declaredType(inputVar);
        const actual = given[i];
        if (expected !== undefined && actual !== undefined && !canFeed(actual, expected)) {
          throw new InvalidArgumentError(
            `${where} input ${i}: TaskDef '${name}' expects '${inputVar.name}' as ${variableTypeName(expected)} but gets ${variableTypeName(actual)}`,
          );
        }
      });
      return;
    }
  }
}
