import { getHeapSnapshot } from "node:v8";
import { text } from "node:stream/consumers";
import { describe, expect, it } from "vitest";
import { memoryVerdict, reachableBytes, type MemoryFigures } from "./fuzz-memory.js";

const snapshotMiB = async () => reachableBytes(JSON.parse(await text(getHeapSnapshot()))) / 2 ** 20;

const figures = (over: Partial<MemoryFigures>): MemoryFigures => ({
  startMb: 170, peakMb: 280, endMb: 270, heapStartMb: 12.4, heapEndMb: 13, settleMs: 60_000, collections: 20, gcMissed: 0, backWithin10Percent: false, measured: "", ...over,
});

describe("fuzz memory", () => {
  it("counts the objects a heap keeps, and not those it let go", async () => {
    const before = await snapshotMiB();
    let kept: { i: number; s: string }[] | null = Array.from({ length: 200_000 }, (_, i) => ({ i, s: `object ${i}` }));
    const holding = await snapshotMiB();
    expect(kept.length).toBe(200_000);
    kept = null;
    const after = await snapshotMiB();
    // 200,000 objects and their strings: several MiB while held, none once let go.
    expect(holding - before).toBeGreaterThan(5);
    expect(Math.abs(after - before)).toBeLessThan(2);
  }, 60_000);

  it("alone, asks the resident memory to come back within 10 % of its start", () => {
    expect(memoryVerdict(figures({ backWithin10Percent: true }), null)).toEqual([]);
    expect(memoryVerdict(figures({}), null)).toEqual(["workerd memory 270 MiB is not back within 10 % of its start (170 MiB)"]);
  });

  it("beside the one-line Worker, judges only the growth beyond the Worker's and the heap kept", () => {
    const reference = figures({ startMb: 180, endMb: 265 });
    expect(memoryVerdict(figures({}), reference)).toEqual([]);
    expect(memoryVerdict(figures({ endMb: 290 }), reference)[0]).toMatch(/^workerd memory grew 120 MiB \(170 -> 290\), 35 MiB beyond the one-line Worker's 85 MiB/);
    expect(memoryVerdict(figures({ heapEndMb: 14 }), reference)).toEqual(["the JS heap the isolates keep is 14 MiB after the run, not within 10 % of its start (12.4 MiB)"]);
    expect(memoryVerdict(figures({ heapEndMb: Number.NaN }), reference)).toEqual(["the JS heap the isolates keep could not be measured (the inspector gave no heap snapshot)"]);
  });
});
