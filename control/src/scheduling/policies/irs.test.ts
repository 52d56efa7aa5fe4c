import { describe, expect, it } from "vitest";
import { createPolicy, fastTierBoundary, irsPlan, mergeGroups, type JobView } from "./index.js";
import { device, job, sample } from "./test-views.js";

/**
 * Hand-computed case. Groups by constraint: S (ram >= 6), M (ram >= 4), L (ram >= 2).
 * Supply sample: ten devices with ram 8, 8, 6, 4, 4, 4, 2, 2, 2, 2.
 *   Eligible supply A: S = 3 (8, 8, 6), M = 6 (those and 4, 4, 4), L = 10.  Scarcest first: S, M, L.
 *   Disjoint allocation a (each device to the scarcest group it is eligible for):
 *     S = 3 (8, 8, 6), M = 3 (4, 4, 4), L = 4 (2, 2, 2, 2).
 * Demand m = free slots of the group's jobs.
 */
const supply = sample(["8a", "8b", "6", "4a", "4b", "4c", "2a", "2b", "2c", "2d"].map((id) => device(id, Number.parseInt(id, 10))));
const jobsWith = (s: number, l: number): JobView[] => [
  job("s1", { ram: 6, openSlots: s, demand: s, remainingRounds: 10 }),
  job("m1", { ram: 4, openSlots: 3, demand: 3, remainingRounds: 10 }),
  job("l1", { ram: 2, openSlots: l, demand: l, remainingRounds: 10 }),
];

describe("IRS group allocation and merging", () => {
  it("allocates disjoint device sets, scarcest group first", () => {
    const plan = irsPlan(jobsWith(3, 4), supply);
    expect(plan.groups.map((g) => [g.jobs[0].id, g.supply, g.allocated, g.demand])).toEqual([
      ["s1", 3, 3, 3],
      ["m1", 6, 3, 3],
      ["l1", 10, 4, 4],
    ]);
  });

  it("keeps groups apart when no abundant group has more demand per device than the next scarcer one", () => {
    // L: 4/4 = 1 > M: 3/3 = 1? no, L stops. M: 3/3 = 1 > S: 3/3 = 1? no.
    expect(irsPlan(jobsWith(3, 4), supply).owner).toEqual([0, 1, 2]);
  });

  it("merges a scarcer group into an abundant one while m/A_g > m_h/A_h", () => {
    // L: 8/4 = 2 > M: 3/3 = 1, merge: m = 11, a = 7.  11/7 = 1.57 > S: 6/3 = 2? no, stop.
    expect(irsPlan(jobsWith(6, 8), supply).owner).toEqual([0, 2, 2]);
    // L: 16/4 = 4 > 1, merge: 19/7 = 2.71 > S: 3/3 = 1, merge all.
    expect(irsPlan(jobsWith(3, 16), supply).owner).toEqual([2, 2, 2]);
  });

  it("merges with groups that have no devices of their own soundly (no division by zero)", () => {
    expect(mergeGroups([{ demand: 5, allocated: 0 }, { demand: 5, allocated: 10 }])).toEqual([0, 1]);
    expect(mergeGroups([{ demand: 5, allocated: 10 }, { demand: 5, allocated: 0 }])).toEqual([1, 1]);
  });

  it("offers a device its merged group's jobs first, smallest remaining service first, then its other eligible jobs", () => {
    // Owners [S, L, L] for s = 6, l = 8. Remaining service: s1 60, m1 30, l1 80.
    const irs = createPolicy("irs");
    const view = { now: 0, jobs: jobsWith(6, 8), supply };
    const ids = (ram: number) => irs.offer(view, device(`x${ram}`, ram), Math.random).map((j) => j.id);
    expect(ids(8)).toEqual(["s1", "m1", "l1"]);
    expect(ids(4)).toEqual(["m1", "l1"]);
    expect(ids(2)).toEqual(["l1"]);
    expect(ids(1)).toEqual([]);
    // Unmerged, with s = 3 and l = 4: a ram-8 device still serves S first, then the rest by SRSF.
    const apart = { now: 0, jobs: jobsWith(3, 4), supply };
    expect(irs.offer(apart, device("y", 8), Math.random).map((j) => j.id)).toEqual(["s1", "m1", "l1"]);
  });

  it("ignores jobs with no free slots", () => {
    const jobs = jobsWith(3, 4).map((j) => (j.id === "s1" ? { ...j, openSlots: 0 } : j));
    const plan = irsPlan(jobs, supply);
    expect(plan.groups.map((g) => g.jobs[0].id)).toEqual(["m1", "l1"]);
    // Without S, the ram-8 and ram-6 devices are homed in M: a = 6, 4.
    expect(plan.groups.map((g) => g.allocated)).toEqual([6, 4]);
  });
});

describe("IRS tier matching", () => {
  /**
   * Eight eligible devices, speeds 10 x4 and 40 x4, over 100 s; demand 2 at over-commit 1.5, so a
   * capacity of 3 and the round closes at the 2/3 quantile. Median boundary 10: fast tier = 4.
   *   all:  fill 3 x 100 / 8 = 37.5 s, quantile(8, 2/3) = 6th = 40
   *   fast: fill 3 x 100 / 4 = 75 s,   quantile(4, 2/3) = 3rd = 10
   * k = 1 s per unit: all 37.5 + 40 = 77.5 < fast 75 + 10 = 85, no tier.
   * k = 2 s per unit: all 37.5 + 80 = 117.5 > fast 75 + 20 = 95, reserve for speeds <= 10.
   */
  const speeds = Float64Array.of(10, 10, 10, 10, 40, 40, 40, 40);
  const tierJob = (k: number) => job("t", { demand: 2, overCommit: 1.5, secondsPerSpeedUnit: k });

  it("reserves a round for the fast tier only when that shortens it", () => {
    expect(fastTierBoundary(tierJob(1), speeds, 100)).toBeNull();
    expect(fastTierBoundary(tierJob(2), speeds, 100)).toBe(10);
    expect(fastTierBoundary(job("no-estimate", { demand: 2, overCommit: 1.5 }), speeds, 100)).toBeNull();
  });

  it("never reserves a retried attempt, nor one whose fast tier would take over half its selection window to fill", () => {
    expect(fastTierBoundary({ ...tierJob(2), attempt: 1 }, speeds, 100)).toBeNull();
    // fill(fast) = 75 s: within half of a 200 s window, not of a 100 s one.
    expect(fastTierBoundary({ ...tierJob(2), selectionSeconds: 200 }, speeds, 100)).toBe(10);
    expect(fastTierBoundary({ ...tierJob(2), selectionSeconds: 100 }, speeds, 100)).toBeNull();
  });

  it("does not offer a reserved round to a slow device, which gets the other jobs", () => {
    const devices = [...speeds].map((s, i) => device(`s${i}`, 4, s));
    const view = {
      now: 0,
      supply: sample(devices, 100),
      jobs: [tierJob(2), job("other", { ram: 4, demand: 50, remainingRounds: 10 })].map((j) => ({ ...j, constraints: { ram_gb: { min: 4 } } })),
    };
    const irs = createPolicy("irs");
    expect(irs.offer(view, device("fast", 4, 10), Math.random).map((j) => j.id)).toEqual(["t", "other"]);
    expect(irs.offer(view, device("slow", 4, 40), Math.random).map((j) => j.id)).toEqual(["other"]);
  });

  it("keeps a round's tier decision for the whole attempt", () => {
    const devices = [...speeds].map((s, i) => device(`s${i}`, 4, s));
    const irs = createPolicy("irs");
    const view = { now: 0, supply: sample(devices, 100), jobs: [tierJob(2)] };
    expect(irs.offer(view, device("slow", 4, 40), Math.random)).toEqual([]);
    // The supply changes mid-round (now a tier would not pay), the decision stands until the next attempt.
    const later = { ...view, supply: sample(devices, 1_000, 2) };
    expect(irs.offer(later, device("slow", 4, 40), Math.random)).toEqual([]);
    const next = { ...later, jobs: [{ ...tierJob(2), roundKey: "2/0" }] };
    expect(irs.offer(next, device("slow", 4, 40), Math.random).map((j) => j.id)).toEqual(["t"]);
  });
});
