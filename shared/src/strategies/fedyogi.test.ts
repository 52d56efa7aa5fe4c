import { describe, expect, it } from "vitest";
import { WeightedSum } from "../fedavg.js";
import { fedAdam } from "./fedadam.js";
import { fedYogi } from "./fedyogi.js";

const close = (values: number[]) => values.map((v) => expect.closeTo(v, 6));

function aggregate(delta: number[], examples: number): WeightedSum {
  const sum = new WeightedSum(delta.length);
  sum.add(Float32Array.from(delta), examples);
  return sum;
}

describe("FedYogi", () => {
  it("moves v additively towards d^2 and steps by eta * m / (sqrt(v) + tau) (golden, two rounds)", () => {
    // Defaults: eta = 0.01, beta1 = 0.9, beta2 = 0.99, tau = 0.001
    const strategy = fedYogi();
    // Round 1: d1 = [0.5, -1], d1^2 = [0.25, 1]
    //   m1 = 0.1 * d1 = [0.05, -0.1]
    //   v1 = 0 - 0.01 * d1^2 * sign(0 - d1^2) = 0.01 * d1^2 = [0.0025, 0.01]; sqrt(v1) = [0.05, 0.1]
    //   w1 = [0, 1] + [0.01 * 0.05 / 0.051, 0.01 * -0.1 / 0.101]
    //      = [0.0098039216, 1 - 0.0099009901] = [0.0098039216, 0.9900990099]
    const r1 = strategy.aggregateTrain(Float32Array.of(0, 1), aggregate([0.5, -1], 4), strategy.initialState(2));
    expect(Array.from(r1.state.m)).toEqual(close([0.05, -0.1]));
    expect(Array.from(r1.state.v)).toEqual(close([0.0025, 0.01]));
    expect(Array.from(r1.next)).toEqual(close([0.0098039216, 0.9900990099]));
    // Round 2: d2 = [0.5, 0.05], d2^2 = [0.25, 0.0025]
    //   m2 = 0.9 * [0.05, -0.1] + 0.1 * [0.5, 0.05] = [0.095, -0.085]
    //   sign(v1 - d2^2) = [sign(0.0025 - 0.25), sign(0.01 - 0.0025)] = [-1, +1]
    //   v2 = v1 - 0.01 * d2^2 * sign = [0.0025 + 0.0025, 0.01 - 0.000025] = [0.005, 0.009975]
    //   sqrt(v2) = [0.0707106781, 0.0998749218]
    //   w2 = w1 + [0.01 * 0.095 / 0.0717106781, 0.01 * -0.085 / 0.1008749218]
    //      = [0.0098039216 + 0.0132476784, 0.9900990099 - 0.0084262767] = [0.0230515999, 0.9816727332]
    const r2 = strategy.aggregateTrain(r1.next, aggregate([0.5, 0.05], 2), r1.state);
    expect(Array.from(r2.state.m)).toEqual(close([0.095, -0.085]));
    expect(Array.from(r2.state.v)).toEqual(close([0.005, 0.009975]));
    expect(Array.from(r2.next)).toEqual(close([0.0230515999, 0.9816727332]));
  });

  it("forgets a burst of large deltas more slowly than FedAdam", () => {
    const yogi = fedYogi();
    const adam = fedAdam();
    let sYogi = yogi.initialState(1);
    let sAdam = adam.initialState(1);
    const w = new Float32Array(1);
    for (const d of [1, 1, 0.01, 0.01, 0.01]) {
      sYogi = yogi.aggregateTrain(w, aggregate([d], 1), sYogi).state;
      sAdam = adam.aggregateTrain(w, aggregate([d], 1), sAdam).state;
    }
    // After the burst Adam keeps 0.99 of v a round; Yogi takes off only 0.01 * d^2 = 0.000001.
    expect(sYogi.v[0]).toBeGreaterThan(sAdam.v[0]);
  });
});
