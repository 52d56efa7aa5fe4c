import {
  BYTES_PER_VALUE,
  WEIGHTS_MAGIC,
  PropiusError,
  checkScales,
  decodeWeightsHeader,
  halfBitsToFloat,
  parameterCount,
  payloadByteLength,
  tensorSize,
  type TensorSpec,
  type WeightsHeader,
} from "@propius/shared";
import { checkDeltaHeader, type DeltaMeta } from "./delta-input.js";

const MAX_HEADER_BYTES = 1 << 20;
const fail = (message: string, details?: unknown): never => {
  throw new PropiusError("invalid_update", message, details);
};

/**
 * A decoded delta, still in the shard's scratch buffers: dense values, or k entries at ascending
 * indices. Dense fp32 values are not yet checked finite: `foldDecoded` checks them as it adds.
 */
export interface DecodedDelta extends DeltaMeta {
  /** Dense: one value per parameter. Sparse: the kept entries. */
  values: Float32Array;
  /** Sparse only: the entries' parameter indices. */
  indices?: Uint32Array;
  bytesIn: number;
}

/**
 * Decodes an upload's bytes as they arrive, chunk by chunk, into `scratch` (one value per parameter,
 * reused from upload to upload): the header first, checked against the job's tensors before any
 * value is read, then each chunk's values (fp32 copied, fp16 and int8 dequantised, top-k indices
 * checked), with a value cut by a chunk's edge carried to the next chunk. Every value is checked
 * as it is decoded (finite, in range), but for dense fp32 values, whose finiteness `foldDecoded`
 * checks in its one pass (a non-finite value gives a non-finite sum), into a buffer apart from the
 * sum: a refused upload changes nothing. Refusals are `invalid_update`, as `decodeWeights` gives them.
 */
export async function decodeDeltaStream(weightSpecs: TensorSpec[], chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, scratch: Float32Array): Promise<DecodedDelta> {
  const reader = new DeltaReader(weightSpecs, scratch);
  for await (const chunk of chunks) reader.push(chunk);
  return reader.finish();
}

type Section = { kind: "scales" | "indices" | "values"; count: number; size: number };

class DeltaReader {
  private head: Uint8Array = new Uint8Array(8);
  private headFill = 0;
  private header: WeightsHeader | null = null;
  private meta: DeltaMeta | null = null;
  private skip = 0;
  private sections: Section[] = [];
  private section = 0;
  private element = 0;
  private readonly carry = new Uint8Array(4);
  private carried = 0;
  private payloadBytes = 0;
  private expectedPayload = 0;
  private bytesIn = 0;
  private scales: Float32Array | null = null;
  private indices: Uint32Array | null = null;
  private values: Float32Array;
  /** Dense fp32 values read in place, when one chunk held them all at an aligned offset (no copy). */
  private inPlace: Float32Array | null = null;
  /** Tensor ends in the flat vector, and the tensor of the current entry (int8 scales are per tensor). */
  private readonly ends: number[];
  private tensor = 0;
  private readonly n: number;

  constructor(private readonly weightSpecs: TensorSpec[], private readonly scratch: Float32Array) {
    this.n = parameterCount(weightSpecs);
    if (scratch.length !== this.n) throw new RangeError(`scratch holds ${scratch.length} values, the job's model ${this.n}`);
    this.values = scratch;
    let end = 0;
    this.ends = weightSpecs.map((t) => (end += tensorSize(t)));
  }

  push(chunk: Uint8Array): void {
    this.bytesIn += chunk.length;
    let at = 0;
    if (!this.header) at = this.readHead(chunk);
    if (!this.header) return;
    if (this.skip > 0 && at < chunk.length) {
      const n = Math.min(this.skip, chunk.length - at);
      this.skip -= n;
      at += n;
    }
    if (at < chunk.length) this.readPayload(chunk, at);
  }

  finish(): DecodedDelta {
    if (this.bytesIn === 0) fail("the request body is empty");
    if (!this.header || this.skip > 0 || this.payloadBytes !== this.expectedPayload) {
      const got = this.header ? this.payloadBytes : 0;
      fail(this.header ? `weights data is ${got} bytes; the manifest needs ${this.expectedPayload}` : "the weights message ends inside its header", this.header ? { bytes: got, expected: this.expectedPayload } : undefined);
    }
    const sparse = this.indices !== null;
    return { ...this.meta!, values: sparse ? this.values : (this.inPlace ?? this.scratch), indices: this.indices ?? undefined, bytesIn: this.bytesIn };
  }

  /** Collects the preamble and the JSON header; returns where the chunk's remaining bytes start. */
  private readHead(chunk: Uint8Array): number {
    let at = 0;
    const want = () => this.head.length - this.headFill;
    while (!this.header && at < chunk.length) {
      const n = Math.min(want(), chunk.length - at);
      this.head.set(chunk.subarray(at, at + n), this.headFill);
      this.headFill += n;
      at += n;
      if (want() > 0) break;
      if (this.head.length === 8) {
        const length = new DataView(this.head.buffer).getUint32(4, true);
        // The magic is checked first, so that random bytes are refused before a large header is awaited.
        for (let i = 0; i < 4; i++) if (this.head[i] !== WEIGHTS_MAGIC.charCodeAt(i)) fail(`weights message does not start with ${WEIGHTS_MAGIC}`);
        if (length > MAX_HEADER_BYTES) fail("weights header length is out of range");
        const grown = new Uint8Array(8 + length);
        grown.set(this.head);
        this.head = grown;
        if (length > 0) continue;
      }
      this.start(decodeWeightsHeader(this.head));
    }
    return at;
  }

  private start({ header, dataOffset }: { header: WeightsHeader; dataOffset: number }): void {
    this.meta = checkDeltaHeader(this.weightSpecs, header);
    this.header = header;
    this.skip = dataOffset - this.head.length;
    this.expectedPayload = payloadByteLength(header);
    const k = header.sparse?.k;
    if (header.codec === "int8") this.sections.push({ kind: "scales", count: header.tensors.length, size: 4 });
    if (k !== undefined) this.sections.push({ kind: "indices", count: k, size: 4 });
    this.sections.push({ kind: "values", count: k ?? this.n, size: BYTES_PER_VALUE[header.codec] });
    if (header.codec === "int8") this.scales = new Float32Array(header.tensors.length);
    if (k !== undefined) {
      this.indices = new Uint32Array(k);
      this.values = new Float32Array(k);
    }
  }

  private readPayload(chunk: Uint8Array, at: number): void {
    if (this.payloadBytes + chunk.length - at > this.expectedPayload) {
      fail(`weights data is longer than the ${this.expectedPayload} bytes the manifest needs`, { expected: this.expectedPayload });
    }
    this.payloadBytes += chunk.length - at;
    const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    while (at < chunk.length) {
      const s = this.sections[this.section];
      if (this.carried > 0) {
        const n = Math.min(s.size - this.carried, chunk.length - at);
        this.carry.set(chunk.subarray(at, at + n), this.carried);
        this.carried += n;
        at += n;
        if (this.carried < s.size) return;
        this.carried = 0;
        this.one(s, new DataView(this.carry.buffer), 0);
        continue;
      }
      const whole = Math.min(Math.floor((chunk.length - at) / s.size), s.count - this.element);
      if (whole > 0) {
        this.many(s, chunk, view, at, whole);
        at += whole * s.size;
        continue;
      }
      const rest = chunk.length - at;
      this.carry.set(chunk.subarray(at), 0);
      this.carried = rest;
      at += rest;
    }
  }

  /** Decodes `count` whole elements of section `s` starting at byte `at` of the chunk. */
  private many(s: Section, chunk: Uint8Array, view: DataView, at: number, count: number): void {
    if (s.kind === "values" && this.header!.codec === "fp32" && !this.indices) {
      // Dense fp32: the values where they lie when one chunk holds them all, aligned (a body read
      // whole); else one byte copy into the scratch (aligned whatever the chunk's offset). Checked finite by `foldDecoded`.
      const from = this.element;
      const whole = from === 0 && count === this.n && (chunk.byteOffset + at) % 4 === 0;
      if (whole) this.inPlace = new Float32Array(chunk.buffer, chunk.byteOffset + at, count);
      else new Uint8Array(this.scratch.buffer, this.scratch.byteOffset + from * 4, count * 4).set(chunk.subarray(at, at + count * 4));
      this.advance(count);
      return;
    }
    for (let j = 0; j < count; j++) this.one(s, view, at + j * s.size);
  }

  private one(s: Section, view: DataView, at: number): void {
    const j = this.element;
    if (s.kind === "scales") {
      this.scales![j] = view.getFloat32(at, true);
    } else if (s.kind === "indices") {
      const index = view.getUint32(at, true);
      if (index >= this.n) fail(`top-k index ${index} (entry ${j}) is out of range for ${this.n} parameters`, { entry: j, index });
      if (j > 0 && index <= this.indices![j - 1]) fail(`top-k indices must be strictly ascending: entry ${j} is ${index} after ${this.indices![j - 1]}`, { entry: j, index, previous: this.indices![j - 1] });
      this.indices![j] = index;
    } else {
      this.values[j] = this.value(view, at, j);
    }
    this.advance(1);
  }

  private value(view: DataView, at: number, j: number): number {
    const codec = this.header!.codec;
    if (codec === "fp16") {
      const h = view.getUint16(at, true);
      if ((h & 0x7c00) === 0x7c00) fail(`fp16 entry ${j} encodes ${h & 0x3ff ? "NaN" : "Infinity"}`, { entry: j });
      return halfBitsToFloat(h);
    }
    if (codec === "int8") {
      const q = view.getInt8(at);
      if (q === -128) fail(`int8 entry ${j} is -128, outside the symmetric range [-127, 127]`, { entry: j });
      const index = this.indices ? this.indices[j] : j;
      while (index >= this.ends[this.tensor]) this.tensor++;
      return q * this.scales![this.tensor];
    }
    const v = view.getFloat32(at, true);
    if (!Number.isFinite(v)) fail(this.indices ? `fp32 entry ${j} is not finite` : `the delta holds a non-finite value at index ${j}`, { entry: j });
    return v;
  }

  private advance(count: number): void {
    this.element += count;
    const s = this.sections[this.section];
    if (this.element < s.count) return;
    if (s.kind === "scales") checkScales(this.scales!, this.header!.tensors.map((t) => t.name));
    // Every section holds at least one element (T >= 1 tensors, k >= 1, N >= 1), and bytes past the last are refused above.
    this.section += 1;
    this.element = 0;
  }
}

/**
 * `sum + weight x delta` (the same float32 arithmetic as WeightedSum.add), with every result checked
 * finite in the same pass: that also refuses a non-finite delta value, and a sum that would overflow
 * is never kept. `sum` is left bit for bit as it was when this throws.
 *
 * Dense: the results go into `spare` (any buffer of the sum's length but `sum` itself; it may hold
 * the delta's values, each read before it is overwritten), which is returned: the caller keeps it
 * as the sum and the old sum as its next spare. Sparse: the k entries are checked first, then added
 * into `sum`, which is returned.
 */
export function foldDecoded(sum: Float32Array, delta: DecodedDelta, weight: number, spare: Float32Array): Float32Array {
  if (!(weight > 0) || !Number.isFinite(weight)) throw new RangeError("weight must be a positive finite number");
  const v = delta.values;
  if (delta.indices) {
    const idx = delta.indices;
    for (let j = 0; j < idx.length; j++) if (!Number.isFinite(Math.fround(sum[idx[j]] + weight * v[j]))) refuse(sum[idx[j]], v[j], idx[j]);
    for (let j = 0; j < idx.length; j++) sum[idx[j]] += weight * v[j];
    return sum;
  }
  if (spare === sum || spare.length !== sum.length) throw new RangeError("the spare buffer must be another of the sum's length");
  for (let i = 0; i < sum.length; i++) {
    const value = v[i];
    spare[i] = sum[i] + weight * value;
    if (!Number.isFinite(spare[i])) refuse(sum[i], value, i);
  }
  return spare;
}

/** Why `sum + weight x value` is not finite at parameter `index`: the value, else the sum's overflow. */
function refuse(sum: number, value: number, index: number): never {
  if (!Number.isFinite(value)) fail(`the delta holds a non-finite value at index ${index}`, { index });
  return fail(`adding the delta overflows the partial sum at index ${index}`, { index, sum });
}
