import { describe, expect, it } from "vitest";
import { PropiusError } from "@propius/shared";
import { isOutage, jitteredBackoff } from "./outage.js";
import { UnreachableError } from "./protocol/unreachable-error.js";

describe("riding out an outage", () => {
  it("takes an unreachable control plane, 5xx answers and an upload its link let stall for an outage, and nothing else", () => {
    expect(isOutage(new PropiusError("upload_stalled", "the body brought no bytes for 30 s"))).toBe(true);
    expect(isOutage(new UnreachableError("http://x/v1/checkin", "connection refused", 6))).toBe(true);
    expect(isOutage(new PropiusError("internal", "internal error"))).toBe(true);
    expect(isOutage(new PropiusError("push_unavailable", "full"))).toBe(true);
    expect(isOutage(new PropiusError("unauthorized", "bad token"))).toBe(false);
    expect(isOutage(new Error("a bug"))).toBe(false);
  });

  it("backs off exponentially to its cap, each wait a uniform draw below the bound", () => {
    const highest = jitteredBackoff({ baseMs: 1_000, capMs: 60_000, random: () => 0.999_999 });
    expect([1, 2, 3, 4, 7, 8, 50].map((n) => highest.delayMs(n))).toEqual([1_000, 2_000, 4_000, 8_000, 60_000, 60_000, 60_000]);
    const lowest = jitteredBackoff({ baseMs: 1_000, random: () => 0 });
    expect(lowest.delayMs(10)).toBe(500);
    const draws = Array.from({ length: 1_000 }, () => jitteredBackoff().delayMs(4));
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(500);
    expect(Math.max(...draws)).toBeLessThanOrEqual(8_000);
    // Spread out: a fleet that lost the control plane together does not come back together.
    expect(new Set(draws).size).toBeGreaterThan(500);
  });
});
