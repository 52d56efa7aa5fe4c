import { trainingPlanSchema, type StrategyConfigInput } from "@propius/shared";
import { demoPlan, simulateFedAvg } from "@propius/edge-runtime/demo";

/** One configuration of the demo job that was tried on the way to its defaults. */
export interface TriedConfig {
  label: string;
  rounds: number;
  localEpochs: number;
  learningRate: number;
  batchSize: number;
  /** Local optimizer (default sgd). */
  optimizer?: "sgd" | "adam";
  /** The split's primary share (default 0.8; 0.1 is close to IID), for reference runs. */
  primaryFraction?: number;
  aggregation: StrategyConfigInput;
}

export interface TriedRow extends Omit<TriedConfig, "aggregation"> {
  /** The strategy and any hyperparameter that differs from its default, e.g. "fedavgm m=0.5". */
  strategy: string;
  /** Test accuracy after the last round. */
  accuracy: number;
}

const fedavg: StrategyConfigInput = { strategy: "fedavg" };
const m5: StrategyConfigInput = { strategy: "fedavgm", momentum: 0.5 };
const base = { rounds: 10, localEpochs: 1, learningRate: 0.2, batchSize: 32, aggregation: fedavg };

/** What was tried, from the old defaults (all digits used) to the chosen ones, in order. */
export const TRIED: TriedConfig[] = [
  { label: "old defaults", ...base },
  { label: "2 local epochs", ...base, localEpochs: 2 },
  { label: "3 local epochs", ...base, localEpochs: 3 },
  { label: "20 rounds", ...base, rounds: 20 },
  { label: "2 local epochs, lr 0.1", ...base, localEpochs: 2, learningRate: 0.1 },
  { label: "client lr 0.05, server lr 4", ...base, localEpochs: 2, learningRate: 0.05, aggregation: { strategy: "fedavg", serverLearningRate: 4 } },
  { label: "server momentum 0.5", ...base, aggregation: m5 },
  { label: "2 local epochs, server momentum 0.5", ...base, localEpochs: 2, aggregation: m5 },
  { label: "2 local epochs, server momentum 0.9", ...base, localEpochs: 2, aggregation: { strategy: "fedavgm", momentum: 0.9, serverLearningRate: 0.5 } },
  { label: "2 local epochs, FedAdam", ...base, localEpochs: 2, aggregation: { strategy: "fedadam", serverLearningRate: 0.01 } },
  { label: "2 local epochs, local Adam", ...base, localEpochs: 2, learningRate: 0.001, optimizer: "adam" },
  { label: "batch 64, 4 local epochs, server momentum 0.5", ...base, localEpochs: 4, batchSize: 64, aggregation: m5 },
  { label: "IID reference (primary share 0.1), 2 local epochs", ...base, localEpochs: 2, primaryFraction: 0.1 },
  { label: "lr 0.3, 2 local epochs, server momentum 0.5", ...base, localEpochs: 2, learningRate: 0.3, aggregation: m5 },
  { label: "lr 0.3, 3 local epochs, server momentum 0.5", ...base, localEpochs: 3, learningRate: 0.3, aggregation: m5 },
  { label: "lr 0.4, 2 local epochs, server momentum 0.5", ...base, localEpochs: 2, learningRate: 0.4, aggregation: m5 },
  { label: "lr 0.4, 2 local epochs, server momentum 0.7", ...base, localEpochs: 2, learningRate: 0.4, aggregation: { strategy: "fedavgm", momentum: 0.7 } },
  { label: "lr 0.5, 2 local epochs, server momentum 0.5", ...base, localEpochs: 2, learningRate: 0.5, aggregation: m5 },
  { label: "lr 0.4, 3 local epochs, server momentum 0.5", ...base, localEpochs: 3, learningRate: 0.4, aggregation: m5 },
  { label: "lr 0.4, 2 local epochs, 15 rounds, server momentum 0.5", ...base, rounds: 15, localEpochs: 2, learningRate: 0.4, aggregation: m5 },
];

export const strategyLabel = (config: StrategyConfigInput): string =>
  [config.strategy, ...Object.entries(config).filter(([key]) => key !== "strategy").map(([key, value]) => `${key}=${String(value)}`)].join(" ");

/** Simulates every tried configuration in this process (8 clients, split `seed`), one after another. */
export async function simulateTried(seed: number, onRow?: (row: TriedRow) => void): Promise<TriedRow[]> {
  const rows: TriedRow[] = [];
  for (const { aggregation, primaryFraction, ...config } of TRIED) {
    const { localEpochs, learningRate, batchSize, optimizer = "sgd" } = config;
    const plan = trainingPlanSchema.parse({ ...demoPlan(), localEpochs, learningRate, batchSize, optimizer });
    const result = await simulateFedAvg({ seed, rounds: config.rounds, clients: 8, primaryFraction, plan, aggregation });
    const row = { ...config, strategy: strategyLabel(aggregation), accuracy: result.rounds.at(-1)!.accuracy };
    rows.push(row);
    onRow?.(row);
  }
  return rows;
}
