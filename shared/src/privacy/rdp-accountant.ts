/**
 * A Rényi-DP accountant for the Gaussian mechanism (Mironov, 2017). One release of a sum of
 * sensitivity C with Gaussian noise of standard deviation z x C is (alpha, alpha / (2 z^2))-RDP for
 * every order alpha > 1; T releases compose to T alpha / (2 z^2); and (alpha, r)-RDP gives
 * (r + log(1 / delta) / (alpha - 1), delta)-DP. Epsilon is the least over a grid of orders.
 *
 * No amplification by subsampling is claimed: a volunteer pool's rounds bind whoever is there, not
 * a uniform sample of a known population, so every round is counted as a full release (the figure
 * is an upper bound; a Poisson-sampled population would give a smaller one).
 */
export const RDP_ORDERS: readonly number[] = [
  1.01, 1.05, 1.1, 1.25, 1.5, 1.75, 2, 2.5, 3, 3.5, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32, 48, 64, 96, 128, 256, 512, 1024,
];

/** Epsilon at `delta` after `rounds` releases with noise multiplier `z` (0 before any release). */
export function gaussianEpsilon(z: number, rounds: number, delta: number): number {
  if (rounds === 0) return 0;
  if (!(z > 0)) return Number.POSITIVE_INFINITY;
  let best = Number.POSITIVE_INFINITY;
  for (const alpha of RDP_ORDERS) best = Math.min(best, (rounds * alpha) / (2 * z * z) + Math.log(1 / delta) / (alpha - 1));
  return best;
}
