import { describe, expect, it } from "vitest";
import { createPolicy, hashId, type JobView, type SchedulerView } from "./index.js";
import { device, job, sample } from "./test-views.js";

/**
 * One view for the golden examples. Remaining service = rounds left x demand:
 *   d  arrived 0, ram >= 8, 3 free slots                    (device below is not eligible)
 *   a  arrived 1, ram >= 4, 2 free slots, 10 x 5 = 50
 *   b  arrived 2, any,      1 free slot,   5 x 2 = 10
 *   c  arrived 3, ram >= 2, full
 */
const jobs: JobView[] = [
  job("c", { arrivedAt: 3, ram: 2, openSlots: 0, demand: 4, remainingRounds: 1 }),
  job("b", { arrivedAt: 2, openSlots: 1, demand: 2, remainingRounds: 5 }),
  job("a", { arrivedAt: 1, ram: 4, openSlots: 2, demand: 5, remainingRounds: 10 }),
  job("d", { arrivedAt: 0, ram: 8, openSlots: 3, demand: 1, remainingRounds: 1 }),
];
const view: SchedulerView = { now: 0, jobs, supply: sample([]) };
const ram4 = device("phone", 4);
const ids = (list: JobView[]) => list.map((j) => j.id);
const never = () => {
  throw new Error("this policy must not draw random numbers");
};

describe("fifo", () => {
  it("offers the eligible jobs with free slots, oldest first", () => {
    expect(ids(createPolicy("fifo").offer(view, ram4, never))).toEqual(["a", "b"]);
  });
});

describe("srsf", () => {
  it("offers the job with the smallest remaining service first", () => {
    expect(ids(createPolicy("srsf").offer(view, ram4, never))).toEqual(["b", "a"]);
  });

  it("breaks ties by arrival and weighs remaining service by priority", () => {
    const tied = [job("late", { arrivedAt: 5, demand: 2, remainingRounds: 3 }), job("early", { arrivedAt: 4, demand: 3, remainingRounds: 2 })];
    expect(ids(createPolicy("srsf").offer({ ...view, jobs: tied }, ram4, never))).toEqual(["early", "late"]);
    const weighted = [job("big", { demand: 10, remainingRounds: 10, priority: 20 }), job("small", { arrivedAt: 1, demand: 1, remainingRounds: 10 })];
    expect(ids(createPolicy("srsf").offer({ ...view, jobs: weighted }, ram4, never))).toEqual(["big", "small"]);
  });
});

describe("random", () => {
  it("offers the eligible jobs with free slots in a uniformly random order", () => {
    const policy = createPolicy("random");
    let state = 1;
    const random = () => ((state = (state * 48271) % 2147483647) / 2147483647);
    const counts = new Map<string, number>();
    for (let i = 0; i < 4_000; i++) {
      const order = ids(policy.offer(view, ram4, random)).join(",");
      counts.set(order, (counts.get(order) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual(["a,b", "b,a"]);
    expect(Math.abs(counts.get("a,b")! - 2_000)).toBeLessThan(200);
  });
});

describe("static-partition", () => {
  /** Partitions follow arrival: 0 -> d, 1 -> a, 2 -> b, 3 -> c. */
  const inPartition = (p: number) => Array.from({ length: 100 }, (_, i) => `dev-${i}`).find((id) => hashId(id) % 4 === p)!;

  it("offers a device only its own partition's job", () => {
    const policy = createPolicy("static-partition");
    expect(ids(policy.offer(view, device(inPartition(1), 4), never))).toEqual(["a"]);
    expect(ids(policy.offer(view, device(inPartition(2), 4), never))).toEqual(["b"]);
  });

  it("leaves a device idle when its partition's job is full or it is not eligible, even if another job wants it", () => {
    const policy = createPolicy("static-partition");
    expect(policy.offer(view, device(inPartition(0), 4), never)).toEqual([]);
    expect(policy.offer(view, device(inPartition(3), 4), never)).toEqual([]);
  });

  it("splits devices into partitions of about equal size", () => {
    const sizes = [0, 0, 0, 0];
    for (let i = 0; i < 8_000; i++) sizes[hashId(`device-${i}`) % 4] += 1;
    for (const size of sizes) expect(Math.abs(size - 2_000)).toBeLessThan(200);
  });
});

describe("client-random", () => {
  it("picks one job uniformly among all the jobs, eligible, full or not", () => {
    const policy = createPolicy("client-random");
    expect(policy.serverSideEligibility).toBe(false);
    let i = 0;
    const draws = [0, 0.26, 0.51, 0.99];
    const picks = draws.map(() => ids(policy.offer(view, ram4, () => draws[i++])));
    expect(picks).toEqual([["d"], ["a"], ["b"], ["c"]]);
  });
});

describe("every policy", () => {
  it("offers nothing when no job runs", () => {
    for (const name of ["fifo", "random", "srsf", "irs", "static-partition", "client-random"] as const) {
      expect(createPolicy(name).offer({ ...view, jobs: [] }, ram4, Math.random)).toEqual([]);
    }
  });
});
