/**
 * WorkflowThread: what a workflow function receives. Every call adds to the thread's ThreadSpec; mistakes
 * throw an LHWorkflowError (from `Workflow.compile()`) pointing at the offending line.
 */
import { UTActionTrigger_UTHook, VariableType } from "@pony/proto";
import type { ThreadBuilder, WorkflowIfStatement } from "./builder";
import { callSite } from "./errors";
import type {
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
  WfValue,
} from "./outputs";
import {
  toVariableType,
  type ComparatorLike,
  type ErrorTypeLike,
  type LiteralValue,
  type MutationTypeLike,
  type VariableTypeLike,
} from "./values";

/** A function that builds one thread (the entrypoint, a spawned thread, a handler or a branch body). */
export type ThreadFunc = (thread: WorkflowThread) => void;

/** Who a user task goes to, or is reassigned to: a user id, a group, or both (strings or STR variables). */
export interface UserTaskAssignee {
  userId?: string | WfRunVariable | undefined;
  userGroup?: string | WfRunVariable | undefined;
}

export class WorkflowThread {
  readonly #b: ThreadBuilder;

  /** @internal */
  constructor(builder: ThreadBuilder) {
    this.#b = builder;
  }

  /** The ThreadSpec name: "entrypoint", a spawned thread's name, or a handler's generated name. */
  get name(): string {
    return this.#b.name;
  }

  // ---- variables ---------------------------------------------------------------------------------------

  /** Declares a variable of any type; the typed `declareX` methods are usually nicer. */
  declare(name: string, type: VariableTypeLike, defaultValue?: LiteralValue): WfRunVariable {
    const site = callSite();
    let t: VariableType;
    try {
      t = toVariableType(type);
    } catch (e) {
      throw this.#b.error(e instanceof Error ? e.message : String(e), site);
    }
    return this.#b.declare(site, name, t, defaultValue);
  }

  declareStr(name: string, defaultValue?: string): WfRunVariable {
    return this.#b.declare(callSite(), name, VariableType.STR, defaultValue);
  }

  /** An INT variable; a default must be an integer (a number or a bigint). */
  declareInt(name: string, defaultValue?: number | bigint): WfRunVariable {
    return this.#b.declare(callSite(), name, VariableType.INT, defaultValue);
  }

  declareDouble(name: string, defaultValue?: number): WfRunVariable {
    return this.#b.declare(callSite(), name, VariableType.DOUBLE, defaultValue);
  }

  declareBool(name: string, defaultValue?: boolean): WfRunVariable {
    return this.#b.declare(callSite(), name, VariableType.BOOL, defaultValue);
  }

  declareJsonObj(name: string, defaultValue?: Record<string, unknown> | object): WfRunVariable {
    return this.#b.declare(callSite(), name, VariableType.JSON_OBJ, defaultValue);
  }

  declareJsonArr(name: string, defaultValue?: readonly unknown[]): WfRunVariable {
    return this.#b.declare(callSite(), name, VariableType.JSON_ARR, defaultValue);
  }

  declareBytes(name: string, defaultValue?: Uint8Array): WfRunVariable {
    return this.#b.declare(callSite(), name, VariableType.BYTES, defaultValue);
  }

  /** Deletes this thread's ThreadRun data `seconds` after it terminates. */
  withRetentionPolicy(policy: { secondsAfterThreadTermination: number | bigint }): this {
    this.#b.withRetentionPolicy(callSite(), policy.secondsAfterThreadTermination);
    return this;
  }

  // ---- tasks, values, mutations ------------------------------------------------------------------------

  /**
   * Runs a task: a TaskDef name, or (dynamic task) a STR variable or format string naming it at run time.
   * Arguments are literals, variables, node outputs or format strings, in the TaskDef's input order.
   */
  execute(task: string | WfRunVariable | LHFormatString, ...args: WfValue[]): TaskNodeOutput {
    return this.#b.execute(callSite(), task, args);
  }

  /** A format string: `wf.format("Hello {0}, you are {1}", name, age)`. */
  format(template: string, ...args: WfValue[]): LHFormatString {
    return this.#b.format(callSite(), template, args);
  }

  /**
   * Changes a variable (or, via `variable.jsonPath(…)`, part of a JSON variable) when the thread leaves its
   * current last node. A NodeOutput of that last node is taken from the node itself (VariableMutation
   * node_output); any other right-hand side is a literal or a VariableAssignment.
   */
  mutate(variable: WfRunVariable, operation: MutationTypeLike, rhs: WfValue): void {
    this.#b.mutate(callSite(), variable, operation, rhs);
  }

  // ---- control flow ------------------------------------------------------------------------------------

  /** `lhs comparator rhs`; comparators: "<", ">", "<=", ">=", "==", "!=", "IN", "NOT_IN" or Comparator. */
  condition(lhs: WfValue, comparator: ComparatorLike, rhs: WfValue): WorkflowCondition {
    return this.#b.condition(callSite(), lhs, comparator, rhs);
  }

  /** Runs `body` when `condition` holds; chain `.doElseIf(…)` and `.doElse(…)` on the result. */
  doIf(condition: WorkflowCondition, body: ThreadFunc): WorkflowIfStatement {
    return this.#b.doIf(callSite(), condition, body);
  }

  /** `doIf(condition, ifBody).doElse(elseBody)`. */
  doIfElse(condition: WorkflowCondition, ifBody: ThreadFunc, elseBody: ThreadFunc): void {
    const site = callSite();
    this.#b.doIf(site, condition, ifBody).doElse(elseBody);
  }

  /** Runs `body` again and again while `condition` holds (checked before each round). */
  doWhile(condition: WorkflowCondition, body: ThreadFunc): void {
    this.#b.doWhile(callSite(), condition, body);
  }

  /** Ends the thread here successfully. */
  complete(): void {
    this.#b.complete(callSite());
  }

  /**
   * Ends the thread here with a failure: an exception named `failureName` (or, for an upper-case LHErrorType
   * name, that error), with `message` and optional `content`.
   */
  fail(failureName: string, message: string, content?: WfValue): void {
    this.#b.fail(callSite(), failureName, message, content);
  }

  // ---- threads -----------------------------------------------------------------------------------------

  /**
   * Starts a child thread built by `fn`. `inputVars` sets variables the child declares. The child sees its own
   * variables and those of this thread.
   */
  spawnThread(
    fn: ThreadFunc,
    threadName: string,
    inputVars?: Readonly<Record<string, WfValue>>,
  ): SpawnedThread {
    return this.#b.spawnThread(callSite(), fn, threadName, inputVars);
  }

  /**
   * Starts one child thread per element of a JSON_ARR; each child gets its element as the variable
   * `INPUT` (HANDLER_INPUT_VAR), which it may declare to use it.
   */
  spawnThreadForEach(
    array: WfRunVariable,
    threadName: string,
    fn: ThreadFunc,
    inputVars?: Readonly<Record<string, WfValue>>,
  ): SpawnedThreads {
    return this.#b.spawnThreadForEach(callSite(), array, threadName, fn, inputVars);
  }

  /** Waits until the given spawned threads have finished. */
  waitForThreads(...threads: (SpawnedThread | SpawnedThreads)[]): WaitForThreadsNodeOutput {
    return this.#b.waitForThreads(callSite(), threads);
  }

  // ---- events and failure handling ---------------------------------------------------------------------

  /** Waits for an ExternalEvent; its content is the node's output. */
  waitForEvent(externalEventDefName: string): ExternalEventNodeOutput {
    return this.#b.waitForEvent(callSite(), externalEventDefName);
  }

  /** When the ExternalEvent arrives, halts this thread and runs `fn` (thread `interrupt-<name>`). */
  registerInterruptHandler(externalEventDefName: string, fn: ThreadFunc): void {
    this.#b.registerInterruptHandler(callSite(), externalEventDefName, fn);
  }

  /** Throws a WorkflowEvent with `content`. */
  throwEvent(workflowEventDefName: string, content: WfValue): void {
    this.#b.throwEvent(callSite(), workflowEventDefName, content);
  }

  /** Runs `fn` when `node` fails with an exception (named `exceptionName`, or any). */
  handleException(node: NodeOutput, fn: ThreadFunc): void;
  handleException(node: NodeOutput, exceptionName: string | undefined, fn: ThreadFunc): void;
  handleException(node: NodeOutput, a: string | undefined | ThreadFunc, b?: ThreadFunc): void {
    const site = callSite();
    if (typeof a === "function") this.#b.handleException(site, node, undefined, a);
    else this.#b.handleException(site, node, a, b as ThreadFunc);
  }

  /** Runs `fn` when `node` fails with an error (of `errorType`, e.g. "TIMEOUT", or any). */
  handleError(node: NodeOutput, fn: ThreadFunc): void;
  handleError(node: NodeOutput, errorType: ErrorTypeLike | undefined, fn: ThreadFunc): void;
  handleError(node: NodeOutput, a: ErrorTypeLike | undefined | ThreadFunc, b?: ThreadFunc): void {
    const site = callSite();
    if (typeof a === "function") this.#b.handleError(site, node, undefined, a);
    else this.#b.handleError(site, node, a, b as ThreadFunc);
  }

  /** Runs `fn` when `node` fails in any way. */
  handleAnyFailure(node: NodeOutput, fn: ThreadFunc): void {
    this.#b.handleAnyFailure(callSite(), node, fn);
  }

  // ---- sleep -------------------------------------------------------------------------------------------

  /** Sleeps for a number of seconds (a non-negative integer or an INT variable). */
  sleepSeconds(seconds: number | WfRunVariable): void {
    this.#b.sleepSeconds(callSite(), seconds);
  }

  /** Sleeps until a time in epoch milliseconds (an INT variable or literal). */
  sleepUntil(timestamp: WfRunVariable | number | bigint): void {
    this.#b.sleepUntil(callSite(), timestamp);
  }

  // ---- user tasks --------------------------------------------------------------------------------------

  /** Creates a UserTaskRun of `userTaskDefName` for a user and/or a group; its output is the filled-in form. */
  assignUserTask(
    userTaskDefName: string,
    userId?: string | WfRunVariable | LHFormatString,
    userGroup?: string | WfRunVariable | LHFormatString,
  ): UserTaskOutput {
    return this.#b.assignUserTask(callSite(), userTaskDefName, userId, userGroup);
  }

  /** Runs a task `delaySeconds` after the user task node is reached (hook ON_ARRIVAL). */
  scheduleReminderTask(
    userTask: UserTaskOutput,
    delaySeconds: number | WfRunVariable,
    taskDefName: string,
    ...args: WfValue[]
  ): void {
    this.#b.addUserTaskAction(callSite(), userTask, delaySeconds, UTActionTrigger_UTHook.ON_ARRIVAL, {
      kind: "task",
      taskDefName,
      args,
    });
  }

  /** Runs a task `delaySeconds` after the user task is assigned to a user (hook ON_TASK_ASSIGNED). */
  scheduleReminderTaskOnAssignment(
    userTask: UserTaskOutput,
    delaySeconds: number | WfRunVariable,
    taskDefName: string,
    ...args: WfValue[]
  ): void {
    this.#b.addUserTaskAction(callSite(), userTask, delaySeconds, UTActionTrigger_UTHook.ON_TASK_ASSIGNED, {
      kind: "task",
      taskDefName,
      args,
    });
  }

  /**
   * Takes the user task away from its user and gives it back to its group when the user has not completed it
   * `delaySeconds` after it was assigned (hook ON_TASK_ASSIGNED, as in LittleHorse). Needs a user group.
   */
  releaseToGroupOnDeadline(userTask: UserTaskOutput, delaySeconds: number | WfRunVariable): void {
    this.#b.addUserTaskAction(callSite(), userTask, delaySeconds, UTActionTrigger_UTHook.ON_TASK_ASSIGNED, {
      kind: "releaseToGroup",
    });
  }

  /** Reassigns the user task `delaySeconds` after the node is reached (hook ON_ARRIVAL). */
  reassignUserTask(
    userTask: UserTaskOutput,
    delaySeconds: number | WfRunVariable,
    to: UserTaskAssignee,
  ): void {
    this.#b.addUserTaskAction(callSite(), userTask, delaySeconds, UTActionTrigger_UTHook.ON_ARRIVAL, {
      kind: "reassign",
      ...to,
    });
  }

  /** Reassigns the user task `delaySeconds` after it is assigned to a user (hook ON_TASK_ASSIGNED). */
  reassignUserTaskOnAssignment(
    userTask: UserTaskOutput,
    delaySeconds: number | WfRunVariable,
    to: UserTaskAssignee,
  ): void {
    this.#b.addUserTaskAction(callSite(), userTask, delaySeconds, UTActionTrigger_UTHook.ON_TASK_ASSIGNED, {
      kind: "reassign",
      ...to,
    });
  }

  /** Cancels the UserTaskRun `delaySeconds` after the node is reached (hook ON_ARRIVAL). */
  cancelUserTaskRunAfter(userTask: UserTaskOutput, delaySeconds: number | WfRunVariable): void {
    this.#b.addUserTaskAction(callSite(), userTask, delaySeconds, UTActionTrigger_UTHook.ON_ARRIVAL, {
      kind: "cancel",
    });
  }

  /** Cancels the UserTaskRun `delaySeconds` after it is assigned to a user (hook ON_TASK_ASSIGNED). */
  cancelUserTaskRunAfterAssignment(userTask: UserTaskOutput, delaySeconds: number | WfRunVariable): void {
    this.#b.addUserTaskAction(callSite(), userTask, delaySeconds, UTActionTrigger_UTHook.ON_TASK_ASSIGNED, {
      kind: "cancel",
    });
  }
}
