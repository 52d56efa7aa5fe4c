import { describe, expect, it } from "vitest";
import { RoundSlots, decideClaim, outcomeAtDeadline, reportsNeeded, slotCapacity } from "./round-slots.js";

const plan = { demand: 4, overCommit: 1.3, minReportFraction: 0.8 };

describe("round slot rules", () => {
  it("sizes a round at demand x over-commit, rounded up, and needs a fraction of demand at the deadline", () => {
    expect(slotCapacity(plan)).toBe(6);
    expect(reportsNeeded(plan)).toBe(4);
    expect(slotCapacity({ demand: 400, overCommit: 1.3 })).toBe(520);
    expect(outcomeAtDeadline(3, plan)).toBe("retry");
    expect(outcomeAtDeadline(4, { ...plan, demand: 5 })).toBe("aggregate");
  });

  it("keeps a device's slot, sends a reported device to wait briefly, and refuses a full round", () => {
    const base = { held: 1, capacity: 2, deadline: 10_000, now: 1_000 };
    expect(decideClaim({ ...base, existing: { status: "bound", leaseUntil: 10_000 } })).toEqual({ kind: "keep" });
    expect(decideClaim({ ...base, existing: { status: "reported", leaseUntil: 10_000 } })).toEqual({ kind: "wait", reason: "already_reported", retryAfterMs: 2_000 });
    expect(decideClaim({ ...base, existing: null, held: 2 })).toEqual({ kind: "wait", reason: "round_full", retryAfterMs: 5_000 });
    expect(decideClaim({ ...base, existing: null })).toEqual({ kind: "bind", leaseUntil: 10_000 });
    // Once the deadline has come, before the alarm that ends the attempt has run: no new slot, the held one kept.
    expect(decideClaim({ ...base, existing: null, now: 10_000 })).toEqual({ kind: "wait", reason: "selection_closed", retryAfterMs: 1_000 });
    expect(decideClaim({ ...base, existing: { status: "bound", leaseUntil: 10_000 }, now: 10_005 })).toEqual({ kind: "keep" });
    expect(decideClaim({ ...base, existing: null, leaseMs: 3_000 })).toEqual({ kind: "bind", leaseUntil: 4_000 });
  });
});

describe("RoundSlots", () => {
  it("never holds more than its capacity", () => {
    const slots = new RoundSlots(plan, 100_000);
    const kinds = Array.from({ length: 8 }, (_, i) => slots.claim(`d${i}`, 1).kind);
    expect(kinds).toEqual(["bind", "bind", "bind", "bind", "bind", "bind", "wait", "wait"]);
    expect(slots.held(1)).toBe(6);
  });

  it("frees the slot of an expired lease, and refuses that device's late report", () => {
    const slots = new RoundSlots({ ...plan, demand: 1, overCommit: 1 }, 100_000, 5_000);
    expect(slots.claim("a", 0)).toEqual({ kind: "bind", leaseUntil: 5_000 });
    expect(slots.claim("b", 5_000).kind).toBe("wait");
    expect(slots.claim("b", 5_001)).toEqual({ kind: "bind", leaseUntil: 10_001 });
    expect(slots.report("a", 5_002)).toBe("unknown");
    expect(slots.report("b", 6_000)).toBe("accepted");
    expect(slots.status).toBe("aggregating");
  });

  it("counts a report once and closes at demand", () => {
    const slots = new RoundSlots({ ...plan, demand: 2 }, 100_000);
    for (const id of ["a", "b", "c"]) slots.claim(id, 0);
    expect(slots.report("a", 1)).toBe("accepted");
    expect(slots.report("a", 2)).toBe("duplicate");
    expect(slots.claim("a", 3)).toMatchObject({ kind: "wait", reason: "already_reported" });
    expect(slots.report("b", 4)).toBe("accepted");
    expect(slots.status).toBe("aggregating");
    expect(slots.report("c", 5)).toBe("stale");
  });

  it("stops binding when the selection closes but still takes reports", () => {
    const slots = new RoundSlots({ ...plan, demand: 1 }, 100_000);
    slots.claim("a", 0);
    slots.closeSelection();
    expect(slots.claim("b", 1)).toMatchObject({ kind: "wait", reason: "selection_closed" });
    expect(slots.claim("a", 1)).toEqual({ kind: "keep" });
    expect(slots.open(1)).toBe(0);
    expect(slots.report("a", 2)).toBe("accepted");
  });

  it("retries at the deadline with too few reports and aggregates with enough", () => {
    const few = new RoundSlots(plan, 1_000);
    few.claim("a", 0);
    few.report("a", 1);
    expect(few.atDeadline()).toBe("retry");
    expect(few.claim("b", 1_001)).toMatchObject({ kind: "wait", reason: "round_closed" });
    const enough = new RoundSlots({ ...plan, demand: 5 }, 1_000);
    for (const id of ["a", "b", "c", "d"]) {
      enough.claim(id, 0);
      enough.report(id, 1);
    }
    expect(enough.atDeadline()).toBe("aggregate");
  });
});
