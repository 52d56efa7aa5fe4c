import { byArrival, type Policy } from "./policy.js";

/**
 * Baseline: the device picks one job uniformly at random among all the jobs it knows of, with no
 * eligibility check or slot count on the server's side before the pick. The server then refuses the
 * binding if the device does not meet the job's public constraints or the round is full, and the
 * device waits and tries again later.
 */
export function clientRandomPolicy(): Policy {
  return {
    name: "client-random",
    baseline: true,
    serverSideEligibility: false,
    offer: (view, _device, random) => {
      if (view.jobs.length === 0) return [];
      const jobs = [...view.jobs].sort(byArrival);
      return [jobs[Math.floor(random() * jobs.length)]];
    },
  };
}
