import { describe, expect, it } from "vitest";
import { checkScales, dequantizeInt8, int8Scales, quantizeInt8 } from "./int8.js";
import { random } from "./test-random.js";

const invalid = expect.objectContaining({ code: "invalid_update" });

describe("int8 quantisation", () => {
  it("keeps every element within half a step of its tensor's scale max|x|/127", () => {
    const next = random(3);
    // Three tensors of very different magnitudes: each gets its own scale.
    const bounds = [0, 5000, 5100, 20000];
    const magnitude = [1e-3, 10, 0.2];
    const x = new Float32Array(20000);
    for (let t = 0; t < 3; t++) for (let i = bounds[t]; i < bounds[t + 1]; i++) x[i] = (next() * 2 - 1) * magnitude[t];
    const scales = int8Scales(x, bounds);
    const y = dequantizeInt8(quantizeInt8(x, bounds, scales), bounds, scales);
    for (let t = 0; t < 3; t++) {
      let max = 0;
      let worst = 0;
      for (let i = bounds[t]; i < bounds[t + 1]; i++) max = Math.max(max, Math.abs(x[i]));
      expect(scales[t]).toBe(Math.fround(max / 127));
      for (let i = bounds[t]; i < bounds[t + 1]; i++) worst = Math.max(worst, Math.abs(y[i] - x[i]));
      // Half a step, plus the float32 rounding of q * scale (at most 2^-24 of 127 steps).
      expect(worst).toBeLessThanOrEqual(scales[t] * (0.5 + 127 * 2 ** -24));
      expect(worst).toBeGreaterThan(scales[t] * 0.45);
    }
  });

  it("maps each tensor's extreme to ±127 and rounds symmetrically", () => {
    const x = Float32Array.of(-2, 0.5, 2, -0.5, 0.0078125);
    const scales = int8Scales(x, [0, 5]);
    const q = quantizeInt8(x, [0, 5], scales);
    expect(Array.from(q)).toEqual([-127, 32, 127, -32, 0]);
    expect(Array.from(quantizeInt8(Float32Array.of(-1.5, 1.5), [0, 2], Float32Array.of(1)))).toEqual([-2, 2]);
  });

  it("gives a tensor of zeros a zero scale and decodes it to zeros", () => {
    const x = Float32Array.of(0, 0, 0, 3);
    const scales = int8Scales(x, [0, 3, 4]);
    expect(Array.from(scales)).toEqual([0, Math.fround(3 / 127)]);
    expect(Array.from(dequantizeInt8(quantizeInt8(x, [0, 3, 4], scales), [0, 3, 4], scales))).toEqual([0, 0, 0, 3]);
  });

  it("refuses to quantise a value that is not finite", () => {
    expect(() => int8Scales(Float32Array.of(1, Number.NaN), [0, 2])).toThrow(invalid);
    expect(() => int8Scales(Float32Array.of(1, -Infinity), [0, 2])).toThrow(invalid);
  });

  it("refuses a scale that is NaN, infinite, negative or large enough to overflow float32", () => {
    for (const bad of [Number.NaN, Infinity, -Infinity, -1, 3e38]) {
      expect(() => checkScales(Float32Array.of(0.5, bad), ["a", "b"]), String(bad)).toThrow(
        expect.objectContaining({ code: "invalid_update", message: expect.stringContaining("int8 scale of tensor 'b'") }),
      );
    }
    expect(() => checkScales(Float32Array.of(0, 1e36), ["a", "b"])).not.toThrow();
  });

  it("refuses -128, which the symmetric range never produces", () => {
    expect(() => dequantizeInt8(Int8Array.of(1, -128), [0, 2], Float32Array.of(1))).toThrow(invalid);
  });
});
