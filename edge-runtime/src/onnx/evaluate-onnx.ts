import * as ort from "onnxruntime-web/wasm";
import type { OnnxSession } from "./onnx-session.js";

/**
 * Runs the model on `input`: whole samples laid out as the model's input (row-major, the batch
 * first), as many as fit. Returns the outputs of all samples, flat, in the same order.
 */
export async function predictOnnx(model: OnnxSession, input: Float32Array): Promise<Float32Array> {
  const sampleSize = model.sampleShape.reduce((n, d) => n * d, 1);
  const count = input.length / sampleSize;
  if (!Number.isInteger(count)) throw new RangeError(`the input holds ${input.length} values, not a whole number of samples of ${sampleSize}`);
  const tensor = new ort.Tensor("float32", input, [count, ...model.sampleShape]);
  const results = await model.session.run({ [model.inputName]: tensor });
  const output = results[model.outputName];
  try {
    if (output.type !== "float32") throw new TypeError(`the model's output is ${output.type}, not float32`);
    return output.data as Float32Array;
  } finally {
    output.dispose();
  }
}

export interface OnnxEvaluateOptions {
  /** Samples per run of the model (default 500). */
  batchSize?: number;
}

export interface OnnxEvaluation {
  /** Fraction of samples whose largest output (the first, on ties) is at the label. */
  accuracy: number;
  /** Mean categorical cross-entropy of the outputs (probabilities) against the labels. */
  loss: number;
  examples: number;
}

/** Keras' epsilon: probabilities are clipped to [EPSILON, 1 - EPSILON] before the log, as `evaluate` does. */
const EPSILON = 1e-7;

/**
 * Evaluates a classifier whose outputs are class probabilities on `count` labelled samples:
 * `inputs` holds the samples as {@link predictOnnx} takes them, `labels` the class of each.
 * Gives the same figures as the tfjs `evaluate` of `./training` for the same model and weights.
 */
export async function evaluateOnnx(
  model: OnnxSession,
  inputs: Float32Array,
  labels: ArrayLike<number>,
  count: number,
  options: OnnxEvaluateOptions = {},
): Promise<OnnxEvaluation> {
  const batchSize = options.batchSize ?? 500;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError("batchSize must be a positive integer");
  const sampleSize = model.sampleShape.reduce((n, d) => n * d, 1);
  if (!Number.isInteger(count) || count < 1 || inputs.length < count * sampleSize || labels.length < count) {
    throw new RangeError(`count must be a positive integer with ${sampleSize} input values and a label per sample`);
  }
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < count; start += batchSize) {
    const end = Math.min(start + batchSize, count);
    const outputs = await predictOnnx(model, inputs.subarray(start * sampleSize, end * sampleSize));
    const classes = outputs.length / (end - start);
    for (let i = 0; i < end - start; i++) {
      const label = labels[start + i];
      if (!Number.isInteger(label) || label < 0 || label >= classes) throw new RangeError(`label ${label} of sample ${start + i} is not a class of 0..${classes - 1}`);
      const row = outputs.subarray(i * classes, (i + 1) * classes);
      let best = 0;
      for (let c = 1; c < classes; c++) if (row[c] > row[best]) best = c;
      if (best === label) correct++;
      lossSum -= Math.log(Math.min(Math.max(row[label], EPSILON), 1 - EPSILON));
    }
  }
  return { accuracy: correct / count, loss: lossSum / count, examples: count };
}
