/**
 * The layer classes a job's tfjs-layers model may use: every one of them builds, trains and
 * evaluates on every device backend (wasm, webgl, webgpu, cpu), and the control plane refuses a
 * model with any other class at creation (`400 invalid_model`). The list is the contract between
 * the control plane's model check and the devices' training runtime.
 */
export const SUPPORTED_LAYERS = [
  "InputLayer",
  "Dense",
  "Conv2D",
  "MaxPooling2D",
  "AveragePooling2D",
  "GlobalAveragePooling2D",
  "GlobalMaxPooling2D",
  "Flatten",
  "Reshape",
  "Dropout",
  "Activation",
  "BatchNormalization",
] as const;

export type SupportedLayer = (typeof SUPPORTED_LAYERS)[number];

/** Model classes a topology may be: a stack of layers or a graph of them. */
export const SUPPORTED_MODEL_CLASSES = ["Sequential", "Model", "Functional"] as const;

export function isSupportedLayer(name: string): name is SupportedLayer {
  return (SUPPORTED_LAYERS as readonly string[]).includes(name);
}
