import { PropiusError } from "@propius/shared";

/** Where a model check failed and how: the spec path, the layer, and the two sides of a mismatch. */
export interface ModelIssue {
  /** Dotted path in the job spec, as `validation_failed` gives it: `model.topology.config.layers.1.class_name`. */
  path: string;
  /** The layer's config name (and index in the topology's layer list), when one layer is at fault. */
  layer?: string;
  expected?: unknown;
  got?: unknown;
}

/** A `400 invalid_model`: a model no device could build or train, with the fix in its message. */
export function invalidModel(message: string, issue: ModelIssue): PropiusError {
  return new PropiusError("invalid_model", message, issue);
}

/** `[784, 128]`, `[null, 28, 28, 1]`: a shape as people write it. */
export function showShape(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d === null ? "null" : String(d))).join(", ")}]`;
}

/** `layer 1 'conv' (Conv2D)`: a layer named by its index in the topology, its config name and its class. */
export function showLayer(layer: { index: number; name: string; className: string }): string {
  return `layer ${layer.index} '${layer.name}' (${layer.className})`;
}
