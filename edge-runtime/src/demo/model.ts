import type { JobSpecInput, TensorSpec } from "@propius/shared";
import { CLASSES, PIXELS } from "./mnist.js";
import { glorotWeights } from "./glorot.js";

/** The demo classifier: a multilayer perceptron 784 -> HIDDEN_UNITS (relu) -> 10 (softmax). */
export const HIDDEN_UNITS = 128;
/** Seed of the demo's initial weights. */
export const DEMO_INIT_SEED = 42;

/** A job's model as the demo ships it: topology, weight layout and the initial global weights. */
export interface DemoModel {
  topology: Record<string, unknown>;
  weightSpecs: TensorSpec[];
  initialWeights: Float32Array;
}

/** A Keras/tfjs Dense layer config, as `model.toJSON(null, false)` writes it. */
function denseLayer(name: string, units: number, activation: string, inputSize?: number): Record<string, unknown> {
  return {
    class_name: "Dense",
    config: {
      units,
      activation,
      use_bias: true,
      kernel_initializer: { class_name: "VarianceScaling", config: { scale: 1, mode: "fan_avg", distribution: "uniform", seed: null } },
      bias_initializer: { class_name: "Zeros", config: {} },
      kernel_regularizer: null,
      bias_regularizer: null,
      activity_regularizer: null,
      kernel_constraint: null,
      bias_constraint: null,
      name,
      trainable: true,
      ...(inputSize === undefined ? {} : { batch_input_shape: [null, inputSize], dtype: "float32" }),
    },
  };
}

/** The layers topology of the demo classifier (what tfjs' `toJSON(null, false)` returns for it). */
function demoTopology(): Record<string, unknown> {
  return {
    class_name: "Sequential",
    config: {
      name: "mnist_mlp",
      layers: [denseLayer("hidden", HIDDEN_UNITS, "relu", PIXELS), denseLayer("output", CLASSES, "softmax")],
    },
    keras_version: "tfjs-layers 4.22.0",
    backend: "tensor_flow.js",
  };
}

const demoWeightSpecs = (): TensorSpec[] => [
  { name: "hidden/kernel", shape: [PIXELS, HIDDEN_UNITS], dtype: "float32" },
  { name: "hidden/bias", shape: [HIDDEN_UNITS], dtype: "float32" },
  { name: "output/kernel", shape: [HIDDEN_UNITS, CLASSES], dtype: "float32" },
  { name: "output/bias", shape: [CLASSES], dtype: "float32" },
];

/**
 * The demo job's model with deterministic initial weights: Glorot-uniform kernels
 * (U(-l, l), l = sqrt(6 / (fanIn + fanOut))) drawn from a seeded PRNG, zero biases.
 */
export function demoModel(seed = DEMO_INIT_SEED): DemoModel {
  const weightSpecs = demoWeightSpecs();
  const initialWeights = glorotWeights(weightSpecs, seed);
  return { topology: demoTopology(), weightSpecs, initialWeights };
}

/**
 * The demo job's training plan, as a plan input: `trainingPlanSchema` fills in the other defaults.
 * Fifteen rounds of two local passes at learning rate 0.4, with server momentum
 * (`demoAggregation()`): the non-IID split is limited by server steps more than by local work
 * (docs/demo-benchmark.md, with what else was tried; the time it costs: docs/design.md, "The demo").
 */
export function demoPlan(): JobSpecInput["plan"] {
  return {
    rounds: 15,
    clientsPerRound: 8,
    localEpochs: 2,
    batchSize: 32,
    learningRate: 0.4,
    optimizer: "sgd",
    loss: "categoricalCrossentropy",
  };
}
