import { WeightedSum, applyFedAvg } from "../fedavg.js";
import { fedAvgConfigSchema, type FedAvgConfig } from "./config.js";
import { checkState, type RoundStrategy } from "./strategy.js";
import type { z } from "zod";

/** FedAvg keeps no server state beyond the count of steps taken. */
export interface FedAvgState {
  strategy: "fedavg";
  steps: number;
}

export type FedAvgStrategy = RoundStrategy<FedAvgConfig, FedAvgState>;

/**
 * FedAvg (McMahan et al., 2017): the next model is the current one plus `serverLearningRate` times
 * the round's mean delta, weighted by examples. With the default rate of 1 it is the model the
 * clients' weighted average would give, exactly as `applyFedAvg` computes it.
 */
export function fedAvg(options: Omit<z.input<typeof fedAvgConfigSchema>, "strategy"> = {}): FedAvgStrategy {
  const config = fedAvgConfigSchema.parse({ ...options, strategy: "fedavg" });
  return {
    name: "fedavg",
    mode: "rounds",
    config,
    configureTrain: () => ({}),
    initialState: () => ({ strategy: "fedavg", steps: 0 }),
    aggregateTrain(global, aggregate, state) {
      checkState("fedavg", state);
      const sum = new WeightedSum(global.length, aggregate.sum, aggregate.weight, aggregate.count);
      const next = applyFedAvg(global, sum, config.serverLearningRate);
      return { next, state: { strategy: "fedavg", steps: state.steps + 1 } };
    },
  };
}
