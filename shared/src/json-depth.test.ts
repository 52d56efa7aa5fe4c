import { describe, expect, it } from "vitest";
import { MAX_JSON_DEPTH, nestsDeeperThan } from "./json-depth.js";

const nested = (depth: number, open = "[", close = "]") => open.repeat(depth) + close.repeat(depth);

describe("nestsDeeperThan", () => {
  it("counts arrays and objects together, up to the limit and one past it", () => {
    expect(nestsDeeperThan(nested(MAX_JSON_DEPTH))).toBe(false);
    expect(nestsDeeperThan(nested(MAX_JSON_DEPTH + 1))).toBe(true);
    expect(nestsDeeperThan(`{"a":${nested(3)}}`, 4)).toBe(false);
    expect(nestsDeeperThan(`{"a":{"b":${nested(3)}}}`, 4)).toBe(true);
  });

  it("skips brackets inside strings, escaped quotes included", () => {
    expect(nestsDeeperThan(JSON.stringify({ a: "[[[[[[", b: 'x\\"[[[[' }), 2)).toBe(false);
    expect(nestsDeeperThan(JSON.stringify(["\\", [["x"]]]), 2)).toBe(true);
  });

  it("agrees with the nesting of random JSON values", () => {
    let seed = 7;
    const next = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const value = (depth: number): [unknown, number] => {
      if (depth === 0 || next() < 0.3) return [next() < 0.5 ? '"[{\\"' : 1.5, 0];
      const children = Array.from({ length: 1 + Math.floor(next() * 3) }, () => value(depth - 1));
      const deepest = 1 + Math.max(...children.map(([, d]) => d));
      return next() < 0.5 ? [children.map(([v]) => v), deepest] : [Object.fromEntries(children.map(([v], i) => [`k[${i}`, v])), deepest];
    };
    for (let i = 0; i < 200; i++) {
      const [v, depth] = value(12);
      const text = JSON.stringify(v);
      expect(nestsDeeperThan(text, depth), text).toBe(false);
      if (depth > 0) expect(nestsDeeperThan(text, depth - 1), text).toBe(true);
    }
  });
});
