import { describe, expect, it } from "vitest";
import { constraintKey, meetsConstraints } from "./constraints.js";

describe("meetsConstraints", () => {
  it("checks inclusive numeric bounds", () => {
    const c = { ram_gb: { min: 4 }, android_os: { min: 7, max: 13 } };
    expect(meetsConstraints({ ram_gb: 4, android_os: 7 }, c)).toBe(true);
    expect(meetsConstraints({ ram_gb: 3.9, android_os: 7 }, c)).toBe(false);
    expect(meetsConstraints({ ram_gb: 8, android_os: 14 }, c)).toBe(false);
  });

  it("checks set membership for categorical attributes", () => {
    const c = { platform: { in: ["android", "web"] } };
    expect(meetsConstraints({ platform: "web" }, c)).toBe(true);
    expect(meetsConstraints({ platform: "ios" }, c)).toBe(false);
  });

  it("refuses a device that lacks a constrained attribute or reports it with the wrong type", () => {
    expect(meetsConstraints({}, { ram_gb: { min: 1 } })).toBe(false);
    expect(meetsConstraints({ ram_gb: "8" }, { ram_gb: { min: 1 } })).toBe(false);
    expect(meetsConstraints({ gpu: 1 }, { gpu: { in: [true] } })).toBe(false);
  });

  it("admits any device when there are no constraints", () => {
    expect(meetsConstraints({}, undefined)).toBe(true);
    expect(meetsConstraints({ x: 1 }, {})).toBe(true);
  });
});

describe("constraintKey", () => {
  it("is equal for constraint sets that admit the same devices, whatever their key order", () => {
    const a = constraintKey({ ram_gb: { min: 4 }, platform: { in: ["web", "android"] } });
    const b = constraintKey({ platform: { in: ["android", "web"] }, ram_gb: { min: 4 } });
    expect(a).toBe(b);
    expect(constraintKey({ ram_gb: { min: 4 } })).not.toBe(constraintKey({ ram_gb: { min: 6 } }));
  });

  it("tells apart sets that differ only in their values' types, as eligibility does", () => {
    expect(constraintKey({ tier: { in: [1] } })).not.toBe(constraintKey({ tier: { in: ["1"] } }));
    expect(meetsConstraints({ tier: 1 }, { tier: { in: ["1"] } })).toBe(false);
  });
});
