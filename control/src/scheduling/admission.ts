import { constraintKey, meetsConstraints } from "@propius/shared";
import type { JobView, Policy, SupplySample } from "./policies/policy.js";

/**
 * Feasibility-aware admission. A round attempt can close only with its minimum of reports (demand
 * x minReportFraction), and only eligible devices that are online can make them: a job whose
 * minimum exceeds the eligible devices heard from recently would bind devices for its whole
 * selection window, fail, and retry at once, for ever, holding devices the other jobs want. Such
 * a job is not admitted: it is offered no device until enough eligible devices are online, and an
 * attempt it already opened is ended early (its devices released) rather than held to its timeout.
 *
 * Admission applies once a round has shown it cannot fill: from its first retried attempt on. A
 * round's first attempt always opens, so that a job is never held back by a count that lags (the
 * shards report their figures every few seconds, and devices arrive between them); a job that
 * cannot fill costs one failed attempt a round, not one per selection window for ever.
 *
 * The eligible count is the job's `eligibleOnline` when the view carries one (the directory's sum
 * over every client-manager shard), else, where the supply sample covers every device (the
 * simulator, a single shard), the devices of the sample that meet the job's public constraints;
 * a job with neither is admitted. Private constraints are checked on the devices only, so the count
 * is an upper bound: admission refuses only what cannot fill, never what merely might not.
 */
export interface AdmissionDecision {
  admitted: boolean;
  /** Eligible devices online, as counted; null when not known. */
  eligible: number | null;
  /** Reports the job's round attempt needs to close. */
  needed: number;
}

export type AdmissionJob = Pick<JobView, "constraints" | "eligibleOnline" | "demand" | "minimum" | "attempt">;

/** Reports a round attempt of the job needs: its `minimum`, else its demand. */
export function minimumOf(job: Pick<JobView, "demand" | "minimum">): number {
  return Math.max(1, job.minimum ?? job.demand);
}

/** Counts eligible devices per constraint set, once per supply sample. */
export class EligibleCounter {
  private version = -1;
  private readonly counts = new Map<string, number>();

  constructor(
    /** Whether the supply sample covers every device, so that it may stand in for `eligibleOnline`. */
    private readonly sampleIsWhole = true,
  ) {}

  /**
   * The job's eligible devices online, or null when they are not known: the larger of its
   * `eligibleOnline` (counted over every shard, but as of their last report) and the devices of
   * this sample that meet its constraints (live, but one shard's share unless the sample is whole).
   */
  count(job: Pick<JobView, "constraints" | "eligibleOnline">, supply: SupplySample): number | null {
    const sampled = supply.devices.length === 0 ? 0 : this.sampled(job.constraints, supply);
    if (job.eligibleOnline !== undefined) return Math.max(job.eligibleOnline, sampled);
    return this.sampleIsWhole && supply.devices.length > 0 ? sampled : null;
  }

  private sampled(constraints: JobView["constraints"], supply: SupplySample): number {
    if (supply.version !== this.version) {
      this.version = supply.version;
      this.counts.clear();
    }
    const key = constraintKey(constraints);
    let n = this.counts.get(key);
    if (n === undefined) {
      n = 0;
      for (const device of supply.devices) if (meetsConstraints(device.attributes, constraints)) n += 1;
      this.counts.set(key, n);
    }
    return n;
  }

  /**
   * Admitted when the round has not failed yet (its first attempt), when the eligible devices can
   * make the minimum, or when nothing is known of them.
   */
  decide(job: AdmissionJob, supply: SupplySample): AdmissionDecision {
    const needed = minimumOf(job);
    if ((job.attempt ?? 0) === 0) return { admitted: true, eligible: null, needed };
    const eligible = this.count(job, supply);
    return { admitted: eligible === null || eligible >= needed, eligible, needed };
  }
}

/** What a job that is not admitted waits on, as its owner reads it. */
export function starvingReason(decision: { eligible: number; needed: number }): string {
  return `starving: ${decision.eligible} eligible online, needs ${decision.needed}`;
}

/**
 * The policy with admission in front: it plans and orders over the admitted jobs only, so a job
 * that cannot fill takes no share of the devices (in IRS's groups either). A baseline is returned
 * as it is.
 */
export function withAdmission(policy: Policy, counter = new EligibleCounter()): Policy {
  if (policy.baseline) return policy;
  return {
    name: policy.name,
    serverSideEligibility: policy.serverSideEligibility,
    offer(view, device, random) {
      const jobs = view.jobs.filter((job) => counter.decide(job, view.supply).admitted);
      return policy.offer(jobs.length === view.jobs.length ? view : { ...view, jobs }, device, random);
    },
  };
}
