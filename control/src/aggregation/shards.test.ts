import { describe, expect, it } from "vitest";
import { aggregatorShards, shardOf } from "./shards.js";

describe("aggregator shards", () => {
  it("derives the shard count from the devices a round binds, one per 32, between 1 and 16", () => {
    expect(aggregatorShards({ clientsPerRound: 8, overCommit: 1.3 })).toBe(1);
    expect(aggregatorShards({ clientsPerRound: 50, overCommit: 1.3 })).toBe(3);
    expect(aggregatorShards({ clientsPerRound: 10_000, overCommit: 1.3 })).toBe(16);
  });

  it("keeps the job's own shard count", () => {
    expect(aggregatorShards({ clientsPerRound: 8, overCommit: 1.3, aggregatorShards: 5 })).toBe(5);
  });

  it("sends a device to the same shard every time, and spreads devices over all shards", () => {
    const ids = Array.from({ length: 400 }, (_, i) => `device-${i}`);
    expect(ids.map((id) => shardOf(id, 4))).toEqual(ids.map((id) => shardOf(id, 4)));
    const counts = [0, 0, 0, 0];
    for (const id of ids) counts[shardOf(id, 4)] += 1;
    for (const n of counts) expect(n).toBeGreaterThan(60);
  });
});
