import type { TensorSpec } from "@propius/shared";
import { CLASSES } from "./mnist.js";
import { DEMO_INIT_SEED, type DemoModel } from "./model.js";
import { glorotWeights } from "./glorot.js";

/**
 * The demo's convolutional classifier for 28 x 28 x 1 digits (54,226 parameters):
 * Conv2D 16 3x3 relu -> Conv2D 32 3x3 relu -> MaxPooling2D 3x3 -> Dropout 0.25 -> Flatten ->
 * Dense HIDDEN relu -> Dense 10 softmax. The second convolution carries most of the arithmetic
 * (85 M multiply-adds per 32 images forward), so training it measures the convolution kernels.
 */
export const CNN_INPUT_SHAPE = [28, 28, 1] as const;
export const CNN_FILTERS = [16, 32] as const;
export const CNN_POOL = 3;
export const CNN_HIDDEN_UNITS = 24;
export const CNN_DROPOUT = 0.25;

const KERNEL = 3;
/** Side of the pooled feature map: two valid 3x3 convolutions take 28 to 24, the pool to 8. */
const POOLED = Math.floor((CNN_INPUT_SHAPE[0] - 2 * (KERNEL - 1)) / CNN_POOL);
const FLAT = POOLED * POOLED * CNN_FILTERS[1];

const glorotUniform = { class_name: "VarianceScaling", config: { scale: 1, mode: "fan_avg", distribution: "uniform", seed: null } };
const zeros = { class_name: "Zeros", config: {} };
const noRegularizers = { kernel_regularizer: null, bias_regularizer: null, activity_regularizer: null, kernel_constraint: null, bias_constraint: null };

/** Layer configs as tfjs' `toJSON(null, false)` writes them. */
function conv2d(name: string, filters: number, first: boolean): Record<string, unknown> {
  const config = {
    filters, kernel_initializer: glorotUniform, kernel_size: [KERNEL, KERNEL], strides: [1, 1], padding: "valid",
    data_format: "channels_last", dilation_rate: [1, 1], activation: "relu", use_bias: true, bias_initializer: zeros,
    ...noRegularizers, name, trainable: true,
    ...(first ? { batch_input_shape: [null, ...CNN_INPUT_SHAPE], dtype: "float32" } : {}),
  };
  return { class_name: "Conv2D", config };
}

function dense(name: string, units: number, activation: string): Record<string, unknown> {
  const config = { units, activation, use_bias: true, kernel_initializer: glorotUniform, bias_initializer: zeros, ...noRegularizers, name, trainable: true };
  return { class_name: "Dense", config };
}

function cnnTopology(): Record<string, unknown> {
  const layers = [
    conv2d("conv1", CNN_FILTERS[0], true),
    conv2d("conv2", CNN_FILTERS[1], false),
    { class_name: "MaxPooling2D", config: { pool_size: [CNN_POOL, CNN_POOL], padding: "valid", strides: [CNN_POOL, CNN_POOL], data_format: "channels_last", name: "pool", trainable: true } },
    { class_name: "Dropout", config: { rate: CNN_DROPOUT, noise_shape: null, seed: null, name: "dropout", trainable: true } },
    { class_name: "Flatten", config: { name: "flatten", trainable: true } },
    dense("hidden", CNN_HIDDEN_UNITS, "relu"),
    dense("output", CLASSES, "softmax"),
  ];
  return { class_name: "Sequential", config: { name: "mnist_cnn", layers }, keras_version: "tfjs-layers 4.22.0", backend: "tensor_flow.js" };
}

const cnnWeightSpecs = (): TensorSpec[] => [
  { name: "conv1/kernel", shape: [KERNEL, KERNEL, CNN_INPUT_SHAPE[2], CNN_FILTERS[0]], dtype: "float32" },
  { name: "conv1/bias", shape: [CNN_FILTERS[0]], dtype: "float32" },
  { name: "conv2/kernel", shape: [KERNEL, KERNEL, CNN_FILTERS[0], CNN_FILTERS[1]], dtype: "float32" },
  { name: "conv2/bias", shape: [CNN_FILTERS[1]], dtype: "float32" },
  { name: "hidden/kernel", shape: [FLAT, CNN_HIDDEN_UNITS], dtype: "float32" },
  { name: "hidden/bias", shape: [CNN_HIDDEN_UNITS], dtype: "float32" },
  { name: "output/kernel", shape: [CNN_HIDDEN_UNITS, CLASSES], dtype: "float32" },
  { name: "output/bias", shape: [CLASSES], dtype: "float32" },
];

/**
 * The demo CNN with deterministic initial weights: Glorot-uniform kernels
 * (U(-l, l), l = sqrt(6 / (fanIn + fanOut))) drawn from a seeded PRNG, zero biases.
 */
export function demoCnnModel(seed = DEMO_INIT_SEED): DemoModel {
  const weightSpecs = cnnWeightSpecs();
  return { topology: cnnTopology(), weightSpecs, initialWeights: glorotWeights(weightSpecs, seed) };
}
