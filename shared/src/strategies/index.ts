import { strategyConfigSchema, type FedBuffConfig, type StrategyConfig, type StrategyConfigInput } from "./config.js";
import type { RoundStrategy } from "./strategy.js";
import { fedAdam, type FedAdamState } from "./fedadam.js";
import { fedAvg, type FedAvgState } from "./fedavg.js";
import { fedAvgM, type FedAvgMState } from "./fedavgm.js";
import { fedBuff, type FedBuffState, type FedBuffStrategy } from "./fedbuff.js";
import { fedProx, type FedProxState } from "./fedprox.js";
import { fedYogi, type FedYogiState } from "./fedyogi.js";

export * from "./config.js";
export * from "./strategy.js";
export { fedAvg, type FedAvgState, type FedAvgStrategy } from "./fedavg.js";
export { fedAvgM, type FedAvgMState, type FedAvgMStrategy } from "./fedavgm.js";
export { fedAdam, type FedAdamState, type FedAdamStrategy } from "./fedadam.js";
export { fedYogi, type FedYogiState, type FedYogiStrategy } from "./fedyogi.js";
export type { FedOptState } from "./fedopt.js";
export { fedProx, proximalGradient, addProximalGradient, proximalTerm, type FedProxState, type FedProxStrategy } from "./fedprox.js";
export { fedBuff, stalenessWeight, type FedBuffState, type FedBuffStrategy } from "./fedbuff.js";

/** Any strategy's server state; its `strategy` field names the strategy it belongs to. */
export type StrategyState = FedAvgState | FedAvgMState | FedAdamState | FedYogiState | FedProxState | FedBuffState;

/**
 * A strategy of synchronous rounds, whichever it is: it takes any round strategy's state, so state
 * loaded from storage can be passed back as it is; a state of another strategy is refused at run time.
 */
export type AnyRoundStrategy = RoundStrategy<Exclude<StrategyConfig, FedBuffConfig>, Exclude<StrategyState, FedBuffState>>;
/** Any strategy the registry makes; `mode` tells the two kinds apart. */
export type AnyStrategy = AnyRoundStrategy | FedBuffStrategy;

/**
 * The strategy a configuration names, its hyperparameters validated and defaulted; throws the
 * schema's ZodError (with a message naming the field) on an unknown name or a bad hyperparameter.
 */
export function createStrategy(input: StrategyConfigInput): AnyStrategy {
  const config = strategyConfigSchema.parse(input);
  switch (config.strategy) {
    case "fedavg":
      return fedAvg(config);
    case "fedavgm":
      return fedAvgM(config);
    case "fedadam":
      return fedAdam(config);
    case "fedyogi":
      return fedYogi(config);
    case "fedprox":
      return fedProx(config);
    case "fedbuff":
      return fedBuff(config);
  }
}
export { stepInSlices, STEP_SLICE, type BaseValues } from "./in-slices.js";
