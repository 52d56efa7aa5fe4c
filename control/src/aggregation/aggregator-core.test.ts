import { describe, expect, it } from "vitest";
import { encodeWeights } from "@propius/shared";
import { AggregatorCore } from "./aggregator-core.js";
import { MemoryAggregatorStore } from "./aggregator-store.js";
import type { Admission, PartialKey } from "./partial-sum.js";
import { codeOf } from "../../test/error-code.js";

const weightSpecs = [{ name: "w", shape: [3], dtype: "float32" as const }];
const round1: PartialKey = { round: 1, attempt: 0 };
const admit = (ticket: string, key = round1, weightScale = 1, weighting: Admission["weighting"] = "examples"): Admission => ({ ticket, key, shard: 0, weighting, weightScale, weightSpecs });
const delta = (values: number[], examples = 1) => encodeWeights({ kind: "delta", codec: "fp32", tensors: weightSpecs, meta: { examples, trainLoss: 0.5 } }, Float32Array.from(values));

function setup() {
  const store = new MemoryAggregatorStore();
  return { store, shard: new AggregatorCore(store) };
}

describe("AggregatorCore", () => {
  it("folds updates into a weighted partial sum and keeps each one's figures, not its values", () => {
    const { shard, store } = setup();
    expect(shard.fold(admit("t1"), delta([1, 2, 3], 2))).toEqual({ ticket: "t1", examples: 2, trainLoss: 0.5, bytesIn: delta([1, 2, 3], 2).length, bytesDown: 0 });
    shard.fold(admit("t2", round1, 0.5), delta([4, 4, 4], 4));
    // 2 x [1, 2, 3] + (4 x 0.5) x [4, 4, 4]
    expect(Array.from(store.loadSum(3))).toEqual([10, 12, 14]);
    expect(store.loadPartial()).toMatchObject({ weight: 4, examples: 6, count: 2, sealed: false });
    expect(store.listFolded().map((f) => f.ticket)).toEqual(["t1", "t2"]);
  });

  it("weighs every update alike when the job's weighting is uniform", () => {
    const { shard, store } = setup();
    shard.fold(admit("t1", round1, 1, "uniform"), delta([1, 2, 3], 2));
    shard.fold(admit("t2", round1, 0.5, "uniform"), delta([4, 4, 4], 40));
    // 1 x [1, 2, 3] + 0.5 x [4, 4, 4]: the example counts do not weigh
    expect(Array.from(store.loadSum(3))).toEqual([3, 4, 5]);
    expect(store.loadPartial()).toMatchObject({ weight: 1.5, examples: 42, count: 2 });
  });

  it("folds a ticket once: a retried upload gets the first fold's record and the sum is unchanged", () => {
    const { shard, store } = setup();
    const first = shard.fold(admit("t1"), delta([1, 1, 1]));
    expect(shard.earlierFold(admit("t1"))).toEqual(first);
    expect(shard.fold(admit("t1"), delta([5, 5, 5]))).toEqual(first);
    expect(Array.from(store.loadSum(3))).toEqual([1, 1, 1]);
    expect(store.sumWrites).toBe(1);
  });

  it("refuses a malformed or non-finite delta and leaves the stored sum unchanged", () => {
    const { shard, store } = setup();
    shard.fold(admit("t1"), delta([1, 1, 1]));
    expect(codeOf(() => shard.fold(admit("t2"), delta([1, Number.POSITIVE_INFINITY, 1])))).toBe("invalid_update");
    expect(codeOf(() => shard.fold(admit("t3"), new Uint8Array([80, 82, 87])))).toBe("invalid_update");
    expect(codeOf(() => shard.fold({ ...admit("t4"), weightSpecs: [{ name: "w", shape: [4], dtype: "float32" }] }, delta([1, 1, 1])))).toBe("invalid_update");
    expect(Array.from(store.loadSum(3))).toEqual([1, 1, 1]);
    expect(store.loadPartial()).toMatchObject({ count: 1 });
    expect(store.sumWrites).toBe(1);
  });

  it("rereads the stored sum when a store write fails after the cached sum was changed", () => {
    const { shard, store } = setup();
    shard.fold(admit("t1"), delta([1, 1, 1]));
    const save = store.saveFolded.bind(store);
    store.saveFolded = () => {
      throw new Error("disk full");
    };
    expect(() => shard.fold(admit("t2"), delta([7, 7, 7]))).toThrow("disk full");
    store.saveFolded = save;
    shard.fold(admit("t3"), delta([2, 2, 2]));
    expect(Array.from(store.loadSum(3))).toEqual([3, 3, 3]);
  });

  it("refuses updates for a sealed round, and seals a round it never saw so none can slip in later", () => {
    const { shard } = setup();
    shard.fold(admit("t1"), delta([1, 1, 1]));
    const sealed = shard.seal(round1);
    expect(sealed.meta).toMatchObject({ count: 1, weight: 1, sealed: true });
    expect(shard.seal(round1)).toEqual(sealed);
    expect(codeOf(() => shard.fold(admit("t2"), delta([1, 1, 1])))).toBe("round_closed");
    const empty = shard.seal({ round: 2, attempt: 0 });
    expect(empty).toEqual({ meta: expect.objectContaining({ count: 0, sealed: true }), folded: [] });
    expect(codeOf(() => shard.fold(admit("t3", { round: 2, attempt: 0 }), delta([1, 1, 1])))).toBe("round_closed");
  });

  it("starts afresh for a later round or attempt, and refuses updates for the one it replaced", () => {
    const { shard, store } = setup();
    shard.fold(admit("t1"), delta([1, 1, 1]));
    shard.fold(admit("t2", { round: 1, attempt: 1 }), delta([2, 2, 2]));
    expect(Array.from(store.loadSum(3))).toEqual([2, 2, 2]);
    expect(store.listFolded().map((f) => f.ticket)).toEqual(["t2"]);
    expect(codeOf(() => shard.fold(admit("t3"), delta([1, 1, 1])))).toBe("round_closed");
    expect(codeOf(() => shard.seal(round1))).toBe("conflict");
  });

  it("streams the sealed sum, from memory or, after a restart, from the store", () => {
    const { shard, store } = setup();
    shard.fold(admit("t1"), delta([1, 2, 3]));
    expect(codeOf(() => shard.sumChunks(round1))).toBe("conflict");
    shard.seal(round1);
    const bytes = (chunks: Iterable<Uint8Array>) => Array.from(new Float32Array(Uint8Array.from([...chunks].flatMap((c) => [...c])).buffer));
    expect(bytes(shard.sumChunks(round1))).toEqual([1, 2, 3]);
    expect(bytes(new AggregatorCore(store).sumChunks(round1))).toEqual([1, 2, 3]);
  });

  it("drops a released partial, but not a later one", () => {
    const { shard, store } = setup();
    shard.fold(admit("t1", { round: 2, attempt: 0 }), delta([1, 1, 1]));
    shard.release(round1);
    expect(store.loadPartial()).toMatchObject({ round: 2 });
    shard.release({ round: 2, attempt: 0 });
    expect(store.loadPartial()).toBeNull();
  });
});
