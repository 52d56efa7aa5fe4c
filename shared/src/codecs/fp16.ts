import { PropiusError } from "../errors.js";

/**
 * IEEE 754 binary16 ("half") conversion, written out so that `shared` needs no dependency.
 *
 * float32 -> float16 rounds to nearest, ties to even, including into the subnormal range
 * (|x| < 2^-14, steps of 2^-24); magnitudes at or below 2^-25 become a signed zero. A value whose
 * rounding would overflow (|x| >= 65520, i.e. beyond the largest finite half 65504 plus half a
 * step) is refused on encode rather than clamped: a delta that large is a diverged update, and the
 * sender can fall back to fp32. Inf and NaN are refused on encode and on decode.
 *
 * For a float32 input in the normal half range (2^-14 <= |x| <= 65504) the relative error of the
 * round trip is at most 2^-11; below it the absolute error is at most 2^-25.
 */
export const FP16_MAX = 65504;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The binary16 bit pattern nearest to `x` (after rounding `x` to float32); Inf/NaN map to Inf/NaN. */
export function float32ToHalfBits(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half (or zero): value = m * 2^-24 with the implicit bit made explicit.
    if (e < -10) return sign;
    const full = mantissa | 0x800000;
    const shift = 14 - e;
    const rest = full & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    let m = full >>> shift;
    if (rest > halfway || (rest === halfway && (m & 1) === 1)) m += 1; // may carry into the smallest normal: correct
    return sign | m;
  }
  const rest = mantissa & 0x1fff;
  let h = sign | (e << 10) | (mantissa >>> 13);
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h += 1; // may carry into the exponent, up to Inf
  return h;
}

/** The value of a binary16 bit pattern (exact in float32 and in double). */
export function halfBitsToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >>> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? Number.NaN : sign * Infinity;
  return sign * (1024 + mantissa) * 2 ** (exponent - 25);
}

const isInfOrNaN = (h: number) => (h & 0x7c00) === 0x7c00;

/** Writes `values` as little-endian binary16 at `offset`; refuses values that are not finite in fp16. */
export function writeFp16(view: DataView, offset: number, values: Float32Array): void {
  for (let i = 0; i < values.length; i++) {
    const h = float32ToHalfBits(values[i]);
    if (isInfOrNaN(h)) {
      throw new PropiusError("invalid_update", `value ${values[i]} at entry ${i} has no finite fp16 encoding (|x| must stay below 65520)`, { entry: i });
    }
    view.setUint16(offset + i * 2, h, true);
  }
}

/** Reads `count` little-endian binary16 values at `offset`; refuses any Inf or NaN encoding. */
export function readFp16(view: DataView, offset: number, count: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const h = view.getUint16(offset + i * 2, true);
    if (isInfOrNaN(h)) {
      throw new PropiusError("invalid_update", `fp16 entry ${i} encodes ${h & 0x3ff ? "NaN" : "Infinity"}`, { entry: i });
    }
    out[i] = halfBitsToFloat(h);
  }
  return out;
}
