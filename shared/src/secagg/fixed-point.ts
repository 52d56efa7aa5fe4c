/**
 * Fixed-point quantization for secure aggregation: masks are added in the ring of 32-bit integers,
 * so each value is clipped to `[-range, range]` and mapped to an integer with room left for the
 * sum of `maxInputs` of them to stay below 2^32 (no wrap-around, so the sum decodes exactly).
 */
export interface FixedPoint {
  /** Values are clipped to [-range, range]. */
  range: number;
  /** The most inputs a sum may hold. */
  maxInputs: number;
}

const RING = 2 ** 32;

/** The integer levels one input may take: `maxInputs` of the largest still sum below 2^32. */
export function levels({ maxInputs }: FixedPoint): number {
  if (!Number.isInteger(maxInputs) || maxInputs < 1 || maxInputs > 65_536) throw new RangeError("maxInputs must be an integer from 1 to 65536");
  return Math.floor((RING - 1) / maxInputs);
}

/** The step between two levels: a quantized value is within half of it of the clipped one. */
export function quantizationStep(format: FixedPoint): number {
  return (2 * format.range) / (levels(format) - 1);
}

/**
 * Each value as an integer level: `round((clip(v) + range) / step)`, stochastic rounding aside
 * (deterministic rounding keeps the error bound simple: at most step / 2 per value and input).
 */
export function quantize(values: Float32Array, format: FixedPoint): Uint32Array {
  if (!(format.range > 0) || !Number.isFinite(format.range)) throw new RangeError("range must be a positive finite number");
  const step = quantizationStep(format);
  const top = levels(format) - 1;
  const out = new Uint32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = Math.min(format.range, Math.max(-format.range, Number.isNaN(values[i]) ? 0 : values[i]));
    out[i] = Math.min(top, Math.round((v + format.range) / step));
  }
  return out;
}

/** The real-valued sum of `inputs` quantized inputs from the sum of their levels. */
export function dequantizeSum(sum: Uint32Array, inputs: number, format: FixedPoint): Float32Array {
  if (!Number.isInteger(inputs) || inputs < 1 || inputs > format.maxInputs) throw new RangeError(`a sum holds 1 to ${format.maxInputs} inputs`);
  const step = quantizationStep(format);
  const out = new Float32Array(sum.length);
  for (let i = 0; i < sum.length; i++) out[i] = sum[i] * step - inputs * format.range;
  return out;
}

/** Adds `b` into `a` in the ring of 32-bit integers (`sign` -1 subtracts). */
export function addInto(a: Uint32Array, b: Uint32Array, sign: 1 | -1 = 1): Uint32Array {
  if (a.length !== b.length) throw new RangeError(`vectors of ${a.length} and ${b.length} values cannot be added`);
  if (sign === 1) for (let i = 0; i < a.length; i++) a[i] = (a[i] + b[i]) >>> 0;
  else for (let i = 0; i < a.length; i++) a[i] = (a[i] - b[i]) >>> 0;
  return a;
}
