import { describe, expect, it } from "vitest";
import { PropiusError, type ModelDefinition } from "@propius/shared";
import { checkModel } from "./model-check.js";
import { cnn, conv2d, dense, dense10M, layer, mlp, sequential } from "./model-fixtures.js";
import { loadTfjs } from "./tfjs-runtime.js";

const LIMIT = { maxBytes: 64 << 20 };

async function refusal(model: ModelDefinition, input?: Parameters<typeof checkModel>[1], options = LIMIT): Promise<PropiusError> {
  const error = await checkModel(model, input, options).then(() => undefined, (e: unknown) => e);
  if (!(error instanceof PropiusError)) throw new Error(`expected invalid_model, got ${String(error)}`);
  expect(error.code).toBe("invalid_model");
  return error;
}

async function tensors(): Promise<number> {
  return (await loadTfjs()).core.memory().numTensors;
}

describe("the model check", () => {
  it("accepts the demo MLP and derives a 28 x 28 x 1 image input from its 784 inputs", async () => {
    expect(await checkModel(mlp(), undefined, LIMIT)).toEqual({ input: { kind: "image", height: 28, width: 28, channels: 1, classes: 10 }, parameters: 101_770 });
  });

  it("derives an image of the CNN's input shape, and a table from 1,000 features", async () => {
    expect((await checkModel(cnn(), undefined, LIMIT)).input).toEqual({ kind: "image", height: 28, width: 28, channels: 1, classes: 10 });
    expect(await checkModel(dense10M(), undefined, LIMIT)).toEqual({ input: { kind: "tabular", features: 1000, classes: 10, labelColumn: "label" }, parameters: 10_016_010 });
  });

  it("keeps the spec's input when it fits, flat or as an image", async () => {
    const image = { kind: "image" as const, height: 28, width: 28, channels: 1, classes: 10 };
    expect((await checkModel(mlp(), image, LIMIT)).input).toEqual(image);
    expect((await checkModel(cnn(), image, LIMIT)).input).toEqual(image);
  });

  it("writes fixtures as tfjs does: their weightSpecs are the ones tfjs builds, in order", async () => {
    const { layers } = await loadTfjs();
    for (const fixture of [mlp(), cnn()]) {
      const model = await layers.models.modelFromJSON(fixture.topology as Parameters<typeof layers.models.modelFromJSON>[0]);
      expect(model.weights.map((w) => ({ name: w.originalName, shape: w.shape, dtype: "float32" }))).toEqual(fixture.weightSpecs);
      model.dispose();
    }
  });

  it("accepts a functional model as tfjs-layers writes it", async () => {
    const { layers } = await loadTfjs();
    const input = layers.input({ shape: [8], name: "features" });
    const hidden = layers.layers.dense({ units: 4, activation: "relu", name: "fhidden" }).apply(input);
    const output = layers.layers.dense({ units: 3, activation: "softmax", name: "fout" }).apply(hidden);
    const model = layers.model({ inputs: input, outputs: output as Parameters<typeof layers.model>[0]["outputs"], name: "functional" });
    const topology = model.toJSON(null, false) as Record<string, unknown>;
    const weightSpecs = model.weights.map((w) => ({ name: w.originalName, shape: w.shape as number[], dtype: "float32" as const }));
    model.dispose();
    expect((await checkModel({ format: "tfjs-layers", topology, weightSpecs }, undefined, LIMIT)).input).toEqual({ kind: "tabular", features: 8, classes: 3, labelColumn: "label" });
  });

  it("names the class meant for a misspelt layer class", async () => {
    const model = cnn();
    ((model.topology.config as { layers: { class_name: string }[] }).layers[2]).class_name = "Conv2d";
    const error = await refusal(model);
    expect(error.message).toMatch(/^layer 2 'conv2': Conv2d is not a supported layer class: did you mean Conv2D\? supported: InputLayer, Dense/);
    expect(error.details).toMatchObject({ path: "model.topology.config.layers.2.class_name", layer: "conv2", got: "Conv2d" });
  });

  it("names the tensor and both shapes when weightSpecs disagrees with the built model", async () => {
    const model = mlp();
    model.weightSpecs[0] = { name: "hidden/kernel", shape: [784, 64], dtype: "float32" };
    const error = await refusal(model);
    expect(error.message).toContain("weight 'hidden/kernel' of layer 0 'hidden' (Dense) has shape [784, 128] in the model, but [784, 64] in weightSpecs[0]");
    expect(error.details).toEqual({ path: "model.weightSpecs.0.shape", layer: "hidden", expected: [784, 128], got: [784, 64] });
  });

  it("refuses, without allocating it, a layer declaring more weights than the upload limit", async () => {
    const model = mlp();
    const layers = (model.topology.config as { layers: Record<string, unknown>[] }).layers;
    layers[1] = dense("output", 1e9, "softmax");
    const before = await tensors();
    const started = performance.now();
    const error = await refusal(model);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(error.message).toMatch(/^layer 1 'output' \(Dense\) declares a weight of shape \[128, 1000000000\], which takes the model past the upload limit/);
    expect(await tensors()).toBe(before);
  });

  it("refuses a spec whose weights alone exceed the upload limit, before building", async () => {
    const error = await refusal(dense10M(), undefined, { maxBytes: 2_000_000 });
    expect(error.message).toContain("weightSpecs lists 10016010 weight values (40064040 bytes as float32), over the upload limit of 2000000 bytes");
  });

  it("names the layer that does not build and the shape it was given, and frees the layers built before it", async () => {
    const model = cnn();
    const layers = (model.topology.config as { layers: Record<string, unknown>[] }).layers;
    layers.splice(4, 1); // no Flatten: the Dense gets 5 x 5 x 16 maps, and the output is not [classes]
    layers.splice(4, 0, conv2d("conv3", 8, { kernel_size: [7, 7] }));
    const before = await tensors();
    const error = await refusal(model);
    expect(error.message).toMatch(/^layer 4 'conv3' \(Conv2D\) does not build on its input of shape \[null, 5, 5, 16\]: /);
    expect(await tensors()).toBe(before);
  });

  it("leaves no tensor behind after accepting or refusing", async () => {
    const before = await tensors();
    await checkModel(cnn(), undefined, LIMIT);
    await refusal({ ...mlp(), topology: sequential("x", [layer("Flatten", "f", { batch_input_shape: [null, 4, 4] }), dense("d", 1, "sigmoid")]) });
    expect(await tensors()).toBe(before);
  });
});
