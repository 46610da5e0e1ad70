/**
 * Questions on a terminal or a pipe, for `pony execute`: one line per answer. Answers are read with
 * node:readline's line iterator, so lines that arrive before their question (a pipe) wait for it.
 */
import readline from "node:readline";
import type { Readable, Writable } from "node:stream";
import { VariableType, type UserTaskField, type VariableValue } from "@pony/proto";
import { CliUsageError } from "./context";
import { parseValue, typeName, ValueError } from "./values";

export class LineReader {
  private readonly rl: readline.Interface;
  private readonly lines: AsyncIterator<string>;
  private readonly tty: boolean;

  constructor(
    input: Readable,
    private readonly output: Writable,
  ) {
    this.tty = Boolean((input as { isTTY?: boolean }).isTTY && (output as { isTTY?: boolean }).isTTY);
    this.rl = readline.createInterface({ input, output, terminal: this.tty });
    this.lines = this.rl[Symbol.asyncIterator]();
  }

  /** Writes the question and waits for the next line; undefined when the input has ended. */
  async ask(question: string): Promise<string | undefined> {
    this.rl.setPrompt(question);
    this.rl.prompt();
    const next = await this.lines.next();
    // a terminal echoes what was typed; for piped answers, write them after their question
    if (!this.tty) this.output.write(next.done ? "\n" : `${next.value}\n`);
    return next.done ? undefined : next.value;
  }

  close(): void {
    this.rl.close();
  }
}

const HINTS: Record<VariableType, string> = {
  [VariableType.STR]: "text",
  [VariableType.INT]: "a whole number",
  [VariableType.DOUBLE]: "a number",
  [VariableType.BOOL]: "true or false",
  [VariableType.JSON_OBJ]: "a JSON object",
  [VariableType.JSON_ARR]: "a JSON array",
  [VariableType.BYTES]: "base64",
};

/** The question asked for a field: `Approved? [approved, BOOL: true or false, required]: `. */
export function fieldQuestion(field: UserTaskField): string {
  const label = field.displayName || field.name;
  const need = field.required ? "required" : "optional, Enter to skip";
  return `${label} [${field.name}, ${typeName(field.type)}: ${HINTS[field.type] ?? "a value"}, ${need}]: `;
}

/**
 * Asks for each field in turn and types the answer by the field's type. An empty answer skips an optional
 * field; an answer that does not fit (or an empty one for a required field) is asked again. When the input
 * ends, the remaining optional fields are skipped and a remaining required one is an error.
 */
export async function promptForFields(
  fields: readonly UserTaskField[],
  reader: LineReader,
  note: (text: string) => void,
): Promise<Record<string, VariableValue>> {
  const results: Record<string, VariableValue> = {};
  for (const field of fields) {
    if (field.description) note(`${field.displayName || field.name}: ${field.description}`);
    for (;;) {
      const answer = await reader.ask(fieldQuestion(field));
      if (answer === undefined) {
        // the input has ended (a pipe): optional fields stay unset, a required one cannot
        if (!field.required) break;
        throw new CliUsageError(`the input ended before field '${field.name}' was answered`);
      }
      if (answer.trim() === "") {
        if (!field.required) break;
        note(`  '${field.name}' is required`);
        continue;
      }
      try {
        results[field.name] = parseValue(answer, field.type);
        break;
      } catch (e) {
        if (!(e instanceof ValueError)) throw e;
        note(`  ${e.message}: '${field.name}' is ${HINTS[field.type] ?? typeName(field.type)}, try again`);
      }
    }
  }
  return results;
}

/** Asks for a non-empty line (e.g. the user id completing a task). */
export async function promptText(reader: LineReader, question: string, what: string): Promise<string> {
  for (;;) {
    const answer = await reader.ask(question);
    if (answer === undefined) throw new CliUsageError(`the input ended before ${what} was answered`);
    if (answer.trim() !== "") return answer.trim();
  }
}
