import { describe, expect, it } from "vitest";
import { splitHoldout } from "./holdout.js";
import type { LocalData } from "./local-data.js";

function rows(count: number): LocalData {
  const x = Float32Array.from({ length: count }, (_, i) => i);
  const y = new Float32Array(count * 2);
  for (let i = 0; i < count; i++) y[i * 2 + (i % 2)] = 1;
  return { x, y, count, featureShape: [1], numClasses: 2 };
}

describe("splitHoldout", () => {
  it("holds out the given fraction, spread evenly, disjoint from the examples it trains on", () => {
    const { train, heldOut } = splitHoldout(rows(100), 0.1);
    expect(heldOut!.count).toBe(10);
    expect(train.count).toBe(90);
    expect(Array.from(heldOut!.x)).toEqual([9, 19, 29, 39, 49, 59, 69, 79, 89, 99]);
    expect(new Set([...train.x, ...heldOut!.x]).size).toBe(100);
    // Labels travel with their examples.
    expect(Array.from(heldOut!.y.subarray(0, 2))).toEqual([0, 1]);
  });

  it("holds out the same examples every time", () => {
    expect(Array.from(splitHoldout(rows(37), 0.2).heldOut!.x)).toEqual(Array.from(splitHoldout(rows(37), 0.2).heldOut!.x));
  });

  it("keeps one of each side for small data, and holds out nothing at a fraction of 0", () => {
    expect(splitHoldout(rows(3), 0.1).heldOut!.count).toBe(1);
    expect(splitHoldout(rows(3), 0.1).train.count).toBe(2);
    expect(splitHoldout(rows(2), 0.5).train.count).toBe(1);
    expect(splitHoldout(rows(50), 0)).toMatchObject({ heldOut: null, train: { count: 50 } });
    expect(splitHoldout(rows(1), 0.5)).toMatchObject({ heldOut: null, train: { count: 1 } });
  });
});
