import type { Clipping } from "./robustness.js";

/** The L2 norm of `values` (accumulated in float64, so float32 values near their limit do not overflow it). */
export function l2Norm(values: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i] * values[i];
  return Math.sqrt(sum);
}

/**
 * What an update of norm `norm` is multiplied by under the bound `bound`: 1 when it is within the
 * bound, else bound / norm (TFF's and Flower's clipping). A non-finite norm gives 1: the update
 * holds a non-finite value, which the fold refuses.
 */
export function clipFactor(norm: number, bound: number): number {
  if (!Number.isFinite(norm) || norm <= bound) return 1;
  return bound / norm;
}

/** Multiplies `values` by `factor` in place. */
export function scaleInPlace(values: Float32Array, factor: number): void {
  if (factor === 1) return;
  for (let i = 0; i < values.length; i++) values[i] *= factor;
}

/**
 * The bound for the next round (Andrew et al., 2021, geometric update): `bound x exp(-eta x (b - q))`
 * where b is the fraction of this round's updates whose norm was at most the bound. With q = 0.5 the
 * bound tracks the median norm; a round with no updates leaves it as it was. A fixed bound never moves.
 */
export function nextBound(clipping: Clipping, bound: number, round: { belowBound: number; count: number }): number {
  if (clipping.mode === "fixed" || round.count === 0) return bound;
  const below = round.belowBound / round.count;
  return bound * Math.exp(-clipping.learningRate * (below - clipping.quantile));
}

/** The first round's bound. */
export const initialBound = (clipping: Clipping): number => (clipping.mode === "fixed" ? clipping.norm : clipping.initialNorm);
