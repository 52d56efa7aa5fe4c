import { describe, expect, it } from "vitest";
import { WeightedSum, decodeWeights, encodeWeights, type WeightsCodec } from "@propius/shared";
import { decodeDeltaStream, foldDecoded } from "./delta-stream.js";

const tensors = [{ name: "a", shape: [3, 2], dtype: "float32" as const }, { name: "b", shape: [5], dtype: "float32" as const }];
const values = Float32Array.from([0.5, -1.25, 3, 1e-3, -7, 2.5, 0, 0.125, -0.75, 9, -4e-2]);
const encoded = (codec: WeightsCodec, sparse?: { k: number }) => encodeWeights({ kind: "delta", codec, sparse, tensors, meta: { examples: 3, trainLoss: 0.25 } }, values);

/** The body in pieces cut at `cuts` (byte offsets), as a stream may bring it. */
function* pieces(body: Uint8Array, cuts: number[]): Iterable<Uint8Array> {
  let from = 0;
  // Copies at odd offsets of a larger buffer, so that no piece is aligned by chance.
  for (const to of [...cuts, body.length]) {
    const padded = new Uint8Array(to - from + 1);
    padded.set(body.subarray(from, to), 1);
    yield padded.subarray(1);
    from = to;
  }
}

const bits = (v: Float32Array) => Array.from(new Uint32Array(v.slice().buffer));

describe("decoding a delta as it streams in", () => {
  const cases: [WeightsCodec, { k: number } | undefined][] = [["fp32", undefined], ["fp16", undefined], ["int8", undefined], ["fp32", { k: 4 }], ["fp16", { k: 4 }], ["int8", { k: 4 }]];
  for (const [codec, sparse] of cases) {
    it(`folds ${codec}${sparse ? " top-k" : ""} bit for bit as the whole-body decoder and WeightedSum do, whatever one or two cuts split it`, async () => {
      const body = encoded(codec, sparse);
      const expected = new WeightedSum(values.length, Float32Array.from({ length: values.length }, (_, i) => i / 3));
      expected.add(decodeWeights(body).values, 3);
      for (let cut = 0; cut <= body.length; cut++) {
        for (const second of [cut, Math.min(body.length, cut + 1), Math.min(body.length, cut + 3)]) {
          const sum = Float32Array.from({ length: values.length }, (_, i) => i / 3);
          const scratch = new Float32Array(values.length);
          const delta = await decodeDeltaStream(tensors, pieces(body, [cut, second]), scratch);
          expect(delta).toMatchObject({ examples: 3, trainLoss: 0.25, bytesDown: 0, bytesIn: body.length });
          // The scratch that may hold the decoded values is the spare the results go to.
          expect(bits(foldDecoded(sum, delta, 3, scratch))).toEqual(bits(expected.sum));
        }
      }
    });
  }

  it("refuses a non-finite fp32 value anywhere, and a sum that would overflow, leaving the sum as it was", async () => {
    const marker = 12345.5;
    for (const sparse of [undefined, { k: 4 }]) {
      for (const at of [0, 5, values.length - 1]) {
        for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 3e38]) {
          // Encoded with a marker (the encoder refuses non-finite values), then the marker's bytes replaced.
          const changed = values.slice();
          changed[at] = marker;
          const body = encodeWeights({ kind: "delta", codec: "fp32", sparse, tensors, meta: { examples: 3 } }, changed);
          const floats = new DataView(body.buffer, body.byteOffset, body.byteLength);
          let found = 0;
          for (let i = 0; i + 4 <= body.length; i += 4) if (floats.getFloat32(i, true) === marker) (floats.setFloat32(i, bad, true), found++);
          expect(found).toBe(1);
          // A sum near the float32 maximum, so that a large finite value overflows it.
          const sum = new Float32Array(values.length).fill(3.4e38);
          const before = bits(sum);
          const scratch = new Float32Array(values.length);
          const folded = decodeDeltaStream(tensors, pieces(body, [body.length >> 1]), scratch).then((delta) => foldDecoded(sum, delta, 3, scratch));
          await expect(folded).rejects.toMatchObject({ code: "invalid_update" });
          expect(bits(sum)).toEqual(before);
        }
      }
    }
  });

  it("refuses a body that ends early, runs long, or says another manifest, at whatever byte it is cut", async () => {
    const body = encoded("int8");
    for (let end = 0; end < body.length; end += 3) {
      await expect(decodeDeltaStream(tensors, pieces(body.subarray(0, end), [end >> 1]), new Float32Array(values.length))).rejects.toMatchObject({ code: "invalid_update" });
    }
    const long = new Uint8Array(body.length + 1);
    long.set(body);
    await expect(decodeDeltaStream(tensors, [long], new Float32Array(values.length))).rejects.toMatchObject({ code: "invalid_update" });
    await expect(decodeDeltaStream([{ name: "a", shape: [11], dtype: "float32" }], [body], new Float32Array(values.length))).rejects.toMatchObject({ code: "invalid_update" });
  });
});
