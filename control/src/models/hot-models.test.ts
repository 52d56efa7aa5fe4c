import { describe, expect, it } from "vitest";
import { HotModels } from "./hot-models.js";
import type { ModelStore } from "./model-store.js";

/** A model store in memory that counts its reads. */
function countingStore(blobs: Record<string, number>): ModelStore & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    put: async () => "",
    readers: async () => null,
    get: async (hash) => (reads.push(hash), hash in blobs ? new Uint8Array(blobs[hash]) : null),
    getStream: async () => null,
  };
}

describe("HotModels", () => {
  it("reads a version from the store once, however many devices download it", async () => {
    const store = countingStore({ a: 100 });
    const hot = new HotModels(1_000, 10_000);
    for (let i = 0; i < 5; i++) expect((await hot.get(store, "a"))!.length).toBe(100);
    expect(store.reads).toEqual(["a"]);
  });

  it("never keeps a blob larger than its per-blob limit", async () => {
    const store = countingStore({ big: 2_000 });
    const hot = new HotModels(1_000, 10_000);
    await hot.get(store, "big");
    await hot.get(store, "big");
    expect(store.reads).toEqual(["big", "big"]);
  });

  it("drops the least recently used version to stay within its total", async () => {
    const store = countingStore({ a: 400, b: 400, c: 400 });
    const hot = new HotModels(1_000, 1_000);
    await hot.get(store, "a");
    await hot.get(store, "b");
    await hot.get(store, "a"); // a is now the most recent
    await hot.get(store, "c"); // b goes
    await hot.get(store, "a");
    await hot.get(store, "b");
    expect(store.reads).toEqual(["a", "b", "c", "b"]);
  });

  it("remembers nothing for a hash the store does not have", async () => {
    const store = countingStore({});
    const hot = new HotModels();
    expect(await hot.get(store, "x")).toBeNull();
    expect(await hot.get(store, "x")).toBeNull();
    expect(store.reads).toEqual(["x", "x"]);
  });
});
