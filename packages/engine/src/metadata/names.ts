import { InvalidArgumentError } from "../errors";

/** Metadata names (B-META-2): lower-case letters and digits, with hyphens only between them. */
export const METADATA_NAME_PATTERN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** The longest metadata name accepted. */
export const MAX_METADATA_NAME_LENGTH = 128;

/**
 * Checks the name of a TaskDef, WfSpec, ExternalEventDef, WorkflowEventDef or UserTaskDef (B-META-2).
 * `kind` is only used in the message, e.g. "TaskDef". Throws InvalidArgumentError.
 */
export function validateName(kind: string, name: string): void {
  if (name.length > MAX_METADATA_NAME_LENGTH) {
    throw new InvalidArgumentError(
      `invalid ${kind} name '${name.slice(0, 32)}…': names are at most ${MAX_METADATA_NAME_LENGTH} characters long`,
    );
  }
  if (!METADATA_NAME_PATTERN.test(name)) {
    throw new InvalidArgumentError(
      `invalid ${kind} name '${name}': names are lower-case letters, digits and inner hyphens`,
    );
  }
}
