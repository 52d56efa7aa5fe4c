import type { Estimator } from "./robustness.js";

/**
 * Robust estimators over a round's updates, each weighing updates alike: coordinate-wise median,
 * coordinate-wise trimmed mean, and (multi-)Krum. `updates` are the deltas, all of one length;
 * the result is a new array. None of them reads the updates' example claims.
 */
export function estimate(estimator: Estimator, updates: readonly Float32Array[]): Float32Array {
  if (updates.length === 0) throw new RangeError("no updates to estimate from");
  const n = updates[0].length;
  for (const u of updates) if (u.length !== n) throw new RangeError(`updates of ${u.length} and ${n} values`);
  switch (estimator.kind) {
    case "mean":
      return coordinateWise(updates, (column) => mean(column, 0, column.length));
    case "median":
      return coordinateWise(updates, (column) => median(column));
    case "trimmedMean": {
      const cut = trimmedCount(updates.length, estimator.trim);
      return coordinateWise(updates, (column) => (column.sort(), mean(column, cut, column.length - cut)));
    }
    case "krum":
      return meanOf(krumSelect(updates, estimator.byzantine, estimator.keep ?? Math.max(1, updates.length - estimator.byzantine)).map((i) => updates[i]));
  }
}

/** Values dropped from each end of a coordinate by a trimmed mean of `count` values: floor(trim x count), leaving at least one. */
export function trimmedCount(count: number, trim: number): number {
  return Math.min(Math.floor(trim * count), Math.floor((count - 1) / 2));
}

/** The median of `column` (sorted in place): the middle value, or the mean of the two middle ones. */
export function median(column: Float32Array): number {
  column.sort();
  const m = column.length >> 1;
  return column.length % 2 === 1 ? column[m] : (column[m - 1] + column[m]) / 2;
}

/**
 * Multi-Krum (Blanchard et al., 2017; El Mhamdi et al., 2018): each update's score is the sum of its
 * squared distances to its `count - byzantine - 2` nearest others; the `keep` lowest-scored are
 * returned (indices, best first). With too few updates for that neighbourhood (count <= byzantine
 * + 2) the nearest one other is used, and the guarantee of the paper does not hold.
 */
export function krumSelect(updates: readonly Float32Array[], byzantine: number, keep: number): number[] {
  const count = updates.length;
  const distances = Array.from({ length: count }, () => new Float64Array(count));
  for (let i = 0; i < count; i++) {
    for (let j = i + 1; j < count; j++) {
      const d = squaredDistance(updates[i], updates[j]);
      distances[i][j] = d;
      distances[j][i] = d;
    }
  }
  const neighbours = Math.max(1, count - byzantine - 2);
  const scores = distances.map((row, i) => {
    const others = [...row].filter((_, j) => j !== i).sort((a, b) => a - b);
    return others.slice(0, neighbours).reduce((s, d) => s + d, 0);
  });
  return scores.map((score, i) => ({ score, i })).sort((a, b) => a.score - b.score || a.i - b.i).slice(0, Math.min(keep, count)).map((s) => s.i);
}

function squaredDistance(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let k = 0; k < a.length; k++) {
    const d = a[k] - b[k];
    sum += d * d;
  }
  return sum;
}

function meanOf(updates: readonly Float32Array[]): Float32Array {
  return coordinateWise(updates, (column) => mean(column, 0, column.length));
}

function mean(column: Float32Array, from: number, to: number): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += column[i];
  return sum / (to - from);
}

/** `out[k] = reduce(the k-th value of every update)`; the column buffer is reused (and may be reordered by `reduce`). */
function coordinateWise(updates: readonly Float32Array[], reduce: (column: Float32Array) => number): Float32Array {
  const n = updates[0].length;
  const out = new Float32Array(n);
  const column = new Float32Array(updates.length);
  for (let k = 0; k < n; k++) {
    for (let u = 0; u < updates.length; u++) column[u] = updates[u][k];
    out[k] = reduce(column);
  }
  return out;
}
