import { describe, expect, it } from "vitest";
import { jctRatio } from "./comparison.js";
import type { DatasetSizeRecord, DeviceSpecRecord } from "./devices.js";
import { seededRandom } from "./random.js";
import { DEFAULT_SWEEP, runCell, sweepCells, type CellProgress, type SweepOptions } from "./sweep.js";
import { simulate } from "./simulation.js";
import { generateWorkload } from "./workload-generator.js";

const random = seededRandom(11);
const deviceSpecs: DeviceSpecRecord[] = Array.from({ length: 60 }, (_, id) => ({
  id, cpu_f: 2 + random() * 18, ram_gb: [2, 4, 6, 8][Math.floor(random() * 4)], fp16_mem: 400 + Math.floor(random() * 1600), android_os: 4 + Math.floor(random() * 10), inference_latency: 20 + random() * 100,
}));
const datasetSizes: DatasetSizeRecord[] = Array.from({ length: 40 }, (_, id) => ({ id, samples: 100 + Math.floor(random() * 300) }));
const options: SweepOptions = { ...DEFAULT_SWEEP, levels: [6], seeds: [1], policies: ["fifo", "irs", "static-partition"], devices: 600, jobs: 3, stallS: 4 * 3_600 };

describe("scheduling sweep", () => {
  it("visits every level and seed, scarcest first", () => {
    expect(sweepCells({ levels: [4, 0.5, 1], seeds: [1, 2] })).toEqual([
      { level: 0.5, seed: 1 }, { level: 0.5, seed: 2 }, { level: 1, seed: 1 }, { level: 1, seed: 2 }, { level: 4, seed: 1 }, { level: 4, seed: 2 },
    ]);
  });

  it("runs every policy on the generated workload, then the best central one without admission, and compares them", () => {
    const seen: string[] = [];
    const cell = runCell({ level: 6, seed: 1 }, options, { deviceSpecs, datasetSizes }, (p: CellProgress) => {
      if (p.kind === "done") seen.push(`${p.policy}${p.admission ? "" : " off"}`);
    });
    const { scarcity } = generateWorkload({ devices: 600, jobs: 3, scarcity: 6, seed: 1 }, deviceSpecs, datasetSizes);
    expect(cell.scarcity).toEqual({ median: scarcity.median, min: scarcity.min });
    expect(cell.results.map((r) => [r.policy, r.jobsCompleted])).toEqual([["fifo", 3], ["irs", 3], ["static-partition", 3]]);
    const [fifo, irs] = cell.results;
    const best = irs.avgJctS < fifo.avgJctS ? irs : fifo;
    expect(cell.comparison.best).toBe(best.policy);
    expect(seen).toEqual(["fifo", "irs", "static-partition", `${best.policy} off`]);
    expect(cell.withoutAdmission?.policy).toBe(best.policy);
    expect(cell.comparison.wastedWithAdmissionS).toBe(best.wastedDeviceS);
    expect(cell.comparison.wastedWithoutAdmissionS).toBe(cell.withoutAdmission?.wastedDeviceS);
    expect(cell.comparison.avgJct).toMatchObject({ of: "fifo", jobs: 3 });
    expect(cell.comparison.avgJct!.value).toBeGreaterThanOrEqual(1);
    expect(cell.comparison.avgJct!.value).toBe(jctRatio(fifo, cell.results.find((r) => r.policy === cell.comparison.avgJct!.over)!, "avgS").value);
    expect(cell.comparison.utilization).toMatchObject({ over: "static-partition", scope: "run" });
  });

  it("runs each job alone at its own arrival time, and measures contention as FIFO's JCT over that", () => {
    const cell = runCell({ level: 6, seed: 1 }, { ...options, policies: ["fifo"] }, { deviceSpecs, datasetSizes });
    const { workload } = generateWorkload({ devices: 600, jobs: 3, scarcity: 6, seed: 1 }, deviceSpecs, datasetSizes);
    const [fifo] = cell.results;
    expect(Object.keys(cell.aloneJctS)).toEqual(fifo.jobs.map((j) => j.id));
    const arrivals = [...workload.arrivals].sort((a, b) => a.arrival_s - b.arrival_s);
    const alone = arrivals.map((a) => simulate({ workload: { ...workload, arrivals: [a] }, deviceSpecs, datasetSizes, policy: "fifo", seed: 1, admission: true, stallS: options.stallS, maxSimulatedS: options.maxSimulatedS }).jobs[0].jctS);
    expect(Object.values(cell.aloneJctS)).toEqual(alone);
    const sum = (xs: (number | null)[]) => xs.reduce<number>((s, x) => s + x!, 0);
    expect(cell.comparison.contention).toEqual({ value: sum(fifo.jobs.map((j) => j.jctS)) / sum(alone), jobs: 3 });
    // Three jobs on plenty of devices: beside one another they take at least about as long as alone.
    expect(cell.comparison.contention!.value).toBeGreaterThan(0.8);
  });
});
