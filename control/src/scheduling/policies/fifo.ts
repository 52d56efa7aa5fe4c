import { byArrival, wantedBy, type Policy } from "./policy.js";

/** First in, first out: the oldest job with a free slot the device is eligible for comes first. */
export function fifoPolicy(): Policy {
  return {
    name: "fifo",
    serverSideEligibility: true,
    offer: (view, device) => wantedBy(view.jobs, device).sort(byArrival),
  };
}
