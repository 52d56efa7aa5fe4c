import { parameterCount, type InputFormat, type ModelDefinition } from "@propius/shared";
import { invalidModel } from "./model-error.js";
import { buildZeroed } from "./model-build.js";
import { checkInput } from "./model-input.js";
import { checkWeightSpecs, modelWeights } from "./model-weights.js";
import { scanTopology } from "./topology-scan.js";
import { loadTfjs } from "./tfjs-runtime.js";

export interface ModelCheckOptions {
  /** The platform's upload limit (MAX_UPLOAD_BYTES): a model whose float32 weights exceed it could never be seeded. */
  maxBytes: number;
}

export interface CheckedModel {
  /** The job's input format: the spec's, or the one derived from the model's input shape. */
  input: InputFormat;
  /** Weight values of the model. */
  parameters: number;
}

/** Checks run one after another in an isolate: the weight budget and tensor count are per build. */
let queue: Promise<unknown> = Promise.resolve();

/**
 * Checks a job's model with tfjs-layers itself, the code devices train with: the topology's
 * classes, that it builds (from a copy with zero initializers, within the upload limit), that
 * `weightSpecs` lists its weights in order with their shapes, and that `input` fits its input and
 * output shapes (or derives `input` from them). Throws `invalid_model` (400) naming the layer and
 * the fix; allocates nothing that outlives the call.
 */
export function checkModel(model: ModelDefinition, input: InputFormat | undefined, options: ModelCheckOptions): Promise<CheckedModel> {
  const run = queue.then(() => check(model, input, options));
  queue = run.catch(() => undefined);
  return run;
}

async function check(model: ModelDefinition, input: InputFormat | undefined, { maxBytes }: ModelCheckOptions): Promise<CheckedModel> {
  // Counted from the spec before tfjs is loaded or anything is built.
  const parameters = parameterCount(model.weightSpecs);
  if (parameters * 4 > maxBytes) {
    throw invalidModel(`weightSpecs lists ${parameters} weight values (${parameters * 4} bytes as float32), over the upload limit of ${maxBytes} bytes: no device could upload an update of it; make the model smaller`, {
      path: "model.weightSpecs", expected: `at most ${Math.floor(maxBytes / 4)} values`, got: parameters,
    });
  }
  const tfjs = await loadTfjs();
  const scanned = scanTopology(model.topology, tfjs.initializerClasses);
  const before = tfjs.core.memory().numTensors;
  const built = await buildZeroed(tfjs, scanned, Math.floor(maxBytes / 4));
  try {
    checkWeightSpecs(modelWeights(built, scanned.layers), model.weightSpecs);
    if (built.inputs.length !== 1 || built.outputs.length !== 1) {
      throw invalidModel(`the model has ${built.inputs.length} inputs and ${built.outputs.length} outputs: a job's model takes one example and gives one prediction`, {
        path: "model.topology", expected: { inputs: 1, outputs: 1 }, got: { inputs: built.inputs.length, outputs: built.outputs.length },
      });
    }
    const last = built.outputs[0].sourceLayer;
    const shapes = { input: built.inputs[0].shape.slice(1), output: built.outputs[0].shape.slice(1), lastLayer: `'${last.name}' (${last.getClassName()})` };
    return { input: checkInput(shapes, input), parameters };
  } finally {
    built.dispose();
    const left = tfjs.core.memory().numTensors - before;
    if (left !== 0) console.error(`model check: ${left} tensors outlived the check`);
  }
}
