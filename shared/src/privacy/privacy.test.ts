import { describe, expect, it } from "vitest";
import { jobSpecSchema } from "../job-spec.js";
import { addGaussianNoise, cryptoUniform } from "./gaussian-noise.js";
import { sumNoiseMultiplier } from "./privacy.js";
import { gaussianEpsilon } from "./rdp-accountant.js";

describe("the RDP accountant of the Gaussian mechanism", () => {
  it("gives the closed-form optimum T / (2 z^2) + sqrt(2 T log(1 / delta)) / z to within the grid's spacing", () => {
    for (const [z, rounds] of [[1, 1], [1, 10], [2, 100], [5, 1000]]) {
      const closedForm = rounds / (2 * z * z) + Math.sqrt(2 * rounds * Math.log(1e5)) / z;
      const epsilon = gaussianEpsilon(z, rounds, 1e-5);
      expect(epsilon).toBeGreaterThanOrEqual(closedForm - 1e-9);
      expect(epsilon).toBeLessThan(closedForm * 1.05);
    }
  });

  it("spends more with more rounds and less with more noise; nothing before a release", () => {
    expect(gaussianEpsilon(1, 0, 1e-5)).toBe(0);
    expect(gaussianEpsilon(1, 5, 1e-5)).toBeGreaterThan(gaussianEpsilon(1, 4, 1e-5));
    expect(gaussianEpsilon(2, 5, 1e-5)).toBeLessThan(gaussianEpsilon(1, 5, 1e-5));
    expect(gaussianEpsilon(1, 1, 1e-5)).toBeCloseTo(5.3, 1);
  });
});

describe("the Gaussian noise", () => {
  it("has mean 0 and the asked standard deviation", () => {
    const values = new Float32Array(200_000);
    addGaussianNoise(values, 3, cryptoUniform());
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    const sd = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length);
    // Standard errors: 3 / sqrt(2e5) = 0.0067 for the mean, about 0.0047 for the deviation.
    expect(Math.abs(mean)).toBeLessThan(0.04);
    expect(Math.abs(sd - 3)).toBeLessThan(0.03);
  });
});

describe("the job spec's privacy", () => {
  const spec = (extra: Record<string, unknown>) => ({
    name: "p", model: { format: "tfjs-layers", topology: {}, weightSpecs: [{ name: "w", shape: [4], dtype: "float32" }] },
    plan: { rounds: 1, clientsPerRound: 40, localEpochs: 1 }, aggregation: { strategy: "fedavg", weighting: "uniform" },
    robustness: { clipping: { mode: "fixed", norm: 1 } }, ...extra,
  });
  const messages = (input: unknown) => jobSpecSchema.safeParse(input).error?.issues.map((i) => i.message) ?? [];

  it("takes a noise multiplier with a norm bound and uniform weighting; delta defaults to 1e-5", () => {
    expect(jobSpecSchema.parse(spec({ privacy: { noiseMultiplier: 1 } })).privacy).toEqual({ noiseMultiplier: 1, delta: 1e-5 });
  });

  it("refuses privacy without a norm bound, with example weights, with a robust estimator, or with too little count noise", () => {
    expect(messages({ ...spec({ privacy: { noiseMultiplier: 1 } }), robustness: {} })).toEqual(["central differential privacy needs a norm bound: give robustness.clipping"]);
    expect(messages({ ...spec({ privacy: { noiseMultiplier: 1 } }), aggregation: { strategy: "fedavg" } })[0]).toMatch(/weighting "uniform"/);
    expect(messages(spec({ privacy: { noiseMultiplier: 1 }, robustness: { clipping: { mode: "fixed", norm: 1 }, estimator: { kind: "median" } } }))[0]).toMatch(/estimator/);
    // Adaptive: the count's noise (40 / 20 = 2) must exceed half the multiplier.
    expect(messages(spec({ privacy: { noiseMultiplier: 1 }, robustness: { clipping: { mode: "adaptive" } } }))).toEqual([]);
    expect(messages(spec({ privacy: { noiseMultiplier: 5 }, robustness: { clipping: { mode: "adaptive" } } }))[0]).toMatch(/countNoiseStddev 2 <= 2.5/);
  });

  it("raises the sum's noise multiplier by what the noised count spends (Andrew et al.)", () => {
    expect(sumNoiseMultiplier(1, null)).toBe(1);
    expect(sumNoiseMultiplier(1, 2)).toBeCloseTo((1 - 1 / 16) ** -0.5, 12);
    expect(sumNoiseMultiplier(1, 0.5)).toBeNull();
  });
});
