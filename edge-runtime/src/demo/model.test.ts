import { parameterCount, trainingPlanSchema } from "@propius/shared";
import * as tf from "../training/tf.js";
import { beforeAll, describe, expect, it } from "vitest";
import { initTraining } from "../training/backend.js";
import { buildModel, getFlatWeights, weightSpecsOf } from "../training/model.js";
import { demoModel, demoPlan, HIDDEN_UNITS } from "./model.js";

/** Element-wise equality, much faster than toEqual on 100,000 floats. */
const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => v === b[i]);

describe("demoModel", () => {
  beforeAll(async () => {
    await initTraining();
  }, 120_000);

  it("is the topology tfjs itself writes for the same classifier", () => {
    const model = tf.sequential({
      name: "mnist_mlp",
      layers: [
        tf.layers.dense({ name: "hidden", units: HIDDEN_UNITS, activation: "relu", inputShape: [784], kernelInitializer: "glorotUniform" }),
        tf.layers.dense({ name: "output", units: 10, activation: "softmax", kernelInitializer: "glorotUniform" }),
      ],
    });
    const { topology, weightSpecs } = demoModel();
    expect(topology).toEqual(model.toJSON(null, false));
    expect(weightSpecs).toEqual(weightSpecsOf(model));
    model.dispose();
  });

  it("builds, and loads its initial weights", async () => {
    const demo = demoModel();
    const model = await buildModel(demo, demo.initialWeights);
    expect(same(await getFlatWeights(model, demo.weightSpecs), demo.initialWeights)).toBe(true);
    model.dispose();
  });

  it("has deterministic Glorot-uniform kernels and zero biases", () => {
    const { weightSpecs, initialWeights } = demoModel();
    expect(same(demoModel().initialWeights, initialWeights)).toBe(true);
    expect(same(demoModel(7).initialWeights, initialWeights)).toBe(false);
    expect(initialWeights).toHaveLength(parameterCount(weightSpecs));
    const kernel = initialWeights.subarray(0, 784 * HIDDEN_UNITS);
    const limit = Math.sqrt(6 / (784 + HIDDEN_UNITS));
    const mean = kernel.reduce((s, v) => s + v, 0) / kernel.length;
    const variance = kernel.reduce((s, v) => s + v * v, 0) / kernel.length;
    expect(Math.max(...kernel.map(Math.abs))).toBeLessThanOrEqual(limit);
    expect(Math.abs(mean)).toBeLessThan(0.01 * limit);
    expect(variance).toBeCloseTo((limit * limit) / 3, 4);
    const hiddenBias = initialWeights.subarray(784 * HIDDEN_UNITS, 784 * HIDDEN_UNITS + HIDDEN_UNITS);
    expect(hiddenBias.every((v) => v === 0)).toBe(true);
  });
});

describe("demoPlan", () => {
  it("is a valid training plan for 15 rounds of 8 clients", () => {
    const plan = trainingPlanSchema.parse(demoPlan());
    expect(plan.rounds).toBe(15);
    expect(plan.clientsPerRound).toBe(8);
  });
});
