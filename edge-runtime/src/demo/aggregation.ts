import type { StrategyConfigInput } from "@propius/shared";

/**
 * How the demo job aggregates: FedAvgM with server momentum 0.5 (Hsu et al., 2019), so that a
 * direction the rounds agree on builds up to twice the mean delta. With ten rounds the demo's
 * progress is bounded by steps, not by data (docs/demo-benchmark.md); momentum 0.9, the
 * strategy's default, builds up to ten times and overshoots here.
 */
export function demoAggregation(): StrategyConfigInput {
  return { strategy: "fedavgm", momentum: 0.5 };
}
