import { createStrategy, trainingPlanSchema, WeightedSum, type StrategyConfigInput } from "@propius/shared";
import { evaluate } from "../training/evaluate.js";
import type { LocalTrainingPlan } from "../training/train.js";
import { trainLocal } from "../training/train.js";
import { demoShard, demoTestSet } from "./demo-data.js";
import { demoAggregation } from "./aggregation.js";
import { demoModel, demoPlan } from "./model.js";
import { mulberry32 } from "./random.js";

/** Options of {@link simulateFedAvg}; every field has the demo job's default. */
export interface SimulationOptions {
  /** Partition seed (also seeds the clients' shuffling). */
  seed?: number;
  rounds?: number;
  /** Clients per round: shards 0..clients-1 train in every round. */
  clients?: number;
  /** Number of shards the training digits are split into (default: `clients`). */
  shards?: number;
  /** Share of each shard from its two primary classes (default: the demo split's 0.8; 0.1 is IID). */
  primaryFraction?: number;
  /** Local training plan (default: the demo plan). */
  plan?: LocalTrainingPlan;
  /** How the server turns a round's updates into the next model (default: the demo job's). */
  aggregation?: StrategyConfigInput;
  /** Called after each round. */
  onRound?: (report: RoundReport) => void;
}

/** The outcome of one simulated round. */
export interface RoundReport {
  round: number;
  /** Test accuracy and loss of the new global model on the demo test set. */
  accuracy: number;
  loss: number;
  /** Mean local training loss, weighted by examples. */
  trainLoss: number;
  /** Sum of the clients' training times (CPU time of one core, as they ran one after another). */
  trainMillis: number;
  /** Wall time of the round, evaluation included. */
  millis: number;
}

export interface SimulationResult {
  rounds: RoundReport[];
  weights: Float32Array;
}

/**
 * Runs the demo job's federated training in this process: each round, every client trains from
 * the global weights on its shard, and the job's strategy (the demo's by default: FedAvgM on the
 * example-weighted mean delta) makes the next global model. Deterministic for a given seed and backend.
 */
export async function simulateFedAvg(options: SimulationOptions = {}): Promise<SimulationResult> {
  const defaults = trainingPlanSchema.parse(demoPlan());
  const seed = options.seed ?? 1;
  const rounds = options.rounds ?? defaults.rounds;
  const clients = options.clients ?? defaults.clientsPerRound;
  const shards = options.shards ?? clients;
  const plan = options.plan ?? defaults;
  const strategy = createStrategy(options.aggregation ?? demoAggregation());
  if (strategy.mode !== "rounds") throw new RangeError(`the simulation runs synchronous rounds; ${strategy.name} has none`);
  const model = demoModel();
  const testSet = await demoTestSet();
  const data = await Promise.all(Array.from({ length: clients }, (_, index) => demoShard({ index, shards, seed, primaryFraction: options.primaryFraction })));

  let weights = model.initialWeights;
  let state = strategy.initialState(weights.length);
  const reports: RoundReport[] = [];
  for (let round = 1; round <= rounds; round++) {
    const started = performance.now();
    const sum = new WeightedSum(weights.length);
    const { proximalMu } = strategy.configureTrain(round);
    let trainMillis = 0;
    let lossSum = 0;
    for (let client = 0; client < clients; client++) {
      const random = mulberry32(seed * 1_000_003 + round * 1_009 + client);
      const result = await trainLocal({ model, weights, data: data[client], plan, random, proximalMu });
      sum.add(result.delta, result.examples);
      trainMillis += result.millis;
      lossSum += result.trainLoss * result.examples;
    }
    ({ next: weights, state } = strategy.aggregateTrain(weights, sum, state));
    const test = await evaluate({ model, weights, data: testSet });
    const report = {
      round,
      accuracy: test.accuracy,
      loss: test.loss,
      trainLoss: lossSum / sum.weight,
      trainMillis,
      millis: performance.now() - started,
    };
    reports.push(report);
    options.onRound?.(report);
  }
  return { rounds: reports, weights };
}
