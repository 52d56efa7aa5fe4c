import * as tf from "./tf.js";
import { modelExampleShape } from "./example-shape.js";
import { checkLocalData, featureSize, type LocalData } from "./local-data.js";
import { buildModel, type ModelSource } from "./model.js";

export interface EvaluateOptions {
  model: ModelSource;
  /** The weights to evaluate, laid out as `model.weightSpecs`. */
  weights: Float32Array;
  data: LocalData;
  /** Examples per forward pass (default 500). */
  batchSize?: number;
}

export interface Evaluation {
  /** Fraction of examples whose largest output is at the one-hot label. */
  accuracy: number;
  /** Mean categorical cross-entropy of the model's outputs (probabilities) against the labels. */
  loss: number;
  examples: number;
}

/** Keras' epsilon: outputs are clipped to [EPSILON, 1 - EPSILON] before the log. */
const EPSILON = 1e-7;

/**
 * Evaluates a classifier whose outputs are class probabilities (softmax) on labelled data,
 * in batches shaped as the model's input layer takes them. Every tensor it creates is disposed.
 */
export async function evaluate(options: EvaluateOptions): Promise<Evaluation> {
  const { data } = options;
  const batchSize = options.batchSize ?? 500;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError("batchSize must be a positive integer");
  checkLocalData(data);
  const size = featureSize(data);
  const classes = data.numClasses;

  const model = await buildModel(options.model, options.weights);
  try {
    const exampleShape = modelExampleShape(model, data);
    let lossSum = 0;
    let correct = 0;
    for (let start = 0; start < data.count; start += batchSize) {
      const end = Math.min(start + batchSize, data.count);
      const n = end - start;
      const [loss, hits] = tf.tidy(() => {
        const x = tf.tensor(data.x.subarray(start * size, end * size), [n, ...exampleShape]);
        const y = tf.tensor2d(data.y.subarray(start * classes, end * classes), [n, classes]);
        const p = model.predict(x) as tf.Tensor2D;
        const crossEntropy = tf.neg(tf.sum(tf.mul(y, tf.log(tf.clipByValue(p, EPSILON, 1 - EPSILON)))));
        const matches = tf.sum(tf.cast(tf.equal(tf.argMax(p, -1), tf.argMax(y, -1)), "float32"));
        return [crossEntropy, matches];
      });
      try {
        lossSum += (await loss.data())[0];
        correct += (await hits.data())[0];
      } finally {
        tf.dispose([loss, hits]);
      }
    }
    return { accuracy: correct / data.count, loss: lossSum / data.count, examples: data.count };
  } finally {
    model.dispose();
  }
}
