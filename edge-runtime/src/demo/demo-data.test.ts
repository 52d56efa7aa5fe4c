import { describe, expect, it } from "vitest";
import { demoShard, demoTestSet, demoTrainingSet, describeShard } from "./demo-data.js";
import { loadDigits } from "./mnist.js";

const labelsOf = (y: Float32Array) => Array.from({ length: y.length / 10 }, (_, i) => y.subarray(i * 10, i * 10 + 10).indexOf(1));

/** A cheap fingerprint of each 784-pixel image. */
const imageKeys = (x: Float32Array, count: number) =>
  Array.from({ length: count }, (_, i) => x.subarray(i * 784, i * 784 + 784).reduce((key, v, j) => key + v * (j + 1) * (j % 7 + 1), 0));

// Parsing the package's 21 MB of JSON takes ~2 s on an idle machine; the timeout allows for busy ones.
describe("MNIST demo data", { timeout: 300_000 }, () => {
  it("loads the package's 10,000 real digits once", async () => {
    const digits = await loadDigits();
    expect(await loadDigits()).toBe(digits);
    expect(digits.count).toBe(10_000);
    expect(digits.x).toHaveLength(10_000 * 784);
    expect(Math.min(...digits.x.subarray(0, 784 * 50))).toBe(0);
    expect(Math.max(...digits.x.subarray(0, 784 * 50))).toBeLessThanOrEqual(1);
    const perDigit = new Array(10).fill(0);
    for (const label of digits.labels) perDigit[label] += 1;
    for (const n of perDigit) expect(n).toBeGreaterThan(800);
  });

  it("gives a shard as LocalData matching its description", async () => {
    const shard = await demoShard({ index: 2, shards: 8, seed: 1 });
    const info = await describeShard({ index: 2, shards: 8, seed: 1 });
    expect(shard.featureShape).toEqual([784]);
    expect(shard.numClasses).toBe(10);
    expect(shard.count).toBe(info.count);
    expect(shard.x).toHaveLength(shard.count * 784);
    const counts = new Array(10).fill(0);
    for (const label of labelsOf(shard.y)) counts[label] += 1;
    expect(counts).toEqual(info.classCounts);
    expect(info.summary).toMatch(/^shard 2\/8 \(seed 1\): \d+ digits, \d+% digits \d\+\d; per digit 0:\d+/);
  });

  it("keeps the test set fixed and apart from the shards", async () => {
    const test = await demoTestSet();
    expect(test.count).toBe(2000);
    expect(new Set(labelsOf(test.y)).size).toBe(10);
    const testImages = new Set(imageKeys(test.x, test.count));
    const shard = await demoShard({ index: 0, shards: 8, seed: 3 });
    const shared = imageKeys(shard.x, shard.count).filter((key) => testImages.has(key));
    expect(shared.length).toBeLessThan(3); // only images that MNIST itself holds twice could match
    const again = await demoTestSet();
    expect(imageKeys(again.x, again.count)).toEqual(imageKeys(test.x, test.count));
  });

  it("shares out all 8,000 training digits: the shards of a split together are the training set", async () => {
    const train = await demoTrainingSet();
    expect(train.count).toBe(8000);
    const shards = await Promise.all(Array.from({ length: 8 }, (_, index) => demoShard({ index, shards: 8, seed: 1 })));
    expect(shards.reduce((n, shard) => n + shard.count, 0)).toBe(8000);
    const sorted = (keys: number[]) => keys.sort((a, b) => a - b);
    const fromShards = sorted(shards.flatMap((shard) => imageKeys(shard.x, shard.count)));
    expect(fromShards).toEqual(sorted(imageKeys(train.x, train.count)));
  });

  it("rejects a shard index out of range", async () => {
    await expect(demoShard({ index: 8, shards: 8, seed: 1 })).rejects.toThrow(RangeError);
  });
});
