/**
 * How the table output shows values a person reads: statuses in colour (only on a terminal, and never with
 * NO_COLOR), timestamps as local times, durations in the largest units that fit, and tables without borders
 * (cli-table3), one row per object.
 */
import { inspect } from "node:util";
import Table from "cli-table3";

export interface Styler {
  /** colour a status name (RUNNING, TASK_SUCCESS, …) by what it means */
  status(name: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

type Colour = "green" | "red" | "magenta" | "cyan" | "dim" | "bold";

/**
 * Whether to colour: on a terminal unless `NO_COLOR` is set or `TERM` is `dumb`; `FORCE_COLOR` (not `0`)
 * colours even when piped. Decided here, once, rather than by Node's own stream check, which also turns
 * colour off when `TERM` is unset and would then disagree with the table/JSON choice.
 */
export function wantsColour(isTerminal: boolean, env: Record<string, string | undefined>): boolean {
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0") return true;
  return isTerminal && env.TERM !== "dumb";
}

function ansi(c: Colour, text: string): string {
  const [open, close] = inspect.colors[c] ?? [0, 0];
  return `\u001b[${open}m${text}\u001b[${close}m`;
}

const GOOD = /^(COMPLETED|TASK_SUCCESS|DONE)$/;
const BAD =
  /^(ERROR|EXCEPTION|TASK_FAILED|TASK_TIMEOUT|TASK_EXCEPTION|TASK_OUTPUT_SERDE_ERROR|TASK_INPUT_VAR_SUB_ERROR|CANCELLED)$/;
const MOVING = /^(RUNNING|STARTING|TASK_RUNNING|TASK_SCHEDULED|TASK_PENDING|ASSIGNED|UNASSIGNED)$/;
const STOPPED = /^(HALTED|HALTING)$/;

export function styler(colour: boolean): Styler {
  const paint = (c: Colour, text: string) => (colour ? ansi(c, text) : text);
  return {
    status(name) {
      if (GOOD.test(name)) return paint("green", name);
      if (BAD.test(name)) return paint("red", name);
      if (STOPPED.test(name)) return paint("magenta", name);
      if (MOVING.test(name)) return paint("cyan", name);
      return name;
    },
    dim: (text) => paint("dim", text),
    bold: (text) => paint("bold", text),
  };
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** A protobuf JSON timestamp (RFC 3339) as a local time, `2026-12-06 18:40:02.125`; "-" when unset. */
export function localTime(rfc3339: unknown): string {
  if (typeof rfc3339 !== "string" || rfc3339 === "") return "-";
  const d = new Date(rfc3339);
  if (Number.isNaN(d.getTime())) return rfc3339;
  const ms = d.getMilliseconds();
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}` +
    (ms ? `.${pad(ms, 3)}` : "")
  );
}

/** A duration in ms as `850ms`, `1.2s`, `3m 04s`, `2h 05m`, `3d 4h`. */
export function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "-";
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${pad(Math.floor(s % 60))}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${pad(m % 60)}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** A borderless table: a header row, then the rows, columns two spaces apart. */
export function table(head: string[], rows: string[][]): string {
  const none = "";
  const t = new Table({
    head,
    chars: {
      top: none,
      "top-mid": none,
      "top-left": none,
      "top-right": none,
      bottom: none,
      "bottom-mid": none,
      "bottom-left": none,
      "bottom-right": none,
      left: none,
      "left-mid": none,
      mid: none,
      "mid-mid": none,
      right: none,
      "right-mid": none,
      middle: "  ",
    },
    style: { head: [], border: [], "padding-left": 0, "padding-right": 0 },
  });
  t.push(...rows);
  return `${t
    .toString()
    .split("\n")
    .map((l) => l.trimEnd())
    .join("\n")}\n`;
}
