import type { Estimator, TensorSpec, Weighting } from "@propius/shared";

/** Which partial sum an update goes into: a round attempt (a server step for FedBuff jobs). */
export interface PartialKey {
  round: number;
  attempt: number;
}

/** Orders keys by round, then attempt. */
export function compareKeys(a: PartialKey, b: PartialKey): number {
  return a.round - b.round || a.attempt - b.attempt;
}

/**
 * The job's leave to fold one update, checked against its ticket: the Worker passes it from the job
 * object to the update's aggregator shard.
 */
export interface Admission {
  ticket: string;
  key: PartialKey;
  /** The shard that folds this device's updates, by a hash of its id. */
  shard: number;
  /** An update weighs its example count (`examples`) or 1 (`uniform`), times `weightScale`. */
  weighting: Weighting;
  /** Multiplies the update's weight (FedBuff's staleness discount; 1 otherwise). */
  weightScale: number;
  weightSpecs: TensorSpec[];
}

/** What a shard kept of one folded update (the update itself is not kept). */
export interface Folded {
  ticket: string;
  examples: number;
  trainLoss: number | null;
  bytesIn: number;
  bytesDown: number;
}

/** A shard's partial sum, without its values: sum of weight_i x delta_i over `count` updates. */
export interface PartialMeta extends PartialKey {
  /** Parameters in the sum. */
  length: number;
  /** Sum of the weights used (examples, or 1 when uniform, x weightScale). */
  weight: number;
  /** Sum of the example counts, undiscounted. */
  examples: number;
  count: number;
  /** Updates whose L2 norm was within the norm bound (jobs that bound norms; what the adaptive bound moves on). */
  belowBound?: number;
  /** An estimator that needs every update apart: the shard keeps them and the seal replaces the sum by its estimate. */
  estimator?: Estimator;
  /** The sum has been replaced by the estimator's estimate (x count): sealing again keeps it. */
  estimated?: boolean;
  /** Set when the job takes the sum: from then on the shard refuses updates for this key. */
  sealed: boolean;
}

/** A sealed partial sum as the job receives it, with the updates it holds. */
export interface SealedPartial {
  meta: PartialMeta;
  folded: Folded[];
}

export const emptyPartial = (key: PartialKey, length: number): PartialMeta => ({ ...key, length, weight: 0, examples: 0, count: 0, belowBound: 0, sealed: false });
