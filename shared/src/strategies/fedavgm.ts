import type { z } from "zod";
import { fedAvgMConfigSchema, type FedAvgMConfig } from "./config.js";
import { checkSize, checkState, meanDelta, type RoundStrategy } from "./strategy.js";

/** FedAvgM's server state: the momentum buffer, one value per model value. */
export interface FedAvgMState {
  strategy: "fedavgm";
  steps: number;
  velocity: Float32Array;
}

export type FedAvgMStrategy = RoundStrategy<FedAvgMConfig, FedAvgMState>;

/**
 * FedAvgM (Hsu et al., 2019): server SGD with heavy-ball momentum on the round's mean delta,
 *
 *   velocity_t = momentum * velocity_{t-1} + meanDelta_t
 *   w_{t+1}    = w_t + serverLearningRate * velocity_t
 *
 * with velocity_0 = 0, so round 1 is FedAvg's step; this is Flower's FedAvgM (PyTorch's SGD
 * momentum convention, no dampening, no Nesterov).
 */
export function fedAvgM(options: Omit<z.input<typeof fedAvgMConfigSchema>, "strategy"> = {}): FedAvgMStrategy {
  const config = fedAvgMConfigSchema.parse({ ...options, strategy: "fedavgm" });
  const { momentum, serverLearningRate: eta } = config;
  return {
    name: "fedavgm",
    mode: "rounds",
    config,
    configureTrain: () => ({}),
    initialState: (size) => ({ strategy: "fedavgm", steps: 0, velocity: new Float32Array(size) }),
    aggregateTrain(global, aggregate, state) {
      checkState("fedavgm", state);
      checkSize("momentum state", state.velocity, global.length);
      const mean = meanDelta(aggregate, global.length);
      const velocity = new Float32Array(global.length);
      const next = new Float32Array(global.length);
      for (let i = 0; i < next.length; i++) {
        const u = momentum * state.velocity[i] + mean[i];
        velocity[i] = u;
        next[i] = global[i] + eta * u;
      }
      return { next, state: { strategy: "fedavgm", steps: state.steps + 1, velocity } };
    },
  };
}
