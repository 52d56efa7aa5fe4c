import { PropiusError } from "./errors.js";
import { parameterCount, tensorSize, type TensorSpec } from "./tensors.js";

/**
 * The binary format for model weights and deltas: a small JSON header followed by one flat,
 * little-endian float32 buffer holding every tensor in manifest order (the same layout as a
 * tfjs `weights.bin`).
 *
 *   bytes 0-3   magic "PRW1"
 *   bytes 4-7   header length H (uint32, little-endian)
 *   8..8+H      header, UTF-8 JSON: { kind, codec, tensors, meta? }
 *   padding     zero bytes up to a multiple of 4
 *   data        parameterCount(tensors) float32 values
 */
export const WEIGHTS_MAGIC = "PRW1";
const MAGIC_BYTES = new TextEncoder().encode(WEIGHTS_MAGIC);
const MAX_HEADER_BYTES = 1 << 20;

export type WeightsKind = "model" | "delta";

export interface WeightsHeader {
  kind: WeightsKind;
  codec: "fp32";
  tensors: TensorSpec[];
  meta?: Record<string, unknown>;
}

export interface WeightsMessage {
  header: WeightsHeader;
  values: Float32Array;
}

const align4 = (n: number) => (n + 3) & ~3;
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function encodeWeights(header: WeightsHeader, values: Float32Array): Uint8Array<ArrayBuffer> {
  const expected = parameterCount(header.tensors);
  if (values.length !== expected) {
    throw new PropiusError("invalid_update", `expected ${expected} values for the manifest, got ${values.length}`);
  }
  const headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const dataOffset = align4(8 + headerBytes.length);
  const out = new Uint8Array(dataOffset + values.length * 4);
  out.set(MAGIC_BYTES, 0);
  new DataView(out.buffer).setUint32(4, headerBytes.length, true);
  out.set(headerBytes, 8);
  if (littleEndian) {
    out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), dataOffset);
  } else {
    const view = new DataView(out.buffer, dataOffset);
    values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  }
  return out;
}

function fail(message: string, details?: unknown): never {
  throw new PropiusError("invalid_update", message, details);
}

/** Reads only the header; cheap, and enough to validate a message before touching its data. */
export function decodeWeightsHeader(bytes: Uint8Array): { header: WeightsHeader; dataOffset: number } {
  if (bytes.length < 8) fail("weights message is shorter than its 8-byte preamble");
  for (let i = 0; i < 4; i++) if (bytes[i] !== MAGIC_BYTES[i]) fail(`weights message does not start with ${WEIGHTS_MAGIC}`);
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4, true);
  if (headerLength > MAX_HEADER_BYTES || 8 + headerLength > bytes.length) fail("weights header length is out of range");
  let header: WeightsHeader;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)));
  } catch {
    fail("weights header is not valid UTF-8 JSON");
  }
  validateHeader(header);
  return { header, dataOffset: align4(8 + headerLength) };
}

function validateHeader(header: WeightsHeader): void {
  if (typeof header !== "object" || header === null) fail("weights header must be an object");
  if (header.kind !== "model" && header.kind !== "delta") fail("weights header kind must be 'model' or 'delta'");
  if (header.codec !== "fp32") fail(`unsupported codec '${String(header.codec)}'`, { supported: ["fp32"] });
  if (!Array.isArray(header.tensors) || header.tensors.length === 0) fail("weights header must list its tensors");
  for (const t of header.tensors) {
    const ok =
      typeof t === "object" && t !== null && typeof t.name === "string" && t.dtype === "float32" &&
      Array.isArray(t.shape) && t.shape.every((d) => Number.isInteger(d) && d > 0 && d < 2 ** 31);
    if (!ok) fail("every tensor needs a name, a float32 dtype and a shape of positive integers", { tensor: t });
  }
}

/** Decodes and validates a weights message; values are copied into an aligned Float32Array. */
export function decodeWeights(bytes: Uint8Array): WeightsMessage {
  const { header, dataOffset } = decodeWeightsHeader(bytes);
  const count = parameterCount(header.tensors);
  const dataBytes = bytes.length - dataOffset;
  if (dataBytes !== count * 4) fail(`weights data is ${dataBytes} bytes; the manifest needs ${count * 4}`);
  const values = new Float32Array(count);
  if (littleEndian) {
    new Uint8Array(values.buffer).set(bytes.subarray(dataOffset));
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset + dataOffset, dataBytes);
    for (let i = 0; i < count; i++) values[i] = view.getFloat32(i * 4, true);
  }
  return { header, values };
}

/** True when two manifests describe the same tensors (names, shapes, dtypes, order). */
export function sameManifest(a: readonly TensorSpec[], b: readonly TensorSpec[]): boolean {
  return (
    a.length === b.length &&
    a.every((t, i) => t.name === b[i].name && t.dtype === b[i].dtype && tensorSize(t) === tensorSize(b[i]) &&
      t.shape.length === b[i].shape.length && t.shape.every((d, j) => d === b[i].shape[j]))
  );
}

/** Index of the first NaN or infinite value, or -1 when all are finite. */
export function firstNonFinite(values: Float32Array): number {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return i;
  return -1;
}
