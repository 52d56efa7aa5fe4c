import type { PolicyName } from "../scheduling/policies/index.js";
import { quantile, type SimulationResult } from "./metrics.js";

/** The platform's own policies; the best of them is compared with the baselines and with FIFO. */
export const CENTRAL: readonly PolicyName[] = ["fifo", "random", "srsf", "irs"];

/** A ratio of two runs: `value` is null when it is undefined (no common completed job, or a zero denominator). */
export interface Ratio {
  /** The numerator's and the denominator's policies. */
  of: PolicyName;
  over: PolicyName;
  value: number | null;
  /** "run": a run-wide metric, covering every job; "common": over the jobs both runs completed. */
  scope: "run" | "common";
  /** Jobs both runs completed. */
  jobs: number;
  /** What the two runs completed, e.g. "20/20 and 16/20 jobs completed". */
  basis: string;
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
const divide = (a: number, b: number) => (b > 0 && Number.isFinite(a) ? a / b : null);
const completed = (r: SimulationResult) => `${r.jobsCompleted}/${r.jobsTotal}`;

/** The ids of the jobs every given run completed. */
export function commonCompleted(runs: readonly SimulationResult[]): string[] {
  if (runs.length === 0) return [];
  const done = (r: SimulationResult) => new Set(r.jobs.filter((j) => j.jctS !== null).map((j) => j.id));
  const rest = runs.slice(1).map(done);
  return [...done(runs[0])].filter((id) => rest.every((set) => set.has(id)));
}

/** Average and p95 job completion time of a run over the given jobs (which it completed). */
export function jctOver(run: SimulationResult, ids: readonly string[]): { avgS: number; p95S: number } {
  const wanted = new Set(ids);
  const jcts = run.jobs.flatMap((j) => (wanted.has(j.id) && j.jctS !== null ? [j.jctS] : []));
  return jcts.length === 0 ? { avgS: 0, p95S: 0 } : { avgS: mean(jcts), p95S: quantile(jcts, 0.95) };
}

export type JctStat = "avgS" | "p95S";

const ratio = (a: SimulationResult, b: SimulationResult, value: number | null, scope: Ratio["scope"], jobs: number): Ratio => ({
  of: a.policy, over: b.policy, value, scope, jobs, basis: `${completed(a)} and ${completed(b)} jobs completed`,
});

/** `slow`'s JCT statistic over `fast`'s, over the jobs both completed (above 1: `fast` finishes them sooner). */
export function jctRatio(slow: SimulationResult, fast: SimulationResult, stat: JctStat): Ratio {
  const ids = commonCompleted([slow, fast]);
  return ratio(slow, fast, ids.length === 0 ? null : divide(jctOver(slow, ids)[stat], jctOver(fast, ids)[stat]), "common", ids.length);
}

/**
 * A run-wide metric of `a` over `b`'s, e.g. utilization (useful over online device-seconds, to the
 * run's end): it covers every job, and the basis says how many each run completed.
 */
export function runWideRatio(a: SimulationResult, b: SimulationResult, metric: (r: SimulationResult) => number): Ratio {
  return ratio(a, b, divide(metric(a), metric(b)), "run", commonCompleted([a, b]).length);
}

/** The ratio of the candidate that scores highest (a defined value beats null; the first wins a tie). */
export function bestRatio(ratios: readonly Ratio[]): Ratio | null {
  return ratios.reduce<Ratio | null>((b, r) => (b === null || (r.value !== null && (b.value === null || r.value > b.value)) ? r : b), null);
}

const central = (results: readonly SimulationResult[]) => results.filter((r) => CENTRAL.includes(r.policy));
export const byName = (results: readonly SimulationResult[], name: PolicyName) => results.find((r) => r.policy === name) ?? null;

/** The best central policy's run-wide metric over `baseline`'s (null when a run is missing). */
export function bestRunWide(results: readonly SimulationResult[], baseline: PolicyName, metric: (r: SimulationResult) => number): Ratio | null {
  const base = byName(results, baseline);
  return base ? bestRatio(central(results).map((r) => runWideRatio(r, base, metric))) : null;
}

/** FIFO's JCT statistic over the central policy that beats it most, each pair over the jobs both completed. */
export function bestJctAgainstFifo(results: readonly SimulationResult[], stat: JctStat): Ratio | null {
  const fifo = byName(results, "fifo");
  return fifo ? bestRatio(central(results).map((r) => jctRatio(fifo, r, stat))) : null;
}

/**
 * FIFO's JCT statistic over the given policy's (the one `bestJctAgainstFifo` chose for another
 * statistic), so that two statistics describe the same policy; null when a run is missing.
 */
export function jctAgainstFifo(results: readonly SimulationResult[], policy: PolicyName, stat: JctStat): Ratio | null {
  const fifo = byName(results, "fifo");
  const run = byName(results, policy);
  return fifo && run ? jctRatio(fifo, run, stat) : null;
}

/** The central run that completed the most jobs, then the one with the lowest average JCT over them. */
export function bestCentral(results: readonly SimulationResult[]): SimulationResult | null {
  const better = (a: SimulationResult, b: SimulationResult) =>
    a.jobsCompleted > b.jobsCompleted || (a.jobsCompleted === b.jobsCompleted && a.avgJctS < b.avgJctS);
  return central(results).reduce<SimulationResult | null>((b, r) => (b === null || better(r, b) ? r : b), null);
}

/** "1 job", "18 jobs". */
export const jobCount = (n: number) => `${n} job${n === 1 ? "" : "s"}`;

/** How a ratio reads in a report: "fifo / irs average JCT, over the 18 jobs both completed (20/20 and 18/20 jobs completed)". */
export function describeRatio(r: Ratio, what: string): string {
  return `${r.of} / ${r.over} ${what}, ${r.scope === "run" ? "run-wide" : `over the ${jobCount(r.jobs)} both completed`} (${r.basis})`;
}
