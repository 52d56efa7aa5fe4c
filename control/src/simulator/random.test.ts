import { describe, expect, it } from "vitest";
import { exponential, logNormal, seededRandom } from "./random.js";

describe("seededRandom", () => {
  it("repeats its sequence for a seed and stream, and differs across seeds and streams", () => {
    const draw = (seed: number, stream = 0) => Array.from({ length: 5 }, seededRandom(seed, stream));
    expect(draw(1)).toEqual(draw(1));
    expect(draw(2)).not.toEqual(draw(1));
    expect(draw(1, 1)).not.toEqual(draw(1));
  });

  it("is uniform in [0, 1), and its exponential and log-normal draws have the asked mean and median", () => {
    const random = seededRandom(7);
    const buckets = new Array(10).fill(0);
    for (let i = 0; i < 100_000; i++) buckets[Math.floor(random() * 10)] += 1;
    for (const n of buckets) expect(Math.abs(n - 10_000)).toBeLessThan(500);
    const exp = Array.from({ length: 50_000 }, () => exponential(random, 30));
    expect(Math.abs(exp.reduce((a, b) => a + b) / exp.length - 30)).toBeLessThan(1);
    const ln = Array.from({ length: 50_001 }, () => logNormal(random, 10, 0.8)).sort((a, b) => a - b);
    expect(Math.abs(ln[25_000] - 10)).toBeLessThan(0.3);
  });
});
