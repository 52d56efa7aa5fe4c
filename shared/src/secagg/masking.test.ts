import { describe, expect, it } from "vitest";
import { dequantizeSum, quantizationStep, quantize, addInto, type FixedPoint } from "./fixed-point.js";
import { SecAggDevice, unmaskSum } from "./masking.js";
import { secAggRound } from "./test-round.js";
import { expandSeed } from "./prg.js";
import { agree, generateKeyPair, open, seal } from "./keys.js";

const CONTEXT = "job_secagg/3/0";
const FORMAT: FixedPoint = { range: 1, maxInputs: 64 };

/** A seeded generator (mulberry32), so a failure reproduces. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const round = (inputs: Float32Array[], threshold: number, dropped: number[] = []) => secAggRound({ inputs, threshold, dropped, format: FORMAT, context: CONTEXT });

function inputsOf(n: number, length: number, seed: number): Float32Array[] {
  const next = random(seed);
  return Array.from({ length: n }, () => Float32Array.from({ length }, () => (next() * 2 - 1) * 0.9));
}

/** Pearson's chi-square over 16 equal bins of the words' top four bits. */
function chiSquare(words: Uint32Array): number {
  const bins = new Array<number>(16).fill(0);
  for (const w of words) bins[w >>> 28] += 1;
  const expected = words.length / 16;
  return bins.reduce((s, b) => s + (b - expected) ** 2 / expected, 0);
}

describe("secure aggregation of a round", () => {
  it("gives the control plane exactly the sum of the devices' quantized inputs, and FedAvg's sum within the quantization error", async () => {
    const inputs = inputsOf(5, 300, 1);
    const { sum, plain } = await round(inputs, 3);
    const direct = new Uint32Array(300);
    for (const x of inputs) addInto(direct, quantize(x, FORMAT));
    expect(Array.from(plain)).toEqual(Array.from(direct));
    expect(Array.from(sum)).toEqual(Array.from(plain));
    const decoded = dequantizeSum(sum, 5, FORMAT);
    const bound = (5 * quantizationStep(FORMAT)) / 2 + 1e-6;
    for (let i = 0; i < 300; i++) expect(Math.abs(decoded[i] - inputs.reduce((s, x) => s + x[i], 0))).toBeLessThanOrEqual(bound);
  });

  it("survives devices that drop out after sharing their keys: the sum is of those that sent their input", async () => {
    const inputs = inputsOf(7, 120, 2);
    const { sum, plain, senders } = await round(inputs, 4, [3, 6]);
    expect(senders).toEqual([1, 2, 4, 5, 7]);
    const direct = new Uint32Array(120);
    for (const u of senders) addInto(direct, quantize(inputs[u - 1], FORMAT));
    expect(Array.from(sum)).toEqual(Array.from(direct));
    expect(Array.from(plain)).toEqual(Array.from(direct));
  });

  it("stores masked inputs that look uniform whatever the input, even with the device's self mask taken off", async () => {
    // Every input the same constant: unmasked, all its words would fall in one bin.
    const inputs = Array.from({ length: 4 }, () => new Float32Array(4096).fill(0.25));
    const { masked } = await round(inputs, 3);
    // 15 degrees of freedom: 57.3 is about the 1 - 1e-6 quantile; a constant input would give 61,440.
    for (const y of masked.values()) expect(chiSquare(y)).toBeLessThan(57.3);
    const quantized = quantize(inputs[0], FORMAT);
    for (const y of masked.values()) expect(y.filter((w, i) => w === quantized[i]).length).toBeLessThan(4);
  });

  it("has no device reveal both secrets of one device, and no unmasking with fewer shares than the threshold", async () => {
    const devices = await Promise.all([1, 2, 3].map((i) => SecAggDevice.create(i, CONTEXT)));
    const roster = devices.map((d) => d.advertise());
    const sealed = await devices[0].shareKeys(roster, 2);
    await expect(devices[1].unmask(new Map([[1, sealed.get(2)!]]), [1, 2], [1])).rejects.toThrow(/both/);
    await expect(unmaskSum({ context: CONTEXT, roster, senders: [1], maskedSum: new Uint32Array(2), dropped: [], revealed: [{ seedShares: new Map(), maskKeyShares: new Map() }], threshold: 2 })).rejects.toThrow(/needs 2/);
  });
});

describe("the pieces of secure aggregation", () => {
  it("expands a seed with AES-256-CTR: the known answer for the zero key, the same stream for the same seed", async () => {
    const stream = await expandSeed(new Uint8Array(32), 8);
    const hex = Array.from(new Uint8Array(stream.buffer, 0, 16), (b) => b.toString(16).padStart(2, "0")).join("");
    expect(hex).toBe("dc95c078a2408989ad48a21492842087");
    const seed = crypto.getRandomValues(new Uint8Array(32));
    expect(Array.from(await expandSeed(seed, 64))).toEqual(Array.from(await expandSeed(seed, 64)));
    expect(Array.from(await expandSeed(seed, 64))).not.toEqual(Array.from(await expandSeed(new Uint8Array(32), 64)));
  });

  it("agrees on one key from either side, and seals shares that only the right key and context open", async () => {
    const [a, b, c] = [await generateKeyPair(), await generateKeyPair(), await generateKeyPair()];
    const ab = await agree(a.privateKey, b.publicKey, "share x");
    expect(Array.from(await agree(b.privateKey, a.publicKey, "share x"))).toEqual(Array.from(ab));
    expect(Array.from(await agree(a.privateKey, b.publicKey, "mask x"))).not.toEqual(Array.from(ab));
    const sealed = await seal(ab, Uint8Array.from([1, 2, 3]), "1->2");
    expect(Array.from(await open(ab, sealed, "1->2"))).toEqual([1, 2, 3]);
    await expect(open(await agree(c.privateKey, b.publicKey, "share x"), sealed, "1->2")).rejects.toThrow();
    await expect(open(ab, sealed, "2->1")).rejects.toThrow();
  });

  it("quantizes within half a step, clipping to the range, and leaves room for maxInputs to sum without wrapping", () => {
    const values = Float32Array.from([-3, -1, -0.5, 0, 0.123456, 1, 7]);
    const q = quantize(values, FORMAT);
    const back = dequantizeSum(q, 1, FORMAT);
    const clipped = values.map((v) => Math.min(1, Math.max(-1, v)));
    back.forEach((v, i) => expect(Math.abs(v - clipped[i])).toBeLessThanOrEqual(quantizationStep(FORMAT) / 2 + 1e-7));
    const top = quantize(new Float32Array([1]), FORMAT)[0];
    expect(top * FORMAT.maxInputs).toBeLessThan(2 ** 32);
  });
});
