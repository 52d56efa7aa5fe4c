import { PropiusError } from "@propius/shared";
import type * as tf from "./tf.js";
import { featureSize, type LocalData } from "./local-data.js";

const count = (shape: readonly number[]) => shape.reduce((n, d) => n * d, 1);

/**
 * The shape to feed the model one example in: its input layer's shape without the batch
 * dimension, when that holds as many values as the data's examples (so flat grey pixels reach a
 * CNN as [height, width, 1], and [h, w, c] images reach a dense model as one row). When the input
 * layer leaves a dimension open (null) the data's own shape is used, and tfjs checks it.
 * Throws, with both counts, when the model takes another number of values per example.
 */
export function modelExampleShape(model: Pick<tf.LayersModel, "inputs">, data: Pick<LocalData, "featureShape">): number[] {
  const input = model.inputs[0]?.shape.slice(1) ?? [];
  if (input.length === 0 || input.some((d) => d === null)) return data.featureShape;
  const shape = input as number[];
  const values = featureSize(data);
  if (count(shape) !== values) {
    throw new PropiusError("bad_request", `the model takes [${shape.join(",")}] = ${count(shape)} values per example; this data has ${values}`);
  }
  return shape;
}
