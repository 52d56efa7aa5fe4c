import { describe, expect, it } from "vitest";
import { mulberry32 } from "./random.js";
import { splitByLabel, type Split } from "./partition.js";

/** 10,000 labels of 10 classes with uneven class sizes, like the MNIST package's. */
const random = mulberry32(99);
const labels = Uint8Array.from({ length: 10_000 }, () => Math.min(9, Math.floor(random() * 10.3)));

const countsOf = (rows: Uint32Array) => {
  const counts = new Array(10).fill(0);
  for (const row of rows) counts[labels[row]] += 1;
  return counts;
};
const primaryShare = (shard: Split["shards"][number]) =>
  (shard.classCounts[shard.primaryClasses[0]] + shard.classCounts[shard.primaryClasses[1]]) / shard.rows.length;

describe("splitByLabel", () => {
  it("is deterministic for a seed and changes with it", () => {
    const a = splitByLabel(labels, 10, { shards: 8, seed: 1 });
    const b = splitByLabel(labels, 10, { shards: 8, seed: 1 });
    const c = splitByLabel(labels, 10, { shards: 8, seed: 2 });
    expect(b).toEqual(a);
    expect(c.shards.map((s) => s.primaryClasses)).not.toEqual(a.shards.map((s) => s.primaryClasses));
    expect(c.shards[0].rows).not.toEqual(a.shards[0].rows);
  });

  it("holds out the same test set for every seed and shard count", () => {
    const a = splitByLabel(labels, 10, { shards: 8, seed: 1 });
    const b = splitByLabel(labels, 10, { shards: 3, seed: 5 });
    expect(a.test).toHaveLength(2000);
    expect(b.test).toEqual(a.test);
    expect(splitByLabel(labels, 10, { shards: 8, seed: 1, testSize: 500 }).test).toHaveLength(500);
  });

  it("places every sample exactly once: in the test set or in one shard", () => {
    for (const [shards, primaryFraction] of [[1, 0.8], [3, 0.8], [8, 0.8], [8, 1], [10, 0.5], [20, 0.8], [64, 0.9]] as const) {
      const { test, shards: split } = splitByLabel(labels, 10, { shards, seed: 3, primaryFraction });
      const seen = new Uint8Array(labels.length);
      for (const row of test) seen[row] += 1;
      for (const shard of split) for (const row of shard.rows) seen[row] += 1;
      expect(split).toHaveLength(shards);
      expect(seen.every((n) => n === 1)).toBe(true);
    }
  });

  it("gives shards whose sizes differ by at most a few samples", () => {
    for (const shards of [2, 5, 8, 13, 20]) {
      const sizes = splitByLabel(labels, 10, { shards, seed: 4 }).shards.map((s) => s.rows.length);
      expect(sizes.reduce((s, n) => s + n, 0)).toBe(8000);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(10);
    }
  });

  it("draws most of each shard from its two classes and lists its counts truthfully", () => {
    for (const shards of [5, 8, 10, 20]) {
      const split = splitByLabel(labels, 10, { shards, seed: 4 });
      for (const shard of split.shards) {
        expect(countsOf(shard.rows)).toEqual(shard.classCounts);
        const [a, b] = shard.primaryClasses;
        expect(a).not.toBe(b);
        expect(primaryShare(shard)).toBeGreaterThan(0.7);
        // The other eight classes together stay a minority, and none comes close to a primary one.
        const others = shard.classCounts.filter((_, c) => c !== a && c !== b);
        expect(Math.max(...others)).toBeLessThan(Math.min(shard.classCounts[a], shard.classCounts[b]) / 3);
      }
    }
  });

  it("spreads primary classes evenly: five shards cover all ten digits", () => {
    const split = splitByLabel(labels, 10, { shards: 5, seed: 6 });
    expect(split.shards.flatMap((s) => s.primaryClasses).sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("honours primaryFraction, as far as equal shard sizes allow", () => {
    const mean = (split: Split) => split.shards.reduce((s, shard) => s + primaryShare(shard), 0) / split.shards.length;
    // Classes differ in size, so the shards of the smaller ones fill up with what the larger ones have left.
    const pure = splitByLabel(labels, 10, { shards: 5, seed: 1, primaryFraction: 1 });
    expect(mean(pure)).toBeGreaterThan(0.95);
    const mild = splitByLabel(labels, 10, { shards: 8, seed: 1, primaryFraction: 0.3 });
    const strong = splitByLabel(labels, 10, { shards: 8, seed: 1, primaryFraction: 0.9 });
    expect(mean(mild)).toBeLessThan(0.45);
    expect(mean(strong)).toBeGreaterThan(0.8);
  });

  it("rejects impossible requests", () => {
    expect(() => splitByLabel(labels, 10, { shards: 0, seed: 1 })).toThrow(RangeError);
    expect(() => splitByLabel(labels, 10, { shards: 9000, seed: 1 })).toThrow(RangeError);
    expect(() => splitByLabel(labels, 10, { shards: 2, seed: 1, primaryFraction: 1.5 })).toThrow(RangeError);
    expect(() => splitByLabel(labels, 10, { shards: 2, seed: 1, testSize: 10_000 })).toThrow(RangeError);
  });
});
