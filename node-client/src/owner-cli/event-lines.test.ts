import { describe, expect, it } from "vitest";
import { jobEventSchema, type JobEvent, type JobStatus } from "@propius/shared";
import { bar, ends, eventLine } from "./event-lines.js";

const at = Date.UTC(2026, 11, 3, 7, 4, 5, 678);
const event = (fields: Record<string, unknown>): JobEvent => jobEventSchema.parse({ seq: 1, at, jobId: "job_abcdefgh", ...fields });
const round = { round: 2, attempt: 0, status: "closed", demand: 4, bound: 4, reported: 3, failed: {}, timedOut: 1, examples: 90, trainLoss: 0.51234, testAccuracy: null, testLoss: null, bytesIn: 10, bytesOut: 20, openedAt: at - 2_500, selectedAt: at - 2_000, aggregatingAt: at - 300, closedAt: at, baseModel: "a".repeat(64), resultModel: "b".repeat(64) };

describe("jobs follow's lines", () => {
  it("draws a round's progress as a bar of its demand", () => {
    expect(bar(0, 4, 8)).toBe("[........] 0/4");
    expect(bar(3, 4, 8)).toBe("[######..] 3/4");
    expect(bar(5, 4, 8)).toBe("[########] 5/4");
    expect(bar(0, 0, 4)).toBe("[....] 0/0");
  });

  it("says what each event is, after the job's clock", () => {
    expect(eventLine(event({ type: "round_opened", round: 2, attempt: 1, demand: 4, baseModel: "c".repeat(64) }))).toBe("07:04:05.678  round 2 (attempt 1) opened for 4 devices, model cccccccccccc");
    expect(eventLine(event({ type: "update_accepted", round: 2, attempt: 0, reported: 1, demand: 4 }))).toBe("07:04:05.678  round 2 reported [#####...............] 1/4");
    expect(eventLine(event({ type: "round_closed", round: 2, attempt: 0, record: round }))).toBe("07:04:05.678  round 2 closed after 2.5 s (selection 0.5, training 1.7, aggregation 0.3): 3 reports, train-loss 0.5123, model bbbbbbbbbbbb");
    expect(eventLine(event({ type: "update_refused", round: 2, code: "round_closed" }))).toContain("an update was refused: round_closed");
    expect(eventLine(event({ type: "device_failed", round: 2, attempt: 0, code: "missing_kernel", evaluation: true }))).toContain("could not do its evaluation: missing_kernel");
    expect(eventLine(event({ type: "evaluation_recorded", round: 2, by: "devices", accuracy: 0.9, loss: null, reported: 3 }))).toContain("evaluated by 3 devices: accuracy 0.9000, loss -");
    expect(eventLine(event({ type: "state_changed", from: "running", to: "done" }))).toBe("07:04:05.678  job running -> done");
  });

  it("ends when the job has ended, or had when the subscription began", () => {
    const status = (state: string) => ({ id: "job_abcdefgh", name: "n", state, currentRound: 1, totalRounds: 2, rounds: [], modelVersion: 0, modelHash: null }) as unknown as JobStatus;
    expect(ends(event({ type: "state_changed", from: "running", to: "cancelled" }))).toBe(true);
    expect(ends(event({ type: "state_changed", from: "pending_model", to: "running" }))).toBe(false);
    expect(ends(event({ type: "snapshot", status: status("done") }))).toBe(true);
    expect(ends(event({ type: "snapshot", status: status("running") }))).toBe(false);
    expect(ends(event({ type: "round_closed", round: 2, attempt: 0, record: round }))).toBe(false);
  });
});
