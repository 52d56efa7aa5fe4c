import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { WEIGHTS_MEDIA_TYPE, encodeWeights, parameterCount, type InputFormatInput, type JobSpecInput, type JobStatus, type ModelDefinition } from "@propius/shared";
import { api, cancelRunningJobs, createTenant, expectJson, jobSpec, registerClient, taskFor } from "../../test/fixtures.js";
import { cnn, conv2d, dense, layer, mlp, sequential } from "../models/model-fixtures.js";

/**
 * Acceptance: a job whose model no device could build or train is refused at creation with
 * `400 invalid_model`, a message that names the layer and the fix, and `details.path`; nothing is
 * created. The check runs tfjs-layers inside workerd.
 */
type Json = Record<string, unknown>;
type Case = [name: string, spec: () => JobSpecInput, message: string | RegExp, path: string];

let owner: { tenant: string; apiKey: string };
beforeAll(async () => {
  owner = await createTenant();
}, 120_000);
afterEach(cancelRunningJobs);

const withModel = (model: ModelDefinition, input?: InputFormatInput): JobSpecInput => ({ ...jobSpec(), model, ...(input ? { input } : {}) });
const layersOf = (model: ModelDefinition) => (model.topology.config as { layers: Json[] }).layers;
const configOf = (model: ModelDefinition, index: number) => layersOf(model)[index].config as Json;

/** A copy of `base()` changed by `change`, as a spec. */
function broken(base: () => ModelDefinition, change: (model: ModelDefinition) => void, input?: InputFormatInput): () => JobSpecInput {
  return () => {
    const model = base();
    change(model);
    return withModel(model, input);
  };
}

const renameClass = (index: number, className: string) => (m: ModelDefinition) => void (layersOf(m)[index].class_name = className);
const nested = (depth: number): Json => (depth === 0 ? {} : { deeper: nested(depth - 1) });
const cnnImage = { kind: "image", height: 28, width: 28, channels: 1, classes: 10 } as const;

/** 12 features, reshaped to 2 x 2 x 3 maps: its weights do not tell the shared schema its input size. */
const reshaping = (): ModelDefinition => ({
  format: "tfjs-layers",
  topology: sequential("reshaping", [
    layer("Reshape", "grid", { target_shape: [2, 2, 3], batch_input_shape: [null, 12] }),
    conv2d("mix", 4, { kernel_size: [1, 1] }),
    layer("Flatten", "flat"),
    dense("out", 3, "softmax"),
  ]),
  weightSpecs: [
    { name: "mix/kernel", shape: [1, 1, 3, 4], dtype: "float32" }, { name: "mix/bias", shape: [4], dtype: "float32" },
    { name: "out/kernel", shape: [16, 3], dtype: "float32" }, { name: "out/bias", shape: [3], dtype: "float32" },
  ],
});

/** The CNN with batch normalization after its first convolution: its last weightSpec is the moving variance. */
const normalized = (): ModelDefinition => {
  const model = cnn();
  layersOf(model).splice(1, 0, layer("BatchNormalization", "norm", { axis: -1, momentum: 0.99, epsilon: 0.001, center: true, scale: true }));
  const spec = (name: string) => ({ name: `norm/${name}`, shape: [8], dtype: "float32" as const });
  model.weightSpecs.splice(2, 0, spec("gamma"), spec("beta"));
  model.weightSpecs.push(spec("moving_mean"), spec("moving_variance"));
  return model;
};

const CASES: Case[] = [
  ["an unknown layer class", broken(cnn, renameClass(2, "LSTM")), "layer 2 'conv2': LSTM is not a supported layer class: supported: InputLayer, Dense, Conv2D", "model.topology.config.layers.2.class_name"],
  ["a misspelt class (case)", broken(cnn, renameClass(2, "Conv2d")), "Conv2d is not a supported layer class: did you mean Conv2D?", "model.topology.config.layers.2.class_name"],
  ["a misspelt class (a letter short)", broken(mlp, renameClass(0, "Dens")), "layer 0 'hidden': Dens is not a supported layer class: did you mean Dense?", "model.topology.config.layers.0.class_name"],
  ["a Keras class name tfjs spells otherwise", broken(cnn, renameClass(1, "MaxPool2D")), "MaxPool2D is not a supported layer class: did you mean MaxPooling2D?", "model.topology.config.layers.1.class_name"],
  ["a misspelt model class", broken(mlp, (m) => void (m.topology.class_name = "Sequental")), "the model class Sequental is not supported: did you mean Sequential?", "model.topology.class_name"],
  ["a single layer instead of a model", () => withModel({ ...mlp(), topology: dense("hidden", 10, "softmax", { batch_input_shape: [null, 784] }) }), "a single Dense layer is not a model: put it in a Sequential", "model.topology.class_name"],
  ["a topology that is not a model at all", () => withModel({ ...mlp(), topology: { layers: "dense, dense" } }), "model.topology has no class_name: it is not a tfjs layers model", "model.topology.class_name"],
  ["a whole model.json", () => withModel({ ...mlp(), topology: { modelTopology: mlp().topology, weightsManifest: [] } }), "model.topology is a whole model.json: give its modelTopology", "model.topology.modelTopology"],
  ["a model without layers", () => withModel({ ...mlp(), topology: sequential("empty", []) }), "the Sequential model lists no layers: give model.topology.config.layers", "model.topology.config.layers"],
  ["a layer that is a string", broken(mlp, (m) => void (layersOf(m)[1] = "Dense" as unknown as Json)), "layer 1 is not a layer: give it as { class_name, config }", "model.topology.config.layers.1"],
  ["a layer without a name", broken(mlp, (m) => void delete configOf(m, 1).name), "layer 1 (Dense) has no name: give it config.name", "model.topology.config.layers.1.config.name"],
  ["two layers of one name", broken(mlp, (m) => void (configOf(m, 1).name = "hidden")), "layers 0 and 1 are both named 'hidden': give each layer its own name", "model.topology.config.layers.1.config.name"],
  ["nested junk", broken(mlp, (m) => void (configOf(m, 1).note = nested(40))), /^the topology nests deeper than 32 levels at model\.topology\.config\.layers\.1\.config\.note\.deeper/, "model.topology.config.layers.1.config.note.deeper.deeper.deeper.deeper.deeper.deeper.deeper.deeper.deeper.deeper.deeper.deeper.deeper.deeper.deeper.deeper.deeper.deeper.deeper.deeper.deeper.deeper.deeper.deeper.deeper.deeper.deeper"],
  ["a misspelt initializer class", broken(mlp, (m) => void (configOf(m, 0).kernel_initializer = { class_name: "GlorotUniformm", config: {} })), "layer 0 'hidden' (Dense): kernel_initializer GlorotUniformm is not a tfjs initializer: did you mean GlorotUniform?", "model.topology.config.layers.0.config.kernel_initializer.class_name"],
  ["an initializer given as a string", broken(mlp, (m) => void (configOf(m, 0).bias_initializer = "zeros")), "layer 0 'hidden' (Dense): bias_initializer must be { class_name, config }", "model.topology.config.layers.0.config.bias_initializer"],
  ["a misspelt activation", broken(mlp, (m) => void (configOf(m, 0).activation = "relux")), "layer 0 'hidden' (Dense) does not build: Unknown activation: relux", "model.topology.config.layers.0.config"],
  ["a first layer without an input shape", broken(mlp, (m) => void delete configOf(m, 0).batch_input_shape), "give the first layer batch_input_shape", "model.topology.config.layers.0.config"],
  ["a convolution after a dense layer", broken(mlp, (m) => void layersOf(m).splice(1, 0, conv2d("conv", 4))), "layer 1 'conv' (Conv2D) does not build on its input of shape [null, 128]: Input 0 is incompatible with layer conv: expected ndim=4, found ndim=2", "model.topology.config.layers.1.config"],
  ["a kernel larger than its input", broken(cnn, (m) => void (configOf(m, 2).kernel_size = [20, 20])), /^layer 2 'conv2' \(Conv2D\) does not build on its input of shape \[null, 13, 13, 8\]/, "model.topology.config.layers.2.config"],
  // tfjs checks a Reshape's sizes only on real tensors, not while building: the weights after it tell.
  ["a reshape to another size", broken(reshaping, (m) => void (configOf(m, 0).target_shape = [2, 2, 2])), "weight 'mix/kernel' of layer 1 'mix' (Conv2D) has shape [1, 1, 2, 4] in the model, but [1, 1, 3, 4] in weightSpecs[0]", "model.weightSpecs.0.shape"],
  ["a wrong kernel shape", broken(mlp, (m) => void (m.weightSpecs[0].shape = [784, 64])), "weight 'hidden/kernel' of layer 0 'hidden' (Dense) has shape [784, 128] in the model, but [784, 64] in weightSpecs[0]: give weightSpecs the model's shape", "model.weightSpecs.0.shape"],
  ["a wrong convolution kernel shape", broken(cnn, (m) => void (m.weightSpecs[2].shape = [3, 3, 16, 8])), "weight 'conv2/kernel' of layer 2 'conv2' (Conv2D) has shape [3, 3, 8, 16] in the model, but [3, 3, 16, 8] in weightSpecs[2]", "model.weightSpecs.2.shape"],
  ["a wrong bias length", broken(mlp, (m) => void (m.weightSpecs[3].shape = [11])), "weight 'output/bias' of layer 1 'output' (Dense) has shape [10] in the model, but [11] in weightSpecs[3]", "model.weightSpecs.3.shape"],
  ["a missing weight tensor", broken(cnn, (m) => void m.weightSpecs.splice(3, 1)), "weightSpecs has no entry for the model's weight 'conv2/bias' of layer 2 'conv2' (Conv2D), of shape [16]: add it at weightSpecs[3]", "model.weightSpecs"],
  ["an extra weight tensor", broken(mlp, (m) => void m.weightSpecs.push({ name: "extra/kernel", shape: [2, 2], dtype: "float32" })), "weightSpecs[4] 'extra/kernel' is not a weight of the model: remove it (the model's weights: hidden/kernel, hidden/bias, output/kernel, output/bias)", "model.weightSpecs.4.name"],
  ["a renamed weight tensor", broken(mlp, (m) => void (m.weightSpecs[1].name = "hiden/bias")), "weightSpecs[1] 'hiden/bias' is not a weight of the model: did you mean 'hidden/bias'?", "model.weightSpecs.1.name"],
  ["weight tensors in another order", broken(cnn, (m) => void m.weightSpecs.reverse()), "weightSpecs[0] is 'output/bias', but the model's weight 0 is 'conv1/kernel' of layer 0 'conv1' (Conv2D): list the weights in the model's order (conv1/kernel, conv1/bias,", "model.weightSpecs.0.name"],
  ["a weight tensor listed twice", broken(mlp, (m) => void (m.weightSpecs[3] = { ...m.weightSpecs[1] })), "weightSpecs lists 'hidden/bias' twice (weightSpecs[1] and weightSpecs[3])", "model.weightSpecs.3.name"],
  ["an image of another width", () => withModel(cnn(), { ...cnnImage, width: 32 }), "input.width is 32, but the model takes images of shape [28, 28, 1] (height, width, channels): give input.width 28", "input.width"],
  ["an image of another height", () => withModel(cnn(), { ...cnnImage, height: 27 }), "input.height is 27, but the model takes images of shape [28, 28, 1] (height, width, channels): give input.height 28", "input.height"],
  ["an RGB image for a grey-level model", () => withModel(cnn(), { ...cnnImage, channels: 3 }), "input.channels is 3, but the model takes images of shape [28, 28, 1] (height, width, channels): give input.channels 1", "input.channels"],
  ["rows for an image model", () => withModel(cnn(), { kind: "tabular", features: 784, classes: 10 }), 'input is tabular, but the model takes images of shape [28, 28, 1]: give input { kind: "image", height: 28, width: 28, channels: 1 }', "input.kind"],
  ["rows of another width", () => withModel(reshaping(), { kind: "tabular", features: 10, classes: 3 }), "input.features is 10, but the model takes 12 features per example: give input.features 12", "input.features"],
  ["classes the last layer does not have", () => withModel(normalized(), { ...cnnImage, classes: 8 }), "input.classes is 8, but the model's last layer 'output' (Dense) has 10 units: give input.classes 10, or the layer 8 units", "input.classes"],
  ["an output that is not one unit per class", broken(cnn, (m) => { layersOf(m).splice(4); m.weightSpecs.splice(4); }), "the model's last layer 'pool2' (MaxPooling2D) gives [5, 5, 16] per example: a classifier ends in [classes] (add Flatten and a Dense layer", "model.topology"],
  ["a single output unit", broken(mlp, (m) => { configOf(m, 1).units = 1; m.weightSpecs[2].shape = [128, 1]; m.weightSpecs[3].shape = [1]; }), "the model's last layer 'output' (Dense) has 1 unit: a job's examples are of at least 2 classes", "model.topology"],
  ["examples of rank 2", () => withModel({ ...mlp(), topology: sequential("flat", [layer("Flatten", "flat", { batch_input_shape: [null, 28, 28] }), dense("hidden", 128), dense("output", 10, "softmax")]) }), "the model takes examples of shape [28, 28]: a job's examples are [height, width, channels] images or [features] rows", "model.topology"],
  ["an input of unknown size", broken(cnn, (m) => { configOf(m, 0).batch_input_shape = [null, null, null, 1]; layersOf(m).splice(1, 4, layer("GlobalAveragePooling2D", "gap")); m.weightSpecs.splice(2, 2); m.weightSpecs[2].shape = [8, 132]; }), "the model's input shape [null, null, 1] has a dimension of unknown size: give every dimension a size", "model.topology"],
  ["a layer of a billion units", broken(mlp, (m) => void (configOf(m, 1).units = 1e9)), "layer 1 'output' (Dense) declares a weight of shape [128, 1000000000], which takes the model past the upload limit of 500000 float32 values: make the layer smaller", "model.topology.config.layers.1.config"],
  ["weightSpecs over the upload limit", broken(mlp, (m) => void (m.weightSpecs[0].shape = [100_000, 100_000])), "weightSpecs lists 10000001418 weight values (40000005672 bytes as float32), over the upload limit of 2000000 bytes", "model.weightSpecs"],
];

describe("models checked at creation", () => {
  it.each(CASES)("refuses %s with invalid_model, and creates nothing", async (_name, spec, message, path) => {
    const before = await expectJson(api("/v1/jobs", { token: owner.apiKey }));
    const response = await api("/v1/jobs", { token: owner.apiKey, json: spec() });
    const body = (await response.json()) as { error: { code: string; message: string; details: { path: string } } };
    expect({ status: response.status, code: body.error.code }).toEqual({ status: 400, code: "invalid_model" });
    if (typeof message === "string") expect(body.error.message).toContain(message);
    else expect(body.error.message).toMatch(message);
    expect(body.error.details.path).toBe(path);
    expect(await expectJson(api("/v1/jobs", { token: owner.apiKey }))).toEqual(before);
  });

  it("creates a CNN job without input, and devices get the input derived from its input shape", async () => {
    const model = cnn();
    const job = await expectJson<JobStatus>(api("/v1/jobs", { token: owner.apiKey, json: { ...withModel(model), plan: { ...jobSpec().plan, clientsPerRound: 1 } } }), 201);
    const weights = encodeWeights({ kind: "model", codec: "fp32", tensors: model.weightSpecs }, new Float32Array(parameterCount(model.weightSpecs)));
    await expectJson(api(`/v1/jobs/${job.id}/model`, { method: "PUT", token: owner.apiKey, type: WEIGHTS_MEDIA_TYPE, body: weights }));
    const device = await registerClient();
    expect((await taskFor(device.token, job.id)).input).toEqual(cnnImage);
  });
});
