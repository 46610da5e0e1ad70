/** A from/to time range as two local date-time inputs, in the page's URL (`from`, `to`: epoch ms). */
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";

const pad = (n: number) => String(n).padStart(2, "0");

export function toInput(msValue: number | undefined): string {
  if (msValue === undefined) return "";
  const d = new Date(msValue);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function fromInput(value: string): number | undefined {
  if (!value) return undefined;
  const t = new Date(value).getTime();
  return Number.isNaN(t) ? undefined : t;
}

export function msParam(params: URLSearchParams, name: string): number | undefined {
  const v = params.get(name);
  if (v === null || v === "") return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

export const ts = (msValue: number | undefined): Timestamp | undefined =>
  msValue === undefined ? undefined : timestampFromMs(msValue);

export function TimeRange({
  from,
  to,
  onChange,
}: {
  from: number | undefined;
  to: number | undefined;
  onChange: (from: number | undefined, to: number | undefined) => void;
}) {
  return (
    <>
      <label>
        From
        <input
          type="datetime-local"
          aria-label="from"
          value={toInput(from)}
          onChange={(e) => onChange(fromInput(e.target.value), to)}
        />
      </label>
      <label>
        To
        <input
          type="datetime-local"
          aria-label="to"
          value={toInput(to)}
          onChange={(e) => onChange(from, fromInput(e.target.value))}
        />
      </label>
    </>
  );
}
