import { z } from "zod";
import { strictObject } from "../strict-object.js";

/**
 * Central differential privacy (DP-FedAvg, McMahan et al., 2018; Flower's
 * `DifferentialPrivacyServerSideFixedClipping` and `...AdaptiveClipping`, TFF's `gaussian_fixed`
 * and `gaussian_adaptive`): every update is clipped to the job's norm bound C
 * (`robustness.clipping`), and the job adds Gaussian noise of standard deviation
 * `noiseMultiplier x C` to each coordinate of the round's sum before the strategy's step. The
 * privacy spent is reported per round (see rdp-accountant.ts).
 */
export const privacySchema = strictObject({
  noiseMultiplier: z.number({ error: "noiseMultiplier must be a number" }).positive("noiseMultiplier must be positive").max(100, "noiseMultiplier must be at most 100"),
  /** The delta at which the job reports epsilon. */
  delta: z.number({ error: "delta must be a number" }).gt(0, "delta must be in (0, 1)").lt(1, "delta must be in (0, 1)").default(1e-5),
  /**
   * With an adaptive bound: the standard deviation of the noise on the count of updates within the
   * bound (default: a twentieth of clientsPerRound, TFF's `clipped_count_stddev`).
   */
  countNoiseStddev: z.number({ error: "countNoiseStddev must be a number" }).positive("countNoiseStddev must be positive").max(1e6).optional(),
});

export type Privacy = z.output<typeof privacySchema>;

/** The count noise of a job with an adaptive bound: the spec's, else clientsPerRound / 20. */
export const countNoiseOf = (privacy: Privacy, clientsPerRound: number): number => privacy.countNoiseStddev ?? clientsPerRound / 20;

/**
 * The noise multiplier of the updates' sum when the count of updates within an adaptive bound is
 * noised too (Andrew et al., 2021, Theorem 1): the two releases together cost as one Gaussian
 * mechanism of multiplier z when the sum's is `(z^-2 - (2 sigma_b)^-2)^(-1/2)`. Null when the
 * count noise is too small for that (2 sigma_b <= z).
 */
export function sumNoiseMultiplier(z: number, countStddev: number | null): number | null {
  if (countStddev === null) return z;
  const rest = z ** -2 - (2 * countStddev) ** -2;
  return rest > 0 ? rest ** -0.5 : null;
}
