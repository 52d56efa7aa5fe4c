import * as tf from "../tf.js";
import { describe, expect, it } from "vitest";
import { difference, onCpuAndWasm, randomValues, RELATIVE_TOLERANCE } from "./cpu-reference.js";

type Shape4 = [number, number, number, number];

/** [input shape, pool size, strides, padding]: overlapping and disjoint windows, padded edges. */
const CASES: [Shape4, [number, number], [number, number], "same" | "valid"][] = [
  [[2, 7, 7, 3], [3, 3], [1, 1], "same"],
  [[2, 8, 9, 2], [3, 3], [2, 2], "same"],
  [[1, 7, 7, 1], [3, 3], [2, 2], "same"],
  [[3, 9, 8, 2], [2, 3], [2, 1], "valid"],
  [[2, 24, 24, 32], [3, 3], [3, 3], "valid"],
  [[1, 6, 6, 4], [2, 2], [2, 2], "same"],
];

async function compare(input: Float32Array, shape: Shape4, filterSize: [number, number], strides: [number, number], pad: "same" | "valid") {
  const outShape = tf.backend_util.computePool2DInfo(shape, filterSize, strides, 1, pad).outShape;
  const dy = randomValues(outShape, 2);
  return onCpuAndWasm(() => {
    const x = tf.tensor4d(input, shape);
    return tf.engine().runKernel("MaxPoolGrad", { dy: tf.tensor(dy, outShape), input: x, output: tf.maxPool(x, filterSize, strides, pad) }, { filterSize, strides, pad }) as tf.Tensor;
  });
}

describe("MaxPoolGrad on wasm", () => {
  it.each(CASES)("matches the cpu kernel for input %j, pool %j, strides %j, padding %j", async (shape, filterSize, strides, pad) => {
    const { cpu, wasm } = await compare(randomValues(shape, 1), shape, filterSize, strides, pad);
    const { maxAbsDiff, maxMagnitude } = difference(cpu, wasm);
    expect(maxMagnitude).toBeGreaterThan(0);
    expect(maxAbsDiff).toBeLessThanOrEqual(RELATIVE_TOLERANCE * maxMagnitude);
  });

  it("routes the gradient of windows of zeros and of negative values as cpu does", async () => {
    // After a ReLU whole windows are 0; without one they can be all negative.
    const shape: Shape4 = [1, 6, 6, 2];
    const input = randomValues(shape, 3).map((v, i) => (i % 3 === 0 ? 0 : -Math.abs(v)));
    const { cpu, wasm } = await compare(input, shape, [2, 2], [2, 2], "valid");
    expect(Array.from(wasm)).toEqual(Array.from(cpu));
    expect(cpu.some((v) => v !== 0)).toBe(true);
  });
});
