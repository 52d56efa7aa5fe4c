import { describe, expect, it } from "vitest";
import { DemoExamples, FileExamples } from "./job-examples.js";

const csv = (text: string) => ({ name: "a.csv", type: "text/csv", bytes: new TextEncoder().encode(text).buffer as ArrayBuffer });
const dense = (inputs: number, classes: number) => ({ format: "tfjs-layers" as const, topology: {}, weightSpecs: [{ name: "k", shape: [inputs, classes], dtype: "float32" as const }, { name: "b", shape: [classes], dtype: "float32" as const }] });

describe("a tab's examples for each job", () => {
  it("turns the same files into each job's format, once per format", async () => {
    const files = new FileExamples([csv("label,a,b,c,d\n1,0,0,0,1\n0,1,0,0,0\n")]);
    expect(files.count).toBe(2);
    const image = await files.forTask({ jobId: "job_a", model: dense(4, 2) });
    expect(image.description).toBe("image 2 x 2 x 1, 2 classes: 2 examples from 1 CSV file");
    expect((await files.forTask({ jobId: "job_a", model: dense(4, 2) })).data).toBe(image.data);
    expect((await files.forTask({ jobId: "job_z", input: { kind: "image", width: 2, height: 2, channels: 1, classes: 2 }, model: dense(4, 2) })).data).toBe(image.data);
    const table = await files.forTask({ jobId: "job_b", model: dense(4, 3), input: { kind: "tabular", features: 4, classes: 3, labelColumn: "label" } });
    expect(table.format.kind).toBe("tabular");
    expect(table.data).not.toBe(image.data);
  });

  it("refuses a job whose format the files cannot fit, naming the job and its format", async () => {
    const files = new FileExamples([csv("label,a,b\n1,0,1\n")]);
    await expect(files.forTask({ jobId: "job_c", model: dense(784, 10), input: { kind: "image", width: 28, height: 28, channels: 1, classes: 10 } })).rejects.toThrow(
      "this tab's data does not fit job job_c (image 28 x 28 x 1, 10 classes): example 1 has 2 features; the job expects 784",
    );
  });

  it("gives the demo shard only to jobs of its own size and classes", async () => {
    const demo = new DemoExamples({ x: new Float32Array(4), y: Float32Array.of(0, 1), count: 1, featureShape: [4], numClasses: 2 }, "demo shard 1 of 2");
    expect((await demo.forTask({ jobId: "job_d", model: dense(4, 2) })).description).toBe("image 2 x 2 x 1, 2 classes: demo shard 1 of 2");
    await expect(demo.forTask({ jobId: "job_e", model: dense(9, 2) })).rejects.toThrow("data of 4 values and 2 classes per example (the demo digits) does not fit job job_e (image 3 x 3 x 1, 2 classes: [3, 3, 1] = 9 values)");
  });
});
