import { describe, expect, it } from "vitest";
import type { DatasetSizeRecord, DeviceSpecRecord } from "./devices.js";
import { DEFAULT_STALL_S, jobOutcome } from "./metrics.js";
import { simulate } from "./simulation.js";
import { workloadSchema } from "./workload.js";

/** Two jobs any device serves, and one that needs 64 GB of RAM, which no phone here has. */
const profile = (profile: number, ram: number) => ({
  profile, demand: 5, total_rounds: 3, over_selection: 1.3, selection_timeout_s: 120, report_timeout_s: 180,
  local_steps: 5, batch_size: 10, public_constraint: { ram_gb: ram }, private_constraint: { dataset_size: 100 },
});
const workload = workloadSchema.parse({
  clients: 200,
  model_size_kbit: 8_000,
  profiles: [profile(0, 2), profile(1, 64)],
  arrivals: [{ arrival_s: 0, profile: 0 }, { arrival_s: 100, profile: 1 }, { arrival_s: 200, profile: 0 }],
});
const deviceSpecs: DeviceSpecRecord[] = [4, 6, 8, 12].map((ram, id) => ({ id, cpu_f: 10, ram_gb: ram, fp16_mem: 900, android_os: 12, inference_latency: 40 }));
const datasetSizes: DatasetSizeRecord[] = [{ id: 0, samples: 150 }, { id: 1, samples: 300 }];
const run = (extra: { maxSimulatedS?: number; admission?: boolean }) =>
  simulate({ workload, deviceSpecs, datasetSizes, policy: "fifo", seed: 3, model: { meanOnlineS: 3_600, meanOfflineS: 3_600 }, stallS: 3_600, ...extra });

describe("job outcomes", () => {
  it("marks the job no device can serve waiting under admission, stalled without it, while the others complete", () => {
    const result = run({});
    expect(result.jobs.map((j) => [j.id, j.outcome])).toEqual([["job-0", "completed"], ["job-1", "waiting"], ["job-2", "completed"]]);
    expect(result).toMatchObject({ jobsCompleted: 2, jobsWaiting: 1, jobsStalled: 0, jobsFailed: 0, jobsRunning: 0, stalled: true });
    expect(result.jobs[1]).toMatchObject({ roundsDone: 0, lastClosedS: 100, jctS: null, attempts: 1 });
    const churning = run({ admission: false });
    expect(churning.jobs.map((j) => [j.id, j.outcome])).toEqual([["job-0", "completed"], ["job-1", "stalled"], ["job-2", "completed"]]);
    expect(churning).toMatchObject({ jobsCompleted: 2, jobsWaiting: 0, jobsStalled: 1, stalled: true });
    expect(churning.jobs[1].attempts).toBeGreaterThan(10);
  });

  it("marks unfinished jobs at the time limit running while they are within the stall window", () => {
    // Rounds take seconds here: job-0 is done, job-2 has just arrived, job-1 has waited 110 s of its hour.
    const result = run({ maxSimulatedS: 210 });
    expect(result.makespanS).toBe(210);
    expect(result.jobs.map((j) => j.outcome)).toEqual(["completed", "running", "running"]);
    expect(result).toMatchObject({ jobsCompleted: 1, jobsStalled: 0, jobsRunning: 2, stalled: false });
  });

  it("judges each job by its own last closed round, and a failure first", () => {
    const job = (lastClosedAt: number, failure: string | null = null, completedAt: number | null = null, waiting = false) => ({ lastClosedAt, failure, completedAt, waiting });
    expect(jobOutcome(job(0, null, 500), 1_000, 600, true)).toBe("completed");
    expect(jobOutcome(job(0, "time limit"), 1_000, 600, false)).toBe("failed");
    expect(jobOutcome(job(300), 1_000, 600, false)).toBe("stalled");
    expect(jobOutcome(job(500), 1_000, 600, false)).toBe("running");
    expect(jobOutcome(job(300, null, null, true), 1_000, 600, true)).toBe("waiting");
    // A run that stopped as a livelock leaves no unfinished job running.
    expect(jobOutcome(job(500), 1_000, 600, true)).toBe("stalled");
    expect(DEFAULT_STALL_S).toBe(172_800);
  });
});
