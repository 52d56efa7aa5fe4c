import { describe, expect, it } from "vitest";
import { POLICY_NAMES } from "../scheduling/policies/index.js";
import type { DatasetSizeRecord, DeviceSpecRecord } from "./devices.js";
import { seededRandom } from "./random.js";
import { simulate, type SimulationInput } from "./simulation.js";
import { workloadSchema } from "./workload.js";

/** A tiny workload: three jobs of a few rounds, loose and strict constraints, 300 devices. */
const profile = (profile: number, demand: number, rounds: number, cpu: number) => ({
  profile, demand, total_rounds: rounds, over_selection: 1.3, selection_timeout_s: 120, report_timeout_s: 180,
  local_steps: 5, batch_size: 10, public_constraint: { cpu_f: cpu, ram_gb: 2 }, private_constraint: { dataset_size: 100 },
});
const workload = workloadSchema.parse({
  clients: 300,
  model_size_kbit: 8_000,
  profiles: [profile(0, 10, 6, 3), profile(1, 5, 8, 7), profile(2, 20, 4, 3)],
  arrivals: [{ arrival_s: 0, profile: 0 }, { arrival_s: 200, profile: 1 }, { arrival_s: 400, profile: 2 }],
});
const random = seededRandom(42);
const deviceSpecs: DeviceSpecRecord[] = Array.from({ length: 40 }, (_, id) => ({
  id, cpu_f: 1 + random() * 12, ram_gb: [1, 2, 4, 6, 8][Math.floor(random() * 5)], fp16_mem: 500, android_os: 10, inference_latency: 10 + random() * 150,
}));
const datasetSizes: DatasetSizeRecord[] = Array.from({ length: 30 }, (_, id) => ({ id, samples: 80 + Math.floor(random() * 300) }));

const input = (policy: SimulationInput["policy"], seed = 1): SimulationInput => ({
  workload, deviceSpecs, datasetSizes, policy, seed, model: { meanOnlineS: 3_600, meanOfflineS: 3_600 },
});
const withoutWallTime = ({ wallTimeS: _, ...rest }: ReturnType<typeof simulate>) => rest;

describe("simulate", () => {
  it("gives the same result for the same seed, and another for another seed", () => {
    const a = simulate(input("irs"));
    expect(withoutWallTime(simulate(input("irs")))).toEqual(withoutWallTime(a));
    expect(simulate(input("irs", 2)).makespanS).not.toBe(a.makespanS);
  });

  for (const policy of POLICY_NAMES) {
    it(`${policy}: completes every job with no over-assignment, ineligible or double binding, and a utilization in [0, 1]`, () => {
      const result = simulate(input(policy));
      expect(result.jobsCompleted).toBe(3);
      expect(result.roundsDone).toBe(18);
      expect(result.overAssignments).toBe(0);
      expect(result.eligibilityViolations).toBe(0);
      expect(result.doubleBindings).toBe(0);
      expect(result.utilization).toBeGreaterThan(0);
      expect(result.utilization).toBeLessThanOrEqual(1);
      expect(result.bindings).toBeGreaterThanOrEqual(Math.ceil(10 * 1.3) * 6);
      for (const job of result.jobs) expect(job.jctS).toBeGreaterThan(0);
    });
  }

  it("refuses client-side random picks that are ineligible or full, and only those", () => {
    const result = simulate(input("client-random"));
    expect(result.refusedHandshakes).toBeGreaterThan(0);
    expect(simulate(input("fifo")).refusedHandshakes).toBeLessThan(result.refusedHandshakes);
  });

  it("stops when no round can close any more, and says so", () => {
    // 20 devices cannot give the 20-device job the 16 reports it needs.
    const result = simulate({ ...input("fifo"), devices: 20, stallS: 6 * 3_600 });
    expect(result.stalled).toBe(true);
    expect(result.jobsCompleted).toBeLessThan(3);
    expect(result.overAssignments).toBe(0);
  });

  it("with admission, a job that can never fill waits holding no device instead of retrying, and the others finish sooner", () => {
    // 300 devices, half of them online: the fourth job's 160 reports can never come.
    const scarce = workloadSchema.parse({ ...workload, profiles: [...workload.profiles, profile(3, 200, 2, 3)], arrivals: [{ arrival_s: 0, profile: 3 }, ...workload.arrivals] });
    const run = (admission: boolean) => simulate({ ...input("fifo"), workload: scarce, admission, stallS: 12 * 3_600 });
    const [off, on] = [run(false), run(true)];
    const starving = (r: ReturnType<typeof simulate>) => r.jobs.find((j) => j.id === "job-0")!;
    for (const r of [off, on]) expect([r.jobsCompleted, starving(r).completedS, r.stalled, r.overAssignments]).toEqual([3, null, true, 0]);
    // Without admission it retries its 120 s selection window for ever; with it, one failed attempt and then it waits.
    expect(starving(off).attempts).toBeGreaterThan(100);
    expect(starving(on).attempts).toBeLessThanOrEqual(3);
    expect(on.retries).toBeLessThan(off.retries / 20);
    expect(on.wastedDeviceS).toBeLessThan(off.wastedDeviceS / 2);
    const jct = (r: ReturnType<typeof simulate>) => r.jobs.filter((j) => j.id !== "job-0").reduce((sum, j) => sum + j.jctS!, 0);
    expect(jct(on)).toBeLessThan(jct(off));
  });

  it("with a scarcity plan, the job that cannot fill runs smaller rounds and completes, or fails with its reason at its time limit", () => {
    const scarce = workloadSchema.parse({ ...workload, profiles: [...workload.profiles, profile(3, 200, 2, 3)], arrivals: [{ arrival_s: 0, profile: 3 }, ...workload.arrivals] });
    const run = (scarcity: SimulationInput["scarcity"]) => simulate({ ...input("fifo"), workload: scarce, scarcity, stallS: 12 * 3_600 });
    const shrunk = run({ shrinkAfterAttempts: 1, minClientsPerRound: 20 });
    expect(shrunk.jobs.map((j) => j.outcome)).toEqual(["completed", "completed", "completed", "completed"]);
    expect(shrunk.jobs[0].attempts).toBeGreaterThanOrEqual(4); // each of its 2 rounds: the full attempt failed, a smaller one closed
    expect([shrunk.stalled, shrunk.overAssignments]).toEqual([false, 0]);

    // Keeping the smaller demand, its second round opens small: one failed attempt fewer.
    const kept = run({ shrinkAfterAttempts: 1, minClientsPerRound: 20, keepShrunkDemand: true });
    expect(kept.jobs.map((j) => j.outcome)).toEqual(["completed", "completed", "completed", "completed"]);
    expect(kept.jobs[0].attempts).toBeLessThan(shrunk.jobs[0].attempts);

    const limited = run({ failAfterSeconds: 3_600 });
    expect(limited.jobs.map((j) => j.outcome)).toEqual(["failed", "completed", "completed", "completed"]);
    expect(limited.jobs[0].failure).toMatch(/^no round closed for 36\d\d s \(the job's limit is 3600 s\): held back by admission/);
    expect(limited.stalled).toBe(false);
  });

  it("stops at the horizon, with the jobs still running reported as not done", () => {
    const result = simulate({ ...input("fifo"), maxSimulatedS: 300 });
    expect(result.makespanS).toBe(300);
    expect(result.jobsCompleted).toBeLessThan(3);
    const late = result.jobs.find((j) => j.id === "job-2")!;
    expect(late).toMatchObject({ completedS: null, jctS: null });
    expect(late.roundsDone).toBeLessThan(4);
  });
});
