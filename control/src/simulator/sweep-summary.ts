import type { PolicyName } from "../scheduling/policies/index.js";
import type { Ratio } from "./comparison.js";
import { median } from "./scarcity.js";
import type { CellComparison, CellResult } from "./sweep.js";

/** One ratio over a level's workloads: the geometric mean of the defined values. */
export interface RatioSummary {
  /** Null when no workload of the level defines the ratio. */
  geoMean: number | null;
  /** Workloads that define it, of all the level's. */
  defined: number;
  of: number;
  /** Jobs the JCT ratios were taken over (both policies completed them), summed over the workloads. */
  jobs: number;
}

export interface LevelSummary {
  level: number;
  /** Measured scarcity: the mean of the workloads' medians, and the lowest job ratio of any. */
  medianScarcity: number;
  minScarcity: number;
  utilization: RatioSummary;
  /** FIFO's average JCT over the same jobs' alone (see CellComparison.contention). */
  contention: RatioSummary;
  avgJct: RatioSummary;
  p95Jct: RatioSummary;
  /** Per policy, with admission: jobs completed, waiting, stalled, failed and still running, summed over the workloads. */
  outcomes: { policy: PolicyName; completed: number; waiting: number; stalled: number; failed: number; running: number; total: number }[];
  /** Device-seconds wasted by each workload's best central policy, summed, with admission on and off. */
  wastedWithAdmissionS: number;
  wastedWithoutAdmissionS: number;
  /** Over the workloads: jobs whose eligible devices online meet their demand, those of them the best central policy completed, and its stalled jobs. */
  feasibleJobs: number;
  feasibleCompleted: number;
  stalledJobs: number;
}

export function summarizeRatios(ratios: readonly (Pick<Ratio, "value" | "jobs"> | null)[]): RatioSummary {
  const values = ratios.flatMap((r) => (r?.value == null ? [] : [r.value]));
  const geoMean = values.length === 0 ? null : Math.exp(values.reduce((sum, v) => sum + Math.log(v), 0) / values.length);
  return { geoMean, defined: values.length, of: ratios.length, jobs: ratios.reduce((sum, r) => sum + (r?.jobs ?? 0), 0) };
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

function outcomesOf(cells: readonly CellResult[]): LevelSummary["outcomes"] {
  const policies = [...new Set(cells.flatMap((c) => c.results.map((r) => r.policy)))];
  return policies.map((policy) => {
    const runs = cells.flatMap((c) => c.results.filter((r) => r.policy === policy));
    const total = (pick: (r: (typeof runs)[number]) => number) => sum(runs.map(pick));
    return {
      policy,
      completed: total((r) => r.jobsCompleted),
      waiting: total((r) => r.jobsWaiting),
      stalled: total((r) => r.jobsStalled),
      failed: total((r) => r.jobsFailed),
      running: total((r) => r.jobsRunning),
      total: total((r) => r.jobsTotal),
    };
  });
}

/** The sweep's workloads grouped by level, scarcest first. */
export function summarizeLevels(cells: readonly CellResult[]): LevelSummary[] {
  const levels = [...new Set(cells.map((c) => c.level))].sort((a, b) => a - b);
  return levels.map((level) => {
    const at = cells.filter((c) => c.level === level);
    const ratios = (pick: (c: CellComparison) => Pick<Ratio, "value" | "jobs"> | null) => summarizeRatios(at.map((c) => pick(c.comparison)));
    return {
      level,
      medianScarcity: sum(at.map((c) => c.scarcity.median)) / at.length,
      minScarcity: Math.min(...at.map((c) => c.scarcity.min)),
      utilization: ratios((c) => c.utilization),
      contention: ratios((c) => c.contention),
      avgJct: ratios((c) => c.avgJct),
      p95Jct: ratios((c) => c.p95Jct),
      outcomes: outcomesOf(at),
      wastedWithAdmissionS: sum(at.map((c) => c.comparison.wastedWithAdmissionS ?? 0)),
      wastedWithoutAdmissionS: sum(at.map((c) => c.comparison.wastedWithoutAdmissionS ?? 0)),
      feasibleJobs: sum(at.map((c) => c.comparison.feasibleJobs)),
      feasibleCompleted: sum(at.map((c) => c.comparison.feasibleCompleted)),
      stalledJobs: sum(at.map((c) => c.comparison.stalledJobs)),
    };
  });
}

/** What the scheduler aims at where jobs contend: the best policy's average JCT at least this many times better than FIFO's, at the median, with its p95 no worse than FIFO's on any workload. */
export const CONTENDED_AVG_JCT_TARGET = 1.3;

/** The workloads whose jobs contend for devices (levels `from` to `to`), as the scheduler is judged on them. */
export interface ContendedSummary {
  from: number;
  to: number;
  workloads: number;
  /** The median over the workloads of FIFO's average JCT over the best central policy's; null when none defines it. */
  medianAvgJct: number | null;
  /** Workloads on which that policy's p95 JCT is no worse than FIFO's, of those that define it. */
  p95NoWorse: number;
  p95Defined: number;
  /** The lowest p95 ratio among them. */
  minP95Jct: number | null;
}

export function summarizeContended(cells: readonly CellResult[], from = 1, to = 4): ContendedSummary {
  const at = cells.filter((c) => c.level >= from && c.level <= to);
  const avg = at.flatMap((c) => (c.comparison.avgJct?.value == null ? [] : [c.comparison.avgJct.value]));
  const p95 = at.flatMap((c) => (c.comparison.p95Jct?.value == null ? [] : [c.comparison.p95Jct.value]));
  return {
    from, to, workloads: at.length,
    medianAvgJct: avg.length === 0 ? null : median(avg),
    p95NoWorse: p95.filter((v) => v >= 1).length,
    p95Defined: p95.length,
    minP95Jct: p95.length === 0 ? null : Math.min(...p95),
  };
}
