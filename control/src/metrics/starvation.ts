import type { JobStatus, Starvation } from "@propius/shared";
import { reportsNeeded } from "../job/round-slots.js";
import type { SupplySeen } from "./metrics-ledger.js";
import { EligibleCounter, starvingReason } from "../scheduling/admission.js";

const NO_SAMPLE = { version: 0, spanSeconds: 0, devices: [] };

/**
 * Whether a running job's rounds can fill: the devices the client-manager shards saw within their
 * supply window that meet the job's public constraints, against the reports a round attempt needs
 * to close (its demand times `minReportFraction`), with the attempts of the current round retried
 * so far. Private constraints are checked on the devices only, so the count may be higher than the
 * devices that would take the job. `admitted` is the scheduler's admission rule on the same count.
 * Null when the job is not running.
 */
export function starvationOf(status: Pick<JobStatus, "state" | "currentRound" | "rounds" | "spec">, supply: SupplySeen): Starvation | null {
  if (status.state !== "running") return null;
  const current = status.rounds.filter((r) => r.round === status.currentRound);
  const latest = current.reduce<(typeof current)[number] | undefined>((a, r) => (a && a.attempt > r.attempt ? a : r), undefined);
  const demand = latest?.demand ?? status.spec.plan.clientsPerRound;
  const minimum = Math.max(1, reportsNeeded({ demand, minReportFraction: status.spec.plan.minReportFraction }));
  const eligibleOnline = supply.measuredAt === null ? undefined : supply.eligibleDevices;
  const admission = new EligibleCounter(false).decide({ demand, minimum, attempt: latest?.attempt ?? 0, eligibleOnline }, NO_SAMPLE);
  return {
    starved: supply.eligibleDevices < minimum,
    eligibleDevices: supply.eligibleDevices,
    windowSeconds: supply.windowSeconds,
    demand,
    minimumReports: minimum,
    attemptsRetried: current.filter((r) => r.status === "retried").length,
    measuredAt: supply.measuredAt,
    admitted: admission.admitted,
    ...(admission.admitted ? {} : { reason: starvingReason({ eligible: supply.eligibleDevices, needed: minimum }) }),
  };
}
