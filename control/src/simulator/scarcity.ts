import { meetsConstraints } from "../scheduling/policies/index.js";
import type { SimDevice } from "./devices.js";
import { workloadJobs, type Workload } from "./workload.js";

/** A job's supply against its demand: devices online that meet all its constraints, per device it asks for. */
export interface JobScarcity {
  id: string;
  demand: number;
  /** Share of the devices that meet its public and private constraints. */
  eligibleShare: number;
  /** Devices x online share x eligible share: its eligible devices online at a time, on average. */
  eligibleOnline: number;
  /** eligibleOnline / demand: below 1 a round cannot gather its demand, whatever the policy. */
  ratio: number;
}

/** A workload's scarcity: the median and the minimum of its jobs' ratios (lower is scarcer). */
export interface Scarcity {
  median: number;
  min: number;
  jobs: JobScarcity[];
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const lowerBounds = (bounds: Record<string, number>) => Object.fromEntries(Object.entries(bounds).map(([name, min]) => [name, { min }]));

/** The share of the devices that meet both sets of lower bounds (public attributes, private ones). */
export function eligibleShare(devices: readonly SimDevice[], publicMin: Record<string, number>, privateMin: Record<string, number>): number {
  if (devices.length === 0) return 0;
  const pub = lowerBounds(publicMin);
  const priv = lowerBounds(privateMin);
  return devices.filter((d) => meetsConstraints(d.view.attributes, pub) && meetsConstraints(d.privateAttributes, priv)).length / devices.length;
}

/** Each job's ratio of eligible devices online to its demand, for these devices and online share. */
export function workloadScarcity(workload: Workload, devices: readonly SimDevice[], onlineShare: number): Scarcity {
  const jobs = workloadJobs(workload).map((spec) => {
    const share = eligibleShare(devices, spec.publicMin, spec.privateMin);
    const eligibleOnline = devices.length * onlineShare * share;
    return { id: spec.id, demand: spec.demand, eligibleShare: share, eligibleOnline, ratio: eligibleOnline / spec.demand };
  });
  const ratios = jobs.map((j) => j.ratio);
  return { median: median(ratios), min: Math.min(...ratios), jobs };
}
