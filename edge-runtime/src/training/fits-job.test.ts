import { describe, expect, it } from "vitest";
import { checkFitsJob } from "./fits-job.js";

const dense = (inputs: number, classes: number) => ({
  format: "tfjs-layers" as const, topology: {},
  weightSpecs: [
    { name: "d/kernel", shape: [inputs, classes], dtype: "float32" as const },
    { name: "d/bias", shape: [classes], dtype: "float32" as const },
  ],
});

describe("checkFitsJob", () => {
  it("accepts data of the job's values and classes, from the spec's input or the model's weights", () => {
    expect(checkFitsJob({ jobId: "job_a", model: dense(784, 10) }, { featureShape: [784], numClasses: 10 })).toEqual({ kind: "image", width: 28, height: 28, channels: 1, classes: 10 });
    const input = { kind: "tabular" as const, features: 5, classes: 3, labelColumn: "y" };
    expect(checkFitsJob({ jobId: "job_b", input, model: dense(5, 3) }, { featureShape: [5], numClasses: 3 })).toBe(input);
  });

  it("refuses data of another shape, naming the job, its format and the difference", () => {
    expect(() => checkFitsJob({ jobId: "job_c", model: dense(784, 10) }, { featureShape: [4], numClasses: 10 }, "the files in ./mine")).toThrow(
      "data of 4 values and 10 classes per example (the files in ./mine) does not fit job job_c (image 28 x 28 x 1, 10 classes)",
    );
    expect(() => checkFitsJob({ jobId: "job_d", model: dense(784, 10) }, { featureShape: [784], numClasses: 2 })).toThrow(/does not fit job job_d/);
  });
});
