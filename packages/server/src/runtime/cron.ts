/**
 * Cron expressions of scheduled WfRuns: the standard five fields (minute, hour, day of month, month, day of
 * week), evaluated in UTC by cron-parser. A tick is a time the expression matches, to the minute.
 */
import { CronExpressionParser, type CronExpression } from "cron-parser";
import { InvalidArgumentError } from "@pony/engine";

const FIELDS = ["minute", "hour", "day of month", "month", "day of week"];

export class Cron {
  private constructor(
    readonly expression: string,
    private readonly fields: string,
  ) {}

  /** Parses an expression; INVALID_ARGUMENT naming the problem when it is not five valid fields. */
  static parse(expression: string, what = "cron_expression"): Cron {
    const fields = expression.trim().split(/\s+/).filter(Boolean);
    if (fields.length !== 5) {
      throw new InvalidArgumentError(
        `${what} '${expression}' has ${fields.length} field${fields.length === 1 ? "" : "s"}: ` +
          `a cron expression has five (${FIELDS.join(", ")}), e.g. '0 9 * * 1-5'`,
      );
    }
    let parsed: CronExpression;
    try {
      parsed = CronExpressionParser.parse(fields.join(" "), { tz: "UTC" });
    } catch (e) {
      throw new InvalidArgumentError(`${what} '${expression}' is not valid: ${messageOf(e)}`);
    }
    const cron = new Cron(expression, fields.join(" "));
    // an expression that parses may still never match (the 31st of February)
    try {
      parsed.next();
    } catch (e) {
      throw new InvalidArgumentError(`${what} '${expression}' never matches: ${messageOf(e)}`);
    }
    return cron;
  }

  /** The first tick strictly after `ms`. */
  nextAfter(ms: number): number {
    return this.at(ms).next().getTime();
  }

  /**
   * The newest `limit` ticks t with fromMs <= t <= toMs, oldest first (read backwards from `toMs`, so a long
   * gap costs at most `limit` steps).
   */
  ticksBetween(fromMs: number, toMs: number, limit: number): number[] {
    const out: number[] = [];
    if (limit <= 0 || toMs < fromMs) return out;
    // prev() answers ticks strictly before the current date: start just after toMs
    const it = this.at(toMs + 1);
    while (out.length < limit) {
      let t: number;
      try {
        t = it.prev().getTime();
      } catch {
        break;
      }
      if (t < fromMs) break;
      out.push(t);
    }
    return out.reverse();
  }

  private at(ms: number): CronExpression {
    return CronExpressionParser.parse(this.fields, { tz: "UTC", currentDate: new Date(ms) });
  }
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
