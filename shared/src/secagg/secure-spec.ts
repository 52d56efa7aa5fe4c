import { z } from "zod";
import { strictObject } from "../strict-object.js";

/**
 * A job's secure aggregation (docs/secure-aggregation.md): the control plane only ever holds
 * masked inputs and the sum of a group's updates. Each aggregator shard's devices in a round
 * attempt are one group.
 */
export const secureAggregationSchema = strictObject({
  /**
   * Each value a device sends (its delta scaled by its weight, see `secureInput`) is clipped to
   * [-range, range] and quantized in the ring of 32-bit integers; the step is 2 range n / 2^32 for a
   * group of n devices (at range 1 and 32 devices, 1.5e-8).
   */
  range: z.number({ error: "range must be a number" }).positive("range must be positive").max(1e6, "range must be at most 1e6").default(1),
  /** The fraction of the group whose shares rebuild a secret: the round survives dropouts down to this many (at least 2). */
  threshold: z.number({ error: "threshold must be a number" }).gt(0.5, "threshold must be above 0.5 and at most 1").max(1, "threshold must be above 0.5 and at most 1").default(2 / 3),
  /** Seconds each phase (keys, shares, masked inputs, unmasking) waits for devices that have not acted yet. */
  phaseSeconds: z.number({ error: "phaseSeconds must be a number" }).int("phaseSeconds must be a whole number").min(1).max(600).default(15),
});

export type SecureAggregation = z.output<typeof secureAggregationSchema>;

/** A group needs this many devices: with two, each would learn the other's update from the sum. */
export const MIN_SECURE_GROUP = 3;
/** The share format numbers devices with one byte. */
export const MAX_SECURE_GROUP = 255;

/** The shares that rebuild a secret in a group of `size` (the roster). */
export function thresholdFor(size: number, fraction: number): number {
  return Math.min(size, Math.max(2, Math.ceil(fraction * size)));
}

/** What a group's keys are derived for: the job's round attempt (each shard's group has its own keys). */
export function secureContext(jobId: string, round: number, attempt: number): string {
  return `${jobId} ${round} ${attempt}`;
}

/** What a device needs of the job's secure aggregation, in its task. */
export const secureTaskSchema = z.object({
  /** The round attempt's secure-aggregation endpoints: `{url}/keys`, `/roster`, `/shares`, `/masked`, `/unmask`, `/reveal`, `/receipt`. */
  url: z.string(),
  range: z.number(),
  /** Each device's weight: its example count capped at `maxExamples`, over `maxExamples` (`examples` weighting), or 1 (`uniform`). */
  weighting: z.enum(["examples", "uniform"]),
  maxExamples: z.number().int().min(1),
  /** The fixed norm bound the device clips its delta to before masking (the shard cannot see one update to clip it). */
  clipNorm: z.number().positive().optional(),
});
export type SecureTask = z.output<typeof secureTaskSchema>;

/**
 * The values a device masks: its delta scaled by its weight w in [0, 1], then w x range (so the
 * weight quantizes with the same step). The sum of these decodes to the weighted sum and the
 * total weight (`decodeSecureSum`).
 */
export function secureInput(delta: Float32Array, examples: number, task: Pick<SecureTask, "range" | "weighting" | "maxExamples" | "clipNorm">): Float32Array {
  const weight = task.weighting === "uniform" ? 1 : Math.min(Math.max(0, Math.floor(examples)), task.maxExamples) / task.maxExamples;
  let norm = 0;
  for (const v of delta) norm += v * v;
  norm = Math.sqrt(norm);
  const clip = task.clipNorm !== undefined && norm > task.clipNorm ? task.clipNorm / norm : 1;
  const out = new Float32Array(delta.length + 1);
  for (let i = 0; i < delta.length; i++) out[i] = delta[i] * clip * weight;
  out[delta.length] = weight * task.range;
  return out;
}

/**
 * A group's decoded sum (real values, see `dequantizeSum`) as a partial sum: the weighted sum of
 * deltas in the units the job divides by the weight (examples, or devices for `uniform`), and that
 * weight.
 */
export function decodeSecureSum(decoded: Float32Array, task: Pick<SecureTask, "range" | "weighting" | "maxExamples">): { sum: Float32Array; weight: number } {
  const n = decoded.length - 1;
  const scale = task.weighting === "uniform" ? 1 : task.maxExamples;
  const weight = Math.max(0, (decoded[n] / task.range) * scale);
  const sum = new Float32Array(n);
  for (let i = 0; i < n; i++) sum[i] = decoded[i] * scale;
  return { sum, weight };
}
