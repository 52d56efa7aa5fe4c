import * as tf from "../tf.js";
import { describe, expect, it } from "vitest";
import { CONV_CASES, difference, onCpuAndWasm, randomValues, RELATIVE_TOLERANCE, type ConvCase, type Shape4 } from "./cpu-reference.js";
import { scratch } from "./wasm-heap.js";

/** [x shape, filter shape, strides, padding]: the shared cases and the demo CNN's first layer. */
const CASES: ConvCase[] = [...CONV_CASES, [[1, 28, 28, 1], [3, 3, 1, 16], [1, 1], "valid"]];

describe("Conv2DBackpropFilter on wasm", () => {
  it.each(CASES)("matches the cpu kernel for x %j, filter %j, strides %j, padding %j", async (xShape, filterShape, strides, pad) => {
    const x = randomValues(xShape, 1);
    const dyShape = tf.backend_util.computeConv2DInfo(xShape, filterShape, strides, 1, pad).outShape;
    const dy = randomValues(dyShape, 2);
    const { cpu, wasm } = await onCpuAndWasm(() =>
      tf.engine().runKernel("Conv2DBackpropFilter", { x: tf.tensor(x, xShape), dy: tf.tensor(dy, dyShape) }, { strides, pad, dataFormat: "NHWC", filterShape }) as tf.Tensor,
    );
    const { maxAbsDiff, maxMagnitude } = difference(cpu, wasm);
    expect(wasm).toHaveLength(filterShape.reduce((n, d) => n * d, 1));
    expect(maxMagnitude).toBeGreaterThan(0);
    expect(maxAbsDiff).toBeLessThanOrEqual(RELATIVE_TOLERANCE * maxMagnitude);
  });

  it("matches the cpu kernel in the NCHW layout", async () => {
    const xShape: Shape4 = [2, 3, 7, 6];
    const filterShape: Shape4 = [3, 3, 3, 4];
    const dyShape = [2, 4, 4, 3]; // 'same', strides 2: ceil(7/2) x ceil(6/2)
    const x = randomValues(xShape, 3);
    const dy = randomValues(dyShape, 4);
    const attrs = { strides: [2, 2], pad: "same", dataFormat: "NCHW", filterShape };
    const { cpu, wasm } = await onCpuAndWasm(() => tf.engine().runKernel("Conv2DBackpropFilter", { x: tf.tensor(x, xShape), dy: tf.tensor(dy, dyShape) }, attrs) as tf.Tensor);
    const { maxAbsDiff, maxMagnitude } = difference(cpu, wasm);
    expect(maxAbsDiff).toBeLessThanOrEqual(RELATIVE_TOLERANCE * maxMagnitude);
  });

  it("is the gradient tf.grad takes of a convolution's filter", async () => {
    const x = randomValues([2, 6, 6, 2], 5);
    const filter = randomValues([3, 3, 2, 3], 6);
    const { cpu, wasm } = await onCpuAndWasm(() =>
      tf.grad((f: tf.Tensor) => tf.sum(tf.square(tf.conv2d(tf.tensor4d(x, [2, 6, 6, 2]), f as tf.Tensor4D, 2, "same"))))(tf.tensor4d(filter, [3, 3, 2, 3])),
    );
    const { maxAbsDiff, maxMagnitude } = difference(cpu, wasm);
    expect(maxAbsDiff).toBeLessThanOrEqual(RELATIVE_TOLERANCE * maxMagnitude);
  });

  it("gives the same result when the batch goes through in groups of images", async () => {
    const xShape: Shape4 = [5, 6, 6, 2];
    const filterShape: Shape4 = [3, 3, 2, 3];
    const dyShape = [5, 6, 6, 3];
    const [x, dy] = [randomValues(xShape, 7), randomValues(dyShape, 9)];
    const saved = scratch.floats;
    scratch.floats = 2 * 6 * 6 * 18; // two images per group: groups of 2, 2 and 1
    try {
      const { cpu, wasm } = await onCpuAndWasm(() => tf.engine().runKernel("Conv2DBackpropFilter", { x: tf.tensor(x, xShape), dy: tf.tensor(dy, dyShape) }, { strides: [1, 1], pad: "same", dataFormat: "NHWC", filterShape }) as tf.Tensor);
      const { maxAbsDiff, maxMagnitude } = difference(cpu, wasm);
      expect(maxAbsDiff).toBeLessThanOrEqual(RELATIVE_TOLERANCE * maxMagnitude);
    } finally {
      scratch.floats = saved;
    }
  });
});
