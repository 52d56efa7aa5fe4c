import { ProtoWriter } from "./protobuf.js";

/**
 * The few ONNX messages the exporter writes (field numbers from onnx/onnx.proto), built on
 * {@link ProtoWriter}. Only float32 tensors; attributes are ints, int lists or strings.
 */

/** ONNX IR version 8 (ONNX 1.10+); every ONNX Runtime since 1.10 reads it. */
export const IR_VERSION = 8;
/** The default-domain operator set the graph is written against. */
export const OPSET_VERSION = 13;

/** `TensorProto.DataType.FLOAT`. */
const FLOAT = 1;
/** `AttributeProto.AttributeType` values. */
const ATTRIBUTE_INT = 2;
const ATTRIBUTE_STRING = 3;
const ATTRIBUTE_INTS = 7;

export type AttributeValue = number | string | readonly number[];

/** A graph node: `outputs = opType(inputs)` with attributes. */
export interface OnnxNode {
  opType: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attributes?: Record<string, AttributeValue>;
}

/** A constant float32 tensor of the graph (a layer's weights). */
export interface OnnxInitializer {
  name: string;
  dims: readonly number[];
  values: Float32Array;
}

/** A graph input or output: float32 with the given dimensions (a string names a symbolic one). */
export interface OnnxValueInfo {
  name: string;
  dims: readonly (number | string)[];
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxInitializer[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

export interface OnnxModelInfo {
  producerName: string;
  producerVersion: string;
  docString?: string;
}

function attribute(name: string, value: AttributeValue): ProtoWriter {
  const w = new ProtoWriter().string(1, name);
  if (typeof value === "string") return w.bytes(4, new TextEncoder().encode(value)).int(20, ATTRIBUTE_STRING);
  if (typeof value === "number") return w.int(3, value).int(20, ATTRIBUTE_INT);
  return w.packedInts(8, value).int(20, ATTRIBUTE_INTS);
}

function node(n: OnnxNode): ProtoWriter {
  const w = new ProtoWriter();
  for (const input of n.inputs) w.string(1, input);
  for (const output of n.outputs) w.string(2, output);
  w.string(3, n.name).string(4, n.opType);
  for (const [name, value] of Object.entries(n.attributes ?? {})) w.message(5, attribute(name, value));
  return w;
}

/** Float32 values as little-endian bytes (TensorProto.raw_data), whatever the platform's byte order. */
function littleEndian(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
  return out;
}

function tensor(t: OnnxInitializer): ProtoWriter {
  const size = t.dims.reduce((n, d) => n * d, 1);
  if (size !== t.values.length) throw new RangeError(`tensor '${t.name}' has dims [${t.dims}] but ${t.values.length} values`);
  return new ProtoWriter().packedInts(1, t.dims).int(2, FLOAT).string(8, t.name).bytes(9, littleEndian(t.values));
}

function valueInfo(v: OnnxValueInfo): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.dims) shape.message(1, typeof d === "string" ? new ProtoWriter().string(2, d) : new ProtoWriter().int(1, d));
  const tensorType = new ProtoWriter().int(1, FLOAT).message(2, shape);
  return new ProtoWriter().string(1, v.name).message(2, new ProtoWriter().message(1, tensorType));
}

function graph(g: OnnxGraph): ProtoWriter {
  const w = new ProtoWriter();
  for (const n of g.nodes) w.message(1, node(n));
  w.string(2, g.name);
  for (const t of g.initializers) w.message(5, tensor(t));
  for (const v of g.inputs) w.message(11, valueInfo(v));
  for (const v of g.outputs) w.message(12, valueInfo(v));
  return w;
}

/** Encodes a ModelProto: IR version 8, the default domain at opset 13, and the graph. */
export function encodeModel(g: OnnxGraph, info: OnnxModelInfo): Uint8Array {
  const w = new ProtoWriter()
    .int(1, IR_VERSION)
    .string(2, info.producerName)
    .string(3, info.producerVersion);
  if (info.docString) w.string(6, info.docString);
  return w
    .message(7, graph(g))
    .message(8, new ProtoWriter().string(1, "").int(2, OPSET_VERSION))
    .finish();
}
