import { decodeWeights, encodeWeights, firstNonFinite, sameManifest, type TensorSpec, type WeightsKind } from "@propius/shared";
import type { Chance } from "./fuzz-random.js";

/**
 * Hostile weights messages (see shared/src/weights-format.ts): manifests claiming huge or many
 * tensors, wrong dtypes and codecs, sparse parts out of range, truncated and padded payloads,
 * preambles that lie about the header's length, bit flips, non-finite values, odd meta.
 */
const enc = new TextEncoder();

/** A message with `header` (any JSON, even not a valid header) and `payload` bytes, built by hand. */
export function rawMessage(header: unknown, payload: Uint8Array, headerLength?: number): Uint8Array {
  const text = enc.encode(typeof header === "string" ? header : JSON.stringify(header));
  const offset = (8 + text.length + 3) & ~3;
  const bytes = new Uint8Array(offset + payload.length);
  bytes.set(enc.encode("PRW1"), 0);
  new DataView(bytes.buffer).setUint32(4, headerLength ?? text.length, true);
  bytes.set(text, 8);
  bytes.set(payload, offset);
  return bytes;
}

const size = (tensors: TensorSpec[]) => tensors.reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);

/** A hostile variant of a valid message of `kind` for `tensors`, and what was done to it. */
export function hostileWeights(kind: WeightsKind, tensors: TensorSpec[], rng: Chance): { bytes: Uint8Array; mutation: string } {
  const n = size(tensors);
  const valid = encodeWeights({ kind, codec: "fp32", tensors, ...(kind === "delta" ? { meta: { examples: 1 } } : {}) }, new Float32Array(n).fill(0.01));
  const header = { kind, codec: "fp32", tensors, meta: { examples: 1 } };
  const floats = (count: number, value = 0.01) => new Uint8Array(new Float32Array(count).fill(value).buffer);
  const kinds: (() => [string, Uint8Array])[] = [
    () => ["a manifest claiming a huge tensor", rawMessage({ ...header, tensors: [{ name: "dense/kernel", shape: rng.pick([[65_536, 65_536], [2 ** 31 - 1], [1 << 14, 1 << 14, 4]]), dtype: "float32" }] }, floats(8))],
    () => ["a manifest claiming many tensors", rawMessage({ ...header, tensors: Array.from({ length: rng.pick([5_000, 40_000]) }, (_, i) => ({ name: `t${i}`, shape: [1 << 12], dtype: "float32" })) }, floats(8))],
    () => ["a manifest claiming 64-512 MiB of parameters with a short body", rawMessage({ ...header, tensors: [{ name: "dense/kernel", shape: [rng.pick([16, 32, 64, 128]), 1 << 20], dtype: "float32" }] }, floats(8))],
    () => ["a manifest other than the job's", rawMessage({ ...header, tensors: [{ name: "other", shape: [n], dtype: "float32" }] }, floats(n))],
    () => ["a wrong dtype", rawMessage({ ...header, tensors: tensors.map((t) => ({ ...t, dtype: rng.pick(["float64", "int32", "float16", "", null, 7]) })) }, floats(n))],
    () => ["an unknown codec", rawMessage({ ...header, codec: rng.pick(["fp64", "bf16", "", "int4", null]) }, floats(n))],
    () => ["sparse k out of range", rawMessage({ ...header, sparse: { k: rng.pick([0, -1, n + 1, 2 ** 32, 1.5]) } }, floats(n * 2))],
    () => ["sparse indices out of order", rawMessage({ ...header, sparse: { k: 2 } }, new Uint8Array(new Uint32Array([n + 5, 1, 0, 0]).buffer))],
    () => ["int8 with a non-finite scale", rawMessage({ ...header, codec: "int8" }, new Uint8Array([...new Uint8Array(new Float32Array([Infinity]).buffer), ...new Uint8Array(n)]))],
    () => ["a truncated payload", valid.slice(0, valid.length - 1 - rng.int(Math.max(1, valid.length - 9)))],
    () => ["trailing bytes", new Uint8Array([...valid, ...rng.bytes(1 + rng.int(64))])],
    () => ["a header length past the message", rawMessage(header, floats(n), rng.pick([0xffffffff, 1 << 20, (1 << 20) + 1, 100_000]))],
    () => ["a header length of zero", rawMessage(header, floats(n), 0)],
    () => ["a bad magic", new Uint8Array([...enc.encode(rng.pick(["PRW2", "GIF8", "\0\0\0\0"])), ...valid.slice(4)])],
    () => ["a header that is not JSON", rawMessage(rng.pick(["{", "{\"kind\":", "\u00ff\u00fe", "null", "[]", "\"delta\"", "{\"kind\":\"delta\",}"]), floats(n))],
    () => ["a header nested too deep", rawMessage(`{"kind":"delta","codec":"fp32","meta":${"[".repeat(rng.pick([65, 1_000, 100_000]))}${"]".repeat(65)}}`, floats(n))],
    () => ["the other kind", encodeWeights({ kind: kind === "delta" ? "model" : "delta", codec: "fp32", tensors }, new Float32Array(n))],
    () => ["non-finite values", rawMessage(header, floats(n, rng.pick([NaN, Infinity, -Infinity])))],
    () => ["odd meta", rawMessage({ ...header, meta: rng.pick([{ examples: -1 }, { examples: "1" }, { examples: 1e300 }, { examples: null }, [], "x", { examples: 1, x: "A".repeat(100_000) }]) }, floats(n))],
    () => ["an empty body", new Uint8Array(0)],
    () => ["random bytes", rng.bytes(rng.pick([3, 8, 64, 4_096]))],
    () => {
      const flipped = valid.slice();
      const flips = 1 + rng.int(8);
      for (let i = 0; i < flips; i++) flipped[rng.int(flipped.length)] ^= 1 << rng.int(8);
      return [`${flips} bit flips`, flipped];
    },
  ];
  const [mutation, bytes] = rng.pick(kinds)();
  return { bytes, mutation };
}

/**
 * Whether the control plane could accept `bytes` as a message of `kind` for `tensors`: it decodes,
 * names the job's tensors and holds finite values. A message that could is never sent with
 * credentials that would have it stored (a bit flip in a value makes another valid delta).
 */
export function mayBeAccepted(bytes: Uint8Array, kind: WeightsKind, tensors: TensorSpec[]): boolean {
  try {
    const { header, values } = decodeWeights(bytes);
    return header.kind === kind && sameManifest(header.tensors, tensors) && firstNonFinite(values) === -1;
  } catch {
    return false;
  }
}
