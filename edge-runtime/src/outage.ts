import { PropiusError } from "@propius/shared";
import { UnreachableError } from "./protocol/unreachable-error.js";

/**
 * A control plane that cannot be reached, or that answers 5xx after the HTTP layer's own retries,
 * is an outage to ride out (a restart, a deploy, a lost network), not a reason for a device to
 * stop: the task loop waits and checks in again, with capped, jittered back-off. So is an upload
 * the control plane ended because the device's link stopped carrying it (`upload_stalled`): the
 * job keeps the task's ticket, and the next check-in hands the task back.
 */
export function isOutage(error: unknown): error is UnreachableError | PropiusError {
  return error instanceof UnreachableError || (error instanceof PropiusError && (error.status >= 500 || error.code === "upload_stalled"));
}

export interface Backoff {
  /** The wait before the next try after `failures` outages in a row (1, 2, ...). */
  delayMs(failures: number): number;
}

/**
 * Exponential from `baseMs`, capped at `capMs`, with "full jitter" (a uniform draw below the
 * exponential bound), so that a fleet that lost the control plane together does not come back
 * all at once.
 */
export function jitteredBackoff(options: { baseMs?: number; capMs?: number; random?: () => number } = {}): Backoff {
  const base = options.baseMs ?? 1_000;
  const cap = options.capMs ?? 60_000;
  const random = options.random ?? Math.random;
  return { delayMs: (failures) => Math.max(base / 2, Math.round(random() * Math.min(cap, base * 2 ** Math.min(failures - 1, 30)))) };
}
