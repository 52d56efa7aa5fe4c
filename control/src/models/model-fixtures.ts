import type { ModelDefinition, TensorSpec } from "@propius/shared";

/**
 * Models for the model check's tests and benchmark, written out as `model.toJSON()` writes them:
 * the demo's 784-128-10 MLP, a 55k-parameter CNN on 28 x 28 x 1 images, and a 10M-parameter
 * dense model on 1,000 features.
 */
type Json = Record<string, unknown>;

const glorot = { class_name: "VarianceScaling", config: { scale: 1, mode: "fan_avg", distribution: "uniform", seed: null } };
const zeros = { class_name: "Zeros", config: {} };

export function dense(name: string, units: number, activation = "relu", extra: Json = {}): Json {
  return { class_name: "Dense", config: { name, units, activation, use_bias: true, kernel_initializer: glorot, bias_initializer: zeros, trainable: true, ...extra } };
}

export function conv2d(name: string, filters: number, extra: Json = {}): Json {
  return {
    class_name: "Conv2D",
    config: { name, filters, kernel_size: [3, 3], strides: [1, 1], padding: "valid", data_format: "channelsLast", activation: "relu", use_bias: true, kernel_initializer: glorot, bias_initializer: zeros, ...extra },
  };
}

export const layer = (className: string, name: string, extra: Json = {}): Json => ({ class_name: className, config: { name, ...extra } });

export function sequential(name: string, layers: Json[]): Json {
  return { class_name: "Sequential", config: { name, layers }, keras_version: "tfjs-layers 4.22.0", backend: "tensor_flow.js" };
}

const spec = (name: string, ...shape: number[]): TensorSpec => ({ name, shape, dtype: "float32" });

export function mlp(): ModelDefinition {
  return {
    format: "tfjs-layers",
    topology: sequential("mnist_mlp", [dense("hidden", 128, "relu", { batch_input_shape: [null, 784], dtype: "float32" }), dense("output", 10, "softmax")]),
    weightSpecs: [spec("hidden/kernel", 784, 128), spec("hidden/bias", 128), spec("output/kernel", 128, 10), spec("output/bias", 10)],
  };
}

/** 28 x 28 x 1 -> conv 8 -> pool -> conv 16 -> pool -> flatten -> dense 132 -> dense 10: 55,510 weights. */
export function cnn(): ModelDefinition {
  return {
    format: "tfjs-layers",
    topology: sequential("mnist_cnn", [
      conv2d("conv1", 8, { batch_input_shape: [null, 28, 28, 1] }),
      layer("MaxPooling2D", "pool1", { pool_size: [2, 2], strides: [2, 2], padding: "valid" }),
      conv2d("conv2", 16),
      layer("MaxPooling2D", "pool2", { pool_size: [2, 2], strides: [2, 2], padding: "valid" }),
      layer("Flatten", "flatten"),
      dense("hidden", 132),
      dense("output", 10, "softmax"),
    ]),
    weightSpecs: [
      spec("conv1/kernel", 3, 3, 1, 8), spec("conv1/bias", 8), spec("conv2/kernel", 3, 3, 8, 16), spec("conv2/bias", 16),
      spec("hidden/kernel", 400, 132), spec("hidden/bias", 132), spec("output/kernel", 132, 10), spec("output/bias", 10),
    ],
  };
}

/** 1,000 features -> dense 5,000 -> dense 1,000 -> dense 10: 10,016,010 weights (40 MB as float32). */
export function dense10M(): ModelDefinition {
  return {
    format: "tfjs-layers",
    topology: sequential("wide", [dense("wide1", 5000, "relu", { batch_input_shape: [null, 1000] }), dense("wide2", 1000), dense("output", 10, "softmax")]),
    weightSpecs: [spec("wide1/kernel", 1000, 5000), spec("wide1/bias", 5000), spec("wide2/kernel", 5000, 1000), spec("wide2/bias", 1000), spec("output/kernel", 1000, 10), spec("output/bias", 10)],
  };
}
