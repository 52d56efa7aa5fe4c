import { describe, expect, it } from "vitest";
import { mulberry32 } from "./random.js";
import { splitByLabel } from "./partition.js";

/** 10,000 labels of 10 classes with uneven class sizes, like the MNIST package's. */
const random = mulberry32(99);
const labels = Uint8Array.from({ length: 10_000 }, () => Math.min(9, Math.floor(random() * 10.3)));

const countsOf = (rows: Uint32Array) => {
  const counts = new Array(10).fill(0);
  for (const row of rows) counts[labels[row]] += 1;
  return counts;
};

describe("splitByLabel", () => {
  it("is deterministic for a seed and changes with it", () => {
    const a = splitByLabel(labels, 10, { shards: 8, seed: 1 });
    const b = splitByLabel(labels, 10, { shards: 8, seed: 1 });
    const c = splitByLabel(labels, 10, { shards: 8, seed: 2 });
    expect(b).toEqual(a);
    expect(c.shards.map((s) => s.primaryClasses)).not.toEqual(a.shards.map((s) => s.primaryClasses));
  });

  it("holds out the same test set for every seed and shard count", () => {
    const a = splitByLabel(labels, 10, { shards: 8, seed: 1 });
    const b = splitByLabel(labels, 10, { shards: 3, seed: 5 });
    expect(a.test).toHaveLength(2000);
    expect(b.test).toEqual(a.test);
    expect(splitByLabel(labels, 10, { shards: 8, seed: 1, testSize: 500 }).test).toHaveLength(500);
  });

  it("gives disjoint, equal-sized shards that never touch the test set", () => {
    const { test, shards } = splitByLabel(labels, 10, { shards: 8, seed: 3 });
    const seen = new Set<number>(test);
    let repeated = 0;
    for (const shard of shards) {
      expect(shard.rows).toHaveLength(shards[0].rows.length);
      for (const row of shard.rows) {
        if (seen.has(row)) repeated += 1;
        seen.add(row);
      }
    }
    expect(repeated).toBe(0);
    expect(shards[0].rows.length * 8).toBeGreaterThan(0.75 * 8000); // most of the pool is used
  });

  it("draws 80 % of each shard from its two classes and spreads the rest", () => {
    for (const shards of [1, 5, 8, 20]) {
      const split = splitByLabel(labels, 10, { shards, seed: 4 });
      for (const shard of split.shards) {
        const counts = countsOf(shard.rows);
        expect(counts).toEqual(shard.classCounts);
        const [a, b] = shard.primaryClasses;
        expect(a).not.toBe(b);
        expect(Math.abs((counts[a] + counts[b]) / shard.rows.length - 0.8)).toBeLessThan(0.01);
        const others = counts.filter((_, c) => c !== a && c !== b);
        expect(Math.max(...others) - Math.min(...others)).toBeLessThanOrEqual(1);
      }
    }
  });

  it("spreads primary classes evenly: five shards cover all ten digits", () => {
    const split = splitByLabel(labels, 10, { shards: 5, seed: 6 });
    expect(split.shards.flatMap((s) => s.primaryClasses).sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("honours primaryFraction", () => {
    const split = splitByLabel(labels, 10, { shards: 4, seed: 1, primaryFraction: 1 });
    for (const shard of split.shards) expect(shard.classCounts.filter((n) => n > 0)).toHaveLength(2);
  });

  it("rejects impossible requests", () => {
    expect(() => splitByLabel(labels, 10, { shards: 0, seed: 1 })).toThrow(RangeError);
    expect(() => splitByLabel(labels, 10, { shards: 9000, seed: 1 })).toThrow(RangeError);
    expect(() => splitByLabel(labels, 10, { shards: 2, seed: 1, primaryFraction: 1.5 })).toThrow(RangeError);
    expect(() => splitByLabel(labels, 10, { shards: 2, seed: 1, testSize: 10_000 })).toThrow(RangeError);
  });
});
