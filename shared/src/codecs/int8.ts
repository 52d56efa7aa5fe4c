import { PropiusError } from "../errors.js";

/**
 * Symmetric int8 quantisation with one scale per tensor: scale = max|x| / 127 over the tensor's
 * encoded entries (stored as float32), q = round(x / scale) in [-127, 127], decoded as q * scale.
 * Every element is then within scale / 2 of its input (plus float32 rounding of q * scale).
 * -128 is never produced and is refused on decode; so are scales that are negative, not finite,
 * or large enough for 127 * scale to overflow float32. A tensor of zeros has scale 0.
 *
 * Entries are grouped by `bounds`: segment t is entries[bounds[t] .. bounds[t + 1]), one segment
 * per tensor in manifest order (for a sparse message, the kept entries that fall in that tensor).
 */
export const INT8_MAX = 127;
const FLOAT32_MAX = 3.4028234663852886e38;

export function int8Scales(entries: Float32Array, bounds: ArrayLike<number>): Float32Array {
  const scales = new Float32Array(bounds.length - 1);
  for (let t = 0; t < scales.length; t++) {
    let max = 0;
    for (let i = bounds[t]; i < bounds[t + 1]; i++) {
      const a = Math.abs(entries[i]);
      if (!(a <= FLOAT32_MAX)) throw new PropiusError("invalid_update", `value ${entries[i]} at entry ${i} cannot be quantised to int8`, { entry: i });
      if (a > max) max = a;
    }
    scales[t] = max / INT8_MAX;
  }
  return scales;
}

export function quantizeInt8(entries: Float32Array, bounds: ArrayLike<number>, scales: Float32Array): Int8Array {
  const q = new Int8Array(entries.length);
  for (let t = 0; t < scales.length; t++) {
    const scale = scales[t];
    if (scale === 0) continue;
    for (let i = bounds[t]; i < bounds[t + 1]; i++) {
      const x = entries[i];
      const m = Math.min(INT8_MAX, Math.round(Math.abs(x) / scale));
      q[i] = x < 0 ? -m : m;
    }
  }
  return q;
}

/** Refuses a scale table that could decode to anything but finite values. */
export function checkScales(scales: Float32Array, names: readonly string[]): void {
  for (let t = 0; t < scales.length; t++) {
    const s = scales[t];
    if (!Number.isFinite(s) || s < 0 || s * INT8_MAX > FLOAT32_MAX) {
      throw new PropiusError("invalid_update", `int8 scale of tensor '${names[t]}' is ${s}; it must be finite, non-negative and at most ${FLOAT32_MAX / INT8_MAX}`, { tensor: names[t], scale: String(s) });
    }
  }
}

export function dequantizeInt8(q: Int8Array, bounds: ArrayLike<number>, scales: Float32Array): Float32Array {
  const out = new Float32Array(q.length);
  for (let t = 0; t < scales.length; t++) {
    const scale = scales[t];
    for (let i = bounds[t]; i < bounds[t + 1]; i++) {
      if (q[i] === -128) throw new PropiusError("invalid_update", `int8 entry ${i} is -128, outside the symmetric range [-127, 127]`, { entry: i });
      out[i] = q[i] * scale;
    }
  }
  return out;
}
