import * as tf from "./tf.js";
import type { OptimizerInput, TrainingPlan } from "@propius/shared";
import { modelExampleShape } from "./example-shape.js";
import { checkLocalData, gatherRows, type LocalData } from "./local-data.js";
import { buildModel, getFlatWeights, type ModelSource } from "./model.js";
import { makeOptimizer } from "./optimizer.js";

/** The parts of a job's training plan that local training uses (the optimizer by name or in full; shuffling by default). */
export type LocalTrainingPlan = Pick<TrainingPlan, "localEpochs" | "localSteps" | "batchSize" | "learningRate" | "loss"> & {
  optimizer: OptimizerInput | TrainingPlan["optimizer"];
  shuffle?: boolean;
};

/** Reported after every training step. */
export interface TrainProgress {
  /** The pass over the local data this step belonged to, from 1. */
  epoch: number;
  /** Steps done so far, from 1. */
  step: number;
  /** This step's mini-batch loss. */
  loss: number;
}

export interface TrainLocalOptions {
  model: ModelSource;
  /** The weights to start from, laid out as `model.weightSpecs`. */
  weights: Float32Array;
  data: LocalData;
  plan: LocalTrainingPlan;
  onProgress?: (progress: TrainProgress) => void;
  /** Aborting stops training between steps; the promise then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Source of randomness for shuffling (default Math.random); pass a seeded one for reproducible runs. */
  random?: () => number;
  /**
   * FedProx's proximal coefficient mu (default 0: none). After each optimizer step the weights
   * move back towards the starting ones by learningRate x mu x (w - w_start): the gradient of
   * (mu / 2) ||w - w_start||^2, applied as a decoupled step (as weight decay often is).
   */
  proximalMu?: number;
}

export interface TrainResult {
  /** Trained weights minus starting weights, laid out as `model.weightSpecs`. */
  delta: Float32Array;
  /** Number of local examples (the FedAvg weight of this update). */
  examples: number;
  /** Mean mini-batch loss over all steps, weighted by batch size. */
  trainLoss: number;
  /** Examples processed per second while training (repeats over epochs included). */
  samplesPerSecond: number;
  /** Wall time of the whole call, model building included. */
  millis: number;
}

/** Yield to the event loop this often, so that aborts, messages and timers get through. */
const YIELD_EVERY_MS = 50;

/** Number of steps the plan asks for: `localSteps`, `localEpochs` passes, or whichever ends first if both are set. */
export function plannedSteps(plan: LocalTrainingPlan, count: number): number {
  const stepsPerEpoch = Math.ceil(count / plan.batchSize);
  const byEpochs = plan.localEpochs === undefined ? Infinity : plan.localEpochs * stepsPerEpoch;
  const steps = Math.min(plan.localSteps ?? Infinity, byEpochs);
  if (!Number.isFinite(steps)) throw new RangeError("the plan needs localEpochs or localSteps");
  return steps;
}

/** The order of one pass over the examples: shuffled afresh for every pass, or as stored. */
function passOrder(count: number, random: () => number, shuffle: boolean): Uint32Array {
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  if (!shuffle) return order;
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/**
 * Trains the model on local data from the given weights and returns the weight delta. Batches
 * cycle over passes of the data (shuffled afresh for each unless the plan says not to) until the
 * plan's steps are done (the last batch of a pass may be smaller). Each batch takes the shape of
 * the model's input layer (see `modelExampleShape`). Every tensor it creates is disposed, also on
 * error or abort.
 */
export async function trainLocal(options: TrainLocalOptions): Promise<TrainResult> {
  const started = performance.now();
  const { data, plan, signal } = options;
  const random = options.random ?? Math.random;
  checkLocalData(data);
  signal?.throwIfAborted();
  const totalSteps = plannedSteps(plan, data.count);
  const sparse = plan.loss === "sparseCategoricalCrossentropy";

  const model = await buildModel(options.model, options.weights);
  let exampleShape: number[];
  try {
    exampleShape = modelExampleShape(model, data);
  } catch (error) {
    model.dispose();
    throw error;
  }
  const optimizer = makeOptimizer(plan.optimizer, plan.learningRate);
  const proximal = proximalStep(model, plan.learningRate * (options.proximalMu ?? 0));
  try {
    model.compile({ optimizer, loss: plan.loss });
    const trainStarted = performance.now();
    let lastYield = trainStarted;
    let samples = 0;
    let lossSum = 0;
    let step = 0;
    for (let epoch = 1; step < totalSteps; epoch++) {
      const order = passOrder(data.count, random, plan.shuffle ?? true);
      for (let start = 0; start < data.count && step < totalSteps; start += plan.batchSize) {
        signal?.throwIfAborted();
        const rows = order.subarray(start, Math.min(start + plan.batchSize, data.count));
        const batch = gatherRows(data, rows);
        const [xs, ys] = tf.tidy(() => {
          const x = tf.tensor(batch.x, [rows.length, ...exampleShape]);
          const y = tf.tensor2d(batch.y, [rows.length, data.numClasses]);
          return [x, sparse ? tf.cast(tf.expandDims(tf.argMax(y, -1), 1), "float32") : y];
        });
        let loss: number;
        try {
          loss = (await model.trainOnBatch(xs, ys)) as number;
        } finally {
          tf.dispose([xs, ys]);
        }
        proximal?.step();
        step += 1;
        samples += rows.length;
        lossSum += loss * rows.length;
        options.onProgress?.({ epoch, step, loss });
        if (performance.now() - lastYield > YIELD_EVERY_MS) {
          await new Promise((resolve) => setTimeout(resolve, 0));
          lastYield = performance.now();
        }
      }
    }
    const trainMillis = performance.now() - trainStarted;
    const trained = await getFlatWeights(model, options.model.weightSpecs);
    const delta = new Float32Array(trained.length);
    for (let i = 0; i < delta.length; i++) delta[i] = trained[i] - options.weights[i];
    return {
      delta,
      examples: data.count,
      trainLoss: lossSum / samples,
      samplesPerSecond: samples / Math.max(trainMillis / 1000, 1e-9),
      millis: performance.now() - started,
    };
  } finally {
    proximal?.dispose();
    model.dispose();
    optimizer.dispose();
  }
}

/** The decoupled proximal step of FedProx over the model's trainable weights, or null when `rate` is 0. */
function proximalStep(model: tf.LayersModel, rate: number): { step(): void; dispose(): void } | null {
  if (!(rate > 0)) return null;
  const weights = model.trainableWeights;
  const start = weights.map((w) => w.read().clone());
  return {
    step: () =>
      tf.tidy(() => {
        weights.forEach((w, i) => {
          const value = w.read();
          w.write(tf.sub(value, tf.mul(tf.sub(value, start[i]), rate)));
        });
      }),
    dispose: () => tf.dispose(start),
  };
}
