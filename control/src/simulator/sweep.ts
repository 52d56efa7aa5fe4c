import type { PolicyName } from "../scheduling/policies/index.js";
import { bestCentral, bestJctAgainstFifo, bestRunWide, jctAgainstFifo, type Ratio } from "./comparison.js";
import type { DatasetSizeRecord, DeviceSpecRecord } from "./devices.js";
import type { SimulationResult } from "./metrics.js";
import type { JobScarcity, Scarcity } from "./scarcity.js";
import { simulate, type SimulationProgress } from "./simulation.js";
import { GENERATOR_DEFAULTS, generateWorkload } from "./workload-generator.js";
import { workloadJobs, type Workload } from "./workload.js";

export interface SweepOptions {
  /** Target scarcities (median eligible devices online per device of demand). */
  levels: number[];
  seeds: number[];
  policies: PolicyName[];
  devices: number;
  jobs: number;
  /** Job ratios spread log-uniformly within [level / spread, level x spread] (the generator's `spread`). */
  spread: number;
  /** Rounds per job, uniform in [min, max]. */
  rounds: { min: number; max: number };
  /** A run stops when no round has closed for this long (a livelock) ... */
  stallS: number;
  /** ... or here. */
  maxSimulatedS: number;
}

export const DEFAULT_SWEEP: Omit<SweepOptions, "policies"> = {
  levels: [0.5, 1, 2, 4, 10],
  seeds: [1, 2, 3],
  devices: 3_000,
  jobs: 12,
  spread: GENERATOR_DEFAULTS.spread,
  rounds: GENERATOR_DEFAULTS.rounds,
  stallS: 12 * 3_600,
  maxSimulatedS: 10 * 86_400,
};

export interface SweepCell {
  level: number;
  seed: number;
}

/** The three ratios of a workload, and the wasted device-seconds of its best central policy with admission on and off. */
export interface CellComparison {
  utilization: Ratio | null;
  /**
   * How much the jobs contend: FIFO's average JCT over the average of the same jobs' JCT when each
   * runs alone (its arrival, the same devices), over the jobs both completed. About 1: the jobs
   * hardly wait for each other, and no ordering of them can shorten their JCT; only a shorter
   * round can (IRS's tiers).
   */
  contention: { value: number | null; jobs: number } | null;
  /** FIFO's average JCT over the central policy that beats it most ... */
  avgJct: Ratio | null;
  /** ... and FIFO's p95 JCT over that same policy's. */
  p95Jct: Ratio | null;
  /** The central policy rerun without admission: the one that completed most jobs, then the lowest average JCT. */
  best: PolicyName | null;
  wastedWithAdmissionS: number | null;
  wastedWithoutAdmissionS: number | null;
  /**
   * The jobs whose eligible devices online can meet their demand (a ratio of 1 or more), and how
   * many of them the best central policy completed; and its jobs that ended in a livelock.
   */
  feasibleJobs: number;
  feasibleCompleted: number;
  stalledJobs: number;
}

export interface CellResult extends SweepCell {
  scarcity: Pick<Scarcity, "median" | "min">;
  /** Each job's JCT when it runs alone (FIFO, admission on, its own arrival time), null when it did not complete. */
  aloneJctS: Record<string, number | null>;
  /** Every policy, admission on. */
  results: SimulationResult[];
  /** The best central policy, admission off. */
  withoutAdmission: SimulationResult | null;
  comparison: CellComparison;
}

export interface Traces {
  deviceSpecs: readonly DeviceSpecRecord[];
  datasetSizes: readonly DatasetSizeRecord[];
}

/** Every (level, seed) pair, scarcest first. */
export function sweepCells(options: Pick<SweepOptions, "levels" | "seeds">): SweepCell[] {
  return [...options.levels].sort((a, b) => a - b).flatMap((level) => options.seeds.map((seed) => ({ level, seed })));
}

/** The comparisons of one workload's runs (best central policy per metric against static partitioning and FIFO). */
export function compareCell(
  results: SimulationResult[],
  withoutAdmission: SimulationResult | null,
  jobs: readonly Pick<JobScarcity, "id" | "ratio">[] = [],
  aloneJctS: Record<string, number | null> = {},
): CellComparison {
  const best = bestCentral(results);
  const feasible = new Set(jobs.filter((j) => j.ratio >= 1).map((j) => j.id));
  const avgJct = bestJctAgainstFifo(results, "avgS");
  return {
    utilization: bestRunWide(results, "static-partition", (r) => r.utilization),
    contention: contentionOf(results.find((r) => r.policy === "fifo"), aloneJctS),
    avgJct,
    p95Jct: avgJct ? jctAgainstFifo(results, avgJct.over, "p95S") : null,
    best: best?.policy ?? null,
    wastedWithAdmissionS: best?.wastedDeviceS ?? null,
    wastedWithoutAdmissionS: withoutAdmission?.wastedDeviceS ?? null,
    feasibleJobs: feasible.size,
    feasibleCompleted: best?.jobs.filter((j) => feasible.has(j.id) && j.outcome === "completed").length ?? 0,
    stalledJobs: best?.jobsStalled ?? 0,
  };
}

/** FIFO's average JCT over the jobs' average JCT alone, over the jobs both completed; null without a FIFO run. */
export function contentionOf(fifo: SimulationResult | undefined, aloneJctS: Record<string, number | null>): CellComparison["contention"] {
  if (!fifo) return null;
  const pairs = fifo.jobs.flatMap((j) => (j.jctS !== null && aloneJctS[j.id] != null ? [[j.jctS, aloneJctS[j.id]!] as const] : []));
  const alone = pairs.reduce((sum, [, a]) => sum + a, 0);
  return { value: pairs.length === 0 || alone <= 0 ? null : pairs.reduce((sum, [f]) => sum + f, 0) / alone, jobs: pairs.length };
}

/** A run of a cell in progress (simulate's own progress), or done. */
export type CellProgress = { cell: SweepCell; policy: PolicyName; admission: boolean } & (
  | { kind: "running"; progress: SimulationProgress }
  | { kind: "done"; result: SimulationResult }
);

/**
 * One workload of the sweep: generated for the level and seed, run by every policy with admission,
 * then by the best central policy without it. Devices and availability follow the same seed, so
 * the scarcity measured by the generator is that of the simulated devices.
 */
export function runCell(cell: SweepCell, options: SweepOptions, traces: Traces, onProgress?: (p: CellProgress) => void): CellResult {
  const generated = { devices: options.devices, jobs: options.jobs, scarcity: cell.level, seed: cell.seed, spread: options.spread, rounds: options.rounds };
  const { workload, scarcity } = generateWorkload(generated, traces.deviceSpecs, traces.datasetSizes);
  const run = (policy: PolicyName, admission: boolean) => {
    const result = simulate({
      workload, ...traces, policy, seed: cell.seed, admission, stallS: options.stallS, maxSimulatedS: options.maxSimulatedS,
      onProgress: (progress) => onProgress?.({ cell, policy, admission, kind: "running", progress }),
    });
    onProgress?.({ cell, policy, admission, kind: "done", result });
    return result;
  };
  const results = options.policies.map((policy) => run(policy, true));
  const best = bestCentral(results);
  const withoutAdmission = best ? run(best.policy, false) : null;
  const aloneJctS = isolatedJcts(workload, (w) => simulate({ workload: w, ...traces, policy: "fifo", seed: cell.seed, admission: true, stallS: options.stallS, maxSimulatedS: options.maxSimulatedS }));
  return {
    ...cell, scarcity: { median: scarcity.median, min: scarcity.min }, aloneJctS, results, withoutAdmission,
    comparison: compareCell(results, withoutAdmission, scarcity.jobs, aloneJctS),
  };
}

/**
 * Each job's JCT when it is the workload's only job, keyed by its id in the whole workload: the
 * same arrival time and seed, so it meets the same devices online as it did beside the others.
 */
export function isolatedJcts(workload: Workload, run: (alone: Workload) => SimulationResult): Record<string, number | null> {
  return Object.fromEntries(
    workloadJobs(workload).map((job) => {
      const result = run({ ...workload, arrivals: [{ arrival_s: job.arrivalS, profile: job.profile }] });
      return [job.id, result.jobs[0]?.jctS ?? null];
    }),
  );
}
