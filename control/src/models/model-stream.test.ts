import { describe, expect, it } from "vitest";
import { encodeWeights } from "@propius/shared";
import { modelValues } from "./model-stream.js";

const tensors = [{ name: "w", shape: [3, 5], dtype: "float32" as const }];
const values = Float32Array.from({ length: 15 }, (_, i) => i * 0.5 - 3);
const message = encodeWeights({ kind: "model", codec: "fp32", tensors }, values);

/** The message cut into chunks of `size` bytes. */
async function* chunked(bytes: Uint8Array, size: number): AsyncIterable<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += size) yield bytes.slice(offset, offset + size);
}

async function collect(slices: AsyncIterable<Float32Array>): Promise<number[]> {
  const out: number[] = [];
  for await (const slice of slices) out.push(...slice);
  return out;
}

describe("modelValues", () => {
  it("reads a stored model's values however its bytes are cut, header included", async () => {
    for (const size of [1, 3, 7, 8, 64, message.length]) expect(await collect(modelValues(chunked(message, size), tensors))).toEqual(Array.from(values));
  });

  it("refuses a message that is not a model of the job's tensors, or ends in its header", async () => {
    const other = [{ name: "w", shape: [15], dtype: "float32" as const }];
    await expect(collect(modelValues(chunked(message, 16), other))).rejects.toThrow(/not a dense fp32 model/);
    const delta = encodeWeights({ kind: "delta", codec: "fp32", tensors, meta: { examples: 1 } }, values);
    await expect(collect(modelValues(chunked(delta, 16), tensors))).rejects.toThrow(/not a dense fp32 model/);
    await expect(collect(modelValues(chunked(message.subarray(0, 10), 4), tensors))).rejects.toThrow(/inside its header/);
  });
});
