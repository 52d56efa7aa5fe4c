import { describe, expect, it } from "vitest";
import { WeightedSum } from "../fedavg.js";
import { fedAvg } from "./fedavg.js";
import { fedAvgM } from "./fedavgm.js";

const close = (values: number[]) => values.map((v) => expect.closeTo(v, 6));

function aggregate(...updates: Array<[number[], number]>): WeightedSum {
  const sum = new WeightedSum(updates[0][0].length);
  for (const [delta, examples] of updates) sum.add(Float32Array.from(delta), examples);
  return sum;
}

describe("FedAvgM", () => {
  it("carries momentum from one round to the next (golden, two rounds)", () => {
    const strategy = fedAvgM({ serverLearningRate: 0.5, momentum: 0.9 });
    // Round 1: one client, d1 = [0.1, -0.2]
    //   velocity1 = 0.9 * [0, 0] + d1 = [0.1, -0.2]
    //   w1 = [1, 2] + 0.5 * velocity1 = [1.05, 1.9]
    const r1 = strategy.aggregateTrain(Float32Array.of(1, 2), aggregate([[0.1, -0.2], 5]), strategy.initialState(2));
    expect(Array.from(r1.state.velocity)).toEqual(close([0.1, -0.2]));
    expect(Array.from(r1.next)).toEqual(close([1.05, 1.9]));
    // Round 2: [0.2, 0.4] with 1 example and [0.35, 0.1] with 2
    //   d2 = ([0.2, 0.4] + [0.7, 0.2]) / 3 = [0.3, 0.2]
    //   velocity2 = 0.9 * [0.1, -0.2] + [0.3, 0.2] = [0.09 + 0.3, -0.18 + 0.2] = [0.39, 0.02]
    //   w2 = [1.05, 1.9] + 0.5 * [0.39, 0.02] = [1.245, 1.91]
    const r2 = strategy.aggregateTrain(r1.next, aggregate([[0.2, 0.4], 1], [[0.35, 0.1], 2]), r1.state);
    expect(Array.from(r2.state.velocity)).toEqual(close([0.39, 0.02]));
    expect(Array.from(r2.next)).toEqual(close([1.245, 1.91]));
    expect(r2.state.steps).toBe(2);
  });

  it("takes FedAvg's step in its first round", () => {
    const global = Float32Array.of(1, 2);
    const round = aggregate([[0.1, -0.2], 3], [[0.5, 0.5], 1]);
    const m = fedAvgM();
    const a = fedAvg();
    expect(m.aggregateTrain(global, round, m.initialState(2)).next).toEqual(a.aggregateTrain(global, round, a.initialState(2)).next);
  });

  it("moves further than FedAvg on a consistent direction", () => {
    const m = fedAvgM();
    const a = fedAvg();
    let wm: Float32Array = new Float32Array(1);
    let wa: Float32Array = new Float32Array(1);
    let sm = m.initialState(1);
    let sa = a.initialState(1);
    for (let round = 0; round < 5; round++) {
      const d = aggregate([[0.01], 1]);
      ({ next: wm, state: sm } = m.aggregateTrain(wm, d, sm));
      ({ next: wa, state: sa } = a.aggregateTrain(wa, d, sa));
    }
    expect(wa[0]).toBeCloseTo(0.05, 6);
    expect(wm[0]).toBeGreaterThan(2 * wa[0]);
  });

  it("leaves the model and the state it was given as they were", () => {
    const strategy = fedAvgM();
    const global = Float32Array.of(1, 2);
    const state = { strategy: "fedavgm" as const, steps: 3, velocity: Float32Array.of(0.5, 0.5) };
    strategy.aggregateTrain(global, aggregate([[1, 1], 1]), state);
    expect(Array.from(global)).toEqual([1, 2]);
    expect(Array.from(state.velocity)).toEqual([0.5, 0.5]);
  });

  it("refuses a momentum buffer of another size", () => {
    const strategy = fedAvgM();
    expect(() => strategy.aggregateTrain(Float32Array.of(1, 2), aggregate([[1, 1], 1]), strategy.initialState(3))).toThrow(/momentum state has 3 values, expected 2/);
  });
});
