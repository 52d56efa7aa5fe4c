import { describe, expect, it } from "vitest";
import { DEFAULT_DEVICE_MODEL, sampleDevices, type DatasetSizeRecord, type DeviceSpecRecord } from "./devices.js";
import { seededRandom } from "./random.js";
import { median } from "./scarcity.js";
import { CONSTRAINT_CLASSES, GENERATOR_DEFAULTS, generateWorkload } from "./workload-generator.js";
import { workloadSchema, type Workload } from "./workload.js";

const random = seededRandom(7);
const pick = <T>(values: T[]) => values[Math.floor(random() * values.length)];
const deviceSpecs: DeviceSpecRecord[] = Array.from({ length: 200 }, (_, id) => ({
  id, cpu_f: 1 + random() * 20, ram_gb: pick([1, 2, 3, 4, 6, 8, 12]), fp16_mem: pick([300, 500, 800, 900, 1200, 2000]), android_os: pick([4, 6, 7, 9, 11, 13]), inference_latency: 20 + random() * 150,
}));
const datasetSizes: DatasetSizeRecord[] = Array.from({ length: 100 }, (_, id) => ({ id, samples: 60 + Math.floor(random() * 300) }));
const generate = (scarcity: number, seed: number) => generateWorkload({ devices: 3_000, jobs: 12, scarcity, seed }, deviceSpecs, datasetSizes);

/** The jobs' ratios counted afresh from the raw device records, without the generator's code. */
function measuredRatios(workload: Workload, seed: number): number[] {
  const devices = sampleDevices(workload.clients, deviceSpecs, datasetSizes, DEFAULT_DEVICE_MODEL, seed);
  return workload.arrivals.map(({ profile }) => {
    const p = workload.profiles.find((q) => q.profile === profile)!;
    const eligible = devices.filter((d) =>
      Object.entries(p.public_constraint).every(([name, min]) => (d.spec as unknown as Record<string, number>)[name] >= min) && d.privateAttributes.dataset_size >= p.private_constraint.dataset_size,
    );
    return (eligible.length * GENERATOR_DEFAULTS.onlineShare) / p.demand;
  });
}

describe("workload generator", () => {
  for (const level of [0.5, 1, 2, 4, 10]) {
    it(`hits a scarcity of ${level} within 5 %, as counted on the simulated devices`, () => {
      for (const seed of [1, 2, 3]) {
        const { workload, scarcity } = generate(level, seed);
        const ratios = measuredRatios(workload, seed);
        expect(Math.abs(median(ratios) / level - 1)).toBeLessThan(0.05);
        expect(scarcity.median).toBeCloseTo(median(ratios), 9);
        expect(scarcity.min).toBeCloseTo(Math.min(...ratios), 9);
        // Jobs spread around the median, within 2x either side of it before their demands are rounded.
        expect(scarcity.min).toBeLessThan(level);
        expect(scarcity.min).toBeGreaterThan(level / 4.5);
      }
    });
  }

  it("gives the same workload for the same seed, another for another seed", () => {
    expect(generate(2, 5)).toEqual(generate(2, 5));
    expect(generate(2, 6).workload.profiles.map((p) => p.demand)).not.toEqual(generate(2, 5).workload.profiles.map((p) => p.demand));
  });

  it("writes a valid workload of the simulator's schema, with Poisson arrivals from 0 and the paper's constraint sets", () => {
    const { workload } = generate(1, 1);
    const parsed = workloadSchema.safeParse(JSON.parse(JSON.stringify(workload)));
    expect(parsed.success).toBe(true);
    expect(workload).toMatchObject({ clients: 3_000, model_size_kbit: 74_016 });
    expect(workload.source).toMatch(/^generated: 12 jobs, 3000 devices, seed 1; scarcity .* median 1\.0\d, min 0\.\d\d, target 1$/);
    const times = workload.arrivals.map((a) => a.arrival_s);
    expect(times[0]).toBe(0);
    expect(times.every((t, i) => i === 0 || t >= times[i - 1])).toBe(true);
    for (const p of workload.profiles) {
      expect(p.total_rounds).toBeGreaterThanOrEqual(20);
      expect(p.total_rounds).toBeLessThanOrEqual(40);
      expect(CONSTRAINT_CLASSES).toContainEqual({ public_constraint: p.public_constraint, private_constraint: p.private_constraint });
    }
  });
});
