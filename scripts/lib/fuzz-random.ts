import { mulberry32 } from "@propius/edge-runtime/demo";

/** The fuzz run's one source of chance: the same seed gives the same requests, in the same order. */
export interface Chance {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
  /** `n` random bytes. */
  bytes(n: number): Uint8Array;
  /** A generator of its own, seeded from this one: a request's choices do not shift the next request's. */
  fork(): Chance;
}

export function chance(seed: number): Chance {
  const random = mulberry32(seed);
  const int = (n: number) => Math.floor(random() * n);
  return {
    next: random,
    int,
    pick: (items) => items[int(items.length)],
    chance: (p) => random() < p,
    bytes(n) {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = int(256);
      return out;
    },
    fork: () => chance(int(2 ** 32)),
  };
}
