import * as tf from "./tf.js";
import { beforeAll, describe, expect, it } from "vitest";
import { mulberry32 } from "../demo/random.js";
import { initTraining } from "./backend.js";
import { evaluate } from "./evaluate.js";
import type { LocalData } from "./local-data.js";
import { buildModel, getFlatWeights, weightSpecsOf, type ModelSource } from "./model.js";
import { plannedSteps, trainLocal, type LocalTrainingPlan } from "./train.js";

/** Three well-separated 2-D blobs, one per class. */
function blobs(count: number, seed: number): LocalData {
  const random = mulberry32(seed);
  const x = new Float32Array(count * 2);
  const y = new Float32Array(count * 3);
  for (let i = 0; i < count; i++) {
    const label = i % 3;
    x[2 * i] = Math.cos((2 * Math.PI * label) / 3) + 0.3 * (random() - 0.5);
    x[2 * i + 1] = Math.sin((2 * Math.PI * label) / 3) + 0.3 * (random() - 0.5);
    y[3 * i + label] = 1;
  }
  return { x, y, count, featureShape: [2], numClasses: 3 };
}

async function smallModel(): Promise<{ model: ModelSource; weights: Float32Array }> {
  const built = tf.sequential({
    layers: [tf.layers.dense({ units: 8, activation: "relu", inputShape: [2] }), tf.layers.dense({ units: 3, activation: "softmax" })],
  });
  const model = { topology: built.toJSON(null, false) as Record<string, unknown>, weightSpecs: weightSpecsOf(built) };
  const weights = await getFlatWeights(built);
  built.dispose();
  return { model, weights };
}

const plan: LocalTrainingPlan = { localEpochs: 20, batchSize: 16, learningRate: 0.1, optimizer: "sgd", loss: "categoricalCrossentropy" };
const add = (a: Float32Array, b: Float32Array) => a.map((v, i) => v + b[i]);

describe("trainLocal", () => {
  const data = blobs(150, 7);
  let source: { model: ModelSource; weights: Float32Array };

  beforeAll(async () => {
    await initTraining();
    source = await smallModel();
  }, 120_000);

  it("keeps the weights nearer their start with FedProx's proximal term, the more so the larger mu", async () => {
    const norm = (delta: Float32Array) => Math.sqrt(delta.reduce((sum, v) => sum + v * v, 0));
    const short = { ...plan, localEpochs: 3 };
    const free = await trainLocal({ ...source, data, plan: short, random: mulberry32(3) });
    const held = await trainLocal({ ...source, data, plan: short, random: mulberry32(3), proximalMu: 2 });
    // learningRate x mu = 1: every step is undone, so the weights never leave their start.
    const pinned = await trainLocal({ ...source, data, plan: short, random: mulberry32(3), proximalMu: 10 });
    expect(norm(held.delta)).toBeLessThan(0.8 * norm(free.delta));
    expect(norm(pinned.delta)).toBeLessThan(1e-6);
  });

  it("learns: the delta lowers the loss and raises the accuracy", async () => {
    const before = await evaluate({ ...source, data });
    const result = await trainLocal({ ...source, data, plan, random: mulberry32(1) });
    expect(result.delta).toHaveLength(source.weights.length);
    expect(result.examples).toBe(150);
    expect(result.samplesPerSecond).toBeGreaterThan(0);
    expect(result.millis).toBeGreaterThan(0);
    const after = await evaluate({ ...source, weights: add(source.weights, result.delta), data });
    expect(after.loss).toBeLessThan(before.loss / 2);
    expect(after.accuracy).toBeGreaterThan(0.95);
    expect(result.trainLoss).toBeLessThan(before.loss);
  });

  it("trains adam and sparse categorical cross-entropy too", async () => {
    const before = await evaluate({ ...source, data });
    const adam = { ...plan, optimizer: "adam", learningRate: 0.01, loss: "sparseCategoricalCrossentropy" } as const;
    const result = await trainLocal({ ...source, data, plan: adam, random: mulberry32(2) });
    const after = await evaluate({ ...source, weights: add(source.weights, result.delta), data });
    expect(after.loss).toBeLessThan(before.loss / 2);
  });

  it("runs localSteps steps, cycling over reshuffled passes, and reports each", async () => {
    const progress: { epoch: number; step: number; loss: number }[] = [];
    const stepsPlan = { ...plan, localEpochs: undefined, localSteps: 25 };
    await trainLocal({ ...source, data, plan: stepsPlan, onProgress: (p) => progress.push(p) });
    expect(progress.map((p) => p.step)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(progress.map((p) => p.epoch)).toEqual([...Array(10).fill(1), ...Array(10).fill(2), ...Array(5).fill(3)]);
    expect(progress.every((p) => Number.isFinite(p.loss))).toBe(true);
  });

  it("is deterministic for a seeded shuffle", async () => {
    const a = await trainLocal({ ...source, data, plan: { ...plan, localEpochs: 2 }, random: mulberry32(5) });
    const b = await trainLocal({ ...source, data, plan: { ...plan, localEpochs: 2 }, random: mulberry32(5) });
    expect(b.delta).toEqual(a.delta);
  });

  it("stops when aborted, with the signal's reason", async () => {
    const controller = new AbortController();
    const run = trainLocal({
      ...source,
      data,
      plan,
      signal: controller.signal,
      onProgress: (p) => p.step === 3 && controller.abort(new Error("cancelled by test")),
    });
    await expect(run).rejects.toThrow("cancelled by test");
  });

  it("disposes every tensor it creates", async () => {
    await trainLocal({ ...source, data, plan: { ...plan, localEpochs: 1 } });
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      await trainLocal({ ...source, data, plan: { ...plan, localEpochs: 1 } });
      await evaluate({ ...source, data, batchSize: 64 });
    }
    const controller = new AbortController();
    controller.abort();
    await expect(trainLocal({ ...source, data, plan, signal: controller.signal })).rejects.toThrow();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("rejects data that does not match its shape", async () => {
    await expect(trainLocal({ ...source, data: { ...data, count: 151 }, plan })).rejects.toThrow(RangeError);
  });
});

describe("evaluate", () => {
  it("agrees with tfjs' own evaluation, whatever the batch size", async () => {
    await initTraining();
    const { model, weights } = await smallModel();
    const data = blobs(90, 3);
    const ours = await evaluate({ model, weights, data, batchSize: 32 });
    const oneBatch = await evaluate({ model, weights, data, batchSize: 90 });
    expect(oneBatch.accuracy).toBe(ours.accuracy);
    expect(oneBatch.loss).toBeCloseTo(ours.loss, 6);

    const built = await buildModel(model, weights);
    built.compile({ optimizer: "sgd", loss: "categoricalCrossentropy", metrics: ["accuracy"] });
    const [x, y] = [tf.tensor2d(data.x, [90, 2]), tf.tensor2d(data.y, [90, 3])];
    const [loss, accuracy] = built.evaluate(x, y) as tf.Scalar[];
    expect(ours.examples).toBe(90);
    expect(ours.loss).toBeCloseTo(loss.dataSync()[0], 5);
    expect(ours.accuracy).toBeCloseTo(accuracy.dataSync()[0], 6);
    tf.dispose([x, y, loss, accuracy]);
    built.dispose();
  });
});

describe("plannedSteps", () => {
  it("counts epochs, steps, or whichever ends first", () => {
    const base = { batchSize: 32, learningRate: 0.1, optimizer: "sgd", loss: "categoricalCrossentropy" } as const;
    expect(plannedSteps({ ...base, localEpochs: 2 }, 100)).toBe(8);
    expect(plannedSteps({ ...base, localSteps: 5 }, 100)).toBe(5);
    expect(plannedSteps({ ...base, localEpochs: 1, localSteps: 10 }, 100)).toBe(4);
    expect(() => plannedSteps(base, 100)).toThrow(RangeError);
  });
});
