import { meetsConstraints, type Attributes, type Constraints } from "@propius/shared";

/** Uniform floats in [0, 1); seeded in the simulator and tests. */
export type Random = () => number;

/** A running job as the scheduler sees it when a device checks in. */
export interface JobView {
  id: string;
  /** When the job was submitted (ms): FIFO order, and every tie-break. */
  arrivedAt: number;
  /** Public constraints (none: any device). */
  constraints?: Constraints;
  /** Free slots in the current round attempt: 0 when it is full or no longer selecting. */
  openSlots: number;
  /** Reports that close the current round. */
  demand: number;
  /** Bindings per unit of demand (the round's over-commit). */
  overCommit: number;
  /** Rounds left, the current one included. */
  remainingRounds: number;
  /** Relative weight (1 by default): a job of priority 2 counts its remaining work as half. */
  priority: number;
  /** The current round attempt (e.g. "12/0"); what a policy decides for a round holds for the attempt. */
  roundKey: string;
  /** Attempt of the current round: 0 (the default) the first time, more after retries. */
  attempt?: number;
  /** Seconds the round may spend binding devices (its selection window), if known. */
  selectionSeconds?: number;
  /** Estimated task seconds per unit of device speed factor; jobs without it are never tier-matched. */
  secondsPerSpeedUnit?: number;
  /** Reports a round attempt needs to close (demand x minReportFraction); the demand when unset. */
  minimum?: number;
  /** Devices online that meet the public constraints, counted over every shard, when known (see admission.ts). */
  eligibleOnline?: number;
}

/** A checking-in device's public attributes. */
export interface DeviceView {
  id: string;
  attributes: Attributes;
  /** Compute-time factor, higher is slower (per-inference latency in ms for the phone data set). */
  speed: number;
}

/**
 * Recent check-ins, the scheduler's estimate of device supply (Venn's check-in window): a device
 * that checks in often counts often, so counts per span are arrival rates of devices.
 */
export interface SupplySample {
  /** Changes whenever the sample does; policies may cache what they derive from it. */
  version: number;
  /** Seconds the sample covers. */
  spanSeconds: number;
  devices: readonly DeviceView[];
}

export interface SchedulerView {
  now: number;
  /** Every running job, with or without free slots. */
  jobs: readonly JobView[];
  supply: SupplySample;
}

export const POLICY_NAMES = ["fifo", "random", "srsf", "irs", "static-partition", "client-random"] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

/**
 * A resource-sharing policy: given the scheduler's view and a checking-in device, the jobs to
 * offer the device, in the order it should try them. The device takes the first whose private
 * constraints it meets and whose slot the job grants. Policies may cache what they derive from
 * the view; they never change it.
 */
export interface Policy {
  readonly name: PolicyName;
  /**
   * Whether the server offers only jobs the device is eligible for (publicly) and that have free
   * slots. False for client-random: the device picks, and the server refuses an ineligible or
   * full pick at binding.
   */
  readonly serverSideEligibility: boolean;
  /**
   * A baseline that stands for another system (static partitioning, client-side choice): it runs as
   * that system does, without the platform's admission in front (see admission.ts).
   */
  readonly baseline?: boolean;
  offer(view: SchedulerView, device: DeviceView, random: Random): JobView[];
}

/** Jobs with free slots whose public constraints the device meets. */
export function wantedBy(jobs: readonly JobView[], device: DeviceView): JobView[] {
  const out: JobView[] = [];
  for (const job of jobs) if (job.openSlots > 0 && meetsConstraints(device.attributes, job.constraints)) out.push(job);
  return out;
}

/** Oldest first; the id breaks ties so that every order is total and deterministic. */
export function byArrival(a: JobView, b: JobView): number {
  return a.arrivedAt - b.arrivedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Remaining service: devices the job still needs (rounds left x demand), over its priority. */
export function remainingService(job: JobView): number {
  return (job.remainingRounds * job.demand) / job.priority;
}

/** Smallest remaining service first, oldest first among equals. */
export function byRemainingService(a: JobView, b: JobView): number {
  return remainingService(a) - remainingService(b) || byArrival(a, b);
}
