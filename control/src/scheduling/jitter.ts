import type { Random } from "./policies/policy.js";

/**
 * Scales `value` by a uniform factor in [1 - spread, 1 + spread], so that devices told to come back
 * after the same wait do not return in lockstep (pace steering; the simulator uses it too).
 */
export function jitter(random: Random, value: number, spread = 0.2): number {
  return value * (1 - spread + 2 * spread * random());
}
