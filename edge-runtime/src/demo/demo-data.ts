import type { LocalData } from "../training/local-data.js";
import { CLASSES, loadDigits, PIXELS, type Digits } from "./mnist.js";
import { DEFAULT_TEST_SIZE, splitByLabel, type Split, type SplitOptions } from "./partition.js";

/** Which demo shard to load: shard `index` of `shards`, partitioned with `seed`. */
export interface DemoShardOptions extends SplitOptions {
  index: number;
}

/** A shard's class mix, for logs. */
export interface ShardInfo {
  index: number;
  shards: number;
  seed: number;
  count: number;
  primaryClasses: [number, number];
  /** Samples per digit 0-9. */
  classCounts: number[];
  /** One line, e.g. "shard 2/8 (seed 1): 1000 digits, 80% digits 0+3; per digit 0:401 1:63 …". */
  summary: string;
}

const splits = new Map<string, Split>();

async function splitFor(options: SplitOptions): Promise<{ digits: Digits; split: Split }> {
  const digits = await loadDigits();
  const key = JSON.stringify([options.shards, options.seed, options.primaryFraction, options.testSize]);
  let split = splits.get(key);
  if (!split) {
    split = splitByLabel(digits.labels, CLASSES, options);
    splits.set(key, split);
  }
  return { digits, split };
}

function shardOf(split: Split, options: DemoShardOptions) {
  const { index, shards } = options;
  if (!Number.isInteger(index) || index < 0 || index >= shards) throw new RangeError(`shard index must be in 0..${shards - 1}`);
  return split.shards[index];
}

/** Copies the given digits into LocalData (flat 784-pixel features, one-hot labels). */
function toLocalData(digits: Digits, rows: Uint32Array): LocalData {
  const x = new Float32Array(rows.length * PIXELS);
  const y = new Float32Array(rows.length * CLASSES);
  rows.forEach((row, i) => {
    x.set(digits.x.subarray(row * PIXELS, (row + 1) * PIXELS), i * PIXELS);
    y[i * CLASSES + digits.labels[row]] = 1;
  });
  return { x, y, count: rows.length, featureShape: [PIXELS], numClasses: CLASSES };
}

/**
 * One client's non-IID share of the MNIST training digits (see `splitByLabel`): disjoint from
 * the other shards of the same `shards` and `seed`, and from the test set.
 */
export async function demoShard(options: DemoShardOptions): Promise<LocalData> {
  const { digits, split } = await splitFor(options);
  return toLocalData(digits, shardOf(split, options).rows);
}

/** The held-out test digits (2,000 by default), the same whatever the partition seed. */
export async function demoTestSet(options: { testSize?: number } = {}): Promise<LocalData> {
  const { digits, split } = await splitFor({ shards: 1, seed: 0, testSize: options.testSize ?? DEFAULT_TEST_SIZE });
  return toLocalData(digits, split.test);
}

/**
 * Every training digit (the 8,000 outside the test set by default), the union of the shards of
 * any partition: what a centralized baseline trains on.
 */
export async function demoTrainingSet(options: { testSize?: number } = {}): Promise<LocalData> {
  const { digits, split } = await splitFor({ shards: 1, seed: 0, testSize: options.testSize ?? DEFAULT_TEST_SIZE });
  return toLocalData(digits, split.shards[0].rows);
}

/** Describes a shard's class mix without copying its data. */
export async function describeShard(options: DemoShardOptions): Promise<ShardInfo> {
  const { split } = await splitFor(options);
  const shard = shardOf(split, options);
  const count = shard.rows.length;
  const [a, b] = shard.primaryClasses;
  const primaryShare = Math.round((100 * (shard.classCounts[a] + shard.classCounts[b])) / count);
  const perDigit = shard.classCounts.map((n, digit) => `${digit}:${n}`).join(" ");
  return {
    index: options.index,
    shards: options.shards,
    seed: options.seed,
    count,
    primaryClasses: shard.primaryClasses,
    classCounts: shard.classCounts,
    summary: `shard ${options.index}/${options.shards} (seed ${options.seed}): ${count} digits, ${primaryShare}% digits ${a}+${b}; per digit ${perDigit}`,
  };
}
