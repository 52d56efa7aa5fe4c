import { describe, expect, it } from "vitest";
import { WeightedSum } from "../fedavg.js";
import { fedAdam } from "./fedadam.js";
import { fedAvg } from "./fedavg.js";

const close = (values: number[]) => values.map((v) => expect.closeTo(v, 6));

function aggregate(delta: number[], examples: number): WeightedSum {
  const sum = new WeightedSum(delta.length);
  sum.add(Float32Array.from(delta), examples);
  return sum;
}

describe("FedAdam", () => {
  it("keeps Adam's moments over rounds and steps by eta * m / (sqrt(v) + tau) (golden, two rounds)", () => {
    // Defaults: eta = 0.1, beta1 = 0.9, beta2 = 0.99, tau = 0.001
    const strategy = fedAdam();
    // Round 1: d1 = [0.5, -1]
    //   m1 = 0.1 * d1 = [0.05, -0.1]
    //   v1 = 0.01 * d1^2 = [0.0025, 0.01]; sqrt(v1) = [0.05, 0.1]
    //   w1 = [0, 1] + [0.1 * 0.05 / 0.051, 0.1 * -0.1 / 0.101]
    //      = [0 + 0.0980392157, 1 - 0.0990099010] = [0.0980392157, 0.9009900990]
    const r1 = strategy.aggregateTrain(Float32Array.of(0, 1), aggregate([0.5, -1], 4), strategy.initialState(2));
    expect(Array.from(r1.state.m)).toEqual(close([0.05, -0.1]));
    expect(Array.from(r1.state.v)).toEqual(close([0.0025, 0.01]));
    expect(Array.from(r1.next)).toEqual(close([0.0980392157, 0.900990099]));
    // Round 2: d2 = [0.5, 0.05]
    //   m2 = 0.9 * [0.05, -0.1] + 0.1 * [0.5, 0.05] = [0.045 + 0.05, -0.09 + 0.005] = [0.095, -0.085]
    //   v2 = 0.99 * [0.0025, 0.01] + 0.01 * [0.25, 0.0025] = [0.002475 + 0.0025, 0.0099 + 0.000025]
    //      = [0.004975, 0.009925]; sqrt(v2) = [0.0705336799, 0.0996242942]
    //   w2 = w1 + [0.1 * 0.095 / 0.0715336799, 0.1 * -0.085 / 0.1006242942]
    //      = [0.0980392157 + 0.1328045756, 0.9009900990 - 0.0844726422] = [0.2308437913, 0.8165174568]
    const r2 = strategy.aggregateTrain(r1.next, aggregate([0.5, 0.05], 2), r1.state);
    expect(Array.from(r2.state.m)).toEqual(close([0.095, -0.085]));
    expect(Array.from(r2.state.v)).toEqual(close([0.004975, 0.009925]));
    expect(Array.from(r2.next)).toEqual(close([0.2308437913, 0.8165174568]));
    expect(r2.state.steps).toBe(2);
  });

  it("moves further on a consistent gradient than FedAvg", () => {
    const adam = fedAdam();
    const avg = fedAvg();
    let wAdam: Float32Array = new Float32Array(1);
    let wAvg: Float32Array = new Float32Array(1);
    let sAdam = adam.initialState(1);
    let sAvg = avg.initialState(1);
    for (let round = 0; round < 5; round++) {
      const d = aggregate([0.001], 10);
      ({ next: wAdam, state: sAdam } = adam.aggregateTrain(wAdam, d, sAdam));
      ({ next: wAvg, state: sAvg } = avg.aggregateTrain(wAvg, d, sAvg));
    }
    expect(wAvg[0]).toBeCloseTo(0.005, 6);
    expect(wAdam[0]).toBeGreaterThan(10 * wAvg[0]);
  });

  it("refuses the state of another strategy", () => {
    const strategy = fedAdam();
    const yogiState = { strategy: "fedyogi", steps: 0, m: new Float32Array(2), v: new Float32Array(2) };
    expect(() => strategy.aggregateTrain(new Float32Array(2), aggregate([1, 1], 1), yogiState as never)).toThrow(/state of strategy 'fedyogi' given to fedadam/);
  });
});
