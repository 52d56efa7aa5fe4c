import type { z } from "zod";
import { fedAdamConfigSchema, type FedAdamConfig } from "./config.js";
import { fedOptStep, initialFedOptState, type FedOptState } from "./fedopt.js";
import { checkState, type RoundStrategy } from "./strategy.js";

export type FedAdamState = FedOptState<"fedadam">;
export type FedAdamStrategy = RoundStrategy<FedAdamConfig, FedAdamState>;

/**
 * FedAdam (Reddi et al., 2021): Adam on the server over rounds, the round's mean delta in the place
 * of the gradient (see `fedOptStep`). While a coordinate's deltas keep their sign and are large
 * against tau, it moves by about `serverLearningRate` a round whatever their size, so a consistent
 * direction is followed further than FedAvg follows it.
 */
export function fedAdam(options: Omit<z.input<typeof fedAdamConfigSchema>, "strategy"> = {}): FedAdamStrategy {
  const config = fedAdamConfigSchema.parse({ ...options, strategy: "fedadam" });
  return {
    name: "fedadam",
    mode: "rounds",
    config,
    configureTrain: () => ({}),
    initialState: (size) => initialFedOptState("fedadam", size),
    aggregateTrain(global, aggregate, state) {
      checkState("fedadam", state);
      return fedOptStep("fedadam", config, global, aggregate, state);
    },
  };
}
