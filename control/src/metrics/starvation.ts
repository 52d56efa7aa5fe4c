import type { JobStatus, Starvation } from "@propius/shared";
import { reportsNeeded } from "../job/round-slots.js";
import type { SupplySeen } from "./metrics-ledger.js";

/**
 * Whether a running job's rounds can fill: the devices the client-manager shards saw within their
 * supply window that meet the job's public constraints, against the reports a round attempt needs
 * to close (its demand times `minReportFraction`), with the attempts of the current round retried
 * so far. Private constraints are checked on the devices only, so the count may be higher than the
 * devices that would take the job. Null when the job is not running.
 */
export function starvationOf(status: Pick<JobStatus, "state" | "currentRound" | "rounds" | "spec">, supply: SupplySeen): Starvation | null {
  if (status.state !== "running") return null;
  const current = status.rounds.filter((r) => r.round === status.currentRound);
  const latest = current.reduce<(typeof current)[number] | undefined>((a, r) => (a && a.attempt > r.attempt ? a : r), undefined);
  const demand = latest?.demand ?? status.spec.plan.clientsPerRound;
  const minimum = Math.max(1, reportsNeeded({ demand, minReportFraction: status.spec.plan.minReportFraction }));
  return {
    starved: supply.eligibleDevices < minimum,
    eligibleDevices: supply.eligibleDevices,
    windowSeconds: supply.windowSeconds,
    demand,
    minimumReports: minimum,
    attemptsRetried: current.filter((r) => r.status === "retried").length,
    measuredAt: supply.measuredAt,
  };
}
