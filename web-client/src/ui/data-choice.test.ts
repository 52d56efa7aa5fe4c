import { describe, expect, it } from "vitest";
import { demoShardChoice } from "./data-choice.js";

describe("demoShardChoice", () => {
  it("takes the shard from the URL, else from the device's seed", () => {
    expect(demoShardChoice(new URLSearchParams("shard=2&shards=4&seed=7"), 99)).toEqual({ index: 2, shards: 4, seed: 7 });
    expect(demoShardChoice(new URLSearchParams(""), 13)).toEqual({ index: 5, shards: 8, seed: 1 });
  });

  it("refuses shards out of range and values that are not integers", () => {
    expect(() => demoShardChoice(new URLSearchParams("shard=4&shards=4"), 0)).toThrow("?shard=4 is out of range: there are 4 shards (0..3)");
    expect(() => demoShardChoice(new URLSearchParams("seed=x"), 0)).toThrow("?seed= must be an integer of at least 0, got 'x'");
  });
});
