import { describe, expect, it } from "vitest";
import { strategyConfigSchema } from "./config.js";

function message(input: unknown): string {
  const result = strategyConfigSchema.safeParse(input);
  expect(result.success, JSON.stringify(input)).toBe(false);
  return result.error!.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ");
}

describe("strategy config schema", () => {
  it("fills in every hyperparameter's default", () => {
    expect(strategyConfigSchema.parse({ strategy: "fedavg" })).toEqual({ strategy: "fedavg", weighting: "examples", serverLearningRate: 1 });
    expect(strategyConfigSchema.parse({ strategy: "fedavgm" })).toEqual({ strategy: "fedavgm", weighting: "examples", serverLearningRate: 1, momentum: 0.9 });
    expect(strategyConfigSchema.parse({ strategy: "fedadam" })).toEqual({ strategy: "fedadam", weighting: "examples", serverLearningRate: 0.1, beta1: 0.9, beta2: 0.99, tau: 1e-3 });
    expect(strategyConfigSchema.parse({ strategy: "fedyogi" })).toEqual({ strategy: "fedyogi", weighting: "examples", serverLearningRate: 0.01, beta1: 0.9, beta2: 0.99, tau: 1e-3 });
    expect(strategyConfigSchema.parse({ strategy: "fedprox" })).toEqual({ strategy: "fedprox", weighting: "examples", serverLearningRate: 1, proximalMu: 0.01 });
    expect(strategyConfigSchema.parse({ strategy: "fedbuff" })).toEqual({ strategy: "fedbuff", weighting: "examples", serverLearningRate: 1, bufferSize: 10, stalenessExponent: 0.5 });
  });

  it("keeps the hyperparameters it is given", () => {
    expect(strategyConfigSchema.parse({ strategy: "fedadam", serverLearningRate: 0.03, beta2: 0.999, tau: 1e-6 })).toEqual({
      strategy: "fedadam",
      weighting: "examples",
      serverLearningRate: 0.03,
      beta1: 0.9,
      beta2: 0.999,
      tau: 1e-6,
    });
  });

  it("refuses an unknown or missing strategy name, listing the known ones", () => {
    expect(message({ strategy: "fedsgd" })).toBe('strategy: unknown strategy "fedsgd": expected one of fedavg, fedavgm, fedadam, fedyogi, fedprox, fedbuff');
    expect(message({})).toBe("strategy: give a strategy: expected one of fedavg, fedavgm, fedadam, fedyogi, fedprox, fedbuff");
    expect(message(null)).toMatch(/expected object/);
  });

  it("refuses a bad hyperparameter, naming it", () => {
    expect(message({ strategy: "fedadam", beta1: 1 })).toBe("beta1: beta1 must be in [0, 1)");
    expect(message({ strategy: "fedyogi", beta2: -0.1 })).toBe("beta2: beta2 must be in [0, 1)");
    expect(message({ strategy: "fedadam", tau: 0 })).toBe("tau: tau must be positive");
    expect(message({ strategy: "fedavgm", momentum: 1.5 })).toBe("momentum: momentum must be in [0, 1)");
    expect(message({ strategy: "fedavg", serverLearningRate: 0 })).toBe("serverLearningRate: serverLearningRate must be positive");
    expect(message({ strategy: "fedavg", serverLearningRate: "1" })).toBe("serverLearningRate: serverLearningRate must be a number");
    expect(message({ strategy: "fedprox", proximalMu: -1 })).toBe("proximalMu: proximalMu must not be negative");
    expect(message({ strategy: "fedbuff", bufferSize: 0 })).toBe("bufferSize: bufferSize must be at least 1");
    expect(message({ strategy: "fedbuff", bufferSize: 2.5 })).toBe("bufferSize: bufferSize must be a whole number");
    expect(message({ strategy: "fedavg", serverLearningRate: Number.NaN })).toBe("serverLearningRate: serverLearningRate must be a number");
  });

  it("refuses a hyperparameter that belongs to another strategy", () => {
    expect(message({ strategy: "fedavg", momentum: 0.9 })).toBe(": momentum is not a field (fields: strategy, weighting, serverLearningRate)");
    expect(message({ strategy: "fedadam", beta_1: 0.9 })).toBe(": beta_1 is not a field; did you mean beta1?");
  });

  it("weighs updates by examples unless told to weigh them alike", () => {
    expect(strategyConfigSchema.parse({ strategy: "fedavg", weighting: "uniform" }).weighting).toBe("uniform");
    expect(message({ strategy: "fedavg", weighting: "equal" })).toBe("weighting: weighting must be one of examples, uniform");
  });
});
