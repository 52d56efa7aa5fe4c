/**
 * The parts of TensorFlow.js that training uses: tfjs-core (tensors, optimizers, the backend
 * registry) and tfjs-layers. Importing them instead of the `@tensorflow/tfjs` bundle leaves out
 * the converter, data and WebGL packages, which a Node device never uses and which cost seconds
 * of start-up on a small machine. Backends are imported by the training backend registry.
 */
export * from "@tensorflow/tfjs-core";
export * from "@tensorflow/tfjs-layers";
