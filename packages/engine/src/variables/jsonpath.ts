/**
 * A small JSON path dialect: `$`, `$.a.b`, `$.list[0]`, `$['a key']`, `$["a key"]`, `$.a[2].b`.
 * No wildcards, filters, slices or negative indexes.
 */
import { type VariableValue } from "@pony/proto";
import { VarSubError } from "./errors";
import { isJsonObject } from "./json";
import { fromJs, toJs, typeName } from "./values";

export type PathSegment = { kind: "key"; key: string } | { kind: "index"; index: number };

/** Splits a JSON path into segments; a malformed path is a VarSubError. */
export function parseJsonPath(path: string): PathSegment[] {
  const bad = (why: string): VarSubError => new VarSubError(`invalid JSON path '${path}': ${why}`);
  if (!path.startsWith("$")) throw bad("it must start with '$'");
  const segments: PathSegment[] = [];
  let i = 1;
  while (i < path.length) {
    const c = path[i];
    if (c === ".") {
      let j = i + 1;
      while (j < path.length && path[j] !== "." && path[j] !== "[") j++;
      const key = path.slice(i + 1, j);
      if (key === "") throw bad(`empty name at position ${i}`);
      segments.push({ kind: "key", key });
      i = j;
    } else if (c === "[") {
      const q = path[i + 1];
      if (q === "'" || q === '"') {
        let key = "";
        let j = i + 2;
        for (;;) {
          const ch = path[j];
          if (ch === undefined) throw bad("unterminated quoted name");
          if (ch === q) break;
          if (ch === "\\") {
            const next = path[j + 1];
            if (next === undefined) throw bad("unterminated quoted name");
            key += next;
            j += 2;
          } else {
            key += ch;
            j++;
          }
        }
        if (path[j + 1] !== "]") throw bad(`expected ']' at position ${j + 1}`);
        segments.push({ kind: "key", key });
        i = j + 2;
      } else {
        const close = path.indexOf("]", i);
        if (close < 0) throw bad("missing ']'");
        const digits = path.slice(i + 1, close);
        if (!/^\d+$/.test(digits)) throw bad(`'[${digits}]' is not an index`);
        const index = Number(digits);
        if (!Number.isSafeInteger(index)) throw bad(`index ${digits} is too large`);
        segments.push({ kind: "index", index });
        i = close + 1;
      }
    } else {
      throw bad(`unexpected '${c}' at position ${i}`);
    }
  }
  return segments;
}

/** Looks up one segment in a JS value; `found` is false when the key or index is absent. */
export function step(container: unknown, seg: PathSegment): { found: boolean; value: unknown } {
  if (seg.kind === "index") {
    if (Array.isArray(container) && seg.index < container.length) {
      return { found: true, value: container[seg.index] };
    }
    return { found: false, value: undefined };
  }
  if (isJsonObject(container) && Object.hasOwn(container, seg.key)) {
    return { found: true, value: container[seg.key] };
  }
  return { found: false, value: undefined };
}

/** Renders segments back to path text, for messages. */
export function formatPath(segments: readonly PathSegment[]): string {
  return (
    "$" +
    segments
      .map((s) =>
        s.kind === "index"
          ? `[${s.index}]`
          : /^[A-Za-z_$][\w$-]*$/.test(s.key)
            ? `.${s.key}`
            : `['${s.key.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}']`,
      )
      .join("")
  );
}

/** Walks a path through a parsed JSON value; a missing step is a VarSubError naming the path. */
export function getAtPath(root: unknown, path: string, what: string): unknown {
  const segments = parseJsonPath(path);
  let current = root;
  for (let n = 0; n < segments.length; n++) {
    const seg = segments[n]!;
    const r = step(current, seg);
    if (!r.found) {
      throw new VarSubError(
        `JSON path '${path}' not found in ${what}: nothing at ${formatPath(segments.slice(0, n + 1))}`,
      );
    }
    current = r.value;
  }
  return current;
}

/**
 * The part of a JSON_OBJ / JSON_ARR value that `path` selects, converted with fromJs. Any other type, or a
 * path that is missing, is a VarSubError.
 */
export function applyJsonPath(v: VariableValue, path: string, what: string): VariableValue {
  const c = v.value.case;
  if (c !== "jsonObj" && c !== "jsonArr") {
    throw new VarSubError(
      `cannot apply JSON path '${path}' to ${what}: it is ${typeName(v)}, not JSON_OBJ or JSON_ARR`,
    );
  }
  return fromJs(getAtPath(toJs(v), path, what));
}
