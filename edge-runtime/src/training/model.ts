import * as tf from "./tf.js";
import { parameterCount, tensorSize, type TensorSpec } from "@propius/shared";

/** A tfjs layers model as a job ships it: its topology and the layout of its flat weight buffer. */
export interface ModelSource {
  /** The layers topology, as `model.toJSON(null, false)` returns it (model.json's `modelTopology`). */
  topology: Record<string, unknown>;
  /** The tensors of the flat weight buffer, in buffer order (tfjs' `weightSpecs`). */
  weightSpecs: readonly TensorSpec[];
}

/**
 * The specs of a model's weights in `model.getWeights()` order, named as tfjs names them in
 * `weightSpecs` when it saves the model (the original, not the process-unique, variable names).
 */
export function weightSpecsOf(model: tf.LayersModel): TensorSpec[] {
  return model.weights.map((w) => ({ name: w.originalName ?? w.name, shape: [...w.shape] as number[], dtype: "float32" }));
}

/** For each spec, the index of the model weight it describes; throws when the two disagree. */
function weightIndexes(model: tf.LayersModel, specs: readonly TensorSpec[]): number[] {
  const own = weightSpecsOf(model);
  if (own.length !== specs.length) {
    throw new RangeError(`the model has ${own.length} weight tensors, the specs list ${specs.length}`);
  }
  const byName = new Map(own.map((s, i) => [s.name, i]));
  return specs.map((spec) => {
    const index = byName.get(spec.name);
    if (index === undefined) throw new RangeError(`the model has no weight named '${spec.name}'`);
    const shape = own[index].shape;
    if (shape.length !== spec.shape.length || shape.some((d, j) => d !== spec.shape[j])) {
      throw new RangeError(`weight '${spec.name}' has shape [${shape}] in the model, [${spec.shape}] in the specs`);
    }
    return index;
  });
}

/** Sets a model's weights from one flat buffer laid out as `specs` (by default the model's own). */
export function setFlatWeights(model: tf.LayersModel, values: Float32Array, specs: readonly TensorSpec[] = weightSpecsOf(model)): void {
  const expected = parameterCount(specs);
  if (values.length !== expected) throw new RangeError(`expected ${expected} weight values, got ${values.length}`);
  const indexes = weightIndexes(model, specs);
  const tensors: tf.Tensor[] = new Array(specs.length);
  let offset = 0;
  specs.forEach((spec, i) => {
    const size = tensorSize(spec);
    tensors[indexes[i]] = tf.tensor(values.subarray(offset, offset + size), spec.shape, "float32");
    offset += size;
  });
  try {
    model.setWeights(tensors);
  } finally {
    tf.dispose(tensors);
  }
}

/**
 * Reads a model's weights into one new flat buffer laid out as `specs` (by default the model's
 * own). Asynchronous so that GPU backends do not block while the values download.
 */
export async function getFlatWeights(model: tf.LayersModel, specs: readonly TensorSpec[] = weightSpecsOf(model)): Promise<Float32Array> {
  const indexes = weightIndexes(model, specs);
  // getWeights() returns the variables themselves: read them, never dispose them.
  const variables = model.getWeights();
  const out = new Float32Array(parameterCount(specs));
  let offset = 0;
  for (const index of indexes) {
    const data = (await variables[index].data()) as Float32Array;
    out.set(data, offset);
    offset += data.length;
  }
  return out;
}

/**
 * Builds a LayersModel from its topology, checks that `source.weightSpecs` describes its weights,
 * and sets them from `weights` (laid out as `source.weightSpecs`) when given. The caller owns
 * the model and must `dispose()` it.
 */
export async function buildModel(source: ModelSource, weights?: Float32Array): Promise<tf.LayersModel> {
  const model = await tf.models.modelFromJSON(source.topology as Parameters<typeof tf.models.modelFromJSON>[0]);
  try {
    weightIndexes(model, source.weightSpecs);
    if (weights) setFlatWeights(model, weights, source.weightSpecs);
    return model;
  } catch (error) {
    model.dispose();
    throw error;
  }
}
