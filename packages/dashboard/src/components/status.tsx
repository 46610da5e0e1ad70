import { statusTone } from "../api/format";

/** A status as a coloured pill (data-status carries the enum name, for people and for tests). */
export function StatusBadge({ status }: { status: string }) {
  return (
    <span className={`status status-${statusTone(status)}`} data-status={status}>
      {status.replace(/^TASK_/, "").replaceAll("_", " ")}
    </span>
  );
}
