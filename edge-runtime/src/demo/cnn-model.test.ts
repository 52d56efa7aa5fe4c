import { parameterCount } from "@propius/shared";
import * as tf from "../training/tf.js";
import { beforeAll, describe, expect, it } from "vitest";
import { initTraining } from "../training/backend.js";
import { buildModel, getFlatWeights, weightSpecsOf } from "../training/model.js";
import { CNN_DROPOUT, CNN_FILTERS, CNN_HIDDEN_UNITS, CNN_INPUT_SHAPE, CNN_POOL, demoCnnModel } from "./cnn-model.js";

const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => v === b[i]);

describe("demoCnnModel", () => {
  beforeAll(async () => {
    await initTraining();
  }, 120_000);

  it("is the topology tfjs itself writes for the same classifier, with about 55k parameters", () => {
    const glorot = { kernelInitializer: "glorotUniform" } as const;
    const model = tf.sequential({
      name: "mnist_cnn",
      layers: [
        tf.layers.conv2d({ name: "conv1", filters: CNN_FILTERS[0], kernelSize: 3, activation: "relu", inputShape: [...CNN_INPUT_SHAPE], ...glorot }),
        tf.layers.conv2d({ name: "conv2", filters: CNN_FILTERS[1], kernelSize: 3, activation: "relu", ...glorot }),
        tf.layers.maxPooling2d({ name: "pool", poolSize: CNN_POOL }),
        tf.layers.dropout({ name: "dropout", rate: CNN_DROPOUT }),
        tf.layers.flatten({ name: "flatten" }),
        tf.layers.dense({ name: "hidden", units: CNN_HIDDEN_UNITS, activation: "relu", ...glorot }),
        tf.layers.dense({ name: "output", units: 10, activation: "softmax", ...glorot }),
      ],
    });
    const { topology, weightSpecs } = demoCnnModel();
    expect(topology).toEqual(model.toJSON(null, false));
    expect(weightSpecs).toEqual(weightSpecsOf(model));
    expect(model.countParams()).toBe(54_226);
    model.dispose();
  });

  it("builds with tf.models.modelFromJSON, and its weights match the specs", async () => {
    const demo = demoCnnModel();
    const built = await tf.models.modelFromJSON(demo.topology as Parameters<typeof tf.models.modelFromJSON>[0]);
    expect(weightSpecsOf(built)).toEqual(demo.weightSpecs);
    expect(built.outputs[0].shape).toEqual([null, 10]);
    built.dispose();
    const model = await buildModel(demo, demo.initialWeights);
    expect(same(await getFlatWeights(model, demo.weightSpecs), demo.initialWeights)).toBe(true);
    model.dispose();
  });

  it("has deterministic Glorot-uniform kernels (fans of a convolution: taps x channels) and zero biases", () => {
    const { weightSpecs, initialWeights } = demoCnnModel();
    expect(same(demoCnnModel().initialWeights, initialWeights)).toBe(true);
    expect(same(demoCnnModel(7).initialWeights, initialWeights)).toBe(false);
    expect(initialWeights).toHaveLength(parameterCount(weightSpecs));
    let offset = 0;
    for (const { name, shape } of weightSpecs) {
      const size = shape.reduce((n, d) => n * d, 1);
      const values = initialWeights.subarray(offset, offset + size);
      offset += size;
      if (shape.length === 1) {
        expect(values.every((v) => v === 0), name).toBe(true);
        continue;
      }
      const receptive = shape.length === 4 ? shape[0] * shape[1] : 1;
      const limit = Math.sqrt(6 / (receptive * (shape[shape.length - 2] + shape[shape.length - 1])));
      expect(Math.max(...values.map(Math.abs)), name).toBeLessThanOrEqual(limit);
      expect(Math.max(...values.map(Math.abs)), name).toBeGreaterThan(0.9 * limit);
    }
  });
});
