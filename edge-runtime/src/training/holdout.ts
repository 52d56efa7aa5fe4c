import type { EvaluationReport } from "@propius/shared";
import { TaskFailureError } from "../task-failure.js";
import { evaluate } from "./evaluate.js";
import { gatherRows, type LocalData } from "./local-data.js";
import type { ModelSource } from "./model.js";

/** A device's examples split into those it trains on and those it holds out for evaluation. */
export interface HoldoutSplit {
  train: LocalData;
  heldOut: LocalData | null;
}

/**
 * Holds out `fraction` of the examples (a job's `plan.validationSplit`), the same ones every round:
 * every example at which the running count `floor((i + 1) x fraction)` steps up, so the held-out
 * ones are spread evenly through the device's order (and, for data stored in a shuffled order,
 * over its classes). At least one example is held out, and at least one kept, when the fraction
 * is above 0 and the device has two or more; a fraction of 0 holds out nothing.
 */
export function splitHoldout(data: LocalData, fraction: number): HoldoutSplit {
  if (!(fraction > 0) || data.count < 2) return { train: data, heldOut: null };
  const held: number[] = [];
  const kept: number[] = [];
  for (let i = 0; i < data.count; i++) (Math.floor((i + 1) * fraction) > Math.floor(i * fraction) ? held : kept).push(i);
  if (held.length === 0) held.push(kept.pop()!);
  if (kept.length === 0) kept.push(held.pop()!);
  return { train: subset(data, kept), heldOut: subset(data, held) };
}

function subset(data: LocalData, rows: number[]): LocalData {
  const { x, y } = gatherRows(data, rows);
  return { x, y, count: rows.length, featureShape: data.featureShape, numClasses: data.numClasses };
}

/**
 * A device's evaluation of an evaluation task's model on its held-out examples, as the job takes
 * it; a `data_mismatch` failure when it holds none out (too few examples, or a split of 0).
 */
export async function evaluateHeldOut(task: { model: ModelSource }, weights: Float32Array, heldOut: LocalData | null): Promise<EvaluationReport> {
  if (!heldOut) throw new TaskFailureError("data_mismatch", "too few examples to hold any out for evaluation");
  const result = await evaluate({ model: task.model, weights, data: heldOut });
  return { examples: result.examples, loss: result.loss, accuracy: result.accuracy };
}
