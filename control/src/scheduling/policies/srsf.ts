import { byRemainingService, wantedBy, type Policy } from "./policy.js";

/**
 * Smallest remaining service first: the job that needs the fewest devices to finish (rounds left
 * x demand, over its priority) comes first, the oldest among equals. Short jobs finish sooner,
 * which lowers the average completion time.
 */
export function srsfPolicy(): Policy {
  return {
    name: "srsf",
    serverSideEligibility: true,
    offer: (view, device) => wantedBy(view.jobs, device).sort(byRemainingService),
  };
}
