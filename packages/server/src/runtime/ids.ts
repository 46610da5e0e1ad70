import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { WfRunIdSchema, type WfRunId } from "@pony/proto";
import { InvalidArgumentError } from "@pony/engine";

/** A WfRun's storage key: its id, prefixed by its parents' ids (`parent_child`), as LittleHorse shows them. */
export function wfRunKey(id: WfRunId): string {
  return id.parentWfRunId ? `${wfRunKey(id.parentWfRunId)}_${id.id}` : id.id;
}

/** WfRun ids are what LittleHorse allows: lower-case letters, digits, '.', '-' and '_', as names are. */
const WF_RUN_ID = /^[a-z0-9][a-z0-9._-]{0,127}$/;

export function checkWfRunIdText(id: string): void {
  if (!WF_RUN_ID.test(id)) {
    throw new InvalidArgumentError(
      `invalid WfRun id '${id}': use 1 to 128 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit`,
    );
  }
}

export function requireWfRunId(id: WfRunId | undefined, what = "wf_run_id"): WfRunId {
  if (!id || id.id === "") throw new InvalidArgumentError(`${what} is required`);
  return id;
}

export function newWfRunId(id: string, parent?: WfRunId): WfRunId {
  return create(WfRunIdSchema, { id, parentWfRunId: parent });
}

/** An id for a RunWf that names none, of LittleHorse's form: 32 hexadecimal digits. */
export function madeUpWfRunId(): string {
  return randomUUID().replaceAll("-", "");
}
