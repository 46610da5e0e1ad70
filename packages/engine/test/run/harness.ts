/** Drives the pure engine in tests: no server, no database, a fake clock and counting ids. */
import { create } from "@bufbuild/protobuf";
import {
  ReportTaskRunSchema,
  RunWfRequestSchema,
  TaskStatus,
  type VariableValue,
  type WfSpec,
} from "@pony/proto";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  EdgeSchema,
  ExternalEventSchema,
  FailureHandlerDefSchema,
  FailureHandlerDef_LHFailureType,
  NodeSchema,
  ThreadSpecSchema,
  VariableMutationSchema,
  VariableMutationType,
  type ExternalEvent,
  type FailureHandlerDef,
  type LHStatus,
  type Node,
  type NodeRun,
  type ThreadRun,
  type ThreadVarDef,
  type VariableAssignment,
  type VariableMutation,
} from "@pony/proto";
import {
  applyCommand,
  buildWfSpec,
  createWfRun,
  decideWfSpecVersion,
  type EngineContext,
  type Effect,
  type WfRunCommand,
  type WfRunState,
  emptyChanges,
} from "../../src";
import { lookupOf, taskDef, wfRequest, type LookupContents, type NodeInit } from "../metadata/fixtures";
import type { ThreadSpec, TaskDef, UserTaskDef } from "@pony/proto";

export class EngineHarness {
  nowMs = 1_700_000_000_000;
  /** the clock to the microsecond, when a test gives it (the server's runtime always does) */
  preciseNowMs: number | undefined;
  private guid = 0;
  effects: Effect[] = [];
  readonly taskDefs: TaskDef[];
  /** UserTaskDefs the engine finds (tests may add versions) */
  readonly userTaskDefs: UserTaskDef[] = [];
  state!: WfRunState;
  wfSpec: WfSpec;
  /** EngineContext.maxNodeRunsPerTurn of every command (unset: no turns) */
  maxNodeRunsPerTurn: number | undefined;

  constructor(threads: Record<string, ThreadSpec>, contents: LookupContents = {}) {
    this.taskDefs = contents.taskDefs ?? [taskDef("work", [])];
    const built = buildWfSpec(wfRequest(threads), lookupOf({ ...contents, taskDefs: this.taskDefs }));
    const decision = decideWfSpecVersion(built, undefined, undefined, new Date(this.nowMs));
    this.wfSpec = decision.wfSpec;
  }

  ctx(maxNodeRunsPerCommand = 1000): EngineContext {
    return {
      nowMs: this.nowMs,
      preciseNowMs: this.preciseNowMs,
      newGuid: () => `guid${++this.guid}`,
      taskDef: (name) => this.taskDefs.find((t) => t.id?.name === name),
      userTaskDef: (name, version) =>
        this.userTaskDefs
          .filter((u) => u.name === name && (version === undefined || u.version === version))
          .sort((a, b) => b.version - a.version)[0],
      effects: this.effects,
      maxNodeRunsPerCommand,
      maxThreadsPerWfRun: 100,
      maxNodeRunsPerTurn: this.maxNodeRunsPerTurn,
    };
  }

  run(variables: Record<string, VariableValue> = {}, maxNodeRunsPerCommand?: number): WfRunState {
    this.state = createWfRun(this.ctx(maxNodeRunsPerCommand), {
      tenant: "default",
      id: { $typeName: "littlehorse.WfRunId", id: "run-1" },
      wfSpec: this.wfSpec,
      request: create(RunWfRequestSchema, { wfSpecName: "my-wf", variables }),
    });
    return this.state;
  }

  apply(command: WfRunCommand): boolean {
    return applyCommand(this.state, this.ctx(), command);
  }

  claim(taskGuid: string, attemptNumber = 0): boolean {
    return this.apply({ kind: "taskClaimed", taskGuid, attemptNumber, taskWorkerId: "w1" });
  }

  report(taskGuid: string, attemptNumber: number, status: TaskStatus, output?: VariableValue): boolean {
    return this.apply({
      kind: "taskReported",
      report: create(ReportTaskRunSchema, {
        taskRunId: { wfRunId: this.state.wfRun.id, taskGuid },
        attemptNumber,
        status,
        result: output ? { case: "output", value: output } : { case: undefined },
      }),
    });
  }

  takeEffects(): Effect[] {
    const out = [...this.effects];
    this.effects.length = 0;
    return out;
  }

  variable(name: string, thread = 0): VariableValue | undefined {
    return this.state.variables.get(`${thread}/${name}`)?.value;
  }
}

export { TaskStatus };

// ---- threads, failures, interrupts and halting (threads.test.ts, halting.test.ts) ------------------------

/** A node of `threadWith`: its NodeInit, plus failure handlers and mutations on its edge to the next node. */
export interface Step {
  node: NodeInit;
  handlers?: FailureHandlerDef[];
  mutations?: VariableMutation[];
  /** where its single edge goes instead of the next node */
  next?: string;
}

/**
 * A thread "entrypoint → n1 → … → exit" built from steps; `exitFailure` gives the EXIT a failure_def,
 * `interrupts` maps ExternalEventDef names to handler thread specs, `retentionSeconds` sets a
 * ThreadRetentionPolicy.
 */
export function threadWith(
  steps: Step[],
  vars: ThreadVarDef[] = [],
  opts: {
    exitFailure?: { failureName: string; message: string; content?: VariableAssignment };
    interrupts?: Record<string, string>;
    retentionSeconds?: number;
  } = {},
): ThreadSpec {
  const names = steps.map((_, i) => `n${i + 1}`);
  const nodes: Record<string, Node> = {
    entrypoint: create(NodeSchema, {
      node: { case: "entrypoint", value: {} },
      outgoingEdges: [{ sinkNodeName: names[0] ?? "exit" }],
    }),
    exit: create(NodeSchema, { node: { case: "exit", value: { failureDef: opts.exitFailure } } }),
  };
  steps.forEach((step, i) => {
    const n = create(NodeSchema, step.node);
    n.outgoingEdges = [
      create(EdgeSchema, {
        sinkNodeName: step.next ?? names[i + 1] ?? "exit",
        variableMutations: step.mutations ?? [],
      }),
    ];
    n.failureHandlers = step.handlers ?? [];
    nodes[names[i]!] = n;
  });
  return create(ThreadSpecSchema, {
    nodes,
    variableDefs: vars,
    interruptDefs: Object.entries(opts.interrupts ?? {}).map(([def, handlerSpecName]) => ({
      externalEventDefId: { name: def },
      handlerSpecName,
    })),
    retentionPolicy:
      opts.retentionSeconds === undefined
        ? undefined
        : { threadGcPolicy: { case: "secondsAfterThreadTermination", value: BigInt(opts.retentionSeconds) } },
  });
}

export const startThreadStep = (
  spec: string,
  variables: Record<string, VariableAssignment> = {},
): NodeInit => ({
  node: { case: "startThread", value: { threadSpecName: spec, variables } },
});

export const startMultipleStep = (spec: string, iterable: VariableAssignment): NodeInit => ({
  node: { case: "startMultipleThreads", value: { threadSpecName: spec, iterable } },
});

/** WAIT_FOR_THREADS on thread-number assignments, or on one JSON_ARR assignment. */
export function waitStep(
  threads: VariableAssignment[] | VariableAssignment,
  perThreadFailureHandlers: FailureHandlerDef[] = [],
): NodeInit {
  return {
    node: {
      case: "waitForThreads",
      value: {
        threadsToWaitFor: Array.isArray(threads)
          ? { case: "threads", value: { threads: threads.map((t) => ({ threadRunNumber: t })) } }
          : { case: "threadList", value: threads },
        perThreadFailureHandlers,
      },
    },
  };
}

export const eventStep = (defName: string): NodeInit => ({
  node: { case: "externalEvent", value: { externalEventDefId: { name: defName } } },
});

export const nopStep = (): NodeInit => ({ node: { case: "nop", value: {} } });

/** A FailureHandlerDef: a specific failure name, any ERROR / EXCEPTION, or (neither) any failure. */
export function catching(
  handlerSpecName: string,
  what: { specific?: string; type?: "ERROR" | "EXCEPTION" } = {},
) {
  return create(FailureHandlerDefSchema, {
    handlerSpecName,
    failureToCatch:
      what.specific !== undefined
        ? { case: "specificFailure", value: what.specific }
        : what.type === undefined
          ? { case: undefined }
          : {
              case: "anyFailureOfType",
              value:
                what.type === "ERROR"
                  ? FailureHandlerDef_LHFailureType.FAILURE_TYPE_ERROR
                  : FailureHandlerDef_LHFailureType.FAILURE_TYPE_EXCEPTION,
            },
  });
}

/** `lhs = <the node's output>` */
export const outputTo = (lhs: string): VariableMutation =>
  create(VariableMutationSchema, {
    lhsName: lhs,
    operation: VariableMutationType.ASSIGN,
    rhsValue: { case: "nodeOutput", value: {} },
  });

/** `lhs <op>= rhs` */
export const mutate = (
  lhs: string,
  operation: VariableMutationType,
  rhs: VariableAssignment,
): VariableMutation =>
  create(VariableMutationSchema, {
    lhsName: lhs,
    operation,
    rhsValue: { case: "sourceVariable", value: rhs },
  });

/**
 * An EngineHarness for threads: it forgets NodeRuns and TaskRuns after every command the way the runtime does
 * (only current ones stay loaded), keeps every NodeRun it saw for the test to read, and has helpers for
 * events, tasks, StopWfRun / ResumeWfRun and RescueThreadRun.
 */
export class ThreadHarness extends EngineHarness {
  /** every NodeRun seen, by "thread/position" */
  readonly seen = new Map<string, NodeRun>();
  private events = 0;

  constructor(threads: Record<string, ThreadSpec>, contents: LookupContents = {}) {
    super(threads, { externalEventDefs: ["go", "stop", "release"], ...contents });
  }

  override run(variables: Record<string, VariableValue> = {}, maxNodeRunsPerCommand?: number): WfRunState {
    super.run(variables, maxNodeRunsPerCommand);
    this.forget();
    return this.state;
  }

  override apply(command: WfRunCommand): boolean {
    const changed = super.apply(command);
    this.forget();
    return changed;
  }

  /** What the runtime keeps in memory between commands: current NodeRuns and what they wait on. */
  private forget(): void {
    const s = this.state;
    for (const [k, n] of s.nodeRuns) this.seen.set(k, n);
    const current = new Set(s.wfRun.threadRuns.map((t) => `${t.number}/${t.currentNodePosition}`));
    for (const k of [...s.nodeRuns.keys()]) if (!current.has(k)) s.nodeRuns.delete(k);
    const liveTasks = new Set<string>();
    for (const n of s.nodeRuns.values()) {
      if (n.nodeType.case === "task" && n.nodeType.value.taskRunId)
        liveTasks.add(n.nodeType.value.taskRunId.taskGuid);
    }
    for (const guid of [...s.taskRuns.keys()]) if (!liveTasks.has(guid)) s.taskRuns.delete(guid);
    s.changes = emptyChanges();
  }

  thread(n: number): ThreadRun {
    const t = this.state.wfRun.threadRuns.find((x) => x.number === n);
    if (!t) throw new Error(`no thread ${n}`);
    return t;
  }

  status(n: number): LHStatus {
    return this.thread(n).status;
  }

  reasons(n: number): string[] {
    return this.thread(n).haltReasons.map((r) => r.reason.case ?? "");
  }

  /** A NodeRun as last seen (finished ones too). */
  nodeRun(thread: number, position: number): NodeRun {
    const n = this.state.nodeRuns.get(`${thread}/${position}`) ?? this.seen.get(`${thread}/${position}`);
    if (!n) throw new Error(`no NodeRun ${thread}/${position}`);
    return n;
  }

  current(thread: number): NodeRun {
    return this.nodeRun(thread, this.thread(thread).currentNodePosition);
  }

  /** The guid of the TaskRun the thread's current node waits on. */
  taskOf(thread: number): string {
    const n = this.current(thread);
    if (n.nodeType.case !== "task" || !n.nodeType.value.taskRunId)
      throw new Error(`thread ${thread} is not at a task`);
    return n.nodeType.value.taskRunId.taskGuid;
  }

  /** Claims (if needed) and reports the newest attempt of the thread's current task. */
  finishTask(
    thread: number,
    status: TaskStatus,
    result: { output?: VariableValue; exception?: { name: string; content?: VariableValue } } = {},
  ): void {
    const guid = this.taskOf(thread);
    const taskRun = this.state.taskRuns.get(guid)!;
    const attempt = taskRun.attempts.length - 1;
    if (taskRun.attempts[attempt]!.status === TaskStatus.TASK_SCHEDULED) this.claim(guid, attempt);
    this.apply({
      kind: "taskReported",
      report: create(ReportTaskRunSchema, {
        taskRunId: { wfRunId: this.state.wfRun.id, taskGuid: guid },
        attemptNumber: attempt,
        status,
        result: result.exception
          ? {
              case: "exception",
              value: { name: result.exception.name, message: "", content: result.exception.content },
            }
          : result.output
            ? { case: "output", value: result.output }
            : { case: undefined },
      }),
    });
  }

  /** PutExternalEvent. */
  post(defName: string, content?: VariableValue, threadRunNumber?: number): ExternalEvent {
    const event = create(ExternalEventSchema, {
      id: {
        wfRunId: this.state.wfRun.id,
        externalEventDefId: { name: defName },
        guid: `event${++this.events}`,
      },
      createdAt: timestampFromMs(this.nowMs),
      content,
      threadRunNumber,
      claimed: false,
    });
    this.apply({ kind: "externalEventPosted", event });
    return event;
  }

  stop(thread = 0): boolean {
    return this.apply({ kind: "stopThread", threadRunNumber: thread });
  }

  resume(thread = 0): boolean {
    return this.apply({ kind: "resumeThread", threadRunNumber: thread });
  }

  rescue(thread: number, skipCurrentNode = false): boolean {
    return this.apply({ kind: "rescueThread", threadRunNumber: thread, skipCurrentNode });
  }
}
