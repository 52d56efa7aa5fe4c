import type { SimDevice } from "./devices.js";
import type { SimJobSpec } from "./workload.js";

interface Entry {
  device: number;
  leaseUntil: number;
  reported: boolean;
}

/**
 * Checks the scheduling invariants from outside the scheduler, with bookkeeping of its own: it is
 * told of every binding, accepted report and end of a round attempt, and counts
 *  - over-assignments: bindings that leave an attempt with more live or reported bindings than
 *    demand x over-commit;
 *  - eligibility violations: bindings of a device to a job whose bounds (taken from the workload's
 *    raw lower bounds and the device's raw spec, not the scheduler's constraint objects) it misses;
 *  - double bindings: bindings of a device that still holds a live, unreported binding elsewhere.
 * Times are those of the scheduler's leases (ms).
 */
export class InvariantMonitor {
  overAssignments = 0;
  eligibilityViolations = 0;
  doubleBindings = 0;
  private readonly attempts = new Map<string, { limit: number; entries: Entry[] }>();
  private readonly current = new Map<number, { attempt: string; entry: Entry }>();

  openAttempt(key: string, demand: number, overCommit: number): void {
    this.attempts.set(key, { limit: Math.ceil(demand * overCommit), entries: [] });
  }

  closeAttempt(key: string): void {
    this.attempts.delete(key);
  }

  onBind(device: SimDevice, job: SimJobSpec, key: string, leaseUntil: number, now: number): void {
    if (!atLeast(device.spec as unknown as Record<string, number>, job.publicMin) || !atLeast(device.privateAttributes, job.privateMin)) {
      this.eligibilityViolations += 1;
    }
    const held = this.current.get(device.index);
    if (held && !held.entry.reported && held.entry.leaseUntil >= now && this.attempts.has(held.attempt)) this.doubleBindings += 1;
    const attempt = this.attempts.get(key);
    if (!attempt) {
      this.overAssignments += 1;
      return;
    }
    const entry = { device: device.index, leaseUntil, reported: false };
    attempt.entries.push(entry);
    this.current.set(device.index, { attempt: key, entry });
    let live = 0;
    for (const e of attempt.entries) if (e.reported || e.leaseUntil >= now) live += 1;
    if (live > attempt.limit) this.overAssignments += 1;
  }

  onReport(device: SimDevice): void {
    const held = this.current.get(device.index);
    if (held) held.entry.reported = true;
  }
}

function atLeast(values: Record<string, number>, bounds: Record<string, number>): boolean {
  for (const [name, min] of Object.entries(bounds)) if (!(values[name] >= min)) return false;
  return true;
}
