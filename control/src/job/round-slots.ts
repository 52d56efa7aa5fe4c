/**
 * Slot bookkeeping of one round attempt, free of storage and platform: how many devices a round
 * may bind (demand x over-commit), whether a checking-in device gets a slot, keeps the one it has
 * or waits, whether its report still counts, and how the attempt ends. JobCore applies these rules
 * to its durable store; the simulator and the property tests keep the same state in memory with
 * `RoundSlots`.
 */

export interface SlotPlan {
  /** Reports that close the round. */
  demand: number;
  /** Bindings allowed beyond demand, as a factor (1.3: 30 % more). */
  overCommit: number;
  /** At the deadline, the round aggregates with at least this fraction of its demand reported. */
  minReportFraction: number;
}

/** A device's hold on a slot of the attempt. */
export interface SlotHolder {
  status: "bound" | "reported";
  /** The last moment (ms) its report is accepted; a bound slot whose lease has passed is free again. */
  leaseUntil: number;
}

export type SlotDecision =
  | { kind: "bind"; leaseUntil: number }
  | { kind: "keep" }
  | { kind: "wait"; reason: "round_full" | "already_reported" | "selection_closed"; retryAfterMs: number };

export function slotCapacity(plan: Pick<SlotPlan, "demand" | "overCommit">): number {
  return Math.ceil(plan.demand * plan.overCommit);
}

export function reportsNeeded(plan: Pick<SlotPlan, "demand" | "minReportFraction">): number {
  return Math.ceil(plan.demand * plan.minReportFraction);
}

const clamp = (value: number, low: number, high: number) => Math.min(high, Math.max(low, value));

/**
 * A device checks in to an open attempt. One that has reported waits for the next round (soon: the
 * round can close at any report); one that holds a slot keeps it; otherwise it gets a slot if fewer
 * than `capacity` are held and the deadline has not come (the alarm that ends the attempt may fire
 * a little after it). `held` counts reported slots and bound slots whose lease is live. The lease
 * runs to the deadline, or `leaseMs` from now if that is earlier.
 */
export function decideClaim(input: {
  existing: SlotHolder | null;
  held: number;
  capacity: number;
  deadline: number;
  now: number;
  leaseMs?: number;
}): SlotDecision {
  const { existing, deadline, now } = input;
  if (existing?.status === "reported") return { kind: "wait", reason: "already_reported", retryAfterMs: clamp(deadline - now, 500, 2_000) };
  if (existing) return { kind: "keep" };
  if (input.held >= input.capacity) return { kind: "wait", reason: "round_full", retryAfterMs: clamp(deadline - now, 500, 5_000) };
  if (now >= deadline) return { kind: "wait", reason: "selection_closed", retryAfterMs: 1_000 };
  const leaseUntil = input.leaseMs === undefined ? deadline : Math.min(deadline, now + input.leaseMs);
  return { kind: "bind", leaseUntil };
}

/** Whether a report on a bound slot is still in time. */
export function leaseLive(holder: Pick<SlotHolder, "leaseUntil">, now: number): boolean {
  return now <= holder.leaseUntil;
}

/** A round closes for aggregation as soon as its demand has reported. */
export function demandMet(reported: number, plan: Pick<SlotPlan, "demand">): boolean {
  return reported >= plan.demand;
}

/** At its deadline an open attempt aggregates what it has if enough reported, and is retried otherwise. */
export function outcomeAtDeadline(reported: number, plan: Pick<SlotPlan, "demand" | "minReportFraction">): "aggregate" | "retry" {
  return reported >= reportsNeeded(plan) ? "aggregate" : "retry";
}

type LedgerClaim = SlotDecision | { kind: "wait"; reason: "selection_closed" | "round_closed"; retryAfterMs: number };
export type LedgerReport = "accepted" | "unknown" | "duplicate" | "stale";

/**
 * The slots of one round attempt in memory, under the rules above. Leases are checked lazily: a
 * bound slot whose lease has passed is dropped at the next claim or count, which frees it. The
 * selection may close before the deadline, and closes at it: no new bindings, while the bound
 * devices may still report until the attempt ends.
 */
export class RoundSlots {
  readonly capacity: number;
  readonly needed: number;
  status: "open" | "aggregating" | "retried" = "open";
  private readonly holders = new Map<string, SlotHolder>();
  private bound = 0;
  private reportedCount = 0;
  private selecting = true;
  private nextExpiry = Number.POSITIVE_INFINITY;

  constructor(
    readonly plan: SlotPlan,
    readonly deadline: number,
    private readonly leaseMs?: number,
  ) {
    this.capacity = slotCapacity(plan);
    this.needed = reportsNeeded(plan);
  }

  private get selectionOpen(): boolean {
    return this.selecting && this.status === "open";
  }

  /** Slots held at `now`: reported ones and bound ones whose lease is live. */
  held(now: number): number {
    this.expire(now);
    return this.bound + this.reportedCount;
  }

  /** Free slots at `now` (0 once the selection has closed). */
  open(now: number): number {
    return this.selectionOpen ? Math.max(0, this.capacity - this.held(now)) : 0;
  }

  holder(clientId: string, now: number): SlotHolder | null {
    this.expire(now);
    const h = this.holders.get(clientId);
    return h ? { ...h } : null;
  }

  claim(clientId: string, now: number): LedgerClaim {
    if (this.status !== "open") return { kind: "wait", reason: "round_closed", retryAfterMs: 1_000 };
    this.expire(now);
    const existing = this.holders.get(clientId) ?? null;
    // Past the deadline the attempt is over, whenever its deadline is handled: no new bindings.
    if (!existing && (!this.selecting || now > this.deadline)) return { kind: "wait", reason: "selection_closed", retryAfterMs: 5_000 };
    const decision = decideClaim({ existing, held: this.bound + this.reportedCount, capacity: this.capacity, deadline: this.deadline, now, leaseMs: this.leaseMs });
    if (decision.kind === "bind") {
      this.holders.set(clientId, { status: "bound", leaseUntil: decision.leaseUntil });
      this.bound += 1;
      this.nextExpiry = Math.min(this.nextExpiry, decision.leaseUntil);
    }
    return decision;
  }

  /** A device reports; a report counts once, while the attempt is open and the lease live. */
  report(clientId: string, now: number): LedgerReport {
    const h = this.holders.get(clientId);
    if (!h) return "unknown";
    if (h.status === "reported") return "duplicate";
    if (this.status !== "open" || !leaseLive(h, now)) {
      this.expire(now);
      return "stale";
    }
    h.status = "reported";
    this.bound -= 1;
    this.reportedCount += 1;
    if (demandMet(this.reportedCount, this.plan)) this.status = "aggregating";
    return "accepted";
  }

  closeSelection(): void {
    this.selecting = false;
  }

  /** The deadline has come: aggregate what reported if enough did, else the attempt is retried. */
  atDeadline(): "aggregate" | "retry" {
    if (this.status !== "open") return this.status === "aggregating" ? "aggregate" : "retry";
    const outcome = outcomeAtDeadline(this.reportedCount, this.plan);
    this.status = outcome === "aggregate" ? "aggregating" : "retried";
    return outcome;
  }

  /** Drops bound slots whose lease passed before `now`. */
  private expire(now: number): void {
    if (now <= this.nextExpiry) return;
    let next = Number.POSITIVE_INFINITY;
    for (const [clientId, h] of this.holders) {
      if (h.status !== "bound") continue;
      if (!leaseLive(h, now)) {
        this.holders.delete(clientId);
        this.bound -= 1;
      } else next = Math.min(next, h.leaseUntil);
    }
    this.nextExpiry = next;
  }
}
