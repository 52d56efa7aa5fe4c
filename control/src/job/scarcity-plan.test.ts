import { describe, expect, it } from "vitest";
import { attemptDemand, nextRoundDemand, starvedFailure } from "./scarcity-plan.js";

describe("a job's plan for scarcity", () => {
  it("keeps a round's demand without a plan, and before the stated number of failed attempts", () => {
    expect([1, 2, 5].map((attempt) => attemptDemand(undefined, 40, attempt))).toEqual([40, 40, 40]);
    expect([1, 2].map((attempt) => attemptDemand({ shrinkAfterAttempts: 3 }, 40, attempt))).toEqual([40, 40]);
  });

  it("halves each attempt's demand from then on, down to the floor", () => {
    const plan = { shrinkAfterAttempts: 2, minClientsPerRound: 8 };
    let demand = 40;
    const demands = [1, 2, 3, 4, 5].map((attempt) => (demand = attemptDemand(plan, demand, attempt)));
    expect(demands).toEqual([40, 20, 10, 8, 8]);
    expect(attemptDemand({ shrinkAfterAttempts: 1 }, 3, 1)).toBe(2);
    expect(attemptDemand({ shrinkAfterAttempts: 1 }, 1, 1)).toBe(1);
    // A floor above the round's demand does not raise it.
    expect(attemptDemand({ shrinkAfterAttempts: 1, minClientsPerRound: 50 }, 40, 1)).toBe(40);
  });

  it("asks the next round for the full demand, or for what a shrunk round closed with when the job keeps it", () => {
    expect(nextRoundDemand(undefined, 40, 10)).toBe(40);
    expect(nextRoundDemand({ shrinkAfterAttempts: 1 }, 40, 10)).toBe(40);
    expect(nextRoundDemand({ shrinkAfterAttempts: 1, keepShrunkDemand: true }, 40, 10)).toBe(10);
    expect(nextRoundDemand({ keepShrunkDemand: true }, 40, 40)).toBe(40);
  });

  it("fails a job that closed no round within its limit, and says why", () => {
    expect(starvedFailure(undefined, 0, 1e12, "x")).toBeNull();
    expect(starvedFailure({ failAfterSeconds: 600 }, 1_000, 600_999, "x")).toBeNull();
    expect(starvedFailure({ failAfterSeconds: 600 }, 1_000, 601_000, "starving: 3 eligible online, needs 8")).toBe(
      "no round closed for 600 s (the job's limit is 600 s): starving: 3 eligible online, needs 8",
    );
  });
});
