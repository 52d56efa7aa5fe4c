import { trainingPlanSchema } from "@propius/shared";
import { evaluate } from "../training/evaluate.js";
import { trainLocal, type LocalTrainingPlan } from "../training/train.js";
import { demoTestSet, demoTrainingSet } from "./demo-data.js";
import { demoModel, demoPlan } from "./model.js";
import { mulberry32 } from "./random.js";

export interface CentralizedOptions {
  /** Passes over the training digits. */
  epochs: number;
  /** Seeds the shuffling of every pass (default 1). */
  seed?: number;
  /** Local optimizer, learning rate and batch size (default: the demo plan's). */
  plan?: Omit<LocalTrainingPlan, "localEpochs" | "localSteps">;
  /** Called after each epoch with the test figures of the model so far. */
  onEpoch?: (report: EpochReport) => void;
}

export interface EpochReport {
  epoch: number;
  /** Test accuracy and loss on the demo test set. */
  accuracy: number;
  loss: number;
  /** Mean training loss of the epoch's mini-batches. */
  trainLoss: number;
  /** Wall time of the epoch's training. */
  millis: number;
}

/**
 * The baseline a federated run is measured against: the demo model trained in one place on every
 * training digit (all shards together), with the same optimizer, learning rate and batch size as
 * the devices use, from the same initial weights; evaluated on the demo test set after each epoch.
 */
export async function trainCentralized(options: CentralizedOptions): Promise<{ epochs: EpochReport[]; weights: Float32Array }> {
  const plan = { ...(options.plan ?? trainingPlanSchema.parse(demoPlan())), localEpochs: 1, localSteps: undefined };
  const model = demoModel();
  const [train, test] = await Promise.all([demoTrainingSet(), demoTestSet()]);
  const random = mulberry32(options.seed ?? 1);
  let weights = model.initialWeights;
  const epochs: EpochReport[] = [];
  for (let epoch = 1; epoch <= options.epochs; epoch++) {
    // One pass per call, with one generator across passes: the same as one call of several epochs,
    // except that the optimizer's state restarts (plain SGD has none).
    const result = await trainLocal({ model, weights, data: train, plan, random });
    weights = weights.map((w, i) => w + result.delta[i]);
    const figures = await evaluate({ model, weights, data: test });
    const report = { epoch, accuracy: figures.accuracy, loss: figures.loss, trainLoss: result.trainLoss, millis: result.millis };
    epochs.push(report);
    options.onEpoch?.(report);
  }
  return { epochs, weights };
}
