import { describe, expect, it } from "vitest";
import { jobSpecSchema, type JobSpecInput } from "./job-spec.js";
import { random } from "./codecs/test-random.js";

const valid: JobSpecInput = {
  name: "generated",
  model: { format: "tfjs-layers", topology: {}, weightSpecs: [{ name: "dense/kernel", shape: [4, 3], dtype: "float32" }] },
  plan: { rounds: 2, clientsPerRound: 2, localEpochs: 1, optimizer: { name: "adam" } },
  aggregation: { strategy: "fedadam" },
  input: { kind: "tabular", features: 4, classes: 3 },
  constraints: { ram_gb: { min: 2 } },
  evaluation: { everyRounds: 1 },
};

/** The paths of the plain objects in `value` whose keys the schema fixes (not the free-form records). */
function objectPaths(value: unknown, path: string[] = []): string[][] {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return [];
  const free = ["topology", "constraints", "data"].includes(path.at(-1) ?? "");
  const here = free ? [] : [path];
  return [...here, ...Object.entries(value).flatMap(([k, v]) => objectPaths(v, [...path, k]))];
}

const junk = [0, -1, 1e308, "x", "", true, null, [], {}, [1, "a"], { nested: { deeper: 1 } }];

describe("job specs generated from a valid one", () => {
  it("parses the valid spec it starts from", () => {
    expect(jobSpecSchema.safeParse(valid).success).toBe(true);
  });

  it("refuses any key added at any depth, naming its whole path", () => {
    const rand = random(2026);
    const paths = objectPaths(valid);
    for (let i = 0; i < 400; i++) {
      const spec = structuredClone(valid) as Record<string, unknown>;
      const path = paths[Math.floor(rand() * paths.length)];
      const target = path.reduce<Record<string, unknown>>((o, k) => o[k] as Record<string, unknown>, spec);
      const key = `k${Math.floor(rand() * 1e6).toString(36)}`;
      target[key] = junk[Math.floor(rand() * junk.length)];
      const result = jobSpecSchema.safeParse(spec);
      expect(result.success, JSON.stringify(spec)).toBe(false);
      expect(result.error!.issues.map((issue) => issue.message).join("; ")).toContain([...path, key].join("."));
    }
  });

  it("blames any bad value put at any field on that field", () => {
    const rand = random(7);
    const paths = objectPaths(valid).filter((p) => p.length > 0);
    for (let i = 0; i < 400; i++) {
      const spec = structuredClone(valid) as Record<string, unknown>;
      const path = paths[Math.floor(rand() * paths.length)];
      const parent = path.slice(0, -1).reduce<Record<string, unknown>>((o, k) => o[k] as Record<string, unknown>, spec);
      parent[path.at(-1)!] = junk[Math.floor(rand() * junk.length)];
      const result = jobSpecSchema.safeParse(spec);
      if (result.success) continue;
      const blamed = result.error.issues.map((issue) => issue.path.map(String).join("."));
      // The changed field, or the object that holds it.
      expect(blamed.some((p) => p !== "" && (p.startsWith(path.join(".")) || path.join(".").startsWith(p))), `${path.join(".")}: ${blamed.join(", ")}`).toBe(true);
    }
  });
});
