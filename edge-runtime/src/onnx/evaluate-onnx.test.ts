import { parameterCount } from "@propius/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoShard, demoTestSet } from "../demo/demo-data.js";
import { CLASSES, PIXELS } from "../demo/mnist.js";
import { demoModel } from "../demo/model.js";
import { mulberry32 } from "../demo/random.js";
import { initTraining } from "../training/backend.js";
import { evaluate } from "../training/evaluate.js";
import type { LocalData } from "../training/local-data.js";
import { buildModel, weightSpecsOf, type ModelSource } from "../training/model.js";
import * as tf from "../training/tf.js";
import { trainLocal } from "../training/train.js";
import { evaluateOnnx, predictOnnx } from "./evaluate-onnx.js";
import { exportOnnx } from "./export-onnx.js";
import { createOnnxSession, type OnnxSession } from "./onnx-session.js";

/** tfjs' outputs for `x` (samples of `shape`), from the repo's own model building. */
async function tfjsPredict(source: ModelSource, weights: Float32Array, x: Float32Array, shape: number[]): Promise<Float32Array> {
  const model = await buildModel(source, weights);
  const size = shape.reduce((n, d) => n * d, 1);
  const input = tf.tensor(x, [x.length / size, ...shape]);
  const output = model.predict(input) as tf.Tensor;
  const values = (await output.data()) as Float32Array;
  tf.dispose([input, output]);
  model.dispose();
  return values;
}

const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
const uniform = (n: number, seed: number, scale: number) => {
  const random = mulberry32(seed);
  return Float32Array.from({ length: n }, () => (2 * random() - 1) * scale);
};

const sessions: OnnxSession[] = [];

/** Loads an exported model; the sessions are released after the tests. */
async function load(bytes: Uint8Array): Promise<OnnxSession> {
  const session = await createOnnxSession(bytes);
  sessions.push(session);
  return session;
}

/** Exports a tfjs-built model with random weights (biases included) and loads it in ONNX Runtime. */
async function exported(built: tf.LayersModel, seed: number) {
  const source = { topology: built.toJSON(null, false) as Record<string, unknown>, weightSpecs: weightSpecsOf(built) };
  built.dispose();
  const weights = uniform(parameterCount(source.weightSpecs), seed, 0.5);
  return { source, weights, session: await load(exportOnnx(source, weights)) };
}


describe("ONNX Runtime Web on exported models", () => {
  let test: LocalData;

  beforeAll(async () => {
    await initTraining();
    test = await demoTestSet();
  }, 120_000);
  afterAll(() => Promise.all(sessions.map((s) => s.release())));

  it("gives the demo model's tfjs probabilities to within 1e-5 on real digits", async () => {
    const { topology, weightSpecs, initialWeights } = demoModel();
    const weights = initialWeights.map((w, i) => w + 0.05 * Math.sin(i)); // non-zero biases too
    const session = await load(exportOnnx({ topology, weightSpecs }, weights));
    expect(session.inputName).toBe("input");
    expect(session.outputName).toBe("probabilities");
    expect(session.sampleShape).toEqual([PIXELS]);
    const x = test.x.subarray(0, 256 * PIXELS);
    const onnx = await predictOnnx(session, x);
    const reference = await tfjsPredict({ topology, weightSpecs }, weights, x, [PIXELS]);
    expect(onnx).toHaveLength(256 * CLASSES);
    expect(maxAbsDiff(onnx, reference)).toBeLessThan(1e-5);
    expect(Math.abs(onnx.subarray(0, CLASSES).reduce((s, p) => s + p, 0) - 1)).toBeLessThan(1e-5);
  });

  it("evaluates a trained demo model on 2,000 held-out digits with tfjs' accuracy and loss", async () => {
    const { topology, weightSpecs, initialWeights } = demoModel();
    const source = { topology, weightSpecs };
    const train = await demoShard({ index: 0, shards: 4, seed: 1, primaryFraction: 0.1 });
    const plan = { localSteps: 150, batchSize: 32, learningRate: 0.2, optimizer: "sgd" as const, loss: "categoricalCrossentropy" as const };
    const { delta } = await trainLocal({ model: source, weights: initialWeights, data: train, plan, random: mulberry32(5) });
    const weights = initialWeights.map((w, i) => w + delta[i]);

    const reference = await evaluate({ model: source, weights, data: test });
    const session = await load(exportOnnx(source, weights));
    const labels = Uint8Array.from({ length: test.count }, (_, i) => test.y.subarray(i * CLASSES, (i + 1) * CLASSES).indexOf(1));
    const result = await evaluateOnnx(session, test.x, labels, test.count, { batchSize: 300 });
    expect(result.examples).toBe(2_000);
    expect(reference.accuracy).toBeGreaterThan(0.8);
    expect(result.accuracy).toBe(reference.accuracy);
    expect(Math.abs(result.loss - reference.loss)).toBeLessThan(1e-4);
  });

  it("matches tfjs on convolutions, pooling, flatten and dropout (channels-last images, same and valid padding)", async () => {
    const built = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [9, 12, 2], filters: 4, kernelSize: 3, padding: "same", activation: "relu" }),
        tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: "same" }),
        tf.layers.conv2d({ filters: 3, kernelSize: [2, 3], strides: [1, 2], useBias: false, activation: "tanh" }),
        tf.layers.maxPooling2d({ poolSize: 2, strides: 1 }),
        tf.layers.flatten(),
        tf.layers.dropout({ rate: 0.5 }),
        tf.layers.dense({ units: 6, activation: "sigmoid" }),
        tf.layers.dense({ units: 4, activation: "softmax" }),
      ],
    });
    const { source, weights, session } = await exported(built, 11);
    expect(session.sampleShape).toEqual([9, 12, 2]);
    const x = uniform(5 * 9 * 12 * 2, 12, 1);
    const onnx = await predictOnnx(session, x);
    expect(onnx).toHaveLength(5 * 4);
    expect(maxAbsDiff(onnx, await tfjsPredict(source, weights, x, [9, 12, 2]))).toBeLessThan(1e-5);
  });

  it("matches tfjs on dense layers without bias, activation layers and a linear output named 'output'", async () => {
    const built = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [6], units: 7, activation: "tanh", useBias: false }),
        tf.layers.activation({ activation: "relu" }),
        tf.layers.dense({ units: 3 }),
      ],
    });
    const { source, weights, session } = await exported(built, 21);
    expect(session.outputName).toBe("output");
    const x = uniform(4 * 6, 22, 2);
    expect(maxAbsDiff(await predictOnnx(session, x), await tfjsPredict(source, weights, x, [6]))).toBeLessThan(1e-5);
  });

  it("refuses partial samples and labels that are not classes", async () => {
    const { topology, weightSpecs, initialWeights } = demoModel();
    const session = await load(exportOnnx({ topology, weightSpecs }, initialWeights));
    await expect(predictOnnx(session, new Float32Array(PIXELS + 1))).rejects.toThrow(/not a whole number of samples of 784/);
    await expect(evaluateOnnx(session, new Float32Array(PIXELS), [10], 1)).rejects.toThrow(/label 10 of sample 0 is not a class of 0..9/);
    await expect(evaluateOnnx(session, new Float32Array(PIXELS), [1], 2)).rejects.toThrow(/count/);
  });
});
