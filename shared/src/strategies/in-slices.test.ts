import { describe, expect, it } from "vitest";
import { WeightedSum } from "../fedavg.js";
import { createStrategy, type AnyRoundStrategy, type FedBuffStrategy } from "./index.js";
import { stepInSlices } from "./in-slices.js";

/** A deterministic pseudo-random vector. */
function vector(seed: number, size: number): Float32Array {
  let x = seed;
  return Float32Array.from({ length: size }, () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1);
}

describe("stepInSlices", () => {
  const size = 1_003; // not a multiple of the slice length
  for (const config of [{ strategy: "fedavg" }, { strategy: "fedavgm", momentum: 0.9 }, { strategy: "fedadam", serverLearningRate: 0.1 }, { strategy: "fedyogi", serverLearningRate: 0.1 }, { strategy: "fedprox" }] as const) {
    it(`gives exactly the whole step's model and state for ${config.strategy}, over three rounds`, () => {
      const strategy = createStrategy(config) as AnyRoundStrategy;
      let whole = { model: vector(1, size), state: strategy.initialState(size) };
      let sliced = { model: vector(1, size), state: strategy.initialState(size) };
      for (let round = 0; round < 3; round++) {
        const sum = new WeightedSum(size, vector(round + 2, size), 3.5, 2);
        const step = strategy.aggregateTrain(whole.model, sum, whole.state);
        whole = { model: step.next, state: step.state };
        const target = sum.sum.slice();
        const state = stepInSlices(size, target, sliced.state, (from, to, slice) =>
          strategy.aggregateTrain(sliced.model.subarray(from, to), { sum: target.subarray(from, to), weight: 3.5, count: 2 }, slice), 100);
        sliced = { model: target, state };
        expect(sliced.model).toEqual(whole.model);
        expect(sliced.state).toEqual(whole.state);
      }
    });
  }

  it("gives FedBuff's step exactly, slice by slice", () => {
    const strategy = createStrategy({ strategy: "fedbuff", bufferSize: 2 }) as FedBuffStrategy;
    const base = vector(9, size);
    const buffer = { strategy: "fedbuff" as const, steps: 4, sum: vector(10, size), examples: 7, count: 2 };
    const { next } = strategy.apply(base, buffer);
    const target = buffer.sum.slice();
    stepInSlices(size, target, {}, (from, to) => ({ next: strategy.apply(base.subarray(from, to), { ...buffer, sum: target.subarray(from, to) }).next, state: {} }), 64);
    expect(target).toEqual(next);
  });
});
