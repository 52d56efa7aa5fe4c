import { describe, expect, it } from "vitest";
import { ZodError } from "zod";
import { WeightedSum } from "../fedavg.js";
import { createStrategy, STRATEGY_NAMES, type AnyStrategy } from "./index.js";

function aggregate(delta: number[], examples: number): WeightedSum {
  const sum = new WeightedSum(delta.length);
  sum.add(Float32Array.from(delta), examples);
  return sum;
}

/** Two server steps on a three-value model, optionally passing the state through structured clone between them. */
function twoSteps(strategy: AnyStrategy, clone: boolean): Float32Array {
  const roundTrip = <S>(state: S): S => (clone ? structuredClone(state) : state);
  let model: Float32Array = Float32Array.of(0.5, -0.5, 1);
  const deltas = [
    [0.1, -0.3, 0.2],
    [0.2, 0.1, -0.4],
  ];
  if (strategy.mode === "buffered") {
    let state = roundTrip(strategy.initialState(3));
    for (const delta of deltas) {
      for (let i = 0; i < strategy.config.bufferSize; i++) {
        state = roundTrip(strategy.add(state, { delta: Float32Array.from(delta), examples: 1 + i, staleness: i % 3 }));
      }
      ({ next: model, state } = strategy.apply(model, state));
      state = roundTrip(state);
    }
    return model;
  }
  let state = roundTrip(strategy.initialState(3));
  for (const delta of deltas) {
    ({ next: model, state } = strategy.aggregateTrain(model, aggregate(delta, 4), state));
    state = roundTrip(state);
  }
  return model;
}

describe("strategy registry", () => {
  it("makes every named strategy, with its defaults", () => {
    for (const name of STRATEGY_NAMES) {
      const strategy = createStrategy({ strategy: name });
      expect(strategy.name).toBe(name);
      expect(strategy.config.strategy).toBe(name);
      expect(strategy.mode).toBe(name === "fedbuff" ? "buffered" : "rounds");
    }
    expect(createStrategy({ strategy: "fedadam", beta1: 0.5 }).config).toMatchObject({ beta1: 0.5, beta2: 0.99 });
  });

  it("refuses an unknown strategy name", () => {
    expect(() => createStrategy({ strategy: "fedsgd" } as never)).toThrow(ZodError);
    try {
      createStrategy({ strategy: "fedsgd" } as never);
    } catch (error) {
      expect((error as ZodError).issues[0].message).toMatch(/^unknown strategy "fedsgd": expected one of fedavg/);
    }
  });

  it("keeps server state that survives structured clone: the steps after a round trip are the same", () => {
    for (const name of STRATEGY_NAMES) {
      const strategy = createStrategy({ strategy: name, ...(name === "fedbuff" ? { bufferSize: 3 } : {}) });
      const direct = twoSteps(strategy, false);
      expect(twoSteps(strategy, true), name).toEqual(direct);
      expect(Array.from(direct).some((v, i) => v !== [0.5, -0.5, 1][i]), name).toBe(true);
    }
  });

  it("keeps Float32Arrays as Float32Arrays through structured clone", () => {
    const adam = createStrategy({ strategy: "fedadam" });
    if (adam.mode !== "rounds") throw new Error("fedadam aggregates rounds");
    const { state } = adam.aggregateTrain(Float32Array.of(0, 0), aggregate([1, 2], 1), adam.initialState(2));
    if (state.strategy !== "fedadam") throw new Error("fedadam keeps its own state");
    const copy = structuredClone(state);
    expect(copy.m).toBeInstanceOf(Float32Array);
    expect(copy.v).toBeInstanceOf(Float32Array);
    expect(copy).toEqual(state);
  });
});
