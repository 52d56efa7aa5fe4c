import { unsupported, type Flow, type GraphBuilder, type LayerJson } from "./graph-builder.js";

/** Keras activation names and the ONNX operators that compute them ("linear" adds no node). */
const ACTIVATIONS: Record<string, string | null> = { linear: null, relu: "Relu", sigmoid: "Sigmoid", tanh: "Tanh", softmax: "Softmax" };

/** Converts one layer: adds its nodes and returns the tensor it outputs. */
type LayerConverter = (graph: GraphBuilder, input: Flow, layer: LayerJson) => Flow;

const nameOf = (layer: LayerJson) => String(layer.config.name);

/** A config value that tfjs writes as a pair but accepts as one number (`kernel_size`, `strides`). */
function pair(layer: LayerJson, key: string, fallback?: [number, number]): [number, number] {
  const value = layer.config[key] ?? fallback;
  if (typeof value === "number") return [value, value];
  if (Array.isArray(value) && value.length === 2 && value.every((v) => Number.isInteger(v) && v > 0)) return [value[0], value[1]];
  throw unsupported(layer, `has ${key} ${JSON.stringify(value)}; expected one or two positive integers`);
}

function activation(graph: GraphBuilder, input: Flow, layer: LayerJson): Flow {
  const name = String(layer.config.activation ?? "linear");
  if (!(name in ACTIVATIONS)) throw unsupported(layer, `uses the activation '${name}'; supported: ${Object.keys(ACTIVATIONS).join(", ")}`);
  const op = ACTIVATIONS[name];
  if (op === null) return input;
  if (op !== "Softmax") return { ...input, name: graph.node(op, nameOf(layer), [input.name]) };
  // Keras' softmax normalises over the last (channels) axis.
  const flow = graph.channelsLast(input, nameOf(layer));
  return { ...flow, name: graph.node(op, nameOf(layer), [flow.name], { axis: -1 }) };
}

function useBias(layer: LayerJson): boolean {
  return layer.config.use_bias !== false;
}

/** Dense: x . kernel (+ bias) over the last axis, then the activation. */
const dense: LayerConverter = (graph, input, layer) => {
  const units = layer.config.units;
  if (!Number.isInteger(units) || (units as number) < 1) throw unsupported(layer, `has units ${JSON.stringify(units)}`);
  const flow = graph.channelsLast(input, nameOf(layer));
  const kernel = graph.weight(nameOf(layer), "kernel", [flow.shape.at(-1) ?? null, units as number]);
  let name = graph.node("MatMul", nameOf(layer), [flow.name, graph.initializer(`${nameOf(layer)}/kernel`, kernel.shape, kernel.values)]);
  if (useBias(layer)) {
    const bias = graph.weight(nameOf(layer), "bias", [units as number]);
    name = graph.node("Add", nameOf(layer), [name, graph.initializer(`${nameOf(layer)}/bias`, bias.shape, bias.values)]);
  }
  return activation(graph, { name, shape: [...flow.shape.slice(0, -1), units as number], channelsFirst: false }, layer);
};

/** Flatten: rows in tfjs' (channels-last) order. */
const flatten: LayerConverter = (graph, input, layer) => {
  const flow = graph.channelsLast(input, nameOf(layer));
  const size = flow.shape.some((d) => d === null) ? null : (flow.shape as number[]).reduce((n, d) => n * d, 1);
  return { name: graph.node("Flatten", nameOf(layer), [flow.name], { axis: 1 }), shape: [size], channelsFirst: false };
};

/** Output size of a convolution or pooling window along one axis, as tfjs computes it. */
function windowOutput(layer: LayerJson, size: number | null, window: number, stride: number, dilation: number, padding: string): number | null {
  if (size === null) return null;
  const out = padding === "same" ? Math.ceil(size / stride) : Math.floor((size - (window - 1) * dilation - 1) / stride) + 1;
  if (out < 1) throw unsupported(layer, `has a window of ${window} larger than its input of ${size}`);
  return out;
}

function padding(layer: LayerJson): "valid" | "same" {
  const value = layer.config.padding ?? "valid";
  if (value !== "valid" && value !== "same") throw unsupported(layer, `has padding '${value}'; supported: valid, same`);
  if ((layer.config.data_format ?? "channels_last") !== "channels_last") throw unsupported(layer, `has data_format '${layer.config.data_format}'; only channels_last is supported`);
  return value;
}

/** tfjs pads "same" windows more at the end than at the start, as ONNX's SAME_UPPER does. */
const autoPad = (value: "valid" | "same") => (value === "same" ? "SAME_UPPER" : "VALID");

/** Conv2D (channels-last in tfjs): an ONNX Conv on NCHW with the kernel transposed to [out, in, h, w]. */
const conv2d: LayerConverter = (graph, input, layer) => {
  const filters = layer.config.filters as number;
  if (!Number.isInteger(filters) || filters < 1) throw unsupported(layer, `has filters ${JSON.stringify(filters)}`);
  const [kh, kw] = pair(layer, "kernel_size");
  const strides = pair(layer, "strides", [1, 1]);
  const dilations = pair(layer, "dilation_rate", [1, 1]);
  const pad = padding(layer);
  const flow = graph.channelsFirst(input, layer);
  const [height, width, channels] = flow.shape;
  const kernel = graph.weight(nameOf(layer), "kernel", [kh, kw, channels, filters]);
  const cin = kernel.shape[2];
  const transposed = new Float32Array(kernel.values.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < filters; o++) transposed[((o * cin + i) * kh + y) * kw + x] = kernel.values[((y * kw + x) * cin + i) * filters + o];
  const inputs = [flow.name, graph.initializer(`${nameOf(layer)}/kernel`, [filters, cin, kh, kw], transposed)];
  if (useBias(layer)) {
    const bias = graph.weight(nameOf(layer), "bias", [filters]);
    inputs.push(graph.initializer(`${nameOf(layer)}/bias`, bias.shape, bias.values));
  }
  const name = graph.node("Conv", nameOf(layer), inputs, { kernel_shape: [kh, kw], strides, dilations, auto_pad: autoPad(pad) });
  const shape = [windowOutput(layer, height, kh, strides[0], dilations[0], pad), windowOutput(layer, width, kw, strides[1], dilations[1], pad), filters];
  return activation(graph, { name, shape, channelsFirst: true }, layer);
};

/** MaxPooling2D: an ONNX MaxPool on NCHW. */
const maxPooling2d: LayerConverter = (graph, input, layer) => {
  const pool = pair(layer, "pool_size", [2, 2]);
  const strides = pair(layer, "strides", pool);
  const pad = padding(layer);
  const flow = graph.channelsFirst(input, layer);
  const [height, width, channels] = flow.shape;
  const name = graph.node("MaxPool", nameOf(layer), [flow.name], { kernel_shape: pool, strides, auto_pad: autoPad(pad) });
  const shape = [windowOutput(layer, height, pool[0], strides[0], 1, pad), windowOutput(layer, width, pool[1], strides[1], 1, pad), channels];
  return { name, shape, channelsFirst: true };
};

/** The layer classes the exporter converts. Dropout is the identity at inference. */
export const LAYER_CONVERTERS: Readonly<Record<string, LayerConverter>> = {
  Dense: dense,
  Flatten: flatten,
  Dropout: (_graph, input) => input,
  Activation: activation,
  Conv2D: conv2d,
  MaxPooling2D: maxPooling2d,
};
