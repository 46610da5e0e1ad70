/** Drives the pure engine in tests: no server, no database, a fake clock and counting ids. */
import { create } from "@bufbuild/protobuf";
import {
  ReportTaskRunSchema,
  RunWfRequestSchema,
  TaskStatus,
  type VariableValue,
  type WfSpec,
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
} from "../../src";
import { lookupOf, taskDef, wfRequest, type LookupContents } from "../metadata/fixtures";
import type { ThreadSpec, TaskDef } from "@pony/proto";

export class EngineHarness {
  nowMs = 1_700_000_000_000;
  private guid = 0;
  effects: Effect[] = [];
  readonly taskDefs: TaskDef[];
  state!: WfRunState;
  wfSpec: WfSpec;

  constructor(threads: Record<string, ThreadSpec>, contents: LookupContents = {}) {
    this.taskDefs = contents.taskDefs ?? [taskDef("work", [])];
    const built = buildWfSpec(wfRequest(threads), lookupOf({ ...contents, taskDefs: this.taskDefs }));
    const decision = decideWfSpecVersion(built, undefined, undefined, new Date(this.nowMs));
    this.wfSpec = decision.wfSpec;
  }

  ctx(maxNodeRunsPerCommand = 1000): EngineContext {
    return {
      nowMs: this.nowMs,
      newGuid: () => `guid${++this.guid}`,
      taskDef: (name) => this.taskDefs.find((t) => t.id?.name === name),
      effects: this.effects,
      maxNodeRunsPerCommand,
      maxThreadsPerWfRun: 100,
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
