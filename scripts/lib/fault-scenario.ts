import type { RoundRecord } from "@propius/shared";
import type { RestartablePlane } from "./restartable-plane.js";
import type { UpdateTally } from "./fault-tally.js";

/** What every scenario is given. */
export interface FaultContext {
  /** A fresh control plane on its own state (vars: more Worker variables). */
  startPlane(vars?: Record<string, string>): Promise<RestartablePlane>;
  /** The node-client CLI bundle (see `buildDeviceBundle`). */
  deviceEntry: string;
  /** Where the decoded demo digits are kept, for the devices. */
  cacheDir: string;
  /** A folder for device state and event logs. */
  workDir: string;
  seed: number;
  /** Progress, one line at a time. */
  log(line: string): void;
}

/** One scenario's outcome: the summary table's row, and its detail. */
export interface FaultResult {
  scenario: string;
  /** What was done, in a few words (e.g. "20 kills, 4 devices, 60 rounds"). */
  setup: string;
  passed: boolean;
  /** Acknowledged updates against the job's round records (null where the scenario counts none). */
  tally: UpdateTally | null;
  /** Round attempts that closed or were retried by their deadline, of those that ended. */
  rounds: { byDeadline: number; ended: number } | null;
  /** Times to recover, in seconds (per kill or per device). */
  recoverySeconds: number[];
  /** Why it passed or failed, and the figures behind it: printed and written to docs/faults.md. */
  detail: string[];
  figures: Record<string, unknown>;
  /** When it ran (ISO), set by the suite. */
  ranAt?: string;
  /** The command that ran it, set by the suite. */
  command?: string;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `read` until `done` holds or `timeoutMs` passes; the last value either way. */
export async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number, pollMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await sleep(pollMs);
  }
}

/** How late an attempt ended after its deadline (ms; negative: before), or null while it runs. */
export function lateness(record: RoundRecord, deadlineSeconds: number): number | null {
  return record.closedAt === null ? null : record.closedAt - (record.openedAt + deadlineSeconds * 1000);
}

/**
 * Attempts that ended (closed or retried) by their deadline, with `slackMs` for the alarm that ends
 * them to fire and the close to run (a deadline is a Durable Object alarm).
 */
export function roundsByDeadline(records: readonly RoundRecord[], deadlineSeconds: number, slackMs: number): { byDeadline: number; ended: number } {
  const ended = records.filter((r) => r.closedAt !== null && (r.status === "closed" || r.status === "retried"));
  return { byDeadline: ended.filter((r) => lateness(r, deadlineSeconds)! <= slackMs).length, ended: ended.length };
}

export function seconds(ms: number): number {
  return Number((ms / 1000).toFixed(2));
}
