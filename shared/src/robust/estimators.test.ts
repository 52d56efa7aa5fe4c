import { describe, expect, it } from "vitest";
import { estimate, krumSelect, trimmedCount } from "./estimators.js";

const f = (...values: number[]) => Float32Array.from(values);
const honest = [f(1, 2), f(1.1, 2.1), f(0.9, 1.9), f(1.05, 1.95), f(0.95, 2.05)];
const poisoned = f(-1e6, 1e6);

describe("robust estimators", () => {
  it("the coordinate-wise median ignores one extreme update and takes the middle of an even count", () => {
    expect(Array.from(estimate({ kind: "median" }, [...honest, poisoned]))).toEqual(Array.from(f(0.975, 2.025)));
    expect(Array.from(estimate({ kind: "median" }, [f(1), f(3), f(100)]))).toEqual([3]);
  });

  it("the trimmed mean drops floor(trim x n) values at each end of every coordinate", () => {
    expect(trimmedCount(6, 0.2)).toBe(1);
    expect(trimmedCount(2, 0.4)).toBe(0);
    const out = estimate({ kind: "trimmedMean", trim: 0.2 }, [...honest, poisoned]);
    // Coordinate 0 without -1e6 and 1.1: (0.9 + 0.95 + 1 + 1.05) / 4.
    expect(out[0]).toBeCloseTo(0.975, 5);
    expect(out[1]).toBeCloseTo((1.95 + 2 + 2.05 + 2.1) / 4, 5);
  });

  it("multi-Krum keeps the updates nearest their neighbours and never the outlier", () => {
    const updates = [...honest, poisoned];
    const kept = krumSelect(updates, 1, 5);
    expect(kept).not.toContain(5);
    expect(kept).toHaveLength(5);
    expect(krumSelect(updates, 1, 1)).toHaveLength(1);
    const out = estimate({ kind: "krum", byzantine: 1 }, updates);
    expect(out[0]).toBeCloseTo(1, 5);
    expect(out[1]).toBeCloseTo(2, 5);
  });

  it("the mean is not robust: one outlier moves it", () => {
    expect(Math.abs(estimate({ kind: "mean" }, [...honest, poisoned])[0])).toBeGreaterThan(1e5);
  });

  it("refuses updates of different lengths and an empty round", () => {
    expect(() => estimate({ kind: "median" }, [])).toThrow(RangeError);
    expect(() => estimate({ kind: "median" }, [f(1), f(1, 2)])).toThrow(RangeError);
  });
});
