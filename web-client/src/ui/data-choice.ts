/** Demo shards when the URL does not say: enough that random tabs rarely share one. */
export const DEFAULT_SHARDS = 8;

/**
 * Which demo shard this tab trains on: `?shard=&shards=&seed=` (as `npm start` prints them), else
 * a shard picked by the device's own stored seed, so that a reload keeps the same data.
 */
export function demoShardChoice(params: URLSearchParams, deviceSeed: number): { index: number; shards: number; seed: number } {
  const number = (name: string, fallback: number, min: number) => {
    const raw = params.get(name);
    if (raw === null) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min) throw new RangeError(`?${name}= must be an integer of at least ${min}, got '${raw}'`);
    return value;
  };
  const shards = number("shards", DEFAULT_SHARDS, 1);
  const index = number("shard", deviceSeed % shards, 0);
  if (index >= shards) throw new RangeError(`?shard=${index} is out of range: there are ${shards} shards (0..${shards - 1})`);
  return { index, shards, seed: number("seed", 1, 0) };
}
