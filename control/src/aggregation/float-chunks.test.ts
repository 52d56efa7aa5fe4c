import { describe, expect, it } from "vitest";
import { addFloatChunks } from "./float-chunks.js";

const bytesOf = (values: number[]) => new Uint8Array(Float32Array.from(values).buffer);

/** The bytes cut at the given offsets. */
function cut(bytes: Uint8Array, at: number[]): Uint8Array[] {
  const bounds = [0, ...at, bytes.length];
  return bounds.slice(1).map((end, i) => bytes.slice(bounds[i], end));
}

describe("addFloatChunks", () => {
  it("adds values whose chunks are cut inside a float, in any place", async () => {
    const bytes = bytesOf([1.5, -2, 3.25, 4, 1e-3]);
    for (const at of [[], [1], [2, 3], [5, 6, 7, 13], [4, 8, 12, 16], [19]]) {
      const total = Float32Array.from([10, 10, 10, 10, 10]);
      await addFloatChunks(total, cut(bytes, at));
      expect(Array.from(total)).toEqual(Array.from(Float32Array.from([11.5, 8, 13.25, 14, 10.001])));
    }
  });

  it("reads a stream, and a view that starts at an odd byte offset", async () => {
    const padded = new Uint8Array(9);
    padded.set(bytesOf([2, 3]), 1);
    const total = new Float32Array(2);
    await addFloatChunks(total, new Response(padded.subarray(1)).body! as unknown as AsyncIterable<Uint8Array>);
    expect(Array.from(total)).toEqual([2, 3]);
  });

  it("refuses chunks that hold too few or too many values, or stray bytes", async () => {
    await expect(addFloatChunks(new Float32Array(3), [bytesOf([1, 2])])).rejects.toThrow(/expected 3 values/);
    await expect(addFloatChunks(new Float32Array(1), [bytesOf([1, 2])])).rejects.toThrow(/more than 1/);
    await expect(addFloatChunks(new Float32Array(1), [bytesOf([1]), new Uint8Array(2)])).rejects.toThrow(/stray bytes/);
  });
});
