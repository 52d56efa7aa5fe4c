import { describe, expect, it } from "vitest";
import type { RoundRecord } from "@propius/shared";
import type { EventLogLine } from "@propius/node-client";
import { roundTimings, summarize } from "./round-timings.js";

const record = (round: number, attempt: number, openedAt: number, closedAt: number, status: RoundRecord["status"] = "closed") =>
  ({ round, attempt, status, openedAt, closedAt }) as RoundRecord;

/** A training task of `device` in round `round`: handed out at `at`, downloaded, trained for `train` ms, acknowledged `up` ms later. */
function trainTask(device: string, round: number, at: number, down: number, train: number, up: number, attempt = 0): EventLogLine[] {
  const task = { device, job: "job_1", round, attempt, kind: "train" as const };
  return [
    { ...task, at, type: "task" },
    { ...task, at: at + down, type: "downloaded", bytes: 100 },
    { ...task, at: at + down + train, type: "trained", millis: train },
    { ...task, at: at + down + train + up, type: "uploaded", bytes: 50, reported: 1, demand: 2 },
  ];
}

function evaluateTask(device: string, round: number, at: number, millis: number): EventLogLine[] {
  const task = { device, job: "job_1", round, attempt: 0, kind: "evaluate" as const };
  return [{ ...task, at, type: "task" }, { ...task, at: at + millis, type: "evaluated", millis }];
}

describe("roundTimings", () => {
  it("sets each round's wall time against its slowest device's download, training and upload", () => {
    const lines: EventLogLine[] = [
      // Round 1 opens at 1,000; a is handed its task at 1,100 and done at 2,100; b, slower, at 1,200 and 3,200.
      ...trainTask("a", 1, 1_100, 100, 800, 100),
      ...trainTask("b", 1, 1_200, 200, 1_500, 300),
      // Round 2 opens at 3,400 on the close of round 1; a evaluates round 1's model first (500 ms), and b waits out a poll.
      ...evaluateTask("a", 1, 3_500, 500),
      ...trainTask("a", 2, 4_000, 0, 900, 100),
      { device: "b", at: 3_300, type: "wait", retryAfterMs: 2_000, reason: "already_reported" },
      ...trainTask("b", 2, 5_200, 0, 600, 200),
    ];
    const timings = roundTimings("job_1", [record(1, 0, 1_000, 3_400), record(2, 0, 3_400, 6_100)], lines);
    expect(timings[0]).toMatchObject({
      round: 1, attempts: 1, wallMs: 2_400, ceilingMs: 2_000, ratio: 1.2, maxTrainMs: 1_500,
      slowest: { device: "b", downloadMs: 200, trainMs: 1_500, uploadMs: 300 },
      firstTaskMs: 100, lastTaskMs: 200, closeMs: 200, devices: 2, evaluatingMs: 0,
    });
    // a's next task (an evaluation) came 1,400 ms after its upload; b's (training) 2,000 ms after.
    expect(timings[0].idleGapsMs.sort()).toEqual([1_400, 2_000]);
    expect(timings[1]).toMatchObject({ round: 2, wallMs: 2_700, ceilingMs: 1_000, firstTaskMs: 600, lastTaskMs: 1_800, closeMs: 100, evaluatingMs: 250, idleGapsMs: [] });
    expect(timings[1].slowest).toEqual({ device: "a", downloadMs: 0, trainMs: 900, uploadMs: 100 });
    expect(timings[1].maxTrainMs).toBe(900);
  });

  it("counts a retried round from its first attempt, against the devices of the attempt that closed", () => {
    const lines = [...trainTask("a", 1, 1_100, 0, 50_000, 0, 0), ...trainTask("a", 1, 62_000, 0, 1_000, 0, 1)];
    // Attempt 0's upload came after its deadline would have closed it; only attempt 1 counts for the device.
    const [timing] = roundTimings("job_1", [record(1, 0, 1_000, 61_000, "retried"), record(1, 1, 61_000, 63_500)], lines);
    expect(timing).toMatchObject({ attempts: 2, wallMs: 62_500, ceilingMs: 1_000, firstTaskMs: 61_000, closeMs: 500 });
  });

  it("refuses a round no device's log has an upload for, rather than inventing a ceiling", () => {
    expect(() => roundTimings("job_1", [record(1, 0, 0, 10)], trainTask("a", 1, 0, 0, 5, 0).slice(0, 3))).toThrow(/round 1: no device/);
  });
});

describe("summarize", () => {
  it("leaves the first round out of the median, p90 and idle time", () => {
    const timing = (round: number, ratio: number, idle: number[]) => ({ round, ratio, idleGapsMs: idle, lastTaskMs: round * 100 }) as ReturnType<typeof roundTimings>[number];
    const summary = summarize([timing(1, 9, [10_000]), timing(2, 1.5, [100, 300]), timing(3, 1.2, [200]), timing(4, 2.0, [])]);
    expect(summary).toEqual({ rounds: 3, medianRatio: 1.5, p90Ratio: 2.0, meanIdleMs: 200, medianLastTaskMs: 300 });
  });
});
