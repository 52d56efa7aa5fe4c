import { mulberry32, permutation, shuffle, type Random } from "./random.js";

/**
 * A deterministic split of labelled samples into a held-out test set and non-IID client shards
 * that together hold every other sample. Pure: works on labels only (see demo-data.ts for the
 * MNIST shards themselves).
 */

/** How to split; `shards` and `seed` choose the clients, the test set depends on `testSize` only. */
export interface SplitOptions {
  shards: number;
  seed: number;
  /**
   * Share of each shard asked of its two primary classes (default 0.8). Since every sample is
   * placed and classes differ in size, a shard's share comes out a few points either side.
   */
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

/** Rescaling passes of `targetCounts`; the margins agree to far under one sample long before. */
const FITTING_PASSES = 200;

/**
 * The samples each shard should take of each class, as real numbers whose column sums are the
 * class sizes and whose row sums are the shard sizes. It starts from the mix the split aims at
 * (`fraction` of a shard from its two classes, the rest evenly from the other classes) and
 * rescales rows and columns in turn until both sums hold (iterative proportional fitting): the
 * result keeps that mix's proportions as closely as the sums allow, so a class primary for more
 * shards than it can fill gives each a little less, and every shard keeps some of every class.
 */
function targetCounts(sizes: number[], pools: number[], pairs: [number, number][], fraction: number): number[][] {
  const classes = pools.length;
  // A floor above zero keeps every cell scalable (fraction 1 would otherwise leave classes nowhere to go).
  const primary = Math.max(fraction / 2, 1e-6);
  const other = Math.max((1 - fraction) / (classes - 2), 1e-6);
  const target = pairs.map((pair, i) => pools.map((_, c) => sizes[i] * (pair.includes(c) ? primary : other)));
  for (let pass = 0; pass < FITTING_PASSES; pass++) {
    pools.forEach((n, c) => {
      const column = target.reduce((s, row) => s + row[c], 0);
      for (const row of target) row[c] *= n / column;
    });
    target.forEach((row, i) => {
      const scale = sizes[i] / row.reduce((s, v) => s + v, 0);
      for (let c = 0; c < classes; c++) row[c] *= scale;
    });
  }
  return target;
}

/**
 * Whole counts from real targets, class by class (largest remainder), so that every class hands
 * out exactly its samples; a shard's total then differs from its target by less than one per class.
 */
function roundByClass(targets: number[][], pools: number[]): number[][] {
  const counts = targets.map((row) => row.map(Math.floor));
  pools.forEach((n, c) => {
    let rest = n - counts.reduce((s, row) => s + row[c], 0);
    const byRemainder = targets.map((row, i) => ({ i, r: row[c] - counts[i][c] })).sort((a, b) => b.r - a.r || a.i - b.i);
    for (const { i } of byRemainder) {
      if (rest <= 0) break;
      counts[i][c] += 1;
      rest -= 1;
    }
  });
  return counts;
}

/**
 * Splits samples (given by their class labels) into a test set and `shards` non-IID shards that
 * hold every other sample exactly once. Shards differ in size by at most a few samples; each
 * takes about `primaryFraction` of its samples from two seeded classes and the rest evenly from
 * the other classes, as far as the class sizes allow (see `targetCounts`).
 */
export function splitByLabel(labels: ArrayLike<number>, classes: number, options: SplitOptions): Split {
  const { shards, seed } = options;
  const fraction = options.primaryFraction ?? DEFAULT_PRIMARY_FRACTION;
  const testSize = options.testSize ?? DEFAULT_TEST_SIZE;
  if (!Number.isInteger(shards) || shards < 1) throw new RangeError("shards must be a positive integer");
  if (!(fraction >= 0 && fraction <= 1)) throw new RangeError("primaryFraction must be in [0, 1]");
  if (!Number.isInteger(testSize) || testSize < 0 || testSize >= labels.length) throw new RangeError("testSize is out of range");
  if (classes < 3) throw new RangeError("need at least three classes");
  const total = labels.length - testSize;
  if (shards > total) throw new RangeError(`cannot split ${total} samples into ${shards} shards`);

  const order = permutation(labels.length, mulberry32(TEST_SEED));
  const test = order.slice(0, testSize);
  const pools: number[][] = Array.from({ length: classes }, () => []);
  for (const row of order.subarray(testSize)) pools[labels[row]].push(row);

  const random = mulberry32(seed);
  for (const pool of pools) shuffle(pool, random);
  const pairs = primaryPairs(shards, classes, random);
  const sizes = Array.from({ length: shards }, (_, i) => Math.floor(total / shards) + (i < total % shards ? 1 : 0));
  const poolSizes = pools.map((pool) => pool.length);
  const counts = roundByClass(targetCounts(sizes, poolSizes, pairs, fraction), poolSizes);

  const taken = new Array<number>(classes).fill(0);
  const result = pairs.map((pair, i) => {
    const rows = new Uint32Array(counts[i].reduce((s, n) => s + n, 0));
    let n = 0;
    counts[i].forEach((k, c) => {
      for (let j = 0; j < k; j++) rows[n++] = pools[c][taken[c] + j];
      taken[c] += k;
    });
    return { rows: shuffle(rows, random), primaryClasses: pair, classCounts: counts[i] };
  });
  return { test, shards: result };
}
