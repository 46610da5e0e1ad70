/**
 * A reader for Java-style `.properties` text, the format of LittleHorse's `littlehorse.config`: `KEY=VALUE`
 * (or `KEY: VALUE`, or `KEY VALUE`), `#` and `!` comment lines, a trailing backslash continuing a line, and
 * the escapes `\t \n \r \f \\ \uXXXX`. Later keys win over earlier ones, as in java.util.Properties.
 */
export function parseProperties(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split(/\r\n|\r|\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = trimStart(lines[i] ?? "");
    if (line === "" || line.startsWith("#") || line.startsWith("!")) continue;
    // an odd number of trailing backslashes continues the logical line on the next physical one
    while (endsWithContinuation(line) && i + 1 < lines.length) {
      line = line.slice(0, -1) + trimStart(lines[++i] ?? "");
    }
    if (endsWithContinuation(line)) line = line.slice(0, -1);
    const { key, value } = splitKeyValue(line);
    out[unescape(key)] = unescape(value);
  }
  return out;
}

function trimStart(s: string): string {
  return s.replace(/^[ \t\f]+/, "");
}

function endsWithContinuation(line: string): boolean {
  let n = 0;
  for (let i = line.length - 1; i >= 0 && line[i] === "\\"; i--) n++;
  return n % 2 === 1;
}

function splitKeyValue(line: string): { key: string; value: string } {
  let i = 0;
  while (i < line.length) {
    const ch = line[i];
    if (ch === "\\") {
      i += 2;
      continue;
    }
    if (ch === "=" || ch === ":" || ch === " " || ch === "\t" || ch === "\f") break;
    i++;
  }
  const key = line.slice(0, i);
  let rest = line.slice(i);
  // the separator: optional whitespace, at most one '=' or ':', optional whitespace
  rest = trimStart(rest);
  if (rest.startsWith("=") || rest.startsWith(":")) rest = trimStart(rest.slice(1));
  return { key, value: rest.replace(/[ \t\f]+$/, "") };
}

function unescape(s: string): string {
  return s.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_m, esc: string) => {
    if (esc.length === 5) return String.fromCharCode(parseInt(esc.slice(1), 16));
    switch (esc) {
      case "t":
        return "\t";
      case "n":
        return "\n";
      case "r":
        return "\r";
      case "f":
        return "\f";
      default:
        return esc;
    }
  });
}
