import { getKernel, registerKernel, unregisterKernel, type KernelConfig } from "@tensorflow/tfjs-core";
import { conv2dBackpropFilterConfig } from "./conv2d-backprop-filter.js";
import { conv2dBackpropInputConfig } from "./conv2d-backprop-input.js";
import { maxPoolGradConfig } from "./max-pool-grad.js";

/**
 * Kernels that training the supported layers needs on the `wasm` backend and that
 * tfjs-backend-wasm 4.22 lacks (Conv2DBackpropFilter) or gets wrong (MaxPoolGrad), found by
 * training a model with each layer on wasm and comparing every gradient kernel with the cpu
 * backend's. Every other forward, gradient, optimizer and dropout kernel is the package's own.
 */
export const WASM_TRAINING_KERNELS: readonly KernelConfig[] = [conv2dBackpropFilterConfig, conv2dBackpropInputConfig, maxPoolGradConfig];

/** Registers {@link WASM_TRAINING_KERNELS} for the `wasm` backend, replacing the package's own. Safe to call again. */
export function registerWasmTrainingKernels(): void {
  for (const config of WASM_TRAINING_KERNELS) {
    const current = getKernel(config.kernelName, config.backendName);
    if (current?.kernelFunc === config.kernelFunc) continue;
    // registerKernel warns and keeps going when a name is taken: remove the package's first.
    if (current) unregisterKernel(config.kernelName, config.backendName);
    registerKernel(config);
  }
}
