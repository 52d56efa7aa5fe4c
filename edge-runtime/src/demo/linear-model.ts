import type { JobSpecInput, TensorSpec } from "@propius/shared";

/**
 * The smallest real model a job can carry: one Dense layer of `inputs` x `units`, no bias, linear.
 * Benchmarks and tests that exercise the control plane rather than learning use it (its kernel
 * is the only weight tensor, so a model of N parameters is `linearModel(N / units, units)`).
 */
export function linearModel(inputs: number, units: number): JobSpecInput["model"] & { weightSpecs: TensorSpec[] } {
  return {
    format: "tfjs-layers",
    topology: {
      class_name: "Sequential",
      config: {
        name: "linear",
        layers: [{ class_name: "Dense", config: { name: "dense", units, activation: "linear", use_bias: false, batch_input_shape: [null, inputs], dtype: "float32" } }],
      },
      keras_version: "tfjs-layers 4.22.0",
      backend: "tensor_flow.js",
    },
    weightSpecs: [{ name: "dense/kernel", shape: [inputs, units], dtype: "float32" }],
  };
}
