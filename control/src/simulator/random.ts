import type { Random } from "../scheduling/policies/policy.js";

export type { Random };

/**
 * sfc32 (Small Fast Counter): a 128-bit-state PRNG, fast in JavaScript's 32-bit integer arithmetic
 * and good enough for simulation (not for cryptography). The same seed gives the same sequence on
 * every platform.
 */
export function seededRandom(seed: number, stream = 0): Random {
  let a = 0x9e3779b9 ^ (seed >>> 0);
  let b = 0x243f6a88 ^ Math.imul(stream >>> 0, 0x85ebca6b);
  let c = 0xb7e15162 ^ Math.floor(seed / 2 ** 32);
  let d = 1;
  const next = () => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    const t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    const out = (t + d) | 0;
    c = (c + out) | 0;
    return (out >>> 0) / 4294967296;
  };
  for (let i = 0; i < 15; i++) next();
  return next;
}

/** An integer in [0, n). */
export function randomInt(random: Random, n: number): number {
  return Math.floor(random() * n);
}

/** Exponentially distributed, with the given mean. */
export function exponential(random: Random, mean: number): number {
  return -mean * Math.log(1 - random());
}

/** Standard normal (Box-Muller). */
export function normal(random: Random): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Log-normal: exp(ln(median) + sigma x N(0, 1)). */
export function logNormal(random: Random, median: number, sigma: number): number {
  return median * Math.exp(sigma * normal(random));
}

export { jitter } from "../scheduling/jitter.js";
