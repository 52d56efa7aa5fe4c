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
