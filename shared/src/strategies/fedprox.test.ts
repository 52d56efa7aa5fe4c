import { describe, expect, it } from "vitest";
import { WeightedSum } from "../fedavg.js";
import { fedAvg } from "./fedavg.js";
import { addProximalGradient, fedProx, proximalGradient, proximalTerm } from "./fedprox.js";

const close = (values: number[]) => values.map((v) => expect.closeTo(v, 8));

// w = [1, 2, -1], w_global = [0.5, 2, 1], so w - w_global = [0.5, 0, -2]
const local = Float32Array.of(1, 2, -1);
const global = Float32Array.of(0.5, 2, 1);

describe("FedProx", () => {
  it("sends clients the proximal coefficient mu", () => {
    expect(fedProx().configureTrain(1)).toEqual({ proximalMu: 0.01 });
    expect(fedProx({ proximalMu: 0.1 }).configureTrain(7)).toEqual({ proximalMu: 0.1 });
  });

  it("gives the proximal term's gradient mu * (w - w_global) (golden)", () => {
    // 0.01 * [0.5, 0, -2] = [0.005, 0, -0.02]
    expect(Array.from(proximalGradient(local, global, 0.01))).toEqual(close([0.005, 0, -0.02]));
  });

  it("adds the proximal gradient to a step's gradient in place (golden)", () => {
    // [0.1, 0.1, 0.1] + [0.005, 0, -0.02] = [0.105, 0.1, 0.08]
    const gradient = Float32Array.of(0.1, 0.1, 0.1);
    addProximalGradient(gradient, local, global, 0.01);
    expect(Array.from(gradient)).toEqual(close([0.105, 0.1, 0.08]));
  });

  it("gives the proximal term (mu / 2) * ||w - w_global||^2 (golden)", () => {
    // 0.01 / 2 * (0.25 + 0 + 4) = 0.005 * 4.25 = 0.02125
    expect(proximalTerm(local, global, 0.01)).toBeCloseTo(0.02125, 10);
  });

  it("has no pull with mu = 0 and refuses a negative mu or weights of another size", () => {
    expect(Array.from(proximalGradient(local, global, 0))).toEqual(close([0, 0, 0]));
    expect(() => proximalGradient(local, global, -0.1)).toThrow(/mu/);
    expect(() => proximalGradient(Float32Array.of(1), global, 0.01)).toThrow(/local weights has 1 values, expected 3/);
  });

  it("aggregates as FedAvg does", () => {
    const sum = new WeightedSum(3);
    sum.add(Float32Array.of(0.2, 0.4, -0.6), 10);
    sum.add(Float32Array.of(0.8, -0.2, 0), 30);
    const prox = fedProx();
    const avg = fedAvg();
    const { next, state } = prox.aggregateTrain(global, sum, prox.initialState(3));
    expect(next).toEqual(avg.aggregateTrain(global, sum, avg.initialState(3)).next);
    expect(state).toEqual({ strategy: "fedprox", steps: 1 });
  });
});
