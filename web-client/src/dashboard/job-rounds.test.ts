import { describe, expect, it } from "vitest";
import type { JobEvent, JobStatus, RoundRecord } from "@propius/shared";
import { JobRounds } from "./job-rounds.js";

const base = { jobId: "j1", at: 1_000 };
const record = (round: number, change: Partial<RoundRecord> = {}): RoundRecord => ({
  round, attempt: 1, status: "closed", demand: 2, bound: 2, reported: 2, failed: {}, timedOut: 0, examples: 200, trainLoss: 0.5,
  testAccuracy: null, testLoss: null, bytesIn: 2048, bytesOut: 4096, openedAt: 1_000, selectedAt: 1_500, aggregatingAt: 3_000, closedAt: 3_500, baseModel: "a", resultModel: "b", ...change,
});
const snapshot = (rounds: RoundRecord[]): JobEvent => ({
  ...base, seq: 1, type: "snapshot",
  status: { id: "j1", tenant: "t", name: "n", state: "running", createdAt: 0, updatedAt: 0, currentRound: Math.max(0, ...rounds.map((r) => r.round)), totalRounds: 3, modelVersion: 1, modelHash: "b", spec: {} as JobStatus["spec"], rounds },
});

describe("JobRounds: a job's rounds folded from its event stream", () => {
  it("starts from the snapshot, keeping a retried round's latest attempt", () => {
    const rounds = new JobRounds();
    rounds.apply(snapshot([record(1), record(2, { status: "retried", reported: 1, closedAt: null }), record(2, { attempt: 2, status: "open", bound: 1, reported: 0, closedAt: null })]));
    expect(rounds.list.map((r) => [r.round, r.attempt, r.status, r.bound, r.durationSeconds])).toEqual([[1, 1, "closed", 2, 2.5], [2, 2, "open", 1, null]]);
    expect([rounds.state, rounds.currentRound]).toEqual(["running", 2]);
  });

  it("counts bindings, reports and training failures as they come, then takes the closed record", () => {
    const rounds = new JobRounds();
    rounds.apply(snapshot([]));
    const events: JobEvent[] = [
      { ...base, seq: 2, type: "round_opened", round: 1, attempt: 1, demand: 3, baseModel: "a" },
      { ...base, seq: 3, type: "device_bound", round: 1, attempt: 1, bound: 1, demand: 3 },
      { ...base, seq: 4, type: "device_bound", round: 1, attempt: 1, bound: 2, demand: 3 },
      { ...base, seq: 5, type: "update_accepted", round: 1, attempt: 1, reported: 1, demand: 3 },
      { ...base, seq: 6, type: "device_failed", round: 1, attempt: 1, code: "data_mismatch", evaluation: false },
      { ...base, seq: 7, type: "device_failed", round: 1, attempt: 1, code: "data_mismatch", evaluation: true },
      { ...base, seq: 8, type: "update_refused", round: 1, code: "round_closed" },
    ];
    // A failed evaluation task is not a training failure: it changes nothing shown.
    expect(events.map((event) => rounds.apply(event))).toEqual([true, true, true, true, true, false, true]);
    expect(rounds.list[0]).toMatchObject({ round: 1, status: "open", demand: 3, bound: 2, reported: 1, failed: 1, durationSeconds: null });
    expect([...rounds.refused]).toEqual([["round_closed", 1]]);

    rounds.apply({ ...base, seq: 9, type: "evaluation_recorded", round: 1, by: "devices", accuracy: 0.7, loss: 0.9, reported: 2 });
    rounds.apply({ ...base, seq: 10, type: "round_closed", round: 1, attempt: 1, record: record(1, { failed: { data_mismatch: 1 }, reported: 1, bound: 2 }) });
    rounds.apply({ ...base, seq: 11, type: "evaluation_recorded", round: 1, by: "owner", accuracy: 0.8, loss: 0.6 });
    expect(rounds.list[0]).toMatchObject({ status: "closed", failed: 1, trainLoss: 0.5, testAccuracy: 0.8, testLoss: 0.6, evalAccuracy: 0.7, evalLoss: 0.9, bytesIn: 2048, bytesOut: 4096, durationSeconds: 2.5, selectionSeconds: 0.5, trainingSeconds: 1.5, aggregationSeconds: 0.5 });
  });

  it("ignores events of a round it never saw open, and follows state changes", () => {
    const rounds = new JobRounds();
    rounds.apply(snapshot([]));
    expect(rounds.apply({ ...base, seq: 2, type: "update_accepted", round: 4, attempt: 1, reported: 1, demand: 2 })).toBe(false);
    expect(rounds.list).toEqual([]);
    rounds.apply({ ...base, seq: 3, type: "state_changed", from: "running", to: "cancelled" });
    expect(rounds.state).toBe("cancelled");
  });
});
