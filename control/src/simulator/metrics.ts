import type { PolicyName } from "../scheduling/policies/index.js";
import type { InvariantMonitor } from "./invariant-monitor.js";
import type { RunJob } from "./rounds.js";

export interface JobResult {
  id: string;
  arrivalS: number;
  /** Null if the job had not finished when the simulation stopped. */
  completedS: number | null;
  jctS: number | null;
  roundsDone: number;
  attempts: number;
}

export interface SimulationResult {
  policy: PolicyName;
  seed: number;
  devices: number;
  /** Simulated seconds from the start to the last job's completion (or to where the run stopped). */
  makespanS: number;
  /** The run stopped because no round closed for a long time while jobs were running. */
  stalled: boolean;
  jobsCompleted: number;
  jobsTotal: number;
  /** Device-seconds of tasks whose reports counted toward a closed round, over device-seconds online. */
  utilization: number;
  usefulDeviceS: number;
  wastedDeviceS: number;
  availableDeviceS: number;
  /** Job completion times (seconds) of the completed jobs. */
  avgJctS: number;
  p95JctS: number;
  bindings: number;
  /** Successful bindings per simulated second. */
  bindingThroughput: number;
  /** Claims refused at binding (ineligible or full): handshakes that bound nothing. */
  refusedHandshakes: number;
  checkIns: number;
  /** Mean seconds from a round attempt's opening to the end of its selection (full, timed out or closed). */
  avgSchedulingDelayS: number;
  roundsDone: number;
  retries: number;
  droppedTasks: number;
  abandonedTasks: number;
  /** Tasks stopped because their attempt ended early (admission released its devices). */
  releasedTasks: number;
  overAssignments: number;
  eligibilityViolations: number;
  doubleBindings: number;
  wallTimeS: number;
  jobs: JobResult[];
}

/** Counters a run accumulates (device-seconds, counts, per-attempt scheduling delays). */
export interface SimStats {
  bindings: number;
  refused: number;
  checkIns: number;
  useful: number;
  wasted: number;
  available: number;
  roundsDone: number;
  retries: number;
  dropped: number;
  abandoned: number;
  released: number;
  delays: number[];
}

export const newStats = (): SimStats => ({ bindings: 0, refused: 0, checkIns: 0, useful: 0, wasted: 0, available: 0, roundsDone: 0, retries: 0, dropped: 0, abandoned: 0, released: 0, delays: [] });

const mean = (values: number[]) => (values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length);

/** The p-quantile by the nearest-rank method (p in (0, 1]). */
export function quantile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

export function summarize(run: {
  policy: PolicyName;
  seed: number;
  devices: number;
  makespanS: number;
  stalled: boolean;
  jobs: RunJob[];
  stats: SimStats;
  monitor: InvariantMonitor;
  wallTimeS: number;
}): SimulationResult {
  const { stats } = run;
  const jobs: JobResult[] = run.jobs.map((job) => ({
    id: job.spec.id,
    arrivalS: job.spec.arrivalS,
    completedS: job.completedAt,
    jctS: job.completedAt === null ? null : job.completedAt - job.spec.arrivalS,
    roundsDone: job.completedAt === null ? job.round - 1 : job.spec.rounds,
    attempts: job.attempts,
  }));
  const jcts = jobs.flatMap((j) => (j.jctS === null ? [] : [j.jctS]));
  return {
    policy: run.policy,
    seed: run.seed,
    devices: run.devices,
    makespanS: run.makespanS,
    stalled: run.stalled,
    jobsCompleted: jcts.length,
    jobsTotal: jobs.length,
    utilization: stats.available > 0 ? stats.useful / stats.available : 0,
    usefulDeviceS: stats.useful,
    wastedDeviceS: stats.wasted,
    availableDeviceS: stats.available,
    avgJctS: mean(jcts),
    p95JctS: quantile(jcts, 0.95),
    bindings: stats.bindings,
    bindingThroughput: run.makespanS > 0 ? stats.bindings / run.makespanS : 0,
    refusedHandshakes: stats.refused,
    checkIns: stats.checkIns,
    avgSchedulingDelayS: mean(stats.delays),
    roundsDone: stats.roundsDone,
    retries: stats.retries,
    droppedTasks: stats.dropped,
    abandonedTasks: stats.abandoned,
    releasedTasks: stats.released,
    overAssignments: run.monitor.overAssignments,
    eligibilityViolations: run.monitor.eligibilityViolations,
    doubleBindings: run.monitor.doubleBindings,
    wallTimeS: run.wallTimeS,
    jobs,
  };
}
