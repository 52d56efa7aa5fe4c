import { own } from "./keys.js";

/**
 * The pseudo-random generator that expands a 32-byte seed into a mask: AES-256 in counter mode
 * over zeros (WebCrypto, so the same stream in a browser tab, a Node device and the Worker).
 * A seed is used for one round's mask only: the seeds themselves are derived per round.
 */
export async function expandSeed(seed: Uint8Array, words: number): Promise<Uint32Array> {
  if (seed.length !== 32) throw new RangeError("a mask seed is 32 bytes");
  if (!Number.isInteger(words) || words < 0) throw new RangeError("words must be a whole number");
  const key = await crypto.subtle.importKey("raw", own(seed), "AES-CTR", false, ["encrypt"]);
  // A 64-bit counter block: 2^64 blocks of 16 bytes before it wraps, far beyond any model.
  const stream = await crypto.subtle.encrypt({ name: "AES-CTR", counter: new Uint8Array(16), length: 64 }, key, new Uint8Array(words * 4));
  return new Uint32Array(stream);
}
