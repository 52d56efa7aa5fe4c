import { describe, expect, it } from "vitest";
import { FP16_MAX, float32ToHalfBits, halfBitsToFloat, readFp16, writeFp16 } from "./fp16.js";
import { random } from "./test-random.js";

const roundTrip = (x: number) => halfBitsToFloat(float32ToHalfBits(x));

describe("fp16 conversion", () => {
  it("maps every finite half back to its own bit pattern", () => {
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00) continue;
      if (float32ToHalfBits(halfBitsToFloat(h)) !== h) throw new Error(`half 0x${h.toString(16)} does not round-trip`);
    }
  });

  it("keeps normal values within a relative error of 2^-11 and picks the nearest half", () => {
    const next = random(1);
    let worst = 0;
    let notNearest = 0;
    for (let i = 0; i < 200_000; i++) {
      const magnitude = Math.fround(2 ** (-14 + next() * 30));
      if (magnitude > FP16_MAX) continue;
      const x = next() < 0.5 ? -magnitude : magnitude;
      const h = float32ToHalfBits(x);
      const error = Math.abs(halfBitsToFloat(h) - x);
      worst = Math.max(worst, error / magnitude);
      for (const neighbour of [h - 1, h + 1]) {
        if ((neighbour & 0x7c00) === 0x7c00 || (neighbour & 0x8000) !== (h & 0x8000)) continue;
        if (Math.abs(halfBitsToFloat(neighbour) - x) < error) notNearest++;
      }
    }
    expect(worst).toBeLessThanOrEqual(2 ** -11);
    expect(worst).toBeGreaterThan(2 ** -12);
    expect(notNearest).toBe(0);
  });

  it("rounds ties to even", () => {
    expect(float32ToHalfBits(1 + 2 ** -11)).toBe(0x3c00);
    expect(float32ToHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(float32ToHalfBits(-(1 + 2 ** -11))).toBe(0xbc00);
    expect(float32ToHalfBits(2 ** -25)).toBe(0x0000);
    expect(float32ToHalfBits(3 * 2 ** -25)).toBe(0x0002);
    expect(float32ToHalfBits(1023.5 * 2 ** -24)).toBe(0x0400);
  });

  it("keeps subnormals within an absolute error of 2^-25 and flushes only what rounds to zero", () => {
    const next = random(2);
    let worst = 0;
    for (let i = 0; i < 50_000; i++) {
      const x = Math.fround((next() - 0.5) * 2 ** -13);
      worst = Math.max(worst, Math.abs(roundTrip(x) - x));
    }
    expect(worst).toBeLessThanOrEqual(2 ** -25);
    expect(roundTrip(2 ** -24)).toBe(2 ** -24);
    expect(roundTrip(Math.fround(1.0001 * 2 ** -25))).toBe(2 ** -24);
    expect(Object.is(roundTrip(-1e-30), -0)).toBe(true);
    expect(Object.is(roundTrip(-0), -0)).toBe(true);
  });

  it("rounds just above the largest half down to it and overflows only from 65520", () => {
    expect(float32ToHalfBits(FP16_MAX)).toBe(0x7bff);
    expect(float32ToHalfBits(65519)).toBe(0x7bff);
    expect(float32ToHalfBits(65520)).toBe(0x7c00);
    expect(float32ToHalfBits(-1e9)).toBe(0xfc00);
  });

  it("refuses to encode a value with no finite fp16 encoding", () => {
    for (const bad of [65520, -70000, Infinity, -Infinity, Number.NaN]) {
      const view = new DataView(new ArrayBuffer(4));
      expect(() => writeFp16(view, 0, Float32Array.of(1, bad)), String(bad)).toThrow(expect.objectContaining({ code: "invalid_update" }));
    }
  });

  it("refuses to decode an Inf or NaN encoding", () => {
    for (const bad of [0x7c00, 0xfc00, 0x7e00, 0xfe01, 0x7c01]) {
      const view = new DataView(new ArrayBuffer(4));
      view.setUint16(0, 0x3c00, true);
      view.setUint16(2, bad, true);
      expect(() => readFp16(view, 0, 2), bad.toString(16)).toThrow(expect.objectContaining({ code: "invalid_update", message: expect.stringMatching(/entry 1 encodes (NaN|Infinity)/) }));
    }
  });

  it("writes and reads little-endian binary16 at an offset", () => {
    const view = new DataView(new ArrayBuffer(7));
    writeFp16(view, 1, Float32Array.of(1, -2, 0.5));
    expect(Array.from(new Uint8Array(view.buffer))).toEqual([0, 0x00, 0x3c, 0x00, 0xc0, 0x00, 0x38]);
    expect(Array.from(readFp16(view, 1, 3))).toEqual([1, -2, 0.5]);
  });
});
