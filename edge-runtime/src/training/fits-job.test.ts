import { describe, expect, it } from "vitest";
import { checkFitsJob } from "./fits-job.js";

const dense = (inputs: number, classes: number) => ({
  format: "tfjs-layers" as const, topology: {},
  weightSpecs: [
    { name: "d/kernel", shape: [inputs, classes], dtype: "float32" as const },
    { name: "d/bias", shape: [classes], dtype: "float32" as const },
  ],
});
const rgb = { kind: "image" as const, width: 28, height: 28, channels: 3, classes: 10 };

describe("checkFitsJob", () => {
  it("accepts data of the job's values and classes, from the spec's input or the model's weights", () => {
    expect(checkFitsJob({ jobId: "job_a", model: dense(784, 10) }, { featureShape: [784], numClasses: 10 })).toEqual({ kind: "image", width: 28, height: 28, channels: 1, classes: 10 });
    const input = { kind: "tabular" as const, features: 5, classes: 3, labelColumn: "y" };
    expect(checkFitsJob({ jobId: "job_b", input, model: dense(5, 3) }, { featureShape: [5], numClasses: 3 })).toBe(input);
  });

  it("counts an image's channels: flat or [h, w, c] RGB values fit an RGB job", () => {
    expect(checkFitsJob({ jobId: "job_r", input: rgb, model: dense(2352, 10) }, { featureShape: [2352], numClasses: 10 })).toBe(rgb);
    expect(checkFitsJob({ jobId: "job_r", input: rgb, model: dense(2352, 10) }, { featureShape: [28, 28, 3], numClasses: 10 })).toBe(rgb);
  });

  it("refuses data of another shape, naming the job, its format and the difference", () => {
    expect(() => checkFitsJob({ jobId: "job_c", model: dense(784, 10) }, { featureShape: [4], numClasses: 10 }, "the files in ./mine")).toThrow(
      "data of 4 values and 10 classes per example (the files in ./mine) does not fit job job_c (image 28 x 28 x 1, 10 classes: [28, 28, 1] = 784 values)",
    );
    expect(() => checkFitsJob({ jobId: "job_d", model: dense(784, 10) }, { featureShape: [784], numClasses: 2 })).toThrow(/does not fit job job_d/);
  });

  it("refuses grey values for an RGB job, and the right count laid out in another shape", () => {
    expect(() => checkFitsJob({ jobId: "job_e", input: rgb, model: dense(2352, 10) }, { featureShape: [28, 28, 1], numClasses: 10 }, "the demo digits")).toThrow(
      "data of [28, 28, 1] = 784 values and 10 classes per example (the demo digits) does not fit job job_e (image 28 x 28 x 3, 10 classes: [28, 28, 3] = 2352 values)",
    );
    expect(() => checkFitsJob({ jobId: "job_f", input: rgb, model: dense(2352, 10) }, { featureShape: [3, 28, 28], numClasses: 10 })).toThrow(/\[3, 28, 28\] = 2352 values/);
  });
});
