import { byArrival, wantedBy, type Policy } from "./policy.js";

/** Uniform among the eligible jobs with free slots: every order of them equally likely. */
export function randomPolicy(): Policy {
  return {
    name: "random",
    serverSideEligibility: true,
    offer: (view, device, random) => {
      // Sorted first so that the outcome depends on the random stream only, not on the view's order.
      const jobs = wantedBy(view.jobs, device).sort(byArrival);
      for (let i = jobs.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [jobs[i], jobs[j]] = [jobs[j], jobs[i]];
      }
      return jobs;
    },
  };
}
