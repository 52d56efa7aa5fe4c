import type { TensorSpec } from "@propius/shared";
import * as tf from "./tf.js";
import { beforeAll, describe, expect, it } from "vitest";
import { initTraining } from "./backend.js";
import { buildModel, getFlatWeights, setFlatWeights, weightSpecsOf } from "./model.js";

/** A small two-layer model built by tfjs itself, and what tfjs writes for it on save. */
async function tfjsSaved() {
  const model = tf.sequential({
    layers: [tf.layers.dense({ units: 3, activation: "relu", inputShape: [4] }), tf.layers.dense({ units: 2, activation: "softmax" })],
  });
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => ((artifacts = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } })));
  const weights = new Float32Array(artifacts!.weightData as ArrayBuffer);
  model.dispose();
  const rawSpecs = artifacts!.weightSpecs!;
  const weightSpecs: TensorSpec[] = rawSpecs.map(({ name, shape }) => ({ name, shape, dtype: "float32" }));
  return { topology: artifacts!.modelTopology as Record<string, unknown>, weightSpecs, weights, rawSpecs };
}

describe("model", () => {
  beforeAll(async () => {
    await initTraining();
  }, 120_000);

  it("names weights as tfjs does when it saves, even when built twice in one process", async () => {
    const saved = await tfjsSaved();
    const first = await buildModel(saved);
    const second = await buildModel(saved);
    expect(second.weights.map((w) => w.name)).not.toEqual(first.weights.map((w) => w.name));
    expect(weightSpecsOf(first)).toEqual(saved.rawSpecs);
    expect(weightSpecsOf(second)).toEqual(saved.rawSpecs);
    first.dispose();
    second.dispose();
  });

  it("round-trips a flat buffer in weightSpecs order", async () => {
    const saved = await tfjsSaved();
    const model = await buildModel(saved, saved.weights);
    expect(await getFlatWeights(model)).toEqual(saved.weights);
    const values = Float32Array.from({ length: saved.weights.length }, (_, i) => i / 100);
    setFlatWeights(model, values);
    expect(await getFlatWeights(model)).toEqual(values);
    model.dispose();
  });

  it("follows the specs' order when it differs from the model's", async () => {
    const saved = await tfjsSaved();
    const model = await buildModel(saved, saved.weights);
    const specs = [...weightSpecsOf(model)].reverse();
    const reversed = await getFlatWeights(model, specs);
    expect(reversed.subarray(0, 2)).toEqual(saved.weights.subarray(saved.weights.length - 2)); // the output bias first
    setFlatWeights(model, reversed, specs);
    expect(await getFlatWeights(model)).toEqual(saved.weights);
    model.dispose();
  });

  it("refuses specs or buffers that do not match the model", async () => {
    const saved = await tfjsSaved();
    const renamed = saved.weightSpecs.map((s, i) => (i === 0 ? { ...s, name: "other/kernel" } : s));
    await expect(buildModel({ topology: saved.topology, weightSpecs: renamed })).rejects.toThrow(/no weight named 'other\/kernel'/);
    const reshaped = saved.weightSpecs.map((s, i) => (i === 0 ? { ...s, shape: [2, 6] } : s));
    await expect(buildModel({ topology: saved.topology, weightSpecs: reshaped })).rejects.toThrow(/shape/);
    await expect(buildModel(saved, new Float32Array(3))).rejects.toThrow(/expected \d+ weight values/);
  });

  it("leaks no tensors", async () => {
    const saved = await tfjsSaved();
    const before = tf.memory().numTensors;
    const model = await buildModel(saved, saved.weights);
    await getFlatWeights(model);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
