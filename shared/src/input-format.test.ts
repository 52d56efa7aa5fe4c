import { describe, expect, it } from "vitest";
import { describeInputFormat, inputFormatSchema, jobInputFormat, modelInputOutput } from "./input-format.js";
import { jobSpecSchema, type JobSpecInput } from "./job-spec.js";

const mlp = (inputs: number, classes: number) => [
  { name: "dense/kernel", shape: [inputs, 16], dtype: "float32" as const },
  { name: "dense/bias", shape: [16], dtype: "float32" as const },
  { name: "out/kernel", shape: [16, classes], dtype: "float32" as const },
  { name: "out/bias", shape: [classes], dtype: "float32" as const },
];
const spec = (input?: unknown, weightSpecs = mlp(784, 10)) =>
  ({ name: "unit", model: { format: "tfjs-layers", topology: {}, weightSpecs }, plan: { rounds: 1, clientsPerRound: 1, localEpochs: 1 }, ...(input ? { input } : {}) }) as JobSpecInput;

describe("a job spec's input format", () => {
  it("accepts an image or tabular input that agrees with the model, and defaults the label column", () => {
    const image = jobSpecSchema.parse(spec({ kind: "image", width: 28, height: 28, channels: 1, classes: 10 }));
    expect(image.input).toEqual({ kind: "image", width: 28, height: 28, channels: 1, classes: 10 });
    const table = jobSpecSchema.parse(spec({ kind: "tabular", features: 4, classes: 3 }, mlp(4, 3)));
    expect(table.input).toEqual({ kind: "tabular", features: 4, classes: 3, labelColumn: "label" });
  });

  it("keeps a spec without input, and its free-form data, as they were", () => {
    const parsed = jobSpecSchema.parse({ ...spec(), data: { dataset: "mnist" } });
    expect("input" in parsed).toBe(false);
    expect(parsed.data).toEqual({ dataset: "mnist" });
  });

  it("refuses an input whose size or classes disagree with the model, saying which", () => {
    const size = jobSpecSchema.safeParse(spec({ kind: "image", width: 32, height: 32, channels: 1, classes: 10 }));
    expect(size.success).toBe(false);
    expect(size.error?.issues[0]).toMatchObject({ path: ["input"], message: "the input has 32 x 32 x 1 = 1024 values per example, but the model's first layer takes 784" });
    const classes = jobSpecSchema.safeParse(spec({ kind: "tabular", features: 784, classes: 3 }));
    expect(classes.error?.issues[0]).toMatchObject({ path: ["input"], message: "the input has 3 classes, but the model's last layer has 10 units" });
  });

  it("refuses unknown kinds, missing sizes and a label list of the wrong length", () => {
    for (const bad of [
      { kind: "audio", classes: 2 },
      { kind: "image", width: 28, classes: 10 },
      { kind: "tabular", features: 0, classes: 2 },
      { kind: "image", width: 2, height: 2, channels: 1, classes: 2, labels: ["cat"] },
      { kind: "tabular", features: 4, classes: 2, extra: true },
    ]) {
      expect(inputFormatSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });
});

describe("jobInputFormat", () => {
  it("gives the spec's input when there is one", () => {
    const input = { kind: "image" as const, width: 4, height: 1, channels: 1, classes: 10, labels: undefined };
    expect(jobInputFormat({ input, model: { weightSpecs: mlp(4, 10) } })).toBe(input);
  });

  it("derives an image from a square first layer and a table otherwise", () => {
    expect(jobInputFormat({ model: { weightSpecs: mlp(784, 10) } })).toEqual({ kind: "image", width: 28, height: 28, channels: 1, classes: 10 });
    expect(jobInputFormat({ model: { weightSpecs: mlp(13, 3) } })).toEqual({ kind: "tabular", features: 13, classes: 3, labelColumn: "label" });
  });

  it("reads the last kernel's units when the model has no final bias, and refuses a model that tells nothing", () => {
    expect(modelInputOutput(mlp(13, 3).slice(0, 3))).toEqual({ features: 13, classes: 3 });
    expect(() => jobInputFormat({ model: { weightSpecs: [{ shape: [3, 3, 1, 8] }, { shape: [8] }] } })).toThrow(/gives no input format/);
  });

  it("describes a format for people", () => {
    expect(describeInputFormat({ kind: "image", width: 28, height: 28, channels: 1, classes: 10 })).toBe("image 28 x 28 x 1, 10 classes");
    expect(describeInputFormat({ kind: "tabular", features: 4, classes: 3, labelColumn: "species" })).toBe("tabular, 4 features, 3 classes, labels in column 'species'");
  });
});
