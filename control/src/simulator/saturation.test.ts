import { describe, expect, it } from "vitest";
import type { DeviceView } from "../scheduling/policies/index.js";
import { saturate, type SaturationInput } from "./saturation.js";

/** 1,200 devices, a third fast ones (cpu 8); three jobs only the fast devices may serve, one any device may; slots to spare. */
const devices: DeviceView[] = Array.from({ length: 1_200 }, (_, i) => ({ id: `d${i}`, attributes: { cpu: i % 3 === 0 ? 8 : 2 }, speed: 1 }));
const jobs = [
  ...["a", "b", "c"].map((id) => ({ id, constraints: { cpu: { min: 6 } }, slots: 1_000 })),
  { id: "any", slots: 1_000 },
];
const input = (policy: SaturationInput["policy"], over: Partial<SaturationInput> = {}): SaturationInput => ({
  policy, devices, jobs, handshakesPerSecond: 200, taskS: 2, backoff: { initialS: 1, maxS: 32 }, durationS: 120, seed: 1, ...over,
});

describe("binding throughput at saturation", () => {
  it("answers no more handshakes than the control plane serves, and counts every one that bound nothing", () => {
    for (const policy of ["irs", "client-random"] as const) {
      const r = saturate(input(policy));
      expect(r.handshakes).toBeLessThanOrEqual(200 * 120);
      expect(r.handshakes).toBeGreaterThan(200 * 119);
      expect(r.refused).toBe(r.handshakes - r.bindings);
      expect(r.bindingsPerSecond).toBeCloseTo(r.bindings / 120, 9);
    }
  });

  it("binds on nearly every handshake with IRS, while client-side picks are refused for the jobs a device may not serve", () => {
    const irs = saturate(input("irs"));
    const random = saturate(input("client-random"));
    expect(irs.refusedPerBinding).toBeLessThan(0.05);
    // Two devices in three may serve only one job of the four: about half of all picks are refused.
    expect(random.refusedPerBinding).toBeGreaterThan(0.5);
    expect(irs.bindingsPerSecond / random.bindingsPerSecond).toBeGreaterThan(1.4);
  });

  it("is limited by the slots and devices, not the handshakes, when tasks are long: the policies come close", () => {
    const slow = { taskS: 60, handshakesPerSecond: 1_000, jobs: jobs.map((job) => ({ ...job, slots: 100 })) };
    const [irs, random] = [saturate(input("irs", slow)), saturate(input("client-random", slow))];
    // Twice in 120 s: every slot (the fast jobs' 300 by fast devices, the open job's 100).
    expect(irs.bindings).toBe(2 * 400);
    expect(random.bindings).toBeLessThanOrEqual(irs.bindings);
    expect(random.bindings).toBeGreaterThan(0.8 * irs.bindings);
  });

  it("gives the same figures for the same seed", () => {
    expect(saturate(input("client-random"))).toEqual(saturate(input("client-random")));
  });
});
