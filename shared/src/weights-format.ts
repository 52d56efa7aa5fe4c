import { PropiusError } from "./errors.js";
import { MAX_JSON_DEPTH, nestsDeeperThan } from "./json-depth.js";
import { checkCodec, decodePayload, encodePayload, littleEndian, payloadByteLength, type SparseOption, type WeightsCodec } from "./codecs/index.js";
import { parameterCount, tensorSize, type TensorSpec } from "./tensors.js";

export { WEIGHTS_CODECS, type SparseOption, type WeightsCodec } from "./codecs/index.js";

/**
 * The binary format for model weights and deltas: a small JSON header followed by a little-endian
 * payload holding every tensor in manifest order (for dense fp32, the same layout as a tfjs
 * `weights.bin`).
 *
 *   bytes 0-3   magic "PRW1"
 *   bytes 4-7   header length H (uint32, little-endian)
 *   8..8+H      header, UTF-8 JSON: { kind, codec, sparse?, tensors, meta? }
 *   padding     zero bytes up to a multiple of 4 (the payload starts at P = align4(8 + H))
 *   payload     in this order, each part present only where stated:
 *     scales    codec "int8": T float32, one per tensor in manifest order
 *     indices   `sparse` set: k uint32 flat parameter indices, strictly ascending, each < N
 *     values    N entries (dense) or k entries (sparse, in index order), each 4 bytes (fp32),
 *               2 bytes (fp16, IEEE binary16) or 1 byte (int8, two's complement)
 *
 * N is the manifest's parameter count, T its tensor count; there is no trailing padding, so a
 * message is exactly P + (int8 ? 4T : 0) + (sparse ? 4k : 0) + entries * bytesPerValue bytes.
 * A dense fp32 message is byte-for-byte the format that predates the other codecs.
 *
 * Codecs (`header.codec`):
 *   fp32  float32 as is.
 *   fp16  round to nearest even; subnormals kept; |x| >= 65520 (which would round to Inf) and
 *         Inf/NaN are refused on encode, Inf/NaN encodings are refused on decode (`codecs/fp16.ts`).
 *   int8  symmetric, per tensor: scale = max|x| / 127, q = round(x / scale) in [-127, 127],
 *         decoded as q * scale; -128 and negative, non-finite or overflowing scales are refused.
 * Top-k (`header.sparse = { k }`, 1 <= k <= N, any codec): the k parameters of largest magnitude
 * over the whole delta (ties to the lower index) are sent; the others decode to 0. With int8, each
 * tensor's scale covers only its kept entries.
 *
 * Models (`kind: "model"`) are dense fp32 only: they are stored content-addressed and every device
 * downloads them, so they are never quantised. Every refusal is `invalid_update`. `decodeWeights`
 * always returns one dense float32 per parameter; all values decoded from fp16, int8 or a sparse
 * payload are finite, while dense fp32 values are returned as sent (see `firstNonFinite`).
 */
export const WEIGHTS_MAGIC = "PRW1";
const MAGIC_BYTES = new TextEncoder().encode(WEIGHTS_MAGIC);
const MAX_HEADER_BYTES = 1 << 20;

export type WeightsKind = "model" | "delta";

export interface WeightsHeader {
  kind: WeightsKind;
  codec: WeightsCodec;
  /** Top-k sparsification; absent for a dense message. */
  sparse?: SparseOption;
  tensors: TensorSpec[];
  meta?: Record<string, unknown>;
}

export interface WeightsMessage {
  header: WeightsHeader;
  values: Float32Array;
}

const align4 = (n: number) => (n + 3) & ~3;

/** Encodes dense `values` (one per parameter, manifest order) with the header's codec and `sparse` option. */
export function encodeWeights(header: WeightsHeader, values: Float32Array): Uint8Array<ArrayBuffer> {
  const expected = parameterCount(header.tensors);
  if (values.length !== expected) {
    throw new PropiusError("invalid_update", `expected ${expected} values for the manifest, got ${values.length}`);
  }
  const { bytes, dataOffset } = preamble(header);
  encodePayload(header, values, bytes, dataOffset);
  return bytes;
}

/**
 * A dense fp32 message whose values are still zero, and those values as a view of its bytes: a
 * model computed in place into `values` is encoded with no second copy.
 */
export function allocateWeights(header: WeightsHeader): { bytes: Uint8Array<ArrayBuffer>; values: Float32Array } {
  if (header.codec !== "fp32" || header.sparse !== undefined) fail("only dense fp32 messages are written in place");
  const { bytes, dataOffset } = preamble(header);
  return { bytes, values: new Float32Array(bytes.buffer, dataOffset, parameterCount(header.tensors)) };
}

/** A message buffer of the right length with the magic and the header written; the payload starts at `dataOffset`, 4-byte aligned. */
function preamble(header: WeightsHeader): { bytes: Uint8Array<ArrayBuffer>; dataOffset: number } {
  checkCodec(header);
  checkModelCodec(header);
  const headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const dataOffset = align4(8 + headerBytes.length);
  const bytes = new Uint8Array(dataOffset + payloadByteLength(header));
  bytes.set(MAGIC_BYTES, 0);
  new DataView(bytes.buffer).setUint32(4, headerBytes.length, true);
  bytes.set(headerBytes, 8);
  return { bytes, dataOffset };
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
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + headerLength));
    header = JSON.parse(text);
  } catch {
    fail("weights header is not valid UTF-8 JSON");
  }
  if (nestsDeeperThan(text)) fail(`weights header nests deeper than ${MAX_JSON_DEPTH} levels`);
  validateHeader(header);
  return { header, dataOffset: align4(8 + headerLength) };
}

function validateHeader(header: WeightsHeader): void {
  if (typeof header !== "object" || header === null) fail("weights header must be an object");
  if (header.kind !== "model" && header.kind !== "delta") fail("weights header kind must be 'model' or 'delta'");
  if (!Array.isArray(header.tensors) || header.tensors.length === 0) fail("weights header must list its tensors");
  for (const t of header.tensors) {
    const ok =
      typeof t === "object" && t !== null && typeof t.name === "string" && t.dtype === "float32" &&
      Array.isArray(t.shape) && t.shape.every((d) => Number.isInteger(d) && d > 0 && d < 2 ** 31);
    if (!ok) fail("every tensor needs a name, a float32 dtype and a shape of positive integers", { tensor: t });
  }
  checkCodec(header);
  checkModelCodec(header);
}

function checkModelCodec(header: WeightsHeader): void {
  if (header.kind === "model" && (header.codec !== "fp32" || header.sparse !== undefined)) {
    fail("models are sent as dense fp32 only", { codec: header.codec, sparse: header.sparse !== undefined });
  }
}

/** Decodes and validates a weights message of any codec into one dense, aligned Float32Array. */
export function decodeWeights(bytes: Uint8Array): WeightsMessage {
  const { header, dataOffset } = checkedHeader(bytes);
  return { header, values: decodePayload(header, bytes, dataOffset) };
}

/**
 * As `decodeWeights`, but dense fp32 values come back as a view of `bytes` where they sit 4-byte
 * aligned (every encoded message's payload does): no copy of a large model or delta. The values
 * alias `bytes`; use them while `bytes` is left as it is.
 */
export function decodeWeightsView(bytes: Uint8Array): WeightsMessage {
  const { header, dataOffset } = checkedHeader(bytes);
  const start = bytes.byteOffset + dataOffset;
  if (header.codec !== "fp32" || header.sparse !== undefined || start % 4 !== 0 || !littleEndian) return { header, values: decodePayload(header, bytes, dataOffset) };
  return { header, values: new Float32Array(bytes.buffer, start, (bytes.length - dataOffset) / 4) };
}

/** The header of a message whose length is exactly what its manifest and codec need. */
function checkedHeader(bytes: Uint8Array): { header: WeightsHeader; dataOffset: number } {
  const { header, dataOffset } = decodeWeightsHeader(bytes);
  const dataBytes = bytes.length - dataOffset;
  const expected = payloadByteLength(header);
  if (dataBytes !== expected) {
    const layout = `${header.codec}${header.sparse ? ` top-${header.sparse.k}` : ""}`;
    fail(`weights data is ${dataBytes} bytes; the manifest needs ${expected} (${layout})`, { bytes: dataBytes, expected });
  }
  return { header, dataOffset };
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
