/** Human-readable names for types and operators, used in error messages. */
import { Comparator, VariableMutationType, VariableType } from "@pony/proto";

function comparatorNumber(n: number): Comparator {
  return n;
}

/**
 * Every comparator LittleHorse defines, by number. Pony's proto copy may lack NOT_EQUALS (5), IN (6) and
 * NOT_IN (7); the wire still carries them, so the engine handles them by number.
 */
export const Comparators = {
  LESS_THAN: Comparator.LESS_THAN,
  GREATER_THAN: Comparator.GREATER_THAN,
  LESS_THAN_EQ: Comparator.LESS_THAN_EQ,
  GREATER_THAN_EQ: Comparator.GREATER_THAN_EQ,
  EQUALS: Comparator.EQUALS,
  NOT_EQUALS: comparatorNumber(5),
  IN: comparatorNumber(6),
  NOT_IN: comparatorNumber(7),
} as const;

const COMPARATOR_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(Comparators).map(([name, value]) => [value as number, name]),
);

export function comparatorName(op: Comparator): string {
  return COMPARATOR_NAMES.get(op) ?? `Comparator(${op})`;
}

/** The name of a VariableType, e.g. "INT". */
export function typeLabel(t: VariableType): string {
  const name: string | undefined = VariableType[t];
  return name ?? `VariableType(${t})`;
}

export function mutationName(op: VariableMutationType): string {
  const name: string | undefined = VariableMutationType[op];
  return name ?? `VariableMutationType(${op})`;
}

/** "an INT", "a STR": a type name with its article, for messages. */
export function withArticle(name: string): string {
  return /^[AEIOU]/.test(name) ? `an ${name}` : `a ${name}`;
}
