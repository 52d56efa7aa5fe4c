import { describe, expect, it } from "vitest";
import { RowCache } from "./row-cache.js";

interface Row {
  n: number;
  nested: { tags: string[] };
}

describe("RowCache", () => {
  it("loads a row once and answers later reads from memory", () => {
    const cache = new RowCache<Row>();
    let loads = 0;
    const load = () => (loads++, { n: 1, nested: { tags: ["a"] } });
    expect(cache.get("k", load)).toEqual({ n: 1, nested: { tags: ["a"] } });
    expect(cache.get("k", load)).toEqual({ n: 1, nested: { tags: ["a"] } });
    expect(loads).toBe(1);
  });

  it("remembers a missing row as missing", () => {
    const cache = new RowCache<Row>();
    let loads = 0;
    expect(cache.get("k", () => (loads++, null))).toBeNull();
    expect(cache.get("k", () => (loads++, null))).toBeNull();
    expect(loads).toBe(1);
  });

  it("hands out copies: a top-level change to a loaded row does not reach the cache", () => {
    const cache = new RowCache<Row>();
    cache.set("k", { n: 1, nested: { tags: [] } });
    const loaded = cache.get("k", () => null)!;
    loaded.n = 99;
    expect(cache.get("k", () => null)!.n).toBe(1);
  });

  it("refuses a write into a nested object of a cached row instead of diverging from storage", () => {
    const cache = new RowCache<Row>();
    cache.set("k", { n: 1, nested: { tags: [] } });
    const loaded = cache.get("k", () => null)!;
    expect(() => loaded.nested.tags.push("x")).toThrow(TypeError);
  });

  it("keeps its own copy of what is written: the writer's later edits do not reach it", () => {
    const cache = new RowCache<Row>();
    const row = { n: 1, nested: { tags: ["a"] } };
    cache.set("k", row);
    row.nested.tags.push("b");
    expect(cache.get("k", () => null)!.nested.tags).toEqual(["a"]);
  });

  it("shares the unchanged parts of a row written back as loaded, and copies those frozen elsewhere", () => {
    const cache = new RowCache<Row>();
    cache.set("k", { n: 1, nested: { tags: ["a"] } });
    const loaded = cache.get("k", () => null)!;
    cache.set("k", { ...loaded, n: 2 });
    const again = cache.get("k", () => null)!;
    expect(again).toEqual({ n: 2, nested: { tags: ["a"] } });
    expect(again.nested).toBe(loaded.nested);
    // Frozen by the writer, not deep: its inner array may still change, so the cache keeps a copy.
    const tags = ["x"];
    cache.set("k", { n: 3, nested: Object.freeze({ tags }) });
    tags.push("y");
    expect(cache.get("k", () => null)!.nested.tags).toEqual(["x"]);
  });

  it("undoes every change of a transaction that throws, and keeps those of one that returns", () => {
    const cache = new RowCache<Row>();
    cache.set("a", { n: 1, nested: { tags: [] } });
    expect(() =>
      cache.transaction(() => {
        cache.set("a", { n: 2, nested: { tags: [] } });
        cache.set("b", { n: 3, nested: { tags: [] } });
        cache.forget("a");
        throw new Error("rolled back");
      }),
    ).toThrow("rolled back");
    expect(cache.get("a", () => null)!.n).toBe(1);
    let loadedB = false;
    expect(cache.get("b", () => ((loadedB = true), null))).toBeNull();
    expect(loadedB).toBe(true);
    cache.transaction(() => cache.set("a", { n: 4, nested: { tags: [] } }));
    expect(cache.get("a", () => null)!.n).toBe(4);
  });

  it("forgets an entry so that the next read loads it again", () => {
    const cache = new RowCache<Row>();
    cache.set("k", { n: 1, nested: { tags: [] } });
    cache.forget("k");
    expect(cache.get("k", () => ({ n: 5, nested: { tags: [] } }))!.n).toBe(5);
  });

  it("stays within its limit, dropping the oldest entry", () => {
    const cache = new RowCache<Row>(2);
    for (const key of ["a", "b", "c"]) cache.set(key, { n: key.charCodeAt(0), nested: { tags: [] } });
    let reloaded = false;
    cache.get("a", () => ((reloaded = true), null));
    expect(reloaded).toBe(true);
  });
});
