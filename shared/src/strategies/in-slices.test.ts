import { describe, expect, it } from "vitest";
import { WeightedSum } from "../fedavg.js";
import { createStrategy, type AnyRoundStrategy, type FedBuffStrategy } from "./index.js";
import { stepInSlices } from "./in-slices.js";

/** A deterministic pseudo-random vector. */
function vector(seed: number, size: number): Float32Array {
  let x = seed;
  return Float32Array.from({ length: size }, () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1);
}

/** `values` cut into slices of uneven lengths, as a stream would deliver them. */
function* uneven(values: Float32Array): Iterable<Float32Array> {
  for (let from = 0, n = 1; from < values.length; from += n, n = (n * 7) % 97 + 1) yield values.subarray(from, from + n);
}

describe("stepInSlices", () => {
  const size = 1_003;
  for (const config of [{ strategy: "fedavg" }, { strategy: "fedavgm", momentum: 0.9 }, { strategy: "fedadam", serverLearningRate: 0.1 }, { strategy: "fedyogi", serverLearningRate: 0.1 }, { strategy: "fedprox" }] as const) {
    it(`gives exactly the whole step's model and state for ${config.strategy}, over three rounds`, async () => {
      const strategy = createStrategy(config) as AnyRoundStrategy;
      let whole = { model: vector(1, size), state: strategy.initialState(size) };
      let sliced = { model: vector(1, size), state: strategy.initialState(size) };
      for (let round = 0; round < 3; round++) {
        const sum = new WeightedSum(size, vector(round + 2, size), 3.5, 2);
        const step = strategy.aggregateTrain(whole.model, sum, whole.state);
        whole = { model: step.next, state: step.state };
        const target = sum.sum.slice();
        const state = await stepInSlices(target, sliced.state, uneven(sliced.model), (base, from, slice) =>
          strategy.aggregateTrain(base, { sum: target.subarray(from, from + base.length), weight: 3.5, count: 2 }, slice));
        sliced = { model: target, state };
        expect(sliced.model).toEqual(whole.model);
        expect(sliced.state).toEqual(whole.state);
      }
    });
  }

  it("gives FedBuff's step exactly, from a model in memory", async () => {
    const strategy = createStrategy({ strategy: "fedbuff", bufferSize: 2 }) as FedBuffStrategy;
    const base = vector(9, size);
    const buffer = { strategy: "fedbuff" as const, steps: 4, sum: vector(10, size), examples: 7, count: 2 };
    const { next } = strategy.apply(base, buffer);
    const target = buffer.sum.slice();
    await stepInSlices(target, {}, base, (slice, from) => ({ next: strategy.apply(slice, { ...buffer, sum: target.subarray(from, from + slice.length) }).next, state: {} }));
    expect(target).toEqual(next);
  });

  it("refuses a base model of the wrong length", async () => {
    const identity = (slice: Float32Array) => ({ next: slice, state: {} });
    await expect(stepInSlices(new Float32Array(4), {}, new Float32Array(3), identity)).rejects.toThrow(/has 3 values, expected 4/);
    await expect(stepInSlices(new Float32Array(4), {}, [new Float32Array(3), new Float32Array(2)], identity)).rejects.toThrow(/more than 4/);
  });
});
