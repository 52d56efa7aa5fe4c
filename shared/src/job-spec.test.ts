import { describe, expect, it } from "vitest";
import { constraintsSchema, jobSpecSchema, type JobSpecInput } from "./job-spec.js";

const base: JobSpecInput = {
  name: "unit",
  model: { format: "tfjs-layers", topology: {}, weightSpecs: [{ name: "w", shape: [2], dtype: "float32" }] },
  plan: { rounds: 2, clientsPerRound: 2, localEpochs: 1 },
};

describe("job spec scheduling fields", () => {
  it("leaves a spec without them as it was", () => {
    const spec = jobSpecSchema.parse(base);
    expect("constraints" in spec || "privateConstraints" in spec || "priority" in spec).toBe(false);
  });

  it("accepts numeric bounds, value sets and a priority", () => {
    const spec = jobSpecSchema.parse({
      ...base,
      constraints: { ram_gb: { min: 4 }, android_os: { min: 7, max: 14 }, platform: { in: ["android", "web"] } },
      privateConstraints: { dataset_size: { min: 100 } },
      priority: 2,
    });
    expect(spec.constraints?.android_os).toEqual({ min: 7, max: 14 });
    expect(spec.privateConstraints).toEqual({ dataset_size: { min: 100 } });
    expect(spec.priority).toBe(2);
  });

  it("refuses empty, inverted, mixed or unknown constraint forms", () => {
    for (const bad of [
      { ram_gb: {} },
      { ram_gb: { min: 8, max: 4 } },
      { ram_gb: { min: 4, in: [4] } },
      { ram_gb: { at_least: 4 } },
      { platform: { in: [] } },
      { ram_gb: { min: Number.NaN } },
    ]) {
      expect(constraintsSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });

  it("refuses a priority that is not positive", () => {
    expect(jobSpecSchema.safeParse({ ...base, priority: 0 }).success).toBe(false);
  });
});
