import type * as TfLayers from "@tensorflow/tfjs-layers";
import { invalidModel, showLayer, showShape } from "./model-error.js";
import { zeroedCopy, type ScannedLayer, type ScannedTopology } from "./topology-scan.js";
import { WeightBudgetExceeded, withWeightBudget, type Tfjs } from "./tfjs-runtime.js";

type LayersModel = TfLayers.LayersModel;
type Json = Record<string, unknown>;

/**
 * Builds the topology with tfjs (`models.modelFromJSON`) from a copy whose initializers are all
 * zeros, allocating at most `maxFloats` weight values. The caller disposes the model. A topology
 * that does not build is refused (`invalid_model`), naming the layer where it breaks; whatever
 * the failed build had allocated is disposed.
 */
export async function buildZeroed(tfjs: Tfjs, scanned: ScannedTopology, maxFloats: number): Promise<LayersModel> {
  const copy = zeroedCopy(scanned, tfjs.zerosClass);
  try {
    return await build(tfjs, copy, maxFloats);
  } catch (error) {
    throw await explainFailure(tfjs, scanned, copy, maxFloats, error);
  }
}

/** One build, with whatever it leaves allocated disposed when it fails. */
async function build(tfjs: Tfjs, model: Json, maxFloats: number): Promise<LayersModel> {
  const variables = new Set(Object.keys(tfjs.core.engine().state.registeredVariables));
  try {
    // modelFromJSON deserializes (and allocates) synchronously before its first await, so the
    // budget is in force for the whole build.
    return await withWeightBudget(maxFloats, () => tfjs.layers.models.modelFromJSON(model as Parameters<typeof tfjs.layers.models.modelFromJSON>[0]));
  } catch (error) {
    // A layer that fails to build leaves the weights of the layers before it registered: a failed
    // check must not leave them in the isolate.
    const registered = tfjs.core.engine().state.registeredVariables;
    for (const name of Object.keys(registered)) if (!variables.has(name)) registered[name].dispose();
    throw error;
  }
}

/** The topology's first `count` layers, as a model of the same class (only for Sequential). */
function prefix(copy: Json, count: number): Json {
  const config = copy.config;
  if (Array.isArray(config)) return { ...copy, config: config.slice(0, count) };
  const layers = (config as Json).layers as unknown[];
  return { ...copy, config: { ...(config as Json), layers: layers.slice(0, count) } };
}

/**
 * Turns a failed build into `invalid_model`, naming the layer: for a Sequential model, the first
 * layer whose prefix fails to build (found by bisection: if the first k layers do not build, nor
 * do the first k + 1), with the output shape it was given; else the layer the tfjs message names.
 */
async function explainFailure(tfjs: Tfjs, scanned: ScannedTopology, copy: Json, maxFloats: number, error: unknown) {
  let layer = scanned.layers.find((l) => messageOf(error).match(new RegExp(`\\blayer:? ${escape(l.name)}\\b`)));
  let givenShape: (number | null)[] | undefined;
  if (scanned.modelClass === "Sequential") {
    let good = 0; // largest prefix known to build (0: the empty one)
    let bad = scanned.layers.length; // smallest prefix known to fail
    while (bad - good > 1) {
      const middle = Math.floor((good + bad) / 2);
      const result = await build(tfjs, prefix(copy, middle), maxFloats).then((m) => m, (e: unknown) => e);
      if (result instanceof Error || !isModel(result)) {
        bad = middle;
        error = result;
      } else {
        good = middle;
        givenShape = result.outputs[0]?.shape;
        result.dispose();
      }
    }
    layer = scanned.layers[bad - 1];
  }
  return describe(error, layer, scanned, givenShape, maxFloats);
}

function isModel(value: unknown): value is LayersModel {
  return typeof value === "object" && value !== null && "outputs" in value && "dispose" in value;
}

function describe(error: unknown, layer: ScannedLayer | undefined, scanned: ScannedTopology, givenShape: (number | null)[] | undefined, maxFloats: number) {
  const at = layer ? `${showLayer(layer)}` : `the ${scanned.modelClass} model`;
  const path = layer ? `${layer.path}.config` : scanned.path;
  const who = layer ? { layer: layer.name } : {};
  if (error instanceof WeightBudgetExceeded) {
    return invalidModel(`${at} declares a weight of shape ${showShape(error.shape)}, which takes the model past the upload limit of ${maxFloats} float32 values: make the layer smaller`, {
      path, ...who, expected: `at most ${maxFloats} weight values`, got: error.shape,
    });
  }
  const given = givenShape ? ` on its input of shape ${showShape(givenShape)}` : "";
  const fix = /inputShape|batchInputShape/.test(messageOf(error))
    ? "give the first layer batch_input_shape, for example [null, 28, 28, 1]"
    : "change its config to fit its input, or the layers before it";
  return invalidModel(`${at} does not build${given}: ${messageOf(error)} (${fix})`, { path, ...who, ...(givenShape ? { got: givenShape } : {}) });
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message.split("\n")[0] : String(error));
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
