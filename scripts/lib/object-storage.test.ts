import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { objectStorage, storageGrowth, storageMiB } from "./object-storage.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("local Durable Object storage", () => {
  it("counts each class's databases and sums their files, write-ahead logs included", () => {
    const persist = mkdtempSync(join(tmpdir(), "object-storage-"));
    dirs.push(persist);
    const jobs = join(persist, "v3", "do", "propius-edge-JobObject");
    const shards = join(persist, "v3", "do", "propius-edge-AggregatorObject");
    mkdirSync(jobs, { recursive: true });
    mkdirSync(shards, { recursive: true });
    writeFileSync(join(jobs, "a.sqlite"), Buffer.alloc(1 << 20));
    writeFileSync(join(jobs, "a.sqlite-wal"), Buffer.alloc(1 << 19));
    writeFileSync(join(jobs, "b.sqlite"), Buffer.alloc(1 << 19));
    writeFileSync(join(shards, "c.sqlite"), Buffer.alloc(100));
    const storage = objectStorage(persist);
    expect(storage).toEqual({
      "propius-edge-AggregatorObject": { databases: 1, bytes: 100 },
      "propius-edge-JobObject": { databases: 2, bytes: 2 << 20 },
    });
    expect(storageMiB(storage)).toBe(2);
  });

  it("states each class's growth between two samples, the largest first", () => {
    const mib = 2 ** 20;
    const before = { "propius-edge-JobObject": { databases: 21, bytes: 26 * mib }, "propius-edge-DirectoryObject": { databases: 2, bytes: 4 * mib } };
    const after = { ...before, "propius-edge-JobObject": { databases: 21, bytes: 64 * mib }, "propius-edge-AggregatorObject": { databases: 120, bytes: 49 * mib } };
    expect(storageGrowth(before, after)).toBe(
      "AggregatorObject 120 databases, 0.0 -> 49.0 MiB; JobObject 21 databases, 26.0 -> 64.0 MiB; DirectoryObject 2 databases, 4.0 -> 4.0 MiB",
    );
    expect(storageGrowth({}, {})).toBe("no objects stored");
  });

  it("is empty before the runtime has written anything", () => {
    expect(objectStorage(join(tmpdir(), "no-such-persist-folder"))).toEqual({});
  });
});
