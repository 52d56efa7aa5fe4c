import { meetsConstraints } from "@propius/shared";
import { byArrival, type Policy } from "./policy.js";

/** FNV-1a, 32 bits: a stable hash of a device id. */
export function hashId(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Baseline: devices are split statically among the running jobs, in equal partitions by a hash of
 * the device id (partition i serves the i-th oldest job). A device serves only its partition's job;
 * if that job's round is full or the device is not eligible for it, the device waits, even when
 * another job wants it. The partitions change only when jobs come or go.
 */
export function staticPartitionPolicy(): Policy {
  return {
    name: "static-partition",
    baseline: true,
    serverSideEligibility: true,
    offer: (view, device) => {
      if (view.jobs.length === 0) return [];
      const jobs = [...view.jobs].sort(byArrival);
      const job = jobs[hashId(device.id) % jobs.length];
      return job.openSlots > 0 && meetsConstraints(device.attributes, job.constraints) ? [job] : [];
    },
  };
}
