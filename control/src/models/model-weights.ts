import type * as TfLayers from "@tensorflow/tfjs-layers";
import type { TensorSpec } from "@propius/shared";
import { closestName } from "@propius/shared";
import { invalidModel, showLayer, showShape } from "./model-error.js";
import type { ScannedLayer } from "./topology-scan.js";

/** A weight of the built model, in `model.weights` order (the order devices' weight buffers use). */
interface ModelWeight {
  name: string;
  shape: number[];
  layer?: ScannedLayer;
}

/**
 * The built model's weights as devices name them: tfjs' original names (`hidden/kernel`), not the
 * process-unique ones it gives variables (`hidden/kernel_3` after three builds in one isolate).
 */
export function modelWeights(model: TfLayers.LayersModel, layers: readonly ScannedLayer[]): ModelWeight[] {
  const owner = new Map<string, ScannedLayer>();
  const byName = new Map(layers.map((l) => [l.name, l]));
  for (const layer of model.layers) for (const w of layer.weights) owner.set(w.originalName ?? w.name, byName.get(layer.name)!);
  return model.weights.map((w) => {
    const name = w.originalName ?? w.name;
    const layer = owner.get(name);
    return { name, shape: [...w.shape] as number[], ...(layer ? { layer } : {}) };
  });
}

const of = (w: ModelWeight) => (w.layer ? ` of ${showLayer(w.layer)}` : "");
const layerOf = (w: ModelWeight) => (w.layer ? { layer: w.layer.name } : {});

/**
 * Checks that `specs` lists exactly the model's weights, in the model's order and with its
 * shapes; throws `invalid_model` naming the tensor, the layer and both sides.
 */
export function checkWeightSpecs(own: readonly ModelWeight[], specs: readonly TensorSpec[]): void {
  const ownNames = own.map((w) => w.name);
  const listed = new Map<string, number>();
  specs.forEach((spec, i) => {
    const first = listed.get(spec.name);
    if (first !== undefined) {
      throw invalidModel(`weightSpecs lists '${spec.name}' twice (weightSpecs[${first}] and weightSpecs[${i}]): list each of the model's weights once`, { path: `model.weightSpecs.${i}.name`, got: spec.name });
    }
    listed.set(spec.name, i);
  });
  const unlisted = own.filter((w) => !listed.has(w.name));
  specs.forEach((spec, i) => {
    if (ownNames.includes(spec.name)) return;
    const meant = closestName(spec.name, unlisted.map((w) => w.name));
    const fix = meant ? `did you mean '${meant}'?` : `remove it (the model's weights: ${ownNames.join(", ")})`;
    throw invalidModel(`weightSpecs[${i}] '${spec.name}' is not a weight of the model: ${fix}`, { path: `model.weightSpecs.${i}.name`, expected: meant ?? ownNames, got: spec.name });
  });
  const missing = unlisted[0];
  if (missing) {
    const at = own.indexOf(missing);
    throw invalidModel(`weightSpecs has no entry for the model's weight '${missing.name}'${of(missing)}, of shape ${showShape(missing.shape)}: add it at weightSpecs[${at}]`, {
      path: "model.weightSpecs", ...layerOf(missing), expected: { name: missing.name, shape: missing.shape }, got: null,
    });
  }
  own.forEach((weight, i) => {
    if (specs[i].name !== weight.name) {
      throw invalidModel(`weightSpecs[${i}] is '${specs[i].name}', but the model's weight ${i} is '${weight.name}'${of(weight)}: list the weights in the model's order (${ownNames.join(", ")})`, {
        path: `model.weightSpecs.${i}.name`, ...layerOf(weight), expected: ownNames, got: specs.map((s) => s.name),
      });
    }
  });
  own.forEach((weight, i) => {
    const shape = specs[i].shape;
    if (shape.length !== weight.shape.length || shape.some((d, j) => d !== weight.shape[j])) {
      throw invalidModel(`weight '${weight.name}'${of(weight)} has shape ${showShape(weight.shape)} in the model, but ${showShape(shape)} in weightSpecs[${i}]: give weightSpecs the model's shape, or change the layer's config`, {
        path: `model.weightSpecs.${i}.shape`, ...layerOf(weight), expected: weight.shape, got: shape,
      });
    }
  });
}
