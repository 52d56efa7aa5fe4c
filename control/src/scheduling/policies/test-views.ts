import type { Constraints } from "@propius/shared";
import type { DeviceView, JobView, SupplySample } from "./policy.js";

/** Builders for the policy tests. */
export function job(id: string, fields: Partial<JobView> & { ram?: number } = {}): JobView {
  const { ram, ...rest } = fields;
  const constraints: Constraints | undefined = ram === undefined ? undefined : { ram_gb: { min: ram } };
  return { id, arrivedAt: 0, constraints, openSlots: 1, demand: 1, overCommit: 1.3, remainingRounds: 1, priority: 1, roundKey: "1/0", attempt: 0, ...rest };
}

export function device(id: string, ram: number, speed = 50): DeviceView {
  return { id, attributes: { ram_gb: ram }, speed };
}

export function sample(devices: DeviceView[], spanSeconds = 60, version = 1): SupplySample {
  return { version, spanSeconds, devices };
}
