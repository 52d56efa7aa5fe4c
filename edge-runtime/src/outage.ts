import { PropiusError } from "@propius/shared";
import { UnreachableError } from "./protocol/unreachable-error.js";
import { sleep } from "./protocol/http.js";

/**
 * A control plane that cannot be reached, or that answers 5xx after the HTTP layer's own retries,
 * is an outage to ride out (a restart, a deploy, a lost network), not a reason for a device to
 * stop: the task loop waits and checks in again, with capped, jittered back-off. So is an upload
 * the control plane ended because the device's link stopped carrying it (`upload_stalled`): the
 * job keeps the task's ticket, and the next check-in hands the task back. And so is a rate limit
 * still in force after the HTTP layer waited out the `Retry-After`s it was given (`rate_limited`).
 */
export function isOutage(error: unknown): error is UnreachableError | PropiusError {
  return error instanceof UnreachableError || (error instanceof PropiusError && (error.status >= 500 || error.code === "upload_stalled" || error.code === "rate_limited"));
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

/** An outage as a device reports it: what failed, how many times in a row, and when it tries again. */
export interface OutageEvent {
  type: "outage";
  message: string;
  failures: number;
  retryInMs: number;
}

/**
 * `attempt`, tried again after each outage with back-off until it succeeds, fails for another
 * reason, or the signal aborts: for what a device does before its task loop (enrolling, checking
 * its stored token), so that a device started while the control plane is down waits for it.
 */
export async function rideOutOutages<T>(attempt: () => Promise<T>, options: { signal?: AbortSignal; backoff?: Backoff; onOutage?: (event: OutageEvent) => void } = {}): Promise<T> {
  const backoff = options.backoff ?? jitteredBackoff();
  for (let failures = 1; ; failures++) {
    try {
      return await attempt();
    } catch (error) {
      if (options.signal?.aborted || !isOutage(error)) throw error;
      const retryInMs = backoff.delayMs(failures);
      options.onOutage?.({ type: "outage", message: error.message, failures, retryInMs });
      await sleep(retryInMs, options.signal);
    }
  }
}
