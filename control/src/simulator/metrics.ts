import type { PolicyName } from "../scheduling/policies/index.js";
import type { InvariantMonitor } from "./invariant-monitor.js";
import type { RunJob } from "./rounds.js";

/**
 * How a job ended: `completed`; `failed` (it gave up: its owner's limit ran out); `waiting` (held
 * back by admission: its eligible devices online could not make its minimum, and it held none);
 * `stalled` (not done, and no round of it closed for the stall window before the run ended, while
 * it kept opening attempts: a livelock of this job, whatever the others did); `running` (the run
 * hit its time limit while the job progressed).
 */
export type JobOutcome = "completed" | "waiting" | "stalled" | "failed" | "running";

export interface JobResult {
  id: string;
  arrivalS: number;
  /** Null if the job had not finished when the simulation stopped. */
  completedS: number | null;
  jctS: number | null;
  roundsDone: number;
  attempts: number;
  outcome: JobOutcome;
  /** When its last round closed (its arrival if none did). */
  lastClosedS: number;
  failure: string | null;
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
  jobsStalled: number;
  /** Jobs held back by admission when the run ended (see `JobOutcome`). */
  jobsWaiting: number;
  jobsFailed: number;
  /** Jobs still progressing when the run hit its time limit. */
  jobsRunning: number;
  jobsTotal: number;
  /** Device-seconds of tasks whose reports counted toward a closed round, over device-seconds online. */
  utilization: number;
  usefulDeviceS: number;
  /** Device-seconds of tasks that counted toward no closed round (failed attempts, late or lost tasks). */
  wastedDeviceS: number;
  availableDeviceS: number;
  /** Job completion times (seconds) of the jobs this run completed. */
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

/** The livelock window of a run when none is given: two simulated days without a closed round. */
export const DEFAULT_STALL_S = 2 * 86_400;

/** A job's outcome when the run ended at `endS` (`runStalled`: the run itself stopped as a livelock). */
export function jobOutcome(job: Pick<RunJob, "completedAt" | "failure" | "lastClosedAt" | "waiting">, endS: number, stallS: number, runStalled: boolean): JobOutcome {
  if (job.completedAt !== null) return "completed";
  if (job.failure !== null) return "failed";
  if (job.waiting) return "waiting";
  return runStalled || endS - job.lastClosedAt >= stallS ? "stalled" : "running";
}

const count = (jobs: JobResult[], outcome: JobOutcome) => jobs.filter((j) => j.outcome === outcome).length;

export function summarize(run: {
  policy: PolicyName;
  seed: number;
  devices: number;
  makespanS: number;
  stalled: boolean;
  /** The run's livelock window (default DEFAULT_STALL_S). */
  stallS?: number;
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
    outcome: jobOutcome(job, run.makespanS, run.stallS ?? DEFAULT_STALL_S, run.stalled),
    lastClosedS: job.lastClosedAt,
    failure: job.failure,
  }));
  const jcts = jobs.flatMap((j) => (j.jctS === null ? [] : [j.jctS]));
  return {
    policy: run.policy,
    seed: run.seed,
    devices: run.devices,
    makespanS: run.makespanS,
    stalled: run.stalled,
    jobsCompleted: jcts.length,
    jobsStalled: count(jobs, "stalled"),
    jobsWaiting: count(jobs, "waiting"),
    jobsFailed: count(jobs, "failed"),
    jobsRunning: count(jobs, "running"),
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
