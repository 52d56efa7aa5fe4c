import { describe, expect, it } from "vitest";
import { WeightedSum } from "./fedavg.js";
import type { TensorSpec } from "./tensors.js";
import { allocateWeights, decodeWeights, decodeWeightsHeader, decodeWeightsView, encodeWeights, type WeightsHeader } from "./weights-format.js";
import { PropiusError } from "./errors.js";
import { random } from "./codecs/test-random.js";

/** Roughly normal values of standard deviation `sd`, none of them zero. */
function deltaValues(n: number, sd: number, seed: number): Float32Array {
  const next = random(seed);
  return Float32Array.from({ length: n }, () => (next() + next() + next() - 1.5 + 1e-6) * 2 * sd);
}

const tensors: TensorSpec[] = [
  { name: "dense/kernel", shape: [60, 50], dtype: "float32" },
  { name: "dense/bias", shape: [50], dtype: "float32" },
];
const meta = { examples: 600, trainLoss: 0.4321, bytesDown: 0 };
const N = 3050;
const ends = [3000, 3050];

const delta = (codec: WeightsHeader["codec"], sparse?: { k: number }): WeightsHeader =>
  ({ kind: "delta", codec, ...(sparse ? { sparse } : {}), tensors, meta });

/** A PRW1 message with any header and payload, for messages the encoder would never write. */
function raw(header: unknown, payload: Uint8Array | number[]): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const offset = (8 + json.length + 3) & ~3;
  const out = new Uint8Array(offset + payload.length);
  out.set(new TextEncoder().encode("PRW1"));
  new DataView(out.buffer).setUint32(4, json.length, true);
  out.set(json, 8);
  out.set(payload, offset);
  return out;
}

const refused = (message?: string | RegExp) =>
  expect.objectContaining({ code: "invalid_update", ...(message ? { message: typeof message === "string" ? expect.stringContaining(message) : expect.stringMatching(message) } : {}) });

function payloadView(bytes: Uint8Array): { view: DataView; at: number } {
  return { view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), at: decodeWeightsHeader(bytes).dataOffset };
}

describe("weights format: fp32", () => {
  it("writes a dense fp32 message as magic, header length, JSON header, padding and float32 data", () => {
    const header: WeightsHeader = { kind: "delta", codec: "fp32", tensors: [{ name: "w", shape: [2], dtype: "float32" }], meta: { examples: 1 } };
    const json = JSON.stringify(header);
    const offset = (8 + json.length + 3) & ~3;
    const expected = new Uint8Array(offset + 8);
    expected.set([0x50, 0x52, 0x57, 0x31]);
    new DataView(expected.buffer).setUint32(4, json.length, true);
    expected.set(new TextEncoder().encode(json), 8);
    new DataView(expected.buffer).setFloat32(offset, 1.5, true);
    new DataView(expected.buffer).setFloat32(offset + 4, -2, true);
    expect(Array.from(encodeWeights(header, Float32Array.of(1.5, -2)))).toEqual(Array.from(expected));
  });

  it("round-trips dense fp32 exactly, including a non-finite value left for the receiver to refuse", () => {
    const x = deltaValues(N, 0.01, 1);
    x[7] = Number.NaN;
    const { header, values } = decodeWeights(encodeWeights(delta("fp32"), x));
    expect(header).toEqual(delta("fp32"));
    expect(Object.is(values[7], Number.NaN)).toBe(true);
    values[7] = x[7] = 0;
    expect(Array.from(values)).toEqual(Array.from(x));
  });
});

describe("weights format: fp16 and int8", () => {
  it("round-trips fp16 within a relative error of 2^-11 for normal values and 2^-25 below them", () => {
    const x = deltaValues(N, 0.01, 2);
    const bytes = encodeWeights(delta("fp16"), x);
    const { header, values } = decodeWeights(bytes);
    expect(header.codec).toBe("fp16");
    let worstRelative = 0;
    let worstSubnormal = 0;
    let subnormals = 0;
    for (let i = 0; i < N; i++) {
      const error = Math.abs(values[i] - x[i]);
      if (Math.abs(x[i]) >= 2 ** -14) {
        worstRelative = Math.max(worstRelative, error / Math.abs(x[i]));
      } else {
        subnormals++;
        worstSubnormal = Math.max(worstSubnormal, error);
      }
    }
    expect(worstRelative).toBeLessThanOrEqual(2 ** -11);
    expect(worstSubnormal).toBeLessThanOrEqual(2 ** -25);
    expect(subnormals).toBeLessThan(N / 100);
  });

  it("round-trips int8 within half a step of each tensor's scale max|x|/127", () => {
    const x = deltaValues(N, 0.01, 3);
    for (let i = 3000; i < N; i++) x[i] *= 100; // the bias is far larger than the kernel
    const { values } = decodeWeights(encodeWeights(delta("int8"), x));
    let start = 0;
    for (const end of ends) {
      let max = 0;
      let worst = 0;
      for (let i = start; i < end; i++) max = Math.max(max, Math.abs(x[i]));
      for (let i = start; i < end; i++) worst = Math.max(worst, Math.abs(values[i] - x[i]));
      const scale = max / 127;
      expect(worst).toBeLessThanOrEqual(scale * (0.5 + 127 * 2 ** -24) + scale * 2 ** -23);
      start = end;
    }
  });

  it("refuses to encode values fp16 or int8 cannot carry", () => {
    const x = deltaValues(N, 0.01, 4);
    x[10] = 70_000;
    expect(() => encodeWeights(delta("fp16"), x)).toThrow(refused("fp16"));
    x[10] = Infinity;
    expect(() => encodeWeights(delta("int8"), x)).toThrow(refused());
  });
});

describe("weights format: top-k", () => {
  for (const codec of ["fp32", "fp16", "int8"] as const) {
    it(`keeps exactly the k largest magnitudes with ${codec} values and decodes the rest to 0`, () => {
      const x = deltaValues(N, 0.01, 5);
      const k = 300;
      const { header, values } = decodeWeights(encodeWeights(delta(codec, { k }), x));
      expect(header.sparse).toEqual({ k });
      const kept = new Set(Array.from(x.keys()).sort((a, b) => Math.abs(x[b]) - Math.abs(x[a])).slice(0, k));
      const nonZero = Array.from(values.keys()).filter((i) => values[i] !== 0);
      expect(nonZero.length).toBe(k);
      expect(nonZero.every((i) => kept.has(i))).toBe(true);
      let start = 0;
      for (const end of ends) {
        let max = 0;
        for (let i = start; i < end; i++) if (kept.has(i)) max = Math.max(max, Math.abs(x[i]));
        for (let i = start; i < end; i++) {
          if (!kept.has(i)) continue;
          const error = Math.abs(values[i] - x[i]);
          if (codec === "fp32") expect(error).toBe(0);
          else if (codec === "fp16") expect(error / Math.abs(x[i])).toBeLessThanOrEqual(2 ** -11);
          // The scale covers only the kept entries of the tensor.
          else expect(error).toBeLessThanOrEqual((max / 127) * (0.5 + 2 ** -16));
        }
        start = end;
      }
    });
  }
});

describe("weights format: sizes", () => {
  // A 100,000-parameter delta with a device's usual metadata; the figures are in docs/wire-format.md.
  const big: TensorSpec[] = [
    { name: "dense/kernel", shape: [999, 100], dtype: "float32" },
    { name: "dense/bias", shape: [100], dtype: "float32" },
  ];
  const x = deltaValues(100_000, 0.01, 6);
  const size = (codec: WeightsHeader["codec"], sparse?: { k: number }) =>
    encodeWeights({ kind: "delta", codec, ...(sparse ? { sparse } : {}), tensors: big, meta }, x).length;

  it("sends a 100k-parameter int8 delta in at most 0.27x the bytes of fp32", () => {
    expect(size("int8") / size("fp32")).toBeLessThanOrEqual(0.27);
  });

  it("measures the byte counts documented for a 100k-parameter delta", () => {
    const k = 10_000;
    expect({
      fp32: size("fp32"), fp16: size("fp16"), int8: size("int8"),
      "fp32 top-10%": size("fp32", { k }), "fp16 top-10%": size("fp16", { k }), "int8 top-10%": size("int8", { k }),
    }).toEqual({
      fp32: 400_224, fp16: 200_224, int8: 100_232,
      "fp32 top-10%": 80_244, "fp16 top-10%": 60_244, "int8 top-10%": 50_252,
    });
  });
});

describe("weights format: refusals", () => {
  const x = deltaValues(N, 0.01, 7);
  const layouts: Array<[string, WeightsHeader]> = [
    ["fp32", delta("fp32")], ["fp16", delta("fp16")], ["int8", delta("int8")],
    ["fp32 top-k", delta("fp32", { k: 100 })], ["fp16 top-k", delta("fp16", { k: 100 })], ["int8 top-k", delta("int8", { k: 100 })],
  ];

  it("refuses a truncated message or one with extra bytes, for every codec", () => {
    for (const [name, header] of layouts) {
      const bytes = encodeWeights(header, x);
      for (const bad of [bytes.subarray(0, bytes.length - 1), bytes.subarray(0, bytes.length - 100), Uint8Array.from([...bytes, 0]), Uint8Array.from([...bytes, 0, 0, 0, 0])]) {
        expect(() => decodeWeights(bad), name).toThrow(refused(/weights data is \d+ bytes; the manifest needs \d+/));
      }
    }
  });

  it("refuses unsorted, duplicate or out-of-range top-k indices", () => {
    for (const [name, header] of layouts.filter(([, h]) => h.sparse)) {
      const indicesAt = header.codec === "int8" ? 4 * tensors.length : 0;
      const tamper = (edit: (view: DataView, at: number) => void) => {
        const bytes = encodeWeights(header, x);
        const { view, at } = payloadView(bytes);
        edit(view, at + indicesAt);
        return bytes;
      };
      const swap = tamper((view, at) => {
        const a = view.getUint32(at, true);
        view.setUint32(at, view.getUint32(at + 4, true), true);
        view.setUint32(at + 4, a, true);
      });
      const duplicate = tamper((view, at) => view.setUint32(at + 4, view.getUint32(at, true), true));
      const outOfRange = tamper((view, at) => view.setUint32(at + 99 * 4, N, true));
      expect(() => decodeWeights(swap), name).toThrow(refused("strictly ascending"));
      expect(() => decodeWeights(duplicate), name).toThrow(refused("strictly ascending"));
      expect(() => decodeWeights(outOfRange), name).toThrow(refused("out of range"));
    }
  });

  it("refuses a top-k count that is not an integer from 1 to the parameter count", () => {
    for (const k of [0, N + 1, 1.5, -1, "10", null]) {
      expect(() => decodeWeights(raw({ kind: "delta", codec: "fp32", sparse: { k }, tensors, meta }, [])), String(k)).toThrow(refused("sparse.k"));
    }
    expect(() => decodeWeights(raw({ kind: "delta", codec: "fp32", sparse: 5, tensors, meta }, []))).toThrow(refused("sparse.k"));
    expect(() => encodeWeights(delta("int8", { k: N + 1 }), x)).toThrow(refused("sparse.k"));
  });

  it("refuses an int8 delta whose scale is NaN, infinite or negative", () => {
    for (const [name, header] of layouts.filter(([, h]) => h.codec === "int8")) {
      for (const scale of [Number.NaN, Infinity, -0.5]) {
        const bytes = encodeWeights(header, x);
        const { view, at } = payloadView(bytes);
        view.setFloat32(at + 4, scale, true);
        expect(() => decodeWeights(bytes), `${name} ${scale}`).toThrow(refused("int8 scale of tensor 'dense/bias'"));
      }
    }
  });

  it("refuses an int8 value of -128", () => {
    const bytes = encodeWeights(delta("int8"), x);
    bytes[bytes.length - 1] = 0x80;
    expect(() => decodeWeights(bytes)).toThrow(refused("-128"));
  });

  it("refuses an fp16 delta holding Inf or NaN, dense or sparse", () => {
    for (const [name, header] of layouts.filter(([, h]) => h.codec === "fp16")) {
      for (const bits of [0x7c00, 0xfc00, 0x7e00]) {
        const bytes = encodeWeights(header, x);
        new DataView(bytes.buffer).setUint16(bytes.length - 2, bits, true);
        expect(() => decodeWeights(bytes), `${name} ${bits.toString(16)}`).toThrow(refused(/encodes (NaN|Infinity)/));
      }
    }
  });

  it("refuses a sparse fp32 value that is not finite", () => {
    const bytes = encodeWeights(delta("fp32", { k: 100 }), x);
    new DataView(bytes.buffer).setFloat32(bytes.length - 4, Number.NaN, true);
    expect(() => decodeWeights(bytes)).toThrow(refused("not finite"));
  });

  it("refuses an unknown codec", () => {
    for (const codec of ["bf16", "int4", "FP32", "", null, undefined]) {
      expect(() => decodeWeights(raw({ kind: "delta", codec, tensors, meta }, new Uint8Array(N * 4))), String(codec)).toThrow(refused("unsupported codec"));
    }
    expect(() => encodeWeights({ ...delta("fp32"), codec: "bf16" as "fp32" }, x)).toThrow(refused("unsupported codec"));
  });

  it("refuses a model that is not dense fp32", () => {
    expect(() => encodeWeights({ kind: "model", codec: "int8", tensors }, x)).toThrow(refused("dense fp32"));
    expect(() => encodeWeights({ kind: "model", codec: "fp32", sparse: { k: 10 }, tensors }, x)).toThrow(refused("dense fp32"));
    const int8Model = raw({ kind: "model", codec: "int8", tensors }, new Uint8Array(8 + N));
    expect(() => decodeWeights(int8Model)).toThrow(refused("dense fp32"));
  });

  it("leaves a running sum untouched when every tampered delta is refused before use", () => {
    const sum = new WeightedSum(N);
    sum.add(decodeWeights(encodeWeights(delta("int8"), x)).values, 2);
    const before = Float32Array.from(sum.sum);
    const tampered: Uint8Array[] = [];
    const nanScale = encodeWeights(delta("int8"), x);
    payloadView(nanScale).view.setFloat32(payloadView(nanScale).at, Number.NaN, true);
    tampered.push(nanScale);
    const infHalf = encodeWeights(delta("fp16", { k: 50 }), x);
    new DataView(infHalf.buffer).setUint16(infHalf.length - 2, 0x7c00, true);
    tampered.push(infHalf);
    tampered.push(encodeWeights(delta("fp16"), x).subarray(0, 1000));
    for (const bytes of tampered) {
      try {
        sum.add(decodeWeights(bytes).values, 1);
      } catch (error) {
        expect(error).toEqual(refused());
      }
    }
    expect(sum.count).toBe(1);
    expect(sum.weight).toBe(2);
    expect(Array.from(sum.sum)).toEqual(Array.from(before));
  });
});

describe("weights written and read in place", () => {
  const tensors = [{ name: "a", shape: [2, 3], dtype: "float32" as const }, { name: "b", shape: [5], dtype: "float32" as const }];
  const values = Float32Array.from({ length: 11 }, (_, i) => i / 3 - 1);

  it("writes a message in place that is byte for byte what encodeWeights writes", () => {
    const { bytes, values: view } = allocateWeights({ kind: "model", codec: "fp32", tensors });
    view.set(values);
    expect(bytes).toEqual(encodeWeights({ kind: "model", codec: "fp32", tensors }, values));
    expect(() => allocateWeights({ kind: "delta", codec: "int8", tensors })).toThrow(PropiusError);
  });

  it("reads dense fp32 values as a view of the message, and other codecs as decodeWeights does", () => {
    const bytes = encodeWeights({ kind: "delta", codec: "fp32", tensors, meta: { examples: 1 } }, values);
    const { values: view } = decodeWeightsView(bytes);
    expect(view).toEqual(values);
    expect(view.buffer).toBe(bytes.buffer);
    // Shifted by one byte the payload is no longer aligned: the values are copied.
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    const copied = decodeWeightsView(shifted.subarray(1)).values;
    expect(copied).toEqual(values);
    expect(copied.buffer).not.toBe(shifted.buffer);
    const int8 = encodeWeights({ kind: "delta", codec: "int8", tensors, meta: { examples: 1 } }, values);
    expect(decodeWeightsView(int8).values).toEqual(decodeWeights(int8).values);
    expect(() => decodeWeightsView(bytes.subarray(0, bytes.length - 4))).toThrow(/the manifest needs/);
  });
});
