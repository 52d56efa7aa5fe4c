import { describe, expect, it } from "vitest";
import { gather, readIndices, scatter, selectTopK, sparseBounds } from "./top-k.js";
import { random } from "./test-random.js";

const invalid = expect.objectContaining({ code: "invalid_update" });

function indexView(indices: number[]): DataView {
  const view = new DataView(new ArrayBuffer(indices.length * 4));
  indices.forEach((v, j) => view.setUint32(j * 4, v, true));
  return view;
}

describe("top-k sparsification", () => {
  it("keeps exactly the k largest magnitudes, in ascending index order, and zeros the rest", () => {
    const next = random(4);
    const x = Float32Array.from({ length: 10_000 }, () => (next() - 0.5) * 2);
    const k = 250;
    const indices = selectTopK(x, k);
    expect(indices.length).toBe(k);
    for (let j = 1; j < k; j++) expect(indices[j]).toBeGreaterThan(indices[j - 1]);
    const expected = Array.from(x.keys()).sort((a, b) => Math.abs(x[b]) - Math.abs(x[a])).slice(0, k).sort((a, b) => a - b);
    expect(Array.from(indices)).toEqual(expected);
    const dense = scatter(indices, gather(x, indices), x.length);
    const kept = new Set(expected);
    for (let i = 0; i < x.length; i++) if (dense[i] !== (kept.has(i) ? x[i] : 0)) throw new Error(`wrong value at ${i}`);
  });

  it("breaks ties in magnitude towards the lower index", () => {
    expect(Array.from(selectTopK(Float32Array.of(1, -3, 3, 2, -3, 0), 2))).toEqual([1, 2]);
    expect(Array.from(selectTopK(Float32Array.of(0, 0, 0, 0), 3))).toEqual([0, 1, 2]);
    expect(Array.from(selectTopK(Float32Array.of(5, -1, 2), 3))).toEqual([0, 1, 2]);
  });

  it("refuses k outside 1..N and values that cannot be ranked", () => {
    expect(() => selectTopK(Float32Array.of(1, 2), 0)).toThrow(invalid);
    expect(() => selectTopK(Float32Array.of(1, 2), 3)).toThrow(invalid);
    expect(() => selectTopK(Float32Array.of(1, 2), 1.5)).toThrow(invalid);
    expect(() => selectTopK(Float32Array.of(1, Number.NaN), 1)).toThrow(invalid);
  });

  it("reads strictly ascending indices below N", () => {
    expect(Array.from(readIndices(indexView([0, 3, 9]), 0, 3, 10))).toEqual([0, 3, 9]);
  });

  it("refuses unsorted, duplicate or out-of-range indices", () => {
    expect(() => readIndices(indexView([0, 5, 4]), 0, 3, 10)).toThrow(expect.objectContaining({ code: "invalid_update", message: expect.stringContaining("strictly ascending") }));
    expect(() => readIndices(indexView([2, 2]), 0, 2, 10)).toThrow(expect.objectContaining({ message: expect.stringContaining("strictly ascending") }));
    expect(() => readIndices(indexView([1, 10]), 0, 2, 10)).toThrow(expect.objectContaining({ code: "invalid_update", message: expect.stringContaining("out of range") }));
    expect(() => readIndices(indexView([0xffffffff]), 0, 1, 10)).toThrow(invalid);
  });

  it("splits the kept entries by tensor", () => {
    // Tensors end at 4, 6 and 10; no index falls in the second.
    expect(Array.from(sparseBounds(Uint32Array.of(0, 3, 7, 9), [4, 6, 10]))).toEqual([0, 2, 2, 4]);
  });
});
