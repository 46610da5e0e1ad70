/**
 * `Workflow.newWorkflow(name, (wf) => { … })`: a WfSpec defined by a function, compiled to a
 * PutWfSpecRequest by `compile()`. The function runs at compile time (each compile() runs it afresh).
 */
import { create } from "@bufbuild/protobuf";
import {
  ExponentialBackoffRetryPolicySchema,
  VariableType,
  type AllowedUpdateType,
  type ExponentialBackoffRetryPolicy,
  type PutTaskDefRequest,
  type PutWfSpecRequest,
  type TaskDef,
  type ThreadRetentionPolicy,
  type VariableDef,
  type WfSpec_ParentWfSpecReference,
  type WorkflowRetentionPolicy,
} from "@pony/proto";
import { CompileContext, type TaskInput } from "./builder";
import { LHWorkflowError, callSite, type CallSite } from "./errors";
import type { ThreadFunc } from "./thread";
import {
  toAllowedUpdateType,
  toVariableType,
  type AllowedUpdateTypeLike,
  type VariableTypeLike,
} from "./values";

/** The inputs of a TaskDef for compile-time checks: types in order, optionally with names. */
export type TaskDefInputs = readonly (VariableTypeLike | { name: string; type: VariableTypeLike })[];

/** LittleHorse metadata names: lower-case letters and digits with inner hyphens, at most 128 characters. */
const NAME_PATTERN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function defType(def: VariableDef): VariableType {
  if (def.type !== undefined) return def.type;
  const d = def.typeDef?.definedType;
  return d?.case === "primitiveType" ? d.value : VariableType.JSON_OBJ;
}

export class Workflow {
  readonly name: string;
  private readonly fn: ThreadFunc;
  private readonly site: CallSite | undefined;
  private readonly taskDefs = new Map<string, readonly TaskInput[]>();
  private retention: WorkflowRetentionPolicy | undefined;
  private defaultThreadRetention: ThreadRetentionPolicy | undefined;
  private parent: WfSpec_ParentWfSpecReference | undefined;
  private allowedUpdates: AllowedUpdateType | undefined;
  private defaultRetries: number | undefined;
  private defaultTimeoutSeconds: number | undefined;
  private defaultBackoff: ExponentialBackoffRetryPolicy | undefined;

  private constructor(name: string, fn: ThreadFunc, site: CallSite | undefined) {
    this.name = name;
    this.fn = fn;
    this.site = site;
  }

  /** A workflow named `name` (the WfSpec name) whose entrypoint thread is built by `entrypoint`. */
  static newWorkflow(name: string, entrypoint: ThreadFunc): Workflow {
    return new Workflow(name, entrypoint, callSite());
  }

  private error(problem: string, site: CallSite | undefined): LHWorkflowError {
    return new LHWorkflowError(problem, site, `WfSpec '${this.name}'`);
  }

  /** Deletes the WfRun `secondsAfterWfTermination` after it completes or fails. */
  withRetentionPolicy(policy: { secondsAfterWfTermination: number | bigint }): this {
    const seconds = policy.secondsAfterWfTermination;
    if ((typeof seconds !== "number" && typeof seconds !== "bigint") || seconds < 0) {
      throw this.error(
        `secondsAfterWfTermination must be a non-negative number, got ${String(seconds)}`,
        callSite(),
      );
    }
    this.retention = {
      $typeName: "littlehorse.WorkflowRetentionPolicy",
      wfGcPolicy: { case: "secondsAfterWfTermination", value: BigInt(seconds) },
    };
    return this;
  }

  /** The retention policy of every thread that does not set its own (`wf.withRetentionPolicy`). */
  withDefaultThreadRetentionPolicy(policy: { secondsAfterThreadTermination: number | bigint }): this {
    const seconds = policy.secondsAfterThreadTermination;
    if ((typeof seconds !== "number" && typeof seconds !== "bigint") || seconds < 0) {
      throw this.error(
        `secondsAfterThreadTermination must be a non-negative number, got ${String(seconds)}`,
        callSite(),
      );
    }
    this.defaultThreadRetention = {
      $typeName: "littlehorse.ThreadRetentionPolicy",
      threadGcPolicy: { case: "secondsAfterThreadTermination", value: BigInt(seconds) },
    };
    return this;
  }

  /** Makes WfRuns of this WfSpec children of WfRuns of `wfSpecName` (parent_wf_spec). */
  withParent(wfSpecName: string, majorVersion = 0): this {
    this.parent = {
      $typeName: "littlehorse.WfSpec.ParentWfSpecReference",
      wfSpecName,
      wfSpecMajorVersion: majorVersion,
    };
    return this;
  }

  /** Which new versions PutWfSpec may create: ALL_UPDATES, MINOR_REVISION_UPDATES or NO_UPDATES. */
  withUpdateType(type: AllowedUpdateTypeLike): this {
    try {
      this.allowedUpdates = toAllowedUpdateType(type);
    } catch (e) {
      throw this.error(e instanceof Error ? e.message : String(e), callSite());
    }
    return this;
  }

  /**
   * Declares the inputs of TaskDefs so `execute()` and reminder tasks are checked at compile time (argument
   * count and types): `withTaskDefs({ greet: ["STR"], add: [{ name: "a", type: "INT" }, "INT"] })`.
   * TaskDefs not listed are not checked.
   */
  withTaskDefs(defs: Readonly<Record<string, TaskDefInputs>>): this {
    const site = callSite();
    for (const [name, inputs] of Object.entries(defs)) {
      try {
        this.taskDefs.set(
          name,
          inputs.map((input) =>
            typeof input === "object"
              ? { name: input.name, type: toVariableType(input.type) }
              : { name: undefined, type: toVariableType(input) },
          ),
        );
      } catch (e) {
        throw this.error(
          `withTaskDefs(): TaskDef '${name}': ${e instanceof Error ? e.message : String(e)}`,
          site,
        );
      }
    }
    return this;
  }

  /** Like withTaskDefs, from a TaskDef (e.g. from GetTaskDef) or a PutTaskDefRequest. */
  withTaskDef(def: TaskDef | PutTaskDefRequest): this {
    const name = "name" in def ? def.name : (def.id?.name ?? "");
    this.taskDefs.set(
      name,
      def.inputVars.map((v) => ({ name: v.name, type: defType(v) })),
    );
    return this;
  }

  /** Default retries of every task node (`withRetries` on a node overrides it). */
  withDefaultTaskRetries(retries: number): this {
    if (!Number.isSafeInteger(retries) || retries < 0) {
      throw this.error(`retries must be a non-negative integer, got ${retries}`, callSite());
    }
    this.defaultRetries = retries;
    return this;
  }

  /** Default timeout of every task node (`timeout` on a node overrides it). */
  withDefaultTaskTimeout(seconds: number): this {
    if (!Number.isSafeInteger(seconds) || seconds <= 0) {
      throw this.error(`the timeout must be a positive integer, got ${seconds}`, callSite());
    }
    this.defaultTimeoutSeconds = seconds;
    return this;
  }

  /** Default exponential backoff of every task node. */
  withDefaultExponentialBackoff(policy: {
    baseIntervalMs: number;
    multiplier: number;
    maxDelayMs: number;
  }): this {
    this.defaultBackoff = create(ExponentialBackoffRetryPolicySchema, {
      baseIntervalMs: policy.baseIntervalMs,
      multiplier: policy.multiplier,
      maxDelayMs: BigInt(policy.maxDelayMs),
    });
    return this;
  }

  /**
   * Runs the workflow function and returns the PutWfSpecRequest. Throws LHWorkflowError for mistakes in the
   * definition, with the line of the offending call.
   */
  compile(): PutWfSpecRequest {
    if (typeof this.name !== "string" || this.name.length > 128 || !NAME_PATTERN.test(this.name)) {
      throw this.error(
        "invalid WfSpec name: names are lower-case letters, digits and inner hyphens, at most 128 characters",
        this.site,
      );
    }
    if (typeof this.fn !== "function")
      throw this.error("newWorkflow() needs a function building the workflow", this.site);
    const ctx = new CompileContext({
      name: this.name,
      taskDefs: this.taskDefs,
      defaultRetries: this.defaultRetries,
      defaultTimeoutSeconds: this.defaultTimeoutSeconds,
      defaultBackoff: this.defaultBackoff,
      defaultThreadRetention: this.defaultThreadRetention,
      retention: this.retention,
      parent: this.parent,
      allowedUpdates: this.allowedUpdates,
    });
    return ctx.compile(this.fn, this.site);
  }
}
