/** Format strings: `{0}`, `{1}`, … replaced by the text form of each argument. */
import { type VariableValue } from "@pony/proto";
import { VarSubError } from "./errors";
import { stringForm } from "./values";

/** Replaces every `{n}` in `template` by the text form of `args[n]`; an index out of range is a VarSubError. */
export function formatTemplate(template: string, args: readonly VariableValue[]): string {
  return template.replace(/\{(\d+)\}/g, (_match: string, digits: string): string => {
    const index = Number(digits);
    const arg = args[index];
    if (arg === undefined) {
      throw new VarSubError(
        `format string ${JSON.stringify(template)} refers to {${digits}} but only ${args.length} ` +
          `argument${args.length === 1 ? " was" : "s were"} given`,
      );
    }
    return stringForm(arg);
  });
}
