/**
 * A minimal protocol buffers writer: just what the ONNX exporter needs. Fields are appended in
 * the order they are written; nested messages are written bottom-up (a finished child's bytes
 * become a length-delimited field of its parent).
 *
 * Wire types used: 0 (varint: int32, int64, uint64, enums, bools) and 2 (length-delimited:
 * strings, bytes, nested messages, packed repeated varints).
 */
const VARINT = 0;
const LENGTH_DELIMITED = 2;

const TWO_POW_32 = 2 ** 32;

/**
 * The varint encoding of an integer. Non-negative values up to 2^53 - 1 take 1 to 8 bytes;
 * negative values are encoded as int64 two's complement (always 10 bytes), as protobuf does for
 * int32 and int64 fields.
 */
export function encodeVarint(value: number | bigint): Uint8Array {
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new RangeError(`a varint must be a safe integer, not ${value}`);
    if (value < 0) return encodeVarint(BigInt(value));
    const out: number[] = [];
    // Split into 32-bit halves: JavaScript's bit operators work on 32 bits only.
    let low = value % TWO_POW_32;
    let high = Math.floor(value / TWO_POW_32);
    while (high > 0 || low > 0x7f) {
      out.push((low & 0x7f) | 0x80);
      low = ((low >>> 7) | ((high & 0x7f) << 25)) >>> 0;
      high = Math.floor(high / 128);
    }
    out.push(low);
    return Uint8Array.from(out);
  }
  if (value < -(1n << 63n) || value >= 1n << 64n) throw new RangeError(`a varint must fit in 64 bits, not ${value}`);
  let rest = BigInt.asUintN(64, value);
  const out: number[] = [];
  while (rest > 0x7fn) {
    out.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  out.push(Number(rest));
  return Uint8Array.from(out);
}

const utf8 = new TextEncoder();

/** Writes one protobuf message. Every method returns the writer, so calls chain. */
export class ProtoWriter {
  private readonly chunks: Uint8Array[] = [];
  private length = 0;

  private push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.length += bytes.length;
  }

  private tag(field: number, wireType: number): void {
    if (!Number.isInteger(field) || field < 1 || field > 0x1fff_ffff) throw new RangeError(`invalid field number ${field}`);
    this.push(encodeVarint(field * 8 + wireType));
  }

  /** A varint field (int32, int64, uint64 or an enum); negative numbers take ten bytes. */
  int(field: number, value: number | bigint): this {
    this.tag(field, VARINT);
    this.push(encodeVarint(value));
    return this;
  }

  /** A length-delimited field holding raw bytes (a `bytes` field or an encoded message). */
  bytes(field: number, value: Uint8Array): this {
    this.tag(field, LENGTH_DELIMITED);
    this.push(encodeVarint(value.length));
    this.push(value);
    return this;
  }

  /** A string field, UTF-8 encoded. */
  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value));
  }

  /** A nested message field. */
  message(field: number, value: ProtoWriter): this {
    return this.bytes(field, value.finish());
  }

  /** A packed repeated varint field (proto3's encoding of `repeated int64`); nothing if empty. */
  packedInts(field: number, values: readonly (number | bigint)[]): this {
    if (values.length === 0) return this;
    const inner = new ProtoWriter();
    for (const v of values) inner.push(encodeVarint(v));
    return this.bytes(field, inner.finish());
  }

  /** The encoded message. */
  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }
}
