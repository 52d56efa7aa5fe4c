import { afterEach, describe, expect, it } from "vitest";
import { decodeDigits, encodeDigits, loadDigits, useDigitsCache, type DigitsCache } from "./mnist.js";

/** A cache in memory that counts its reads and writes. */
function memoryCache(initial?: Uint8Array) {
  const cache = { bytes: initial, reads: 0, writes: 0 };
  const store: DigitsCache = {
    read: async () => (cache.reads++, cache.bytes),
    write: async (bytes) => void (cache.writes++, (cache.bytes = bytes)),
  };
  return { cache, store };
}

/** Element-wise equality, without handing megabytes of typed arrays to the assertion library. */
const same = (a: ArrayLike<number>, b: ArrayLike<number>) => a.length === b.length && Array.prototype.every.call(a, (v: number, i: number) => v === b[i]);

afterEach(() => useDigitsCache(undefined));

describe("the digits cache", { timeout: 120_000 }, () => {
  it("round-trips every pixel and label of the package exactly", async () => {
    const digits = await loadDigits();
    const decoded = decodeDigits(encodeDigits(digits));
    expect(decoded.count).toBe(digits.count);
    expect(same(decoded.labels, digits.labels)).toBe(true);
    expect(same(decoded.x, digits.x)).toBe(true);
  });

  it("writes the cache on the first load and reads it, not the package, afterwards", async () => {
    const { cache, store } = memoryCache();
    useDigitsCache(store);
    const first = await loadDigits();
    expect(cache.writes).toBe(1);
    useDigitsCache(store);
    const second = await loadDigits();
    expect(second === first).toBe(false);
    expect({ reads: cache.reads, writes: cache.writes }).toEqual({ reads: 2, writes: 1 });
    expect(same(second.labels, first.labels) && same(second.x, first.x)).toBe(true);
  });

  it("parses the package again and rewrites a damaged cache", async () => {
    const { cache, store } = memoryCache(new TextEncoder().encode("MND1 but truncated"));
    useDigitsCache(store);
    expect((await loadDigits()).count).toBe(10_000);
    expect(cache.writes).toBe(1);
    expect(decodeDigits(cache.bytes!).count).toBe(10_000);
  });

  it("refuses bytes that are not a whole digits file", () => {
    const bytes = encodeDigits({ x: new Float32Array(784).fill(0.5), labels: Uint8Array.of(3), count: 1 });
    expect(Array.from(decodeDigits(bytes).labels)).toEqual([3]);
    expect(() => decodeDigits(bytes.subarray(0, bytes.length - 2))).toThrow(/must be/);
    expect(() => decodeDigits(new Uint8Array(16))).toThrow(/not an MND1/);
    expect(() => encodeDigits({ x: new Float32Array(784).fill(0.0005), labels: Uint8Array.of(3), count: 1 })).toThrow(/multiple/);
  });
});
