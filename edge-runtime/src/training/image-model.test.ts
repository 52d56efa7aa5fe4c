import * as tf from "./tf.js";
import { beforeAll, describe, expect, it } from "vitest";
import { mulberry32 } from "../demo/random.js";
import { initTraining } from "./backend.js";
import { evaluate } from "./evaluate.js";
import type { LocalData } from "./local-data.js";
import { getFlatWeights, weightSpecsOf, type ModelSource } from "./model.js";
import { trainLocal, type LocalTrainingPlan } from "./train.js";

const SIDE = 6;

/** Noisy SIDE x SIDE images of `channels` values with a bright row: in the top half (class 0) or the bottom half (class 1). */
function bars(count: number, channels: number, featureShape: number[], seed: number): LocalData {
  const random = mulberry32(seed);
  const size = SIDE * SIDE * channels;
  const x = new Float32Array(count * size);
  const y = new Float32Array(count * 2);
  for (let i = 0; i < count; i++) {
    const label = i % 2;
    const line = label * (SIDE / 2) + Math.floor(random() * (SIDE / 2));
    for (let r = 0; r < SIDE; r++) {
      for (let c = 0; c < SIDE; c++) {
        const on = r === line;
        for (let k = 0; k < channels; k++) x[i * size + (r * SIDE + c) * channels + k] = (on ? 0.8 : 0.1) + 0.1 * random();
      }
    }
    y[2 * i + label] = 1;
  }
  return { x, y, count, featureShape, numClasses: 2 };
}

async function source(layers: tf.layers.Layer[]): Promise<{ model: ModelSource; weights: Float32Array }> {
  const built = tf.sequential({ layers });
  const model = { topology: built.toJSON(null, false) as Record<string, unknown>, weightSpecs: weightSpecsOf(built) };
  const weights = await getFlatWeights(built);
  built.dispose();
  return { model, weights };
}

const cnn = (channels: number) =>
  source([
    tf.layers.conv2d({ inputShape: [SIDE, SIDE, channels], filters: 4, kernelSize: 3, activation: "relu", kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
    tf.layers.flatten(),
    tf.layers.dense({ units: 2, activation: "softmax", kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
  ]);

const plan: LocalTrainingPlan = { localEpochs: 10, batchSize: 16, learningRate: 0.01, optimizer: "adam", loss: "categoricalCrossentropy" };
const add = (a: Float32Array, b: Float32Array) => a.map((v, i) => v + b[i]);

/** Trains from `start`; returns the accuracy after, and how much of the loss before is left. */
async function learns(start: { model: ModelSource; weights: Float32Array }, data: LocalData): Promise<{ after: number; lossLeft: number }> {
  const before = await evaluate({ ...start, data });
  const result = await trainLocal({ ...start, data, plan, random: mulberry32(4) });
  const after = await evaluate({ ...start, weights: add(start.weights, result.delta), data });
  return { after: after.accuracy, lossLeft: after.loss / before.loss };
}

describe("training on images in the model's own input shape", () => {
  // On cpu: tfjs-backend-wasm 4.22 registers no Conv2DBackpropFilter kernel, so a CNN cannot train on it.
  beforeAll(async () => {
    expect(await initTraining({ prefer: ["cpu"] })).toBe("cpu");
  }, 120_000);

  it("trains a CNN taking [h, w, 1] on flat grey values (as CSV rows and the demo digits come)", async () => {
    const { after, lossLeft } = await learns(await cnn(1), bars(120, 1, [SIDE * SIDE], 1));
    expect(after).toBeGreaterThan(0.95);
    expect(lossLeft).toBeLessThan(0.5);
  });

  it("trains a CNN taking [h, w, 3] on RGB images, flat or laid out height x width x channels", async () => {
    const start = await cnn(3);
    const { after, lossLeft } = await learns(start, bars(120, 3, [SIDE, SIDE, 3], 2));
    expect(after).toBeGreaterThan(0.95);
    expect(lossLeft).toBeLessThan(0.5);
    expect((await learns(start, bars(120, 3, [SIDE * SIDE * 3], 2))).after).toBeGreaterThan(0.95);
  });

  it("trains a flat MLP on images laid out [h, w, 3]", async () => {
    const mlp = await source([
      tf.layers.dense({ inputShape: [SIDE * SIDE * 3], units: 8, activation: "relu", kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
      tf.layers.dense({ units: 2, activation: "softmax", kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
    ]);
    expect((await learns(mlp, bars(120, 3, [SIDE, SIDE, 3], 3))).after).toBeGreaterThan(0.95);
  });

  it("refuses data of another number of values per example, with both counts, and leaks no tensor", async () => {
    const start = await cnn(3);
    const grey = bars(8, 1, [SIDE, SIDE, 1], 4);
    const before = tf.memory().numTensors;
    const message = "the model takes [6,6,3] = 108 values per example; this data has 36";
    await expect(trainLocal({ ...start, data: grey, plan })).rejects.toThrow(message);
    await expect(evaluate({ ...start, data: grey })).rejects.toThrow(message);
    expect(tf.memory().numTensors).toBe(before);
  });
});
