import { parameterCount, PropiusError, tensorSize, type ModelDefinition } from "@propius/shared";
import { GraphBuilder, unsupported, type Flow, type LayerJson, type Weight } from "./graph-builder.js";
import { LAYER_CONVERTERS } from "./layers.js";
import { encodeModel } from "./onnx-proto.js";

/** The name of the exported graph's input: [batch, ...the first layer's input shape]. */
export const ONNX_INPUT = "input";
/** The name of the graph's output when the model ends in a softmax; otherwise {@link ONNX_OUTPUT}. */
export const ONNX_PROBABILITIES = "probabilities";
export const ONNX_OUTPUT = "output";
/** The symbolic batch dimension of the input and output. */
export const ONNX_BATCH = "batch";

/** What the exporter reads of a job's model: its tfjs-layers topology and weight layout. */
export type ExportableModel = Pick<ModelDefinition, "topology" | "weightSpecs">;

/** The layer classes {@link exportOnnx} converts. */
export const SUPPORTED_LAYERS: readonly string[] = ["InputLayer", ...Object.keys(LAYER_CONVERTERS)];

function isLayer(value: unknown): value is LayerJson {
  const layer = value as LayerJson;
  return typeof layer === "object" && layer !== null && typeof layer.class_name === "string" && typeof layer.config === "object" && layer.config !== null;
}

/** The layers of a Sequential topology (`config.layers`, or `config` itself in older Keras files). */
function sequentialLayers(topology: Record<string, unknown>): LayerJson[] {
  const className = String(topology.class_name ?? "?");
  if (className !== "Sequential") {
    throw new PropiusError("unsupported_model", `the ONNX exporter converts Sequential models only, not ${className}`, { className });
  }
  const config = topology.config as { layers?: unknown } | unknown[] | undefined;
  const layers = Array.isArray(config) ? config : config?.layers;
  if (!Array.isArray(layers) || layers.length === 0 || !layers.every(isLayer)) {
    throw new PropiusError("unsupported_model", "the Sequential topology has no list of layers");
  }
  return layers;
}

/** The model's input shape without the batch dimension, from the first layer's `batch_input_shape`. */
function inputShape(layer: LayerJson): (number | null)[] {
  const shape = layer.config.batch_input_shape;
  if (!Array.isArray(shape) || shape.length < 2 || !shape.slice(1).every((d) => d === null || (Number.isInteger(d) && d > 0))) {
    throw unsupported(layer, "has no batch_input_shape: the exporter needs the model's input shape");
  }
  return shape.slice(1);
}

/** The flat weight buffer as named tensors (views into `weights`, laid out as `weightSpecs`). */
function weightTable(model: ExportableModel, weights: Float32Array): Map<string, Weight> {
  const expected = parameterCount(model.weightSpecs);
  if (weights.length !== expected) throw new RangeError(`expected ${expected} weight values, got ${weights.length}`);
  const table = new Map<string, Weight>();
  let offset = 0;
  for (const spec of model.weightSpecs) {
    const size = tensorSize(spec);
    table.set(spec.name, { shape: spec.shape, values: weights.subarray(offset, offset + size) });
    offset += size;
  }
  return table;
}

/**
 * Writes a tfjs-layers Sequential model with the given weights (laid out as `model.weightSpecs`)
 * as an ONNX model (IR version 8, opset 13) for inference. Supported layers: Dense (activations
 * linear, relu, sigmoid, tanh, softmax; with or without bias), Activation, Flatten, Dropout (the
 * identity), Conv2D and MaxPooling2D (channels-last, padding valid or same). The graph's input
 * `input` is [batch, ...input shape] in tfjs' layout (images NHWC); its output is `probabilities`
 * when the last layer is a softmax, `output` otherwise. Anything else is refused with
 * `unsupported_model`, naming the layer; weights that do not match the specs with a RangeError.
 */
export function exportOnnx(model: ExportableModel, weights: Float32Array): Uint8Array {
  const layers = sequentialLayers(model.topology);
  const graph = new GraphBuilder(weightTable(model, weights));
  let flow: Flow = { name: ONNX_INPUT, shape: inputShape(layers[0]), channelsFirst: false };
  const inputDims = [ONNX_BATCH, ...flow.shape.map((d, i) => d ?? `d${i + 1}`)];
  layers.forEach((layer, i) => {
    if (layer.class_name === "InputLayer" && i === 0) return;
    const convert = LAYER_CONVERTERS[layer.class_name];
    if (!convert) throw unsupported(layer, `is not supported by the ONNX exporter; supported layers: ${SUPPORTED_LAYERS.join(", ")}`);
    flow = convert(graph, flow, layer);
  });
  flow = graph.channelsLast(flow, "output");
  const unused = graph.unusedWeights();
  if (unused.length > 0) throw new RangeError(`no layer uses the weight(s) ${unused.join(", ")}`);

  const last = graph.nodes.at(-1);
  const outputName = last?.opType === "Softmax" ? ONNX_PROBABILITIES : ONNX_OUTPUT;
  if (last?.outputs[0] !== flow.name) graph.node("Identity", "output", [flow.name]);
  graph.nodes.at(-1)!.outputs[0] = outputName;
  const outputDims = [ONNX_BATCH, ...flow.shape.map((d, i) => d ?? `o${i + 1}`)];

  const name = String((model.topology.config as { name?: unknown } | undefined)?.name ?? "model");
  return encodeModel(
    {
      name,
      nodes: graph.nodes,
      initializers: graph.initializers,
      inputs: [{ name: ONNX_INPUT, dims: inputDims }],
      outputs: [{ name: outputName, dims: outputDims }],
    },
    { producerName: "propius-edge", producerVersion: "0.1.0", docString: "exported from a tfjs-layers model" },
  );
}
