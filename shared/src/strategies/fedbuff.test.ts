import { describe, expect, it } from "vitest";
import { fedBuff, stalenessWeight } from "./fedbuff.js";

const close = (values: number[]) => values.map((v) => expect.closeTo(v, 6));

describe("FedBuff", () => {
  it("weights updates by examples and 1 / sqrt(1 + staleness) and applies every K (golden, K = 3)", () => {
    const strategy = fedBuff({ bufferSize: 3 });
    let state = strategy.initialState(2);
    // s(0) = 1, s(1) = 1 / sqrt(2) = 0.7071067812, s(3) = 1 / sqrt(4) = 0.5
    // a: delta [1, 0], 2 examples, staleness 0 -> weight 2 * 1 = 2
    // b: delta [2, -2], 1 example, staleness 1 -> weight 1 * 0.7071067812
    // c: delta [4, 4], 1 example, staleness 3 -> weight 1 * 0.5
    state = strategy.add(state, { delta: Float32Array.of(1, 0), examples: 2, staleness: 0 });
    state = strategy.add(state, { delta: Float32Array.of(2, -2), examples: 1, staleness: 1 });
    expect(strategy.isReady(state)).toBe(false);
    state = strategy.add(state, { delta: Float32Array.of(4, 4), examples: 1, staleness: 3 });
    expect(strategy.isReady(state)).toBe(true);
    // sum = 2 * [1, 0] + 0.7071067812 * [2, -2] + 0.5 * [4, 4]
    //     = [2 + 1.4142135624 + 2, 0 - 1.4142135624 + 2] = [5.4142135624, 0.5857864376]
    // examples = 2 + 1 + 1 = 4; update = sum / 4 = [1.3535533906, 0.1464466094]
    // next = [0, 1] + 1 * update = [1.3535533906, 1.1464466094]
    expect(Array.from(state.sum)).toEqual(close([5.4142135624, 0.5857864376]));
    expect(state.examples).toBe(4);
    const { next, state: after } = strategy.apply(Float32Array.of(0, 1), state);
    expect(Array.from(next)).toEqual(close([1.3535533906, 1.1464466094]));
    expect(after).toEqual({ strategy: "fedbuff", steps: 1, sum: new Float32Array(2), examples: 0, count: 0 });
  });

  it("with every update fresh takes FedAvg's step over the buffer, scaled by the server learning rate", () => {
    // mean = (1 * [1, 2] + 3 * [3, 2]) / 4 = [2.5, 2]; next = [1, 1] + 0.5 * mean = [2.25, 2]
    const strategy = fedBuff({ bufferSize: 2, serverLearningRate: 0.5 });
    let state = strategy.initialState(2);
    state = strategy.add(state, { delta: Float32Array.of(1, 2), examples: 1, staleness: 0 });
    state = strategy.add(state, { delta: Float32Array.of(3, 2), examples: 3, staleness: 0 });
    expect(Array.from(strategy.apply(Float32Array.of(1, 1), state).next)).toEqual(close([2.25, 2]));
  });

  it("discounts staleness by (1 + staleness)^-exponent", () => {
    expect(stalenessWeight(0, 0.5)).toBe(1);
    expect(stalenessWeight(3, 0.5)).toBe(0.5);
    expect(stalenessWeight(3, 1)).toBe(0.25);
    expect(stalenessWeight(7, 0)).toBe(1);
  });

  it("counts its steps, so that staleness is the steps taken since a client's model", () => {
    const strategy = fedBuff({ bufferSize: 1 });
    let state = strategy.initialState(1);
    let model: Float32Array = Float32Array.of(0);
    for (let i = 0; i < 3; i++) {
      state = strategy.add(state, { delta: Float32Array.of(1), examples: 1, staleness: 0 });
      ({ next: model, state } = strategy.apply(model, state));
    }
    expect(state.steps).toBe(3);
    expect(model[0]).toBeCloseTo(3, 6);
  });

  it("refuses negative or fractional staleness, non-positive examples, a delta of another size and an empty buffer", () => {
    const strategy = fedBuff();
    const state = strategy.initialState(2);
    const delta = Float32Array.of(1, 1);
    expect(() => strategy.add(state, { delta, examples: 1, staleness: -1 })).toThrow(/staleness/);
    expect(() => strategy.add(state, { delta, examples: 1, staleness: 0.5 })).toThrow(/staleness/);
    expect(() => strategy.add(state, { delta, examples: 0, staleness: 0 })).toThrow(/examples/);
    expect(() => strategy.add(state, { delta: Float32Array.of(1), examples: 1, staleness: 0 })).toThrow(/delta has 1 values, expected 2/);
    expect(() => strategy.apply(Float32Array.of(0, 0), state)).toThrow(/no updates/);
    expect(state.count).toBe(0);
  });
});
