import type { EventLogLine } from "@propius/node-client";
import type { RoundRecord } from "@propius/shared";

/** Acknowledged updates against the updates the job's round records count. */
export interface UpdateTally {
  /** Receipts devices got (distinct device, round and attempt). */
  acknowledged: number;
  /** Updates the round records count (`reported`). */
  counted: number;
  /** Receipts the records do not count. */
  lost: number;
  /** Counted updates beyond one per device that sent one, and receipts given twice for one task. */
  doubled: number;
  /** Round attempts whose counted examples no set of the devices' own updates adds up to (one line each). */
  unexplained: string[];
}

const key = (round: number, attempt: number) => `${round}.${attempt}`;

/**
 * Compares what the devices were told with what the job counts, attempt by attempt: every receipt
 * must be counted (else lost), and no attempt may count more updates than devices sent it (else
 * doubled). An update whose receipt was cut off by a crash may be counted or not; so the counted
 * examples must be the acknowledged updates' examples plus those of some of the unacknowledged ones,
 * as many as the count says. Devices' lines are task-loop events: `trained` (examples, just before
 * the upload) and `uploaded` (the receipt).
 */
export function tallyUpdates(records: readonly RoundRecord[], lines: readonly EventLogLine[]): UpdateTally {
  const sent = new Map<string, Map<string, number>>();
  const receipts = new Map<string, Map<string, number>>();
  for (const line of lines) {
    if (line.round === undefined || line.kind === "evaluate") continue;
    const at = key(line.round, line.attempt ?? 0);
    if (line.type === "trained") (sent.get(at) ?? sent.set(at, new Map()).get(at)!).set(line.device, Number(line.examples));
    if (line.type === "uploaded") {
      const byDevice = receipts.get(at) ?? receipts.set(at, new Map()).get(at)!;
      byDevice.set(line.device, (byDevice.get(line.device) ?? 0) + 1);
    }
  }
  const tally: UpdateTally = { acknowledged: 0, counted: 0, lost: 0, doubled: 0, unexplained: [] };
  const recorded = new Set<string>();
  for (const record of records) {
    const at = key(record.round, record.attempt);
    recorded.add(at);
    const tried = sent.get(at) ?? new Map<string, number>();
    const acked = receipts.get(at) ?? new Map<string, number>();
    tally.acknowledged += acked.size;
    tally.counted += record.reported;
    for (const times of acked.values()) tally.doubled += times - 1;
    tally.lost += Math.max(0, acked.size - record.reported);
    tally.doubled += Math.max(0, record.reported - tried.size);
    const ackedExamples = [...acked.keys()].reduce((sum, device) => sum + (tried.get(device) ?? 0), 0);
    const others = [...tried].filter(([device]) => !acked.has(device)).map(([, examples]) => examples);
    if (record.reported >= acked.size && !subsetAddsUp(others, record.reported - acked.size, record.examples - ackedExamples)) {
      tally.unexplained.push(`round ${record.round} attempt ${record.attempt}: ${record.reported} updates of ${record.examples} examples counted; ${acked.size} acknowledged of ${ackedExamples}, ${others.length} more sent (${others.join(", ") || "none"})`);
    }
  }
  for (const [at, acked] of receipts) if (!recorded.has(at)) (tally.acknowledged += acked.size), (tally.lost += acked.size);
  return tally;
}

/** Whether `count` of `values` (each used once) add up to `total`. */
function subsetAddsUp(values: readonly number[], count: number, total: number): boolean {
  if (count === 0) return total === 0;
  if (values.length < count) return false;
  const [first, ...rest] = values;
  return subsetAddsUp(rest, count - 1, total - first) || subsetAddsUp(rest, count, total);
}
