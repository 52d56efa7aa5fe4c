import * as tf from "../tf.js";
import { mulberry32 } from "../../demo/random.js";
import type { LocalData } from "../local-data.js";
import { getFlatWeights, weightSpecsOf, type ModelSource } from "../model.js";

/**
 * Test support: small models that between them use every supported layer class, activation and
 * padding, to train on each backend.
 */
export interface LayerModel {
  name: string;
  inputShape: number[];
  layers: () => tf.layers.Layer[];
  /** False when training draws random numbers (dropout), so that two runs differ. */
  deterministic: boolean;
}

const CLASSES = 3;
const image = [8, 8, 2];
const head = () => [tf.layers.flatten(), tf.layers.dense({ units: CLASSES, activation: "softmax" })];

export const LAYER_MODELS: LayerModel[] = [
  {
    name: "Dense with tanh, sigmoid, linear and softmax",
    inputShape: [6],
    layers: () => [
      tf.layers.dense({ units: 8, activation: "tanh" }),
      tf.layers.dense({ units: 8, activation: "sigmoid" }),
      tf.layers.dense({ units: 8, activation: "linear" }),
      tf.layers.dense({ units: CLASSES, activation: "softmax" }),
    ],
    deterministic: true,
  },
  {
    name: "Conv2D same, strided, relu",
    inputShape: image,
    layers: () => [tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: "same", activation: "relu" }), ...head()],
    deterministic: true,
  },
  {
    name: "Conv2D valid, MaxPooling2D same, AveragePooling2D valid",
    inputShape: image,
    layers: () => [
      tf.layers.conv2d({ filters: 4, kernelSize: 3, activation: "tanh" }),
      tf.layers.conv2d({ filters: 5, kernelSize: [2, 3], padding: "same" }),
      tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: "same" }),
      tf.layers.averagePooling2d({ poolSize: 2, strides: 1 }),
      ...head(),
    ],
    deterministic: true,
  },
  {
    name: "GlobalAveragePooling2D",
    inputShape: image,
    layers: () => [tf.layers.conv2d({ filters: 6, kernelSize: 3, activation: "relu" }), tf.layers.globalAveragePooling2d({}), tf.layers.dense({ units: CLASSES, activation: "softmax" })],
    deterministic: true,
  },
  {
    name: "GlobalMaxPooling2D",
    inputShape: image,
    layers: () => [tf.layers.conv2d({ filters: 6, kernelSize: 3, activation: "sigmoid" }), tf.layers.globalMaxPooling2d({}), tf.layers.dense({ units: CLASSES, activation: "softmax" })],
    deterministic: true,
  },
  {
    name: "Reshape into a convolution",
    inputShape: [32],
    layers: () => [tf.layers.reshape({ targetShape: [4, 4, 2] }), tf.layers.conv2d({ filters: 3, kernelSize: 2, activation: "relu" }), ...head()],
    deterministic: true,
  },
  {
    name: "BatchNormalization after Conv2D and after Dense, Activation",
    inputShape: image,
    layers: () => [
      tf.layers.conv2d({ filters: 4, kernelSize: 3 }),
      tf.layers.batchNormalization({}),
      tf.layers.activation({ activation: "relu" }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 6 }),
      tf.layers.batchNormalization({}),
      tf.layers.dense({ units: CLASSES }),
      tf.layers.activation({ activation: "softmax" }),
    ],
    deterministic: true,
  },
  {
    name: "Dropout and Activation",
    inputShape: [6],
    layers: () => [
      tf.layers.dense({ units: 12 }),
      tf.layers.activation({ activation: "relu" }),
      tf.layers.dropout({ rate: 0.2 }),
      tf.layers.dense({ units: CLASSES }),
      tf.layers.activation({ activation: "softmax" }),
    ],
    deterministic: false,
  },
];

/** The model with tfjs' random initial weights (the same on every backend for one seed of the caller's making). */
export async function layerModelSource(spec: LayerModel): Promise<{ model: ModelSource; weights: Float32Array }> {
  // tfjs' initializers draw their seeds from Math.random: seeded here, every run starts from the same weights.
  const unseeded = Math.random;
  Math.random = mulberry32(17);
  let built: tf.Sequential;
  try {
    built = tf.sequential({ layers: [tf.layers.inputLayer({ inputShape: spec.inputShape }), ...spec.layers()] });
  } finally {
    Math.random = unseeded;
  }
  const model = { topology: built.toJSON(null, false) as Record<string, unknown>, weightSpecs: weightSpecsOf(built) };
  const weights = await getFlatWeights(built);
  built.dispose();
  return { model, weights };
}

/** Layer classes of a Sequential topology, in order. */
export function layerClasses(topology: Record<string, unknown>): string[] {
  const config = topology.config as { layers: { class_name: string }[] };
  return config.layers.map((layer) => layer.class_name);
}

/** A learnable task: noise in [-0.5, 0.5), plus 1 on the third of the features that the example's class names. */
export function thirdsData(featureShape: number[], count: number, seed: number): LocalData {
  const random = mulberry32(seed);
  const size = featureShape.reduce((n, d) => n * d, 1);
  const third = Math.ceil(size / CLASSES);
  const x = new Float32Array(count * size);
  const y = new Float32Array(count * CLASSES);
  for (let i = 0; i < count; i++) {
    const label = i % CLASSES;
    for (let j = 0; j < size; j++) x[i * size + j] = random() - 0.5 + (Math.floor(j / third) === label ? 1 : 0);
    y[i * CLASSES + label] = 1;
  }
  return { x, y, count, featureShape, numClasses: CLASSES };
}
