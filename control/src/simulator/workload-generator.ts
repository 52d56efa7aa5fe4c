import { DEFAULT_DEVICE_MODEL, sampleDevices, type DatasetSizeRecord, type DeviceSpecRecord } from "./devices.js";
import { exponential, randomInt, seededRandom, type Random } from "./random.js";
import { eligibleShare, median, workloadScarcity, type Scarcity } from "./scarcity.js";
import { workloadSchema, type Workload, type WorkloadProfile } from "./workload.js";

/** The constraint sets of the paper workload (data/paper-workload.json): strict, medium and loose. */
export const CONSTRAINT_CLASSES: readonly Pick<WorkloadProfile, "public_constraint" | "private_constraint">[] = [
  { public_constraint: { cpu_f: 7, ram_gb: 6, fp16_mem: 900, android_os: 7 }, private_constraint: { dataset_size: 120 } },
  { public_constraint: { cpu_f: 6, ram_gb: 4, fp16_mem: 800, android_os: 6 }, private_constraint: { dataset_size: 100 } },
  { public_constraint: { cpu_f: 3, ram_gb: 2, fp16_mem: 400, android_os: 4 }, private_constraint: { dataset_size: 100 } },
];

export interface WorkloadOptions {
  devices: number;
  jobs: number;
  /** The target median over jobs of eligible devices online per device of demand. */
  scarcity: number;
  seed: number;
  /** Share of the devices online at a time (default: the device model's, 12.5 %). */
  onlineShare?: number;
  /** Mean seconds between arrivals. */
  meanInterarrivalS?: number;
  /** Rounds per job, uniform in [min, max]. */
  rounds?: { min: number; max: number };
  /** Job ratios spread log-uniformly within [median / spread, median x spread]. */
  spread?: number;
}

export interface GeneratedWorkload {
  workload: Workload;
  /** Measured on the devices `simulate` draws with the same seed. */
  scarcity: Scarcity;
}

/** The model of the paper workload (kbit), and its rounds' timing and task size. */
const MODEL_KBIT = 74_016;
const ROUND = { over_selection: 1.3, selection_timeout_s: 120, report_timeout_s: 180, local_steps: 20, batch_size: 20 };

export const GENERATOR_DEFAULTS = {
  onlineShare: DEFAULT_DEVICE_MODEL.meanOnlineS / (DEFAULT_DEVICE_MODEL.meanOnlineS + DEFAULT_DEVICE_MODEL.meanOfflineS),
  meanInterarrivalS: 1_800,
  rounds: { min: 20, max: 40 },
  spread: 2,
};

/** Arrival times of a Poisson process starting with one at 0, in whole seconds. */
function poissonArrivals(random: Random, n: number, meanS: number): number[] {
  const times = [0];
  while (times.length < n) times.push(times[times.length - 1] + Math.round(exponential(random, meanS)));
  return times;
}

/** Per-job factors log-uniform in [1 / spread, spread], rescaled to a median of exactly 1. */
function spreadFactors(random: Random, n: number, spread: number): number[] {
  const factors = Array.from({ length: n }, () => Math.exp((2 * random() - 1) * Math.log(spread)));
  const mid = median(factors);
  return factors.map((f) => f / mid);
}

/**
 * A workload whose scarcity (the median over jobs of eligible devices online / demand) is the
 * requested one: each job draws a constraint class of the paper workload, a round count and a
 * spread factor, and its demand is its class's eligible devices online over (scarcity x factor).
 * The same options give the same workload.
 */
export function generateWorkload(
  options: WorkloadOptions,
  deviceSpecs: readonly DeviceSpecRecord[],
  datasetSizes: readonly DatasetSizeRecord[],
): GeneratedWorkload {
  const { devices: n, jobs, scarcity, seed } = options;
  const onlineShare = options.onlineShare ?? GENERATOR_DEFAULTS.onlineShare;
  const rounds = options.rounds ?? GENERATOR_DEFAULTS.rounds;
  const random = seededRandom(seed, 0x3017);
  const devices = sampleDevices(n, deviceSpecs, datasetSizes, DEFAULT_DEVICE_MODEL, seed);
  const online = CONSTRAINT_CLASSES.map((c) => n * onlineShare * eligibleShare(devices, c.public_constraint, c.private_constraint));
  const classes = Array.from({ length: jobs }, () => randomInt(random, CONSTRAINT_CLASSES.length));
  const totalRounds = classes.map(() => rounds.min + randomInt(random, rounds.max - rounds.min + 1));
  const factors = spreadFactors(random, jobs, options.spread ?? GENERATOR_DEFAULTS.spread);
  const arrivals = poissonArrivals(random, jobs, options.meanInterarrivalS ?? GENERATOR_DEFAULTS.meanInterarrivalS);
  const profiles: WorkloadProfile[] = classes.map((c, i) => ({
    profile: i,
    demand: Math.max(1, Math.round(online[c] / (scarcity * factors[i]))),
    total_rounds: totalRounds[i],
    ...ROUND,
    ...CONSTRAINT_CLASSES[c],
  }));
  const draft = { clients: n, model_size_kbit: MODEL_KBIT, profiles, arrivals: arrivals.map((arrival_s, i) => ({ arrival_s, profile: i })) };
  const measured = workloadScarcity(workloadSchema.parse(draft), devices, onlineShare);
  const source =
    `generated: ${jobs} jobs, ${n} devices, seed ${seed}; ` +
    `scarcity (eligible devices online / demand) median ${measured.median.toFixed(2)}, min ${measured.min.toFixed(2)}, target ${scarcity}`;
  return { workload: workloadSchema.parse({ source, ...draft }), scarcity: measured };
}
