import * as tf from "../tf.js";
import { describe, expect, it } from "vitest";
import { demoCnnModel } from "../../demo/cnn-model.js";
import { demoShard } from "../../demo/demo-data.js";
import { mulberry32 } from "../../demo/random.js";
import { trainingBackends } from "../backend.js";
import { gatherRows, type LocalData } from "../local-data.js";
import type { ModelSource } from "../model.js";
import { trainLocal, type LocalTrainingPlan } from "../train.js";
import { difference } from "./cpu-reference.js";
import { layerModelSource, LAYER_MODELS, thirdsData } from "./layer-models.js";

/**
 * A training step's weight change on wasm against cpu's, from the same weights on the same
 * batch: max |delta_wasm - delta_cpu| <= 1e-3 x max |delta_cpu|. The deltas, not the weights, are
 * compared, since a step changes weights by little and the weights' own scale would hide errors
 * in it. Only sgd: Adam's first step is about learningRate x sign(gradient), which turns float
 * noise in a gradient near 0 into a full step of either sign.
 */
const DELTA_TOLERANCE = 1e-3;

async function deltaOn(backend: string, model: ModelSource, weights: Float32Array, data: LocalData, plan: LocalTrainingPlan): Promise<Float32Array> {
  await trainingBackends.use(backend);
  return (await trainLocal({ model, weights, data, plan, random: mulberry32(5) })).delta;
}

async function compareOneStep(model: ModelSource, weights: Float32Array, data: LocalData, learningRate: number) {
  const plan: LocalTrainingPlan = { localSteps: 1, batchSize: data.count, learningRate, optimizer: "sgd", loss: "categoricalCrossentropy" };
  const wasm = await deltaOn("wasm", model, weights, data, plan);
  const cpu = await deltaOn("cpu", model, weights, data, plan);
  return difference(cpu, wasm);
}

describe("a training step on wasm", () => {
  const deterministic = LAYER_MODELS.filter((spec) => spec.deterministic);
  it.each(deterministic.map((spec) => [spec.name, spec] as const))("changes the weights as cpu does: %s", async (_name, spec) => {
    await trainingBackends.use("wasm");
    const { model, weights } = await layerModelSource(spec);
    const { maxAbsDiff, maxMagnitude } = await compareOneStep(model, weights, thirdsData(spec.inputShape, 16, 3), 0.1);
    expect(maxMagnitude).toBeGreaterThan(0);
    expect(maxAbsDiff).toBeLessThanOrEqual(DELTA_TOLERANCE * maxMagnitude);
  });

  it("changes the demo CNN's weights as cpu does, on real digits", async () => {
    const demo = demoCnnModel();
    // A seeded dropout draws the same mask on both backends (tfjs draws it in JavaScript).
    const topology = structuredClone(demo.topology) as { config: { layers: { class_name: string; config: Record<string, unknown> }[] } };
    topology.config.layers.filter((l) => l.class_name === "Dropout").forEach((l) => (l.config.seed = 7));
    const shard = await demoShard({ index: 0, shards: 1, seed: 1, primaryFraction: 0.2 });
    // Four digits: the cpu backend's filter gradient takes seconds per digit.
    const rows = gatherRows(shard, [0, 1, 2, 3]);
    const data: LocalData = { ...rows, count: 4, featureShape: [28, 28, 1], numClasses: 10 };
    const model = { topology: topology as unknown as Record<string, unknown>, weightSpecs: demo.weightSpecs };
    const { maxAbsDiff, maxMagnitude } = await compareOneStep(model, demo.initialWeights, data, 0.05);
    expect(maxMagnitude).toBeGreaterThan(0);
    expect(maxAbsDiff).toBeLessThanOrEqual(DELTA_TOLERANCE * maxMagnitude);
    expect(tf.getBackend()).toBe("cpu");
  });
});
