/**
 * Weighted federated averaging (FedAvg) over model deltas, as a running sum so that memory is
 * one model's size however many clients report.
 */
export class WeightedSum {
  readonly sum: Float32Array;
  weight: number;
  count: number;

  constructor(size: number, sum?: Float32Array, weight = 0, count = 0) {
    if (sum && sum.length !== size) throw new RangeError(`sum has ${sum.length} values, expected ${size}`);
    this.sum = sum ?? new Float32Array(size);
    this.weight = weight;
    this.count = count;
  }

  /** Adds `weight * delta` to the running sum. */
  add(delta: Float32Array, weight: number): void {
    if (delta.length !== this.sum.length) throw new RangeError(`delta has ${delta.length} values, expected ${this.sum.length}`);
    if (!(weight > 0) || !Number.isFinite(weight)) throw new RangeError("weight must be a positive finite number");
    const s = this.sum;
    for (let i = 0; i < s.length; i++) s[i] += weight * delta[i];
    this.weight += weight;
    this.count += 1;
  }

  /** The weighted mean delta: sum / weight. */
  mean(): Float32Array {
    if (this.weight <= 0) throw new RangeError("no updates were added");
    const out = new Float32Array(this.sum.length);
    const inv = 1 / this.weight;
    for (let i = 0; i < out.length; i++) out[i] = this.sum[i] * inv;
    return out;
  }
}

/** FedAvg step: the next global model is the current one plus the weighted mean delta (one new array, no copy of the mean). */
export function applyFedAvg(global: Float32Array, aggregate: WeightedSum, serverLearningRate = 1): Float32Array {
  if (aggregate.weight <= 0) throw new RangeError("no updates were added");
  if (aggregate.sum.length !== global.length) throw new RangeError("aggregate and model sizes differ");
  const next = new Float32Array(global.length);
  const inv = 1 / aggregate.weight;
  // The mean is rounded to float32 as `mean()` stores it, so the step equals global + lr x mean().
  for (let i = 0; i < next.length; i++) next[i] = global[i] + serverLearningRate * Math.fround(aggregate.sum[i] * inv);
  return next;
}
