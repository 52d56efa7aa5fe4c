import { describe, expect, it } from "vitest";
import { jobSpecSchema } from "../job-spec.js";
import { clipFactor, initialBound, l2Norm, nextBound, scaleInPlace } from "./clipping.js";
import { checkKeptUpdates, KEPT_UPDATES_BUDGET_BYTES } from "./capacity.js";
import { cappedExamples, robustnessSchema } from "./robustness.js";
import { PropiusError } from "../errors.js";

const adaptive = robustnessSchema.parse({ clipping: { mode: "adaptive", initialNorm: 1 } }).clipping!;

describe("norm bounding", () => {
  it("scales an update above the bound down to it and leaves one within it alone", () => {
    const big = Float32Array.from([3e3, 4e3]);
    scaleInPlace(big, clipFactor(l2Norm(big), 10));
    expect(l2Norm(big)).toBeCloseTo(10, 4);
    expect(clipFactor(5, 10)).toBe(1);
    expect(clipFactor(Number.POSITIVE_INFINITY, 10)).toBe(1);
  });

  it("takes the norm of float32 values near their limit without overflowing", () => {
    expect(Number.isFinite(l2Norm(new Float32Array(1000).fill(3e38)))).toBe(true);
  });

  it("moves an adaptive bound geometrically towards the quantile of the round's norms", () => {
    // Every norm within the bound: it shrinks by exp(-0.2 x 0.5); none: it grows by the same factor.
    expect(nextBound(adaptive, 1, { belowBound: 8, count: 8 })).toBeCloseTo(Math.exp(-0.1), 12);
    expect(nextBound(adaptive, 1, { belowBound: 0, count: 8 })).toBeCloseTo(Math.exp(0.1), 12);
    expect(nextBound(adaptive, 2, { belowBound: 4, count: 8 })).toBe(2);
    expect(nextBound(adaptive, 2, { belowBound: 0, count: 0 })).toBe(2);
    // Norms all 5: from 1 the bound climbs to them, then hovers around them.
    let bound = initialBound(adaptive);
    for (let round = 0; round < 40; round++) bound = nextBound(adaptive, bound, { belowBound: 5 <= bound ? 8 : 0, count: 8 });
    expect(bound).toBeGreaterThan(4.5);
    expect(bound).toBeLessThan(5.6);
  });

  it("never moves a fixed bound", () => {
    expect(nextBound({ mode: "fixed", norm: 3 }, 3, { belowBound: 0, count: 8 })).toBe(3);
  });
});

describe("the weight an update may claim", () => {
  it("is capped at maxExamples, 10,000 unless the job says", () => {
    expect(cappedExamples(1e9, robustnessSchema.parse({}))).toBe(10_000);
    expect(cappedExamples(500, robustnessSchema.parse({ maxExamples: 2000 }))).toBe(500);
    expect(cappedExamples(1e9, robustnessSchema.parse({ maxExamples: 2000 }))).toBe(2000);
  });
});

describe("the job spec's robustness", () => {
  const spec = (robustness: unknown, plan: Record<string, unknown> = {}, aggregation: unknown = undefined) => ({
    name: "r", model: { format: "tfjs-layers", topology: {}, weightSpecs: [{ name: "w", shape: [4], dtype: "float32" }] },
    plan: { rounds: 1, clientsPerRound: 4, localEpochs: 1, ...plan }, ...(aggregation ? { aggregation } : {}), robustness,
  });

  it("defaults to the cap and the mean, and names a misspelt field", () => {
    expect(jobSpecSchema.parse(spec(undefined)).robustness).toEqual({ maxExamples: 10_000, estimator: { kind: "mean" } });
    const bad = jobSpecSchema.safeParse(spec({ clip: {} }));
    expect(bad.error?.issues[0].message).toMatch(/robustness\.clip is not a field; did you mean robustness\.clipping\?/);
  });

  it("refuses an estimator that keeps updates with fedbuff or top-k deltas", () => {
    expect(jobSpecSchema.safeParse(spec({ estimator: { kind: "median" } }, {}, { strategy: "fedbuff" })).error?.issues[0].message).toMatch(/synchronous rounds/);
    expect(jobSpecSchema.safeParse(spec({ estimator: { kind: "median" } }, { deltaTopK: 0.1 })).error?.issues[0].message).toMatch(/deltaTopK/);
    expect(jobSpecSchema.safeParse(spec({ estimator: { kind: "median" } })).success).toBe(true);
  });

  it("refuses a job whose updates one shard cannot hold, with the figures", () => {
    const median = robustnessSchema.parse({ estimator: { kind: "median" } });
    expect(() => checkKeptUpdates(median, 1_000_000, { clientsPerRound: 16, overCommit: 1 })).not.toThrow();
    let error: unknown;
    try {
      checkKeptUpdates(median, 1_000_000, { clientsPerRound: 16, overCommit: 1.3 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PropiusError);
    expect((error as PropiusError).code).toBe("aggregation_too_large");
    expect((error as PropiusError).status).toBe(422);
    expect((error as PropiusError).details).toEqual({ parameters: 1_000_000, devicesPerRound: 21, bytes: 84_000_000, limitBytes: KEPT_UPDATES_BUDGET_BYTES, maxDevicesPerRound: 16 });
    expect((error as PropiusError).message).toMatch(/21 devices x 1000000 parameters x 4 bytes = 80\.1 MiB, over the 64\.0 MiB/);
    // The mean keeps no update: any size goes.
    expect(() => checkKeptUpdates(robustnessSchema.parse({}), 1e9, { clientsPerRound: 1000, overCommit: 2 })).not.toThrow();
  });
});
