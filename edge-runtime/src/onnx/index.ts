/**
 * The global model as ONNX: a dependency-free exporter for tfjs-layers Sequential models and
 * inference and evaluation with ONNX Runtime Web (wasm). Importing `./export-onnx.js` alone
 * does not load ONNX Runtime.
 */
export { exportOnnx, ONNX_BATCH, ONNX_INPUT, ONNX_OUTPUT, ONNX_PROBABILITIES, SUPPORTED_LAYERS, type ExportableModel } from "./export-onnx.js";
export { IR_VERSION, OPSET_VERSION } from "./onnx-proto.js";
export { createOnnxSession, type OnnxSession, type OnnxSessionOptions } from "./onnx-session.js";
export { evaluateOnnx, predictOnnx, type OnnxEvaluateOptions, type OnnxEvaluation } from "./evaluate-onnx.js";
