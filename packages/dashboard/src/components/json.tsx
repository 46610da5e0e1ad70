import type { VariableValue } from "@pony/proto";
import { formatValue } from "../api/format";

/** A value pretty-printed: JSON indented in a block, short scalars inline. */
export function ValueView({ value }: { value: VariableValue | undefined }) {
  const text = formatValue(value);
  return text.includes("\n") || text.length > 60 ? (
    <pre className="json">{text}</pre>
  ) : (
    <code className="value">{text}</code>
  );
}
