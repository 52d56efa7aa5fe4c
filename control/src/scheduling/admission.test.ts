import { describe, expect, it } from "vitest";
import { EligibleCounter, minimumOf, starvingReason, withAdmission } from "./admission.js";
import { createPolicy, type DeviceView, type JobView, type SupplySample } from "./policies/index.js";

const device = (id: number, cpu: number): DeviceView => ({ id: `d${id}`, attributes: { cpu }, speed: 1 });
const sample = (devices: DeviceView[], version = 1): SupplySample => ({ version, spanSeconds: 60, devices });
const job = (id: string, over: Partial<JobView> = {}): JobView => ({
  id, arrivedAt: 0, openSlots: 10, demand: 10, overCommit: 1, remainingRounds: 3, priority: 1, roundKey: "1/1", attempt: 1, minimum: 8, ...over,
});
const tenFast = Array.from({ length: 10 }, (_, i) => device(i, 8));
const fourSlow = Array.from({ length: 4 }, (_, i) => device(100 + i, 2));

describe("feasibility-aware admission", () => {
  it("admits a retried round only when the eligible devices online can make its minimum", () => {
    const counter = new EligibleCounter();
    const supply = sample([...tenFast, ...fourSlow]);
    expect(counter.decide(job("a"), supply)).toEqual({ admitted: true, eligible: 14, needed: 8 });
    expect(counter.decide(job("b", { constraints: { cpu: { min: 4 } } }), supply)).toEqual({ admitted: true, eligible: 10, needed: 8 });
    expect(counter.decide(job("c", { constraints: { cpu: { min: 4 } }, minimum: 11 }), supply)).toEqual({ admitted: false, eligible: 10, needed: 11 });
    expect(starvingReason({ eligible: 10, needed: 11 })).toBe("starving: 10 eligible online, needs 11");
  });

  it("always admits a round's first attempt, and a job of unknown supply", () => {
    const counter = new EligibleCounter(false);
    expect(counter.decide(job("a", { attempt: 0, minimum: 100 }), sample(tenFast))).toMatchObject({ admitted: true, eligible: null });
    // A shard's sample is its share only: without the directory's count nothing is known.
    expect(counter.decide(job("a", { minimum: 100 }), sample(tenFast))).toEqual({ admitted: true, eligible: null, needed: 100 });
    expect(new EligibleCounter().decide(job("a", { minimum: 100 }), sample([]))).toMatchObject({ admitted: true, eligible: null });
  });

  it("takes the larger of the directory's count over every shard and the live sample", () => {
    const counter = new EligibleCounter(false);
    expect(counter.decide(job("a", { eligibleOnline: 3 }), sample(tenFast))).toEqual({ admitted: true, eligible: 10, needed: 8 });
    expect(counter.decide(job("a", { eligibleOnline: 30, minimum: 20 }), sample(fourSlow, 2))).toEqual({ admitted: true, eligible: 30, needed: 20 });
    expect(counter.decide(job("a", { eligibleOnline: 5 }), sample(fourSlow, 2))).toEqual({ admitted: false, eligible: 5, needed: 8 });
  });

  it("counts afresh when the sample changes", () => {
    const counter = new EligibleCounter();
    const strict = job("a", { constraints: { cpu: { min: 4 } } });
    expect(counter.count(strict, sample(tenFast, 1))).toBe(10);
    expect(counter.count(strict, sample(fourSlow, 1))).toBe(10);
    expect(counter.count(strict, sample(fourSlow, 2))).toBe(0);
  });

  it("needs the demand when the job states no minimum", () => {
    expect(minimumOf({ demand: 7 })).toBe(7);
    expect(minimumOf({ demand: 7, minimum: 0 })).toBe(1);
  });

  it("offers no device a job that cannot fill, and leaves the rest of the order as the policy made it", () => {
    const supply = sample([...tenFast, ...fourSlow]);
    const jobs = [job("starving", { arrivedAt: 0, minimum: 50 }), job("small", { arrivedAt: 1, minimum: 2 }), job("new", { arrivedAt: 2, attempt: 0, minimum: 50 })];
    const view = { now: 0, jobs, supply };
    const offered = withAdmission(createPolicy("fifo")).offer(view, tenFast[0], () => 0);
    expect(offered.map((j) => j.id)).toEqual(["small", "new"]);
    expect(createPolicy("fifo").offer(view, tenFast[0], () => 0).map((j) => j.id)).toEqual(["starving", "small", "new"]);
  });

  it("leaves the baselines as the systems they stand for", () => {
    for (const name of ["static-partition", "client-random"] as const) {
      const policy = createPolicy(name);
      expect(withAdmission(policy)).toBe(policy);
    }
    expect(withAdmission(createPolicy("irs"))).not.toBe(createPolicy("irs"));
  });
});
