import { z } from "zod";
import { strictObject } from "../strict-object.js";

/**
 * The configuration of an aggregation strategy, by name, with its hyperparameters. Every
 * hyperparameter has a default, so `{ strategy: "fedadam" }` is a complete configuration.
 *
 * Defaults and where they come from:
 * - `serverLearningRate` (eta): 1 for FedAvg, FedAvgM, FedProx and FedBuff, so that a round applies
 *   the mean delta as it is (Flower's FedAvgM default too); 0.1 for FedAdam and 0.01 for FedYogi,
 *   Flower's defaults for those.
 * - `momentum`: 0.9, the usual heavy-ball value and one of those Hsu et al. (2019) study. Flower's
 *   FedAvgM defaults to 0, which makes it FedAvg. With a learning rate of 1 the steady-state step on
 *   a consistent direction is eta / (1 - momentum) = 10 mean deltas; lower eta if that overshoots.
 * - `beta1` 0.9, `beta2` 0.99: Reddi et al. (2021) and Flower's FedAdam and FedYogi.
 * - `tau` 1e-3: the default of Flower's current strategies (`flwr.serverapp.strategy`) for FedAdam
 *   and FedYogi. Flower's older `flwr.server.strategy.FedAdam` defaulted to 1e-9, which divides by
 *   almost nothing where a coordinate's deltas are tiny and turns noise into full-size steps.
 * - `proximalMu` 0.01: in the middle of the grid {0.001, 0.01, 0.1, 1} of Li et al. (2020).
 * - `bufferSize` (K) 10 and `stalenessExponent` 0.5, i.e. weights 1 / sqrt(1 + staleness):
 *   FedBuff (Nguyen et al., 2022).
 *
 * The client learning rate (eta_l in Reddi et al.) is not a strategy setting here: it is the training
 * plan's `learningRate`.
 */

const serverLearningRate = (fallback: number) =>
  z
    .number({ error: "serverLearningRate must be a number" })
    .positive("serverLearningRate must be positive")
    .max(1000, "serverLearningRate must be at most 1000")
    .default(fallback);

const decay = (name: string, fallback: number) =>
  z
    .number({ error: `${name} must be a number` })
    .min(0, `${name} must be in [0, 1)`)
    .lt(1, `${name} must be in [0, 1)`)
    .default(fallback);

/**
 * How a round weighs its updates: by the examples each device trained on (`examples`, FedAvg as
 * McMahan et al. define it; the default) or each update alike (`uniform`).
 */
export const WEIGHTINGS = ["examples", "uniform"] as const;
export type Weighting = (typeof WEIGHTINGS)[number];
const weighting = z.enum(WEIGHTINGS, { error: `weighting must be one of ${WEIGHTINGS.join(", ")}` }).default("examples");

const tau = z
  .number({ error: "tau must be a number" })
  .positive("tau must be positive")
  .max(1, "tau must be at most 1")
  .default(1e-3);

export const fedAvgConfigSchema = strictObject({
  strategy: z.literal("fedavg"),
  weighting,
  serverLearningRate: serverLearningRate(1),
});

export const fedAvgMConfigSchema = strictObject({
  strategy: z.literal("fedavgm"),
  weighting,
  serverLearningRate: serverLearningRate(1),
  momentum: decay("momentum", 0.9),
});

export const fedAdamConfigSchema = strictObject({
  strategy: z.literal("fedadam"),
  weighting,
  serverLearningRate: serverLearningRate(0.1),
  beta1: decay("beta1", 0.9),
  beta2: decay("beta2", 0.99),
  tau,
});

export const fedYogiConfigSchema = strictObject({
  strategy: z.literal("fedyogi"),
  weighting,
  serverLearningRate: serverLearningRate(0.01),
  beta1: decay("beta1", 0.9),
  beta2: decay("beta2", 0.99),
  tau,
});

export const fedProxConfigSchema = strictObject({
  strategy: z.literal("fedprox"),
  weighting,
  serverLearningRate: serverLearningRate(1),
  proximalMu: z
    .number({ error: "proximalMu must be a number" })
    .min(0, "proximalMu must not be negative")
    .max(100, "proximalMu must be at most 100")
    .default(0.01),
});

export const fedBuffConfigSchema = strictObject({
  strategy: z.literal("fedbuff"),
  weighting,
  serverLearningRate: serverLearningRate(1),
  bufferSize: z
    .number({ error: "bufferSize must be a number" })
    .int("bufferSize must be a whole number")
    .min(1, "bufferSize must be at least 1")
    .max(100_000, "bufferSize must be at most 100000")
    .default(10),
  stalenessExponent: z
    .number({ error: "stalenessExponent must be a number" })
    .min(0, "stalenessExponent must not be negative")
    .max(4, "stalenessExponent must be at most 4")
    .default(0.5),
});

export const STRATEGY_NAMES = ["fedavg", "fedavgm", "fedadam", "fedyogi", "fedprox", "fedbuff"] as const;
export type StrategyName = (typeof STRATEGY_NAMES)[number];

export const strategyConfigSchema = z.discriminatedUnion(
  "strategy",
  [fedAvgConfigSchema, fedAvgMConfigSchema, fedAdamConfigSchema, fedYogiConfigSchema, fedProxConfigSchema, fedBuffConfigSchema],
  { error: (issue) => (issue.code === "invalid_union" ? unknownStrategyMessage(issue.input) : undefined) },
);

function unknownStrategyMessage(input: unknown): string {
  const name = typeof input === "object" && input !== null ? (input as { strategy?: unknown }).strategy : undefined;
  const expected = `expected one of ${STRATEGY_NAMES.join(", ")}`;
  return name === undefined ? `give a strategy: ${expected}` : `unknown strategy ${JSON.stringify(name)}: ${expected}`;
}

export type FedAvgConfig = z.output<typeof fedAvgConfigSchema>;
export type FedAvgMConfig = z.output<typeof fedAvgMConfigSchema>;
export type FedAdamConfig = z.output<typeof fedAdamConfigSchema>;
export type FedYogiConfig = z.output<typeof fedYogiConfigSchema>;
export type FedProxConfig = z.output<typeof fedProxConfigSchema>;
export type FedBuffConfig = z.output<typeof fedBuffConfigSchema>;
export type StrategyConfig = z.output<typeof strategyConfigSchema>;
export type StrategyConfigInput = z.input<typeof strategyConfigSchema>;
