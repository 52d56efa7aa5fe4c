import * as tf from "../tf.js";
import { mulberry32 } from "../../demo/random.js";
import { trainingBackends } from "../backend.js";

/**
 * Test support: runs the same computation on the `cpu` and `wasm` backends and measures how far
 * wasm's result is from cpu's, the reference the kernels here are held to.
 */

/** Values uniform in [-1, 1) from a seeded generator. */
export function randomValues(shape: number[], seed: number): Float32Array {
  const random = mulberry32(seed);
  return Float32Array.from({ length: shape.reduce((n, d) => n * d, 1) }, () => 2 * random() - 1);
}

/** The values `compute` returns on each backend (tensors made inside it live on that backend). */
export async function onCpuAndWasm(compute: () => tf.Tensor): Promise<{ cpu: Float32Array; wasm: Float32Array }> {
  const results: Float32Array[] = [];
  for (const name of ["cpu", "wasm"]) {
    await trainingBackends.use(name);
    const out = tf.tidy(compute);
    results.push((await out.data()) as Float32Array);
    out.dispose();
  }
  return { cpu: results[0], wasm: results[1] };
}

/** Largest |a - b| over the values, and the largest |reference| (the scale a tolerance is taken of). */
export function difference(reference: Float32Array, other: Float32Array): { maxAbsDiff: number; maxMagnitude: number } {
  if (reference.length !== other.length) throw new RangeError(`lengths differ: ${reference.length} and ${other.length}`);
  let maxAbsDiff = 0;
  let maxMagnitude = 0;
  for (let i = 0; i < reference.length; i++) {
    // NaN anywhere makes the difference NaN, which fails every comparison.
    maxAbsDiff = Math.max(maxAbsDiff, Math.abs(reference[i] - other[i]));
    maxMagnitude = Math.max(maxMagnitude, Math.abs(reference[i]));
  }
  return { maxAbsDiff, maxMagnitude };
}

/** The kernels' stated tolerance: max |wasm - cpu| <= 1e-4 x max |cpu|. */
export const RELATIVE_TOLERANCE = 1e-4;

export type Shape4 = [number, number, number, number];
/** [input shape, filter shape, strides, padding] of a convolution. */
export type ConvCase = [Shape4, Shape4, [number, number], "same" | "valid" | number];

/** Convolutions both gradient kernels are checked on: odd and even sizes, 1x1 to 5x5 filters, strides 1-3, one and many channels, explicit padding. */
export const CONV_CASES: ConvCase[] = [
  [[2, 7, 7, 3], [3, 3, 3, 4], [1, 1], "same"],
  [[2, 8, 9, 2], [3, 2, 2, 5], [2, 2], "same"],
  [[3, 9, 8, 2], [3, 3, 2, 3], [2, 1], "valid"],
  [[1, 6, 6, 1], [5, 5, 1, 2], [3, 3], "same"],
  [[4, 10, 10, 4], [1, 1, 4, 6], [1, 1], "valid"],
  [[2, 12, 11, 8], [3, 3, 8, 16], [1, 2], "same"],
  [[2, 9, 9, 3], [3, 3, 3, 2], [1, 1], 1],
];
