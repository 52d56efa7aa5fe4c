import * as tf from "../tf.js";
import { describe, expect, it } from "vitest";
import { CONV_CASES, difference, onCpuAndWasm, randomValues, RELATIVE_TOLERANCE, type ConvCase, type Shape4 } from "./cpu-reference.js";
import { scratch } from "./wasm-heap.js";

/** [input shape, filter shape, strides, padding]: the shared cases and the demo CNN's second layer. */
const CASES: ConvCase[] = [...CONV_CASES, [[2, 26, 26, 16], [3, 3, 16, 32], [1, 1], "valid"]];

describe("Conv2DBackpropInput on wasm", () => {
  it.each(CASES)("matches the cpu kernel for input %j, filter %j, strides %j, padding %j", async (inputShape, filterShape, strides, pad) => {
    const filter = randomValues(filterShape, 1);
    const dyShape = tf.backend_util.computeConv2DInfo(inputShape, filterShape, strides, 1, pad).outShape;
    const dy = randomValues(dyShape, 2);
    const { cpu, wasm } = await onCpuAndWasm(() =>
      tf.engine().runKernel("Conv2DBackpropInput", { dy: tf.tensor(dy, dyShape), filter: tf.tensor(filter, filterShape) }, { strides, pad, dataFormat: "NHWC", inputShape }) as tf.Tensor,
    );
    const { maxAbsDiff, maxMagnitude } = difference(cpu, wasm);
    expect(wasm).toHaveLength(inputShape.reduce((n, d) => n * d, 1));
    expect(maxMagnitude).toBeGreaterThan(0);
    expect(maxAbsDiff).toBeLessThanOrEqual(RELATIVE_TOLERANCE * maxMagnitude);
  });

  it("matches the cpu kernel in the NCHW layout", async () => {
    const inputShape: Shape4 = [2, 3, 7, 6];
    const filterShape: Shape4 = [3, 3, 3, 4];
    const dyShape = [2, 4, 4, 3];
    const filter = randomValues(filterShape, 3);
    const dy = randomValues(dyShape, 4);
    const attrs = { strides: [2, 2], pad: "same", dataFormat: "NCHW", inputShape };
    const { cpu, wasm } = await onCpuAndWasm(() => tf.engine().runKernel("Conv2DBackpropInput", { dy: tf.tensor(dy, dyShape), filter: tf.tensor(filter, filterShape) }, attrs) as tf.Tensor);
    const { maxAbsDiff, maxMagnitude } = difference(cpu, wasm);
    expect(maxAbsDiff).toBeLessThanOrEqual(RELATIVE_TOLERANCE * maxMagnitude);
  });

  it("is the gradient tf.grad takes of a convolution's input", async () => {
    const x = randomValues([2, 7, 7, 2], 5);
    const filter = randomValues([3, 3, 2, 3], 6);
    const { cpu, wasm } = await onCpuAndWasm(() =>
      tf.grad((input: tf.Tensor) => tf.sum(tf.square(tf.conv2d(input as tf.Tensor4D, tf.tensor4d(filter, [3, 3, 2, 3]), 2, "same"))))(tf.tensor4d(x, [2, 7, 7, 2])),
    );
    const { maxAbsDiff, maxMagnitude } = difference(cpu, wasm);
    expect(maxAbsDiff).toBeLessThanOrEqual(RELATIVE_TOLERANCE * maxMagnitude);
  });

  it("gives the same result when the batch goes through in groups of images", async () => {
    const xShape: Shape4 = [5, 6, 6, 2];
    const filterShape: Shape4 = [3, 3, 2, 3];
    const dyShape = [5, 6, 6, 3];
    const [filter, dy] = [randomValues(filterShape, 8), randomValues(dyShape, 9)];
    const saved = scratch.floats;
    scratch.floats = 2 * 6 * 6 * 18; // two images per group: groups of 2, 2 and 1
    try {
      const { cpu, wasm } = await onCpuAndWasm(() => tf.engine().runKernel("Conv2DBackpropInput", { dy: tf.tensor(dy, dyShape), filter: tf.tensor(filter, filterShape) }, { strides: [1, 1], pad: "same", dataFormat: "NHWC", inputShape: xShape }) as tf.Tensor);
      const { maxAbsDiff, maxMagnitude } = difference(cpu, wasm);
      expect(maxAbsDiff).toBeLessThanOrEqual(RELATIVE_TOLERANCE * maxMagnitude);
    } finally {
      scratch.floats = saved;
    }
  });
});
