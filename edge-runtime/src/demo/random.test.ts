import { describe, expect, it } from "vitest";
import { mulberry32, permutation, shuffle } from "./random.js";

describe("mulberry32", () => {
  it("repeats its sequence for a seed and differs across seeds", () => {
    const a = mulberry32(1);
    const b = mulberry32(1);
    const c = mulberry32(2);
    const first = Array.from({ length: 5 }, a);
    expect(Array.from({ length: 5 }, b)).toEqual(first);
    expect(Array.from({ length: 5 }, c)).not.toEqual(first);
  });

  it("gives known values (stable across platforms and releases)", () => {
    const random = mulberry32(42);
    expect([random(), random(), random()].map((v) => v.toFixed(8))).toEqual(["0.60110375", "0.44829056", "0.85246579"]);
  });

  it("is roughly uniform in [0, 1)", () => {
    const random = mulberry32(7);
    const buckets = new Array(10).fill(0);
    let outOfRange = 0;
    for (let i = 0; i < 100_000; i++) {
      const v = random();
      if (!(v >= 0 && v < 1)) outOfRange += 1;
      else buckets[Math.floor(v * 10)] += 1;
    }
    expect(outOfRange).toBe(0);
    for (const n of buckets) expect(Math.abs(n - 10_000)).toBeLessThan(500);
  });
});

describe("shuffle and permutation", () => {
  it("permute without losing or repeating items", () => {
    const p = permutation(1000, mulberry32(3));
    expect([...p].sort((x, y) => x - y)).toEqual([...Array(1000).keys()]);
    expect([...p.subarray(0, 10)]).not.toEqual([...Array(10).keys()]);
    const items = ["a", "b", "c", "d"];
    expect(shuffle([...items], mulberry32(3)).sort()).toEqual(items);
  });
});
