import { SUPPORTED_LAYERS, SUPPORTED_MODEL_CLASSES, isSupportedLayer } from "@propius/shared";
import { closestName } from "@propius/shared";
import { invalidModel, showLayer } from "./model-error.js";

/** Deeper than any layers model (a layer's initializer config sits at depth 6): deeper is junk. */
export const MAX_TOPOLOGY_DEPTH = 32;

type Json = Record<string, unknown>;

/** One entry of the topology's layer list. */
export interface ScannedLayer {
  index: number;
  name: string;
  className: string;
  config: Json;
  path: string;
}

/** The topology as tfjs reads it: the model's JSON (inside `model_config` when given so) and its layers. */
export interface ScannedTopology {
  model: Json;
  modelClass: string;
  layers: ScannedLayer[];
  /** Where `model` is in the spec. */
  path: string;
}

const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value);

const hint = (name: string, candidates: readonly string[]) => {
  const meant = closestName(name, candidates);
  return meant ? `did you mean ${meant}? ` : "";
};

/**
 * Reads a job's topology before tfjs sees it: nesting depth, the model class, every layer's class
 * (against SUPPORTED_LAYERS), name, and initializer classes (against `initializerClasses`, the
 * ones tfjs has registered). Throws `invalid_model` naming the layer and the fix.
 */
export function scanTopology(topology: Json, initializerClasses: readonly string[]): ScannedTopology {
  checkDepth(topology, "model.topology");
  if ("modelTopology" in topology) {
    throw invalidModel("model.topology is a whole model.json: give its modelTopology (what model.toJSON() returns)", { path: "model.topology.modelTopology" });
  }
  // tfjs reads a Keras file's `model_config` as the model (models.modelFromJSON); so do we.
  const wrapped = isObject(topology.model_config);
  const model = wrapped ? (topology.model_config as Json) : topology;
  const path = wrapped ? "model.topology.model_config" : "model.topology";
  const modelClass = model.class_name;
  if (typeof modelClass !== "string") {
    throw invalidModel(`${path} has no class_name: it is not a tfjs layers model (give model.toJSON(), a Sequential or Functional model)`, { path: `${path}.class_name` });
  }
  if (!(SUPPORTED_MODEL_CLASSES as readonly string[]).includes(modelClass)) {
    const single = isSupportedLayer(modelClass) ? `a single ${modelClass} layer is not a model: put it in a Sequential. ` : hint(modelClass, SUPPORTED_MODEL_CLASSES);
    throw invalidModel(`the model class ${modelClass} is not supported: ${single}A model is one of ${SUPPORTED_MODEL_CLASSES.join(", ")}`, {
      path: `${path}.class_name`, expected: SUPPORTED_MODEL_CLASSES, got: modelClass,
    });
  }
  const config = model.config;
  const list = Array.isArray(config) ? config : isObject(config) ? config.layers : undefined;
  const listPath = Array.isArray(config) ? `${path}.config` : `${path}.config.layers`;
  if (!Array.isArray(list) || list.length === 0) {
    throw invalidModel(`the ${modelClass} model lists no layers: give ${listPath} as a list of { class_name, config }`, { path: listPath });
  }
  const layers = list.map((entry, index) => scanLayer(entry, index, `${listPath}.${index}`, initializerClasses));
  const seen = new Map<string, number>();
  for (const layer of layers) {
    const first = seen.get(layer.name);
    if (first !== undefined) throw invalidModel(`layers ${first} and ${layer.index} are both named '${layer.name}': give each layer its own name (weights are named after it)`, { path: `${layer.path}.config.name`, layer: layer.name });
    seen.set(layer.name, layer.index);
  }
  return { model, modelClass, layers, path };
}

function scanLayer(entry: unknown, index: number, path: string, initializerClasses: readonly string[]): ScannedLayer {
  if (!isObject(entry) || typeof entry.class_name !== "string" || !isObject(entry.config)) {
    throw invalidModel(`layer ${index} is not a layer: give it as { class_name, config }`, { path });
  }
  const className = entry.class_name;
  const config = entry.config;
  const name = typeof config.name === "string" && config.name.length > 0 ? config.name : undefined;
  if (!isSupportedLayer(className)) {
    throw invalidModel(`layer ${index}${name ? ` '${name}'` : ""}: ${className} is not a supported layer class: ${hint(className, SUPPORTED_LAYERS)}supported: ${SUPPORTED_LAYERS.join(", ")}`, {
      path: `${path}.class_name`, ...(name ? { layer: name } : {}), expected: SUPPORTED_LAYERS, got: className,
    });
  }
  // Unnamed layers get a process-wide counter's name in tfjs (dense_Dense3), and their weights with
  // it: a device's fresh process would name them otherwise than this check, so names are required.
  if (!name) throw invalidModel(`layer ${index} (${className}) has no name: give it config.name (its weights are named after it)`, { path: `${path}.config.name` });
  const layer = { index, name, className, config, path };
  for (const [key, value] of Object.entries(config)) {
    if (key.endsWith("_initializer") && value !== null && value !== undefined) checkInitializer(layer, key, value, initializerClasses);
  }
  return layer;
}

/** Devices build with the real initializers (the check builds with zeros), so their classes are checked here. */
function checkInitializer(layer: ScannedLayer, key: string, value: unknown, known: readonly string[]): void {
  const path = `${layer.path}.config.${key}`;
  if (!isObject(value) || typeof value.class_name !== "string") {
    throw invalidModel(`${showLayer(layer)}: ${key} must be { class_name, config }, as model.toJSON() writes it`, { path, layer: layer.name });
  }
  if (!known.includes(value.class_name)) {
    throw invalidModel(`${showLayer(layer)}: ${key} ${value.class_name} is not a tfjs initializer: ${hint(value.class_name, known)}known: ${known.join(", ")}`, {
      path: `${path}.class_name`, layer: layer.name, expected: known, got: value.class_name,
    });
  }
}

/** A path built as the walk goes down: one object per node, the string only when one is needed. */
interface PathNode {
  parent?: PathNode;
  key: string;
}
const showPath = (node: PathNode): string => (node.parent ? `${showPath(node.parent)}.${node.key}` : node.key);

/** Refuses JSON nested deeper than MAX_TOPOLOGY_DEPTH, without recursion (a deep body must not overflow the stack). */
function checkDepth(root: unknown, rootPath: string): void {
  const stack: { value: unknown; depth: number; at: PathNode }[] = [{ value: root, depth: 0, at: { key: rootPath } }];
  while (stack.length > 0) {
    const { value, depth, at } = stack.pop()!;
    if (typeof value !== "object" || value === null) continue;
    if (depth >= MAX_TOPOLOGY_DEPTH) {
      throw invalidModel(`the topology nests deeper than ${MAX_TOPOLOGY_DEPTH} levels at ${showPath(at)}: a layers model is a list of { class_name, config } layers`, { path: showPath(at) });
    }
    for (const [key, child] of Object.entries(value)) stack.push({ value: child, depth: depth + 1, at: { parent: at, key } });
  }
}

/**
 * A copy of the model JSON in which every layer's `*_initializer` is `zerosClass` (shapes are all
 * the check needs; random initializers would cost CPU for values thrown away).
 */
export function zeroedCopy(scanned: ScannedTopology, zerosClass: string): Json {
  const copy = structuredClone(scanned.model);
  const config = copy.config;
  const list = (Array.isArray(config) ? config : (config as Json).layers) as { config: Json }[];
  for (const layer of list) {
    for (const key of Object.keys(layer.config)) {
      if (key.endsWith("_initializer") && layer.config[key] !== null && layer.config[key] !== undefined) layer.config[key] = { class_name: zerosClass, config: {} };
    }
  }
  return copy;
}
