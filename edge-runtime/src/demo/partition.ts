import { mulberry32, permutation, shuffle, type Random } from "./random.js";

/**
 * A deterministic split of labelled samples into a held-out test set and non-IID client shards.
 * Pure: works on labels only (see demo-data.ts for the MNIST shards themselves).
 */

/** How to split; `shards` and `seed` choose the clients, the test set depends on `testSize` only. */
export interface SplitOptions {
  shards: number;
  seed: number;
  /** Fraction of each shard drawn from its two primary classes (default 0.8). */
  primaryFraction?: number;
  /** Size of the held-out test set (default 2,000). */
  testSize?: number;
}

/** One client's share: disjoint from every other shard and from the test set. */
export interface ShardSplit {
  /** Sample indexes, in a seeded random order. */
  rows: Uint32Array;
  /** The two classes this shard holds mostly. */
  primaryClasses: [number, number];
  /** Samples per class. */
  classCounts: number[];
}

export interface Split {
  test: Uint32Array;
  shards: ShardSplit[];
}

export const DEFAULT_TEST_SIZE = 2000;
export const DEFAULT_PRIMARY_FRACTION = 0.8;
/** Fixed seed of the test-set draw, so that every partition seed is evaluated on the same digits. */
const TEST_SEED = 0x7e57;

/**
 * Primary classes: clients take disjoint pairs from a seeded permutation of the classes, a fresh
 * permutation for every `classes / 2` clients, so that no class is primary for many more clients
 * than another.
 */
function primaryPairs(shards: number, classes: number, random: Random): [number, number][] {
  const perCycle = Math.floor(classes / 2);
  const pairs: [number, number][] = [];
  let order = permutation(classes, random);
  for (let i = 0; i < shards; i++) {
    const slot = i % perCycle;
    if (slot === 0 && i > 0) order = permutation(classes, random);
    pairs.push([order[2 * slot], order[2 * slot + 1]]);
  }
  return pairs;
}

/** Per-class counts of a shard of `size` samples: `fraction` from its pair, the rest spread evenly. */
function shardCounts(size: number, pair: [number, number], fraction: number, classes: number, rotate: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  const primaryEach = Math.round((size * fraction) / 2);
  counts[pair[0]] = primaryEach;
  counts[pair[1]] = primaryEach;
  const others = [...Array(classes).keys()].filter((c) => !pair.includes(c));
  const rest = size - 2 * primaryEach;
  others.forEach((c, j) => {
    counts[c] = Math.floor(rest / others.length) + ((j + rotate) % others.length < rest % others.length ? 1 : 0);
  });
  return counts;
}

/**
 * Splits samples (given by their class labels) into a test set and `shards` equal-sized non-IID
 * shards: each shard takes `primaryFraction` of its samples from two seeded classes, the rest
 * evenly from the other classes. The shard size is the largest for which every class has enough
 * samples, so a few samples may stay unused.
 */
export function splitByLabel(labels: ArrayLike<number>, classes: number, options: SplitOptions): Split {
  const { shards, seed } = options;
  const fraction = options.primaryFraction ?? DEFAULT_PRIMARY_FRACTION;
  const testSize = options.testSize ?? DEFAULT_TEST_SIZE;
  if (!Number.isInteger(shards) || shards < 1) throw new RangeError("shards must be a positive integer");
  if (!(fraction >= 0 && fraction <= 1)) throw new RangeError("primaryFraction must be in [0, 1]");
  if (!Number.isInteger(testSize) || testSize < 0 || testSize >= labels.length) throw new RangeError("testSize is out of range");
  if (classes < 3) throw new RangeError("need at least three classes");

  const order = permutation(labels.length, mulberry32(TEST_SEED));
  const test = order.slice(0, testSize);
  const pools: number[][] = Array.from({ length: classes }, () => []);
  for (const row of order.subarray(testSize)) pools[labels[row]].push(row);

  const random = mulberry32(seed);
  for (const pool of pools) shuffle(pool, random);
  const pairs = primaryPairs(shards, classes, random);

  let size = Math.floor((labels.length - testSize) / shards);
  let counts: number[][] = [];
  for (; size > 0; size--) {
    counts = pairs.map((pair, i) => shardCounts(size, pair, fraction, classes, i));
    const fits = pools.every((pool, c) => counts.reduce((n, shard) => n + shard[c], 0) <= pool.length);
    if (fits) break;
  }
  if (size === 0) throw new RangeError(`cannot split ${labels.length - testSize} samples into ${shards} shards`);

  const taken = new Array<number>(classes).fill(0);
  const result = pairs.map((pair, i) => {
    const rows = new Uint32Array(size);
    let n = 0;
    counts[i].forEach((k, c) => {
      for (let j = 0; j < k; j++) rows[n++] = pools[c][taken[c] + j];
      taken[c] += k;
    });
    return { rows: shuffle(rows, random), primaryClasses: pair, classCounts: counts[i] };
  });
  return { test, shards: result };
}
