import { PropiusError } from "../errors.js";
import { parameterCount, tensorSize, type TensorSpec } from "../tensors.js";
import { readFp16, writeFp16 } from "./fp16.js";
import { checkScales, dequantizeInt8, int8Scales, quantizeInt8 } from "./int8.js";
import { gather, readIndices, scatter, selectTopK, sparseBounds } from "./top-k.js";

/**
 * The payload of a PRW1 message: what follows the header and its padding. The layout is described
 * in `../weights-format.ts`; this module encodes and decodes it for each codec, dense or top-k.
 */
export const WEIGHTS_CODECS = ["fp32", "fp16", "int8"] as const;
export type WeightsCodec = (typeof WEIGHTS_CODECS)[number];

/** Global top-k sparsification: only the k parameters of largest magnitude are sent. */
export interface SparseOption {
  k: number;
}

export interface PayloadSpec {
  codec: WeightsCodec;
  sparse?: SparseOption;
  tensors: readonly TensorSpec[];
}

export const BYTES_PER_VALUE: Readonly<Record<WeightsCodec, number>> = { fp32: 4, fp16: 2, int8: 1 };

/** Whether this platform stores typed arrays little-endian (as the format does): then fp32 payloads are read as they are. */
export const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function fail(message: string, details?: unknown): never {
  throw new PropiusError("invalid_update", message, details);
}

/** Refuses an unknown codec or a malformed `sparse` option (k must be an integer in 1..N). */
export function checkCodec(spec: { codec: unknown; sparse?: unknown; tensors: readonly TensorSpec[] }): void {
  if (!(WEIGHTS_CODECS as readonly unknown[]).includes(spec.codec)) {
    fail(`unsupported codec '${String(spec.codec)}'`, { supported: [...WEIGHTS_CODECS] });
  }
  if (spec.sparse === undefined) return;
  const n = parameterCount(spec.tensors);
  const k = typeof spec.sparse === "object" && spec.sparse !== null ? (spec.sparse as { k?: unknown }).k : undefined;
  if (typeof k !== "number" || !Number.isInteger(k) || k < 1 || k > n) {
    fail(`sparse.k must be an integer from 1 to the parameter count ${n}`, { k: k === undefined ? null : String(k) });
  }
}

/** Exact byte length of the payload for this codec and manifest. */
export function payloadByteLength(spec: PayloadSpec): number {
  const n = parameterCount(spec.tensors);
  const entries = spec.sparse ? spec.sparse.k : n;
  const scales = spec.codec === "int8" ? 4 * spec.tensors.length : 0;
  const indices = spec.sparse ? 4 * entries : 0;
  return scales + indices + entries * BYTES_PER_VALUE[spec.codec];
}

function tensorEnds(tensors: readonly TensorSpec[]): number[] {
  let end = 0;
  return tensors.map((t) => (end += tensorSize(t)));
}

/** Writes the payload for dense `values` (one per parameter) into `out` at `offset`. */
export function encodePayload(spec: PayloadSpec, values: Float32Array, out: Uint8Array, offset: number): void {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const ends = tensorEnds(spec.tensors);
  let at = offset;
  let entries = values;
  let bounds: ArrayLike<number> = [0, ...ends];
  let indices: Uint32Array | undefined;
  if (spec.sparse) {
    indices = selectTopK(values, spec.sparse.k);
    entries = gather(values, indices);
    bounds = sparseBounds(indices, ends);
  }
  if (spec.codec === "int8") {
    const scales = int8Scales(entries, bounds);
    scales.forEach((s, t) => view.setFloat32(at + t * 4, s, true));
    at += scales.length * 4;
    if (indices) at = writeUint32s(view, at, indices);
    out.set(new Uint8Array(quantizeInt8(entries, bounds, scales).buffer), at);
    return;
  }
  if (indices) at = writeUint32s(view, at, indices);
  if (spec.codec === "fp16") {
    writeFp16(view, at, entries);
  } else if (littleEndian) {
    out.set(new Uint8Array(entries.buffer, entries.byteOffset, entries.byteLength), at);
  } else {
    entries.forEach((v, i) => view.setFloat32(at + i * 4, v, true));
  }
}

function writeUint32s(view: DataView, at: number, values: Uint32Array): number {
  values.forEach((v, i) => view.setUint32(at + i * 4, v, true));
  return at + values.length * 4;
}

/**
 * Decodes a payload of exactly `payloadByteLength(spec)` bytes at `offset` into one dense float32
 * per parameter. Scales, indices and values are all validated before the result is built; every
 * value of a non-fp32 or sparse payload is finite. Dense fp32 values are copied as they are (the
 * receiver checks them, as it always has).
 */
export function decodePayload(spec: PayloadSpec, bytes: Uint8Array, offset: number): Float32Array {
  const n = parameterCount(spec.tensors);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (spec.codec === "fp32" && !spec.sparse) return readFp32(view, offset, n);
  const ends = tensorEnds(spec.tensors);
  const count = spec.sparse ? spec.sparse.k : n;
  let at = offset;
  let scales: Float32Array | undefined;
  if (spec.codec === "int8") {
    scales = new Float32Array(spec.tensors.length);
    for (let t = 0; t < scales.length; t++) scales[t] = view.getFloat32(at + t * 4, true);
    checkScales(scales, spec.tensors.map((t) => t.name));
    at += scales.length * 4;
  }
  let indices: Uint32Array | undefined;
  if (spec.sparse) {
    indices = readIndices(view, at, count, n);
    at += count * 4;
  }
  let entries: Float32Array;
  if (scales) {
    const q = new Int8Array(bytes.buffer, bytes.byteOffset + at, count);
    entries = dequantizeInt8(q, indices ? sparseBounds(indices, ends) : [0, ...ends], scales);
  } else if (spec.codec === "fp16") {
    entries = readFp16(view, at, count);
  } else {
    entries = readFp32(view, at, count);
    for (let j = 0; j < count; j++) if (!Number.isFinite(entries[j])) fail(`fp32 entry ${j} is not finite`, { entry: j });
  }
  return indices ? scatter(indices, entries, n) : entries;
}

function readFp32(view: DataView, at: number, count: number): Float32Array {
  const values = new Float32Array(count);
  if (littleEndian) {
    new Uint8Array(values.buffer).set(new Uint8Array(view.buffer, view.byteOffset + at, count * 4));
  } else {
    for (let i = 0; i < count; i++) values[i] = view.getFloat32(at + i * 4, true);
  }
  return values;
}
