import { describe, expect, it } from "vitest";
import { WeightedSum, applyFedAvg } from "../fedavg.js";
import { fedAvg } from "./fedavg.js";

const close = (values: number[]) => values.map((v) => expect.closeTo(v, 6));

/** Two clients: a = [0.2, 0.4, -0.6] with 10 examples, b = [0.8, -0.2, 0] with 30. */
function round(): WeightedSum {
  const sum = new WeightedSum(3);
  sum.add(Float32Array.of(0.2, 0.4, -0.6), 10);
  sum.add(Float32Array.of(0.8, -0.2, 0), 30);
  return sum;
}

describe("FedAvg", () => {
  it("adds the example-weighted mean delta to the model (golden)", () => {
    // sum = 10a + 30b = [2 + 24, 4 - 6, -6 + 0] = [26, -2, -6]; weight 40
    // mean = [0.65, -0.05, -0.15]
    // next = [1, -1, 0.5] + mean = [1.65, -1.05, 0.35]
    const strategy = fedAvg();
    const { next, state } = strategy.aggregateTrain(Float32Array.of(1, -1, 0.5), round(), strategy.initialState(3));
    expect(Array.from(next)).toEqual(close([1.65, -1.05, 0.35]));
    expect(state).toEqual({ strategy: "fedavg", steps: 1 });
  });

  it("scales the mean delta by the server learning rate (golden)", () => {
    // next = [1, -1, 0.5] + 0.5 * [0.65, -0.05, -0.15] = [1.325, -1.025, 0.425]
    const strategy = fedAvg({ serverLearningRate: 0.5 });
    const { next } = strategy.aggregateTrain(Float32Array.of(1, -1, 0.5), round(), strategy.initialState(3));
    expect(Array.from(next)).toEqual(close([1.325, -1.025, 0.425]));
  });

  it("gives exactly the model the job's applyFedAvg gives", () => {
    const global = Float32Array.of(1, -1, 0.5);
    const strategy = fedAvg();
    expect(strategy.aggregateTrain(global, round(), strategy.initialState(3)).next).toEqual(applyFedAvg(global, round()));
  });

  it("sends clients nothing extra", () => {
    expect(fedAvg().configureTrain(1)).toEqual({});
  });

  it("refuses a round without updates and a sum of another size", () => {
    const strategy = fedAvg();
    expect(() => strategy.aggregateTrain(new Float32Array(3), new WeightedSum(3), strategy.initialState(3))).toThrow(/no updates/);
    expect(() => strategy.aggregateTrain(new Float32Array(4), round(), strategy.initialState(4))).toThrow(RangeError);
  });
});
