import { slotCapacity } from "../../job/round-slots.js";
import type { JobView } from "./policy.js";

/**
 * Tier matching: a round waits for its demand-th report, so one slow device holds it back. For a
 * job's round, the eligible devices split at the median speed into a fast and a slow tier, and the
 * round is reserved for the fast tier when that makes it shorter by this estimate:
 *
 *   fill(T)     = capacity / rate(T)           seconds to bind the round's capacity from tier T,
 *                                               rate(T) = T's devices in the supply sample / span
 *   response(T) = k x quantile(T, 1 / overCommit)
 *                                               seconds until demand of the capacity devices have
 *                                               finished, k = the job's seconds per speed unit
 *   reserve for fast  iff  fill(fast) + response(fast) < fill(all) + response(all)
 *
 * That is Venn's trade: a tier has a fraction of the supply, so binding takes longer, but the
 * round no longer waits for stragglers. It pays when devices arrive fast compared with the time
 * a round trains. Since the arrival rate ignores the other jobs that compete for the same devices,
 * the estimate is optimistic under load; two guards keep a reservation from starving a round:
 * fill(fast) must stay within half the round's selection window (when the job states it), and a
 * retried attempt (one whose predecessor failed to gather its devices) is never reserved.
 * Returns the speed boundary of the fast tier (inclusive), or null for no tier.
 *
 * `speeds` are the speed factors of the sampled devices that may serve the job, in ascending order.
 */
export function fastTierBoundary(job: JobView, speeds: ArrayLike<number>, spanSeconds: number): number | null {
  const k = job.secondsPerSpeedUnit;
  const n = speeds.length;
  if (k === undefined || !(k > 0) || n < 4 || !(spanSeconds > 0) || (job.attempt ?? 0) > 0) return null;
  const boundary = speeds[Math.floor((n - 1) / 2)];
  let fast = 0;
  while (fast < n && speeds[fast] <= boundary) fast += 1;
  if (fast === n) return null;
  const capacity = slotCapacity(job);
  const q = 1 / job.overCommit;
  const quantile = (count: number) => speeds[Math.min(count - 1, Math.max(0, Math.ceil(q * count) - 1))];
  const costAll = (capacity * spanSeconds) / n + k * quantile(n);
  const fillFast = (capacity * spanSeconds) / fast;
  if (job.selectionSeconds !== undefined && fillFast > job.selectionSeconds / 2) return null;
  return fillFast + k * quantile(fast) < costAll ? boundary : null;
}
