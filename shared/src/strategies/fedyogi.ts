import type { z } from "zod";
import { fedYogiConfigSchema, type FedYogiConfig } from "./config.js";
import { fedOptStep, initialFedOptState, type FedOptState } from "./fedopt.js";
import { checkState, type RoundStrategy } from "./strategy.js";

export type FedYogiState = FedOptState<"fedyogi">;
export type FedYogiStrategy = RoundStrategy<FedYogiConfig, FedYogiState>;

/**
 * FedYogi (Reddi et al., 2021): as FedAdam, but the second moment moves towards the squared delta
 * by (1 - beta2) * d^2, up or down, instead of decaying geometrically: when deltas shrink, v falls
 * more slowly than Adam's, so the effective learning rate grows more gently (see `fedOptStep`).
 */
export function fedYogi(options: Omit<z.input<typeof fedYogiConfigSchema>, "strategy"> = {}): FedYogiStrategy {
  const config = fedYogiConfigSchema.parse({ ...options, strategy: "fedyogi" });
  return {
    name: "fedyogi",
    mode: "rounds",
    config,
    configureTrain: () => ({}),
    initialState: (size) => initialFedOptState("fedyogi", size),
    aggregateTrain(global, aggregate, state) {
      checkState("fedyogi", state);
      return fedOptStep("fedyogi", config, global, aggregate, state);
    },
  };
}
