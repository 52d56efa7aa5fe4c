import { PropiusError } from "../errors.js";

/**
 * Global top-k sparsification: of a delta's N parameters, keep the k with the largest magnitude
 * (ties go to the lower index) and send their flat indices (uint32, strictly ascending, < N) with
 * their values; every other parameter decodes to 0.
 */

/** Indices of the k largest |x|, ascending. Refuses non-finite values (their order is undefined). */
export function selectTopK(values: Float32Array, k: number): Uint32Array {
  const n = values.length;
  if (!Number.isInteger(k) || k < 1 || k > n) throw new PropiusError("invalid_update", `top-k needs 1 <= k <= ${n}, got ${k}`);
  const magnitudes = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const a = Math.abs(values[i]);
    if (!Number.isFinite(a)) throw new PropiusError("invalid_update", `value ${values[i]} at index ${i} cannot be ranked for top-k`, { index: i });
    magnitudes[i] = a;
  }
  const threshold = magnitudes.slice().sort()[n - k];
  let ties = k;
  for (let i = 0; i < n; i++) if (magnitudes[i] > threshold) ties--;
  const indices = new Uint32Array(k);
  let j = 0;
  for (let i = 0; i < n && j < k; i++) {
    const a = magnitudes[i];
    if (a > threshold) indices[j++] = i;
    else if (a === threshold && ties > 0) {
      indices[j++] = i;
      ties--;
    }
  }
  return indices;
}

/** The values at `indices`. */
export function gather(values: Float32Array, indices: Uint32Array): Float32Array {
  const out = new Float32Array(indices.length);
  for (let j = 0; j < indices.length; j++) out[j] = values[indices[j]];
  return out;
}

/** Reads k little-endian uint32 indices and refuses any that is out of range or not strictly above its predecessor. */
export function readIndices(view: DataView, offset: number, k: number, n: number): Uint32Array {
  const indices = new Uint32Array(k);
  let previous = -1;
  for (let j = 0; j < k; j++) {
    const index = view.getUint32(offset + j * 4, true);
    if (index >= n) throw new PropiusError("invalid_update", `top-k index ${index} (entry ${j}) is out of range for ${n} parameters`, { entry: j, index });
    if (index <= previous) {
      throw new PropiusError("invalid_update", `top-k indices must be strictly ascending: entry ${j} is ${index} after ${previous}`, { entry: j, index, previous });
    }
    indices[j] = index;
    previous = index;
  }
  return indices;
}

/** A dense vector of length n holding `entries` at `indices` and 0 elsewhere. */
export function scatter(indices: Uint32Array, entries: Float32Array, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let j = 0; j < indices.length; j++) out[indices[j]] = entries[j];
  return out;
}

/**
 * Per-tensor segments of the kept entries: bounds[t] .. bounds[t + 1] are the entries whose index
 * falls in tensor t, given the tensors' end offsets in the flat vector (indices must be ascending).
 */
export function sparseBounds(indices: Uint32Array, tensorEnds: readonly number[]): Uint32Array {
  const bounds = new Uint32Array(tensorEnds.length + 1);
  let j = 0;
  for (let t = 0; t < tensorEnds.length; t++) {
    while (j < indices.length && indices[j] < tensorEnds[t]) j++;
    bounds[t + 1] = j;
  }
  return bounds;
}
