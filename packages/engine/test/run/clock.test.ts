import { describe, expect, it } from "vitest";
import { TaskStatus } from "@pony/proto";
import { timestampAt } from "../../src";
import { linearThread, task, value } from "../metadata/fixtures";
import { EngineHarness } from "./harness";

describe("task attempt times to the microsecond", () => {
  it("timestampAt keeps a fraction of a millisecond to the µs and carries into the seconds", () => {
    expect(timestampAt(1_700_000_000_123 + 0.4567)).toMatchObject({
      seconds: 1_700_000_000n,
      nanos: 123_457_000,
    });
    expect(timestampAt(1_700_000_001_999 + 0.9996)).toMatchObject({ seconds: 1_700_000_002n, nanos: 0 });
    expect(timestampAt(1_700_000_000_000)).toMatchObject({ seconds: 1_700_000_000n, nanos: 0 });
  });

  it("B-TASK-3 an attempt's schedule, start and end times carry the clock's microseconds", () => {
    const h = new EngineHarness({ entrypoint: linearThread([task("work")]) });
    h.preciseNowMs = h.nowMs + 0.25;
    h.run();
    h.preciseNowMs = h.nowMs + 0.5;
    h.claim("guid1");
    h.preciseNowMs = h.nowMs + 0.75;
    h.report("guid1", 0, TaskStatus.TASK_SUCCESS, value.str("ok"));
    const attempt = h.state.taskRuns.get("guid1")?.attempts[0];
    expect(attempt?.scheduleTime?.nanos).toBe(250_000);
    expect(attempt?.startTime?.nanos).toBe(500_000);
    expect(attempt?.endTime?.nanos).toBe(750_000);
  });

  it("without a sub-millisecond clock the times are whole milliseconds", () => {
    const h = new EngineHarness({ entrypoint: linearThread([task("work")]) });
    h.run();
    expect(h.state.taskRuns.get("guid1")?.attempts[0]?.scheduleTime?.nanos).toBe(0);
  });
});
