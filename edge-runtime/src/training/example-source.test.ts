import { describe, expect, it } from "vitest";
import type { InputFormat } from "@propius/shared";
import { ConvertedExamples, FixedExamples, formatKey } from "./example-source.js";

const dense = (inputs: number, classes: number) => ({ format: "tfjs-layers" as const, topology: {}, weightSpecs: [{ name: "k", shape: [inputs, classes], dtype: "float32" as const }, { name: "b", shape: [classes], dtype: "float32" as const }] });
const grey = { kind: "image" as const, width: 2, height: 2, channels: 1, classes: 2 };

/** A source that records the formats it was asked to convert to, and fails for tabular ones. */
function recording(): { source: ConvertedExamples; asked: InputFormat[] } {
  const asked: InputFormat[] = [];
  const source = new ConvertedExamples(3, "the files in ./mine", async (format) => {
    asked.push(format);
    if (format.kind === "tabular") throw new Error("give CSV files");
    return { data: { x: new Float32Array(3 * format.width * format.height * format.channels), y: new Float32Array(6), count: 3, featureShape: [format.height, format.width, format.channels], numClasses: 2 }, description: "3 images" };
  });
  return { source, asked };
}

describe("a device's examples for each job", () => {
  it("converts once per format: jobs of one format share the examples", async () => {
    const { source, asked } = recording();
    const a = await source.forTask({ jobId: "job_a", input: grey, model: dense(4, 2) });
    const b = await source.forTask({ jobId: "job_b", model: dense(4, 2) }); // the same format, told by the weights
    const rgb = await source.forTask({ jobId: "job_c", input: { ...grey, channels: 3 }, model: dense(12, 2) });
    expect(b.data).toBe(a.data);
    expect(rgb.data.featureShape).toEqual([2, 2, 3]);
    expect(asked).toHaveLength(2);
    expect(a).toMatchObject({ format: grey, description: "3 images" });
  });

  it("names the job and its format when the files cannot give it, for every job that asks", async () => {
    const { source } = recording();
    const table = { kind: "tabular" as const, features: 4, classes: 2, labelColumn: "label" };
    await expect(source.forTask({ jobId: "job_d", input: table, model: dense(4, 2) })).rejects.toThrow(
      "the files in ./mine does not fit job job_d (tabular, 4 features, 2 classes, labels in column 'label'): give CSV files",
    );
    await expect(source.forTask({ jobId: "job_e", input: table, model: dense(4, 2) })).rejects.toThrow(/does not fit job job_e/);
    await expect(source.forTask({ jobId: "job_f", model: { format: "tfjs-layers", topology: {}, weightSpecs: [] } })).rejects.toThrow(/^the files in \.\/mine does not fit job job_f: the job gives no input format/);
  });

  it("gives fixed examples only to jobs of their own size and classes", async () => {
    const demo = new FixedExamples({ x: new Float32Array(4), y: Float32Array.of(0, 1), count: 1, featureShape: [4], numClasses: 2 }, "the demo digits", "demo shard 1 of 2");
    expect(demo.count).toBe(1);
    expect((await demo.forTask({ jobId: "job_g", model: dense(4, 2) })).description).toBe("image 2 x 2 x 1, 2 classes: demo shard 1 of 2");
    await expect(demo.forTask({ jobId: "job_h", model: dense(9, 2) })).rejects.toThrow(/\(the demo digits\) does not fit job job_h/);
  });

  it("tells formats apart by everything that changes an example", () => {
    const keys = new Set([grey, { ...grey, channels: 3 }, { ...grey, labels: ["a", "b"] }, { ...grey, width: 3 }].map(formatKey));
    expect(keys.size).toBe(4);
    expect(formatKey({ classes: 2, channels: 1, height: 2, width: 2, kind: "image" })).toBe(formatKey(grey));
  });
});
